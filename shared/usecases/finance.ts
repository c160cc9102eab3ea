import type { FinanceMetrics } from '../domain/finance/metrics';
import { LTV_WINDOW, metricsFromRollups } from '../domain/finance/metrics';
import { addMonths, monthsBetween } from '../domain/finance/months';
import type { ReportRow } from '../domain/finance/reconciliation';
import { RECONCILIATION_FIELDS, Reconciler, type ReconciliationResult, reconcileByDay } from '../domain/finance/reconciliation';
import { type MonthRevenue, type RollupRow, revenueFromRollup } from '../domain/finance/revenue';
import type { RollupStore } from '../storage/finance-rollups';
import type { LedgerRepository } from '../storage/ledger-repository';

/** Months read at once: the rows of a month are one small Query. */
const PARALLEL_MONTHS = 6;

/** The rollup rows of several months, a few Queries at a time. */
async function rowsOfMonths(store: Pick<RollupStore, 'monthRows'>, months: readonly string[]): Promise<Map<string, RollupRow[]>> {
  const out = new Map<string, RollupRow[]>();
  for (let i = 0; i < months.length; i += PARALLEL_MONTHS) {
    const part = months.slice(i, i + PARALLEL_MONTHS);
    const rows = await Promise.all(part.map((m) => store.monthRows(m)));
    for (const [j, m] of part.entries()) out.set(m, rows[j]!);
  }
  return out;
}

/** A month's revenue from its rollup: one Query of (currencies × plans × shards) rows, whatever the member count. */
export async function monthRevenue(
  store: Pick<RollupStore, 'monthRows'>,
  month: string,
  options: { asOf: Date; currency?: string },
): Promise<MonthRevenue> {
  return revenueFromRollup(month, await store.monthRows(month), options);
}

/** The report's history: `count` months ending with `month`. */
export async function revenueHistory(
  store: Pick<RollupStore, 'monthRows'>,
  month: string,
  count: number,
  asOf: Date,
): Promise<MonthRevenue[]> {
  const months = monthsBetween(addMonths(month, -(count - 1)), month);
  const rows = await rowsOfMonths(store, months);
  return months.map((m) => revenueFromRollup(m, rows.get(m)!, { asOf }));
}

/** Metrics of a range of months (and the months before it the LTV's churn looks back on). */
export async function financeMetrics(
  store: Pick<RollupStore, 'monthRows'>,
  input: { currency: string; from: string; to: string; asOf: Date },
): Promise<FinanceMetrics> {
  const rows = await rowsOfMonths(store, monthsBetween(addMonths(input.from, -(LTV_WINDOW - 1)), input.to));
  return metricsFromRollups({ ...input, rowsOf: (m) => rows.get(m) ?? [] });
}

/**
 * What the monthly report shows: `count` months of revenue ending with `month`, and the metrics of
 * the same months for every currency in them, from one read of the rollups (the months and the
 * LTV's look-back before them).
 */
export async function financeReport(
  store: Pick<RollupStore, 'monthRows'>,
  month: string,
  count: number,
  asOf: Date,
): Promise<{ history: MonthRevenue[]; metrics: FinanceMetrics[] }> {
  const from = addMonths(month, -(count - 1));
  const rows = await rowsOfMonths(store, monthsBetween(addMonths(from, -(LTV_WINDOW - 1)), month));
  const history = monthsBetween(from, month).map((m) => revenueFromRollup(m, rows.get(m) ?? [], { asOf }));
  const currencies = [...new Set([...rows.values()].flat().map((r) => r.currency))].sort();
  const metrics = currencies.map((currency) => metricsFromRollups({ currency, from, to: month, asOf, rowsOf: (m) => rows.get(m) ?? [] }));
  return { history, metrics };
}

/**
 * Reconciles a month: the ledger side is loaded into the Reconciler's maps first (one Query,
 * paginated), then Stripe's rows stream through. The result is stored with its source and time.
 */
export async function reconcileMonth(
  ledger: LedgerRepository,
  month: string,
  rows: AsyncIterable<ReportRow>,
  options: { source: 'report-csv' | 'stripe-api'; now: Date; onLedgerLoaded?: (expectedRows: number) => void },
): Promise<ReconciliationResult> {
  const reconciler = new Reconciler(month);
  for await (const entry of ledger.entries(month, RECONCILIATION_FIELDS)) reconciler.addLedgerEntry(entry);
  // Entries that expect a balance transaction, not every entry (links and credit notes have none).
  options.onLedgerLoaded?.(reconciler.expectedRows);
  for await (const row of rows) reconciler.addStripeRow(row);
  const result = reconciler.finish();
  await ledger.saveReconciliation(result, options.source, options.now);
  return result;
}

/** How many of each finding a job keeps in memory and stores (their counts stay exact). */
const JOB_LIST_LIMIT = 200;

/**
 * Reconciles a month of any size with bounded memory (the job): Stripe's rows come in time order and
 * the ledger is read a UTC day at a time around them (`reconcileByDay`). The result is stored with its
 * source and time.
 */
export async function reconcileMonthByDay(
  ledger: LedgerRepository,
  month: string,
  rows: AsyncIterable<ReportRow>,
  options: { source: 'report-csv' | 'stripe-api'; now: Date; onDay?: (done: number, total: number) => void },
): Promise<ReconciliationResult> {
  const result = await reconcileByDay({
    month,
    ledgerDay: (day) => ledger.dayEntries(day, RECONCILIATION_FIELDS),
    rows,
    listLimit: JOB_LIST_LIMIT,
    ...(options.onDay ? { onDay: options.onDay } : {}),
  });
  await ledger.saveReconciliation(result, options.source, options.now);
  return result;
}
