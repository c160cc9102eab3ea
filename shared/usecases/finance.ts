import type { LedgerEntry } from '../domain/finance/ledger';
import { addMonths, monthOf, monthsBetween } from '../domain/finance/months';
import type { ReportRow } from '../domain/finance/reconciliation';
import { RECONCILIATION_FIELDS, Reconciler, type ReconciliationResult } from '../domain/finance/reconciliation';
import { invoiceIds, linkIds, type ReversalContext, reversalWindow } from '../domain/finance/refunds';
import { computeMonthRevenue, type MonthRevenue, type RecognitionSlice } from '../domain/finance/revenue';
import type { LedgerRepository } from '../storage/ledger-repository';

/**
 * What revenue needs to take refunds out of recognition for a month: the refunds (and failures,
 * credit notes, dispute funds) of every month since the earliest payment of an invoice still live
 * in the month or the one before, the payment links they are tied through and those invoices. One
 * small Query per month (cached across the months of a report) and two BatchGets.
 */
class ReversalReader {
  private readonly months = new Map<string, Promise<LedgerEntry[]>>();
  constructor(private readonly ledger: LedgerRepository) {}

  async context(month: string, slices: readonly RecognitionSlice[]): Promise<ReversalContext> {
    // Slices stored before `paidAt` was kept fall back to their service start (never later than the month).
    const paidMonths = slices.map((s) => monthOf(s.paidAt ?? s.periodStart ?? `${month}-01T00:00:00Z`));
    const window = reversalWindow(month, paidMonths);
    const entries = (await Promise.all(window.map((m) => this.reversals(m)))).flat();
    const links = await this.ledger.paymentLinks(linkIds(entries));
    const invoices = await this.ledger.invoices(invoiceIds(entries, links));
    return { entries, links, invoices };
  }

  private reversals(month: string): Promise<LedgerEntry[]> {
    let p = this.months.get(month);
    if (!p) {
      p = this.ledger.reversals(month);
      this.months.set(month, p);
    }
    return p;
  }
}

/** Two Queries of recognition slices (this month, last month), the refund context and one streamed Query of entries. */
export async function monthRevenue(ledger: LedgerRepository, month: string, currency?: string): Promise<MonthRevenue> {
  const [slices, previousSlices] = await Promise.all([ledger.slices(month), ledger.slices(addMonths(month, -1))]);
  const reversals = await new ReversalReader(ledger).context(month, [...slices, ...previousSlices]);
  return computeMonthRevenue({
    month,
    entries: ledger.entries(month),
    slices,
    previousSlices,
    reversals,
    ...(currency ? { currency } : {}),
  });
}

/** The report's history: `count` months ending with `month`, each from its own Queries. */
export async function revenueHistory(ledger: LedgerRepository, month: string, count: number): Promise<MonthRevenue[]> {
  const months = monthsBetween(addMonths(month, -(count - 1)), month);
  const slices = new Map<string, Awaited<ReturnType<LedgerRepository['slices']>>>();
  await Promise.all([addMonths(months[0]!, -1), ...months].map(async (m) => slices.set(m, await ledger.slices(m))));
  const reader = new ReversalReader(ledger);
  const out: MonthRevenue[] = [];
  for (const m of months) {
    const previous = slices.get(addMonths(m, -1))!;
    const reversals = await reader.context(m, [...slices.get(m)!, ...previous]);
    out.push(
      await computeMonthRevenue({ month: m, entries: ledger.entries(m), slices: slices.get(m)!, previousSlices: previous, reversals }),
    );
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
