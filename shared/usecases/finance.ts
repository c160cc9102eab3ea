import type { LedgerRepository } from '../storage/ledger-repository';
import { computeMonthRevenue, type MonthRevenue } from '../domain/finance/revenue';
import { addMonths, monthsBetween } from '../domain/finance/months';
import { Reconciler, RECONCILIATION_FIELDS, type ReconciliationResult } from '../domain/finance/reconciliation';
import type { ReportRow } from '../domain/finance/balance-report';

/** Two Queries of recognition slices (this month, last month) and one streamed Query of entries. */
export async function monthRevenue(ledger: LedgerRepository, month: string, currency?: string): Promise<MonthRevenue> {
  const [slices, previousSlices] = await Promise.all([ledger.slices(month), ledger.slices(addMonths(month, -1))]);
  return computeMonthRevenue({ month, entries: ledger.entries(month), slices, previousSlices, ...(currency ? { currency } : {}) });
}

/** The report's history: `count` months ending with `month`, each from its own Queries. */
export async function revenueHistory(ledger: LedgerRepository, month: string, count: number): Promise<MonthRevenue[]> {
  const months = monthsBetween(addMonths(month, -(count - 1)), month);
  const slices = new Map<string, Awaited<ReturnType<LedgerRepository['slices']>>>();
  await Promise.all([addMonths(months[0]!, -1), ...months].map(async (m) => slices.set(m, await ledger.slices(m))));
  const out: MonthRevenue[] = [];
  for (const m of months) {
    out.push(await computeMonthRevenue({ month: m, entries: ledger.entries(m), slices: slices.get(m)!, previousSlices: slices.get(addMonths(m, -1))! }));
  }
  return out;
}

/**
 * Reconciles a month: the ledger side is loaded into the Reconciler's maps first (one Query,
 * paginated), then Stripe's rows stream through. The result is stored with its source and time.
 */
export async function reconcileMonth(
  ledger: LedgerRepository,
  month: string,
  rows: AsyncIterable<ReportRow>,
  options: { source: 'report-csv' | 'stripe-api'; now: Date; onLedgerLoaded?: (expected: number) => void },
): Promise<ReconciliationResult> {
  const reconciler = new Reconciler(month);
  let count = 0;
  for await (const entry of ledger.entries(month, RECONCILIATION_FIELDS)) {
    reconciler.addLedgerEntry(entry);
    count++;
  }
  options.onLedgerLoaded?.(count);
  for await (const row of rows) reconciler.addStripeRow(row);
  const result = reconciler.finish();
  await ledger.saveReconciliation(result, options.source, options.now);
  return result;
}
