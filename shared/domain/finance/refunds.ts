/**
 * Reversals against recognition. Pure: an invoice and the entries tied to it in, its schedule out.
 *
 * Attribution. A refund is tied to its invoice by a credit note that lists it (credit notes name
 * their invoice), else by an `invoice_payment` link from its payment intent or charge to the
 * invoice. A refund's failure goes with its refund; dispute funds and a lost dispute go through the
 * same links; a credit note names its invoice itself. What cannot be tied to an invoice the ledger
 * holds (in the same currency) is *unattributed*: still counted as cash, never dropped, but not
 * taken out of any plan's revenue (docs/finance.md says why).
 *
 * Policy (docs/finance.md, "Refunds and recognition"). Three things take revenue back from an
 * invoice, each from its own month and net of tax: a refund (undone from the month it fails), the
 * part of a credit note not refunded to the card (credited to the customer's balance or refunded
 * outside Stripe: ASC 606 treats both as a price reduction), and a lost dispute (the bank took the
 * payment back for good). Each first reduces the invoice's deferred revenue: the deferred balance
 * left at the end of its month shrinks by the amount, and every later month's remaining balance
 * shrinks in the same proportion, so what is left is still recognized ratably over the rest of the
 * service period. A reversal larger than that balance (the service already delivered) reverses
 * recognized revenue in its month. Months before it never change. Several reversals apply one at a
 * time in the order they happened (time, then id), each to the balance the ones before it left.
 * Invariant, for every invoice and month end M (property-tested, exact to the cent):
 *   Σ recognized up to M + deferred at M = billed net of tax − reversals net of tax up to M.
 * It holds by construction: recognized in M is defined as the change of (net − reversals − deferred).
 */
import type { LedgerEntry } from './ledger';
import { monthOf, monthsBetween } from './months';
import { invoiceRecognitionSchedule, type ScheduleMonth } from './recognition';

/** Entry kinds that belong to an invoice once tied to it (what a member's finance account holds besides invoices). */
export const TIED_KINDS: ReadonlySet<LedgerEntry['kind']> = new Set([
  'refund',
  'refund_failed',
  'credit_note',
  'dispute_funds_withdrawn',
  'dispute_funds_reinstated',
  'dispute_lost',
]);

/** What attribution may look up: the ledger's credit notes, payment links and paid invoices. */
export interface AttributionLookup {
  /** The invoice of the credit note that lists this refund, if any. */
  creditNoteInvoice(refundId: string): string | undefined;
  /** Payment intent or charge id → the invoice it paid (`invoice_payment` entries). */
  paymentInvoice(paymentRef: string): string | undefined;
}

/** The id of the invoice an entry points at (the ledger may not hold that invoice yet), or null. */
export function pointedInvoiceId(entry: LedgerEntry, lookup: AttributionLookup): string | null {
  if (!TIED_KINDS.has(entry.kind)) return null;
  if (entry.kind === 'credit_note') return entry.invoiceId;
  const refundId = entry.kind === 'refund' || entry.kind === 'refund_failed' ? (entry.refundIds[0] ?? null) : null;
  return (
    (refundId ? lookup.creditNoteInvoice(refundId) : undefined) ??
    (entry.paymentIntentId ? lookup.paymentInvoice(entry.paymentIntentId) : undefined) ??
    (entry.chargeId ? lookup.paymentInvoice(entry.chargeId) : undefined) ??
    null
  );
}

/** Whether `invoice` can own `entry`: a reversal in another currency than the invoice is not its reversal. */
export const canOwn = (invoice: LedgerEntry, entry: LedgerEntry): boolean =>
  (invoice.kind === 'invoice_paid' || invoice.kind === 'gift_paid') && invoice.currency === entry.currency;

/** The payment ids an entry can be tied through (where a link's arrival must look for it). */
export const paymentRefsOf = (entry: LedgerEntry): string[] =>
  [entry.paymentIntentId, entry.chargeId].filter((id): id is string => typeof id === 'string');

/** What takes revenue back from an invoice, in its own month. */
export interface RefundEvent {
  /** The refund, credit note or dispute id. */
  refundId: string;
  occurredAt: string;
  amountCents: number;
  /** When a refund failed (undone from then on); credits and lost disputes never are. */
  failedAt: string | null;
  cause: 'refund' | 'credit' | 'dispute';
}

/** The reversals of an invoice from the entries tied to it, in the order they apply. */
export function reversalEvents(tied: readonly LedgerEntry[]): RefundEvent[] {
  const failures = new Map<string, string>();
  for (const e of tied) if (e.kind === 'refund_failed' && e.refundIds[0]) failures.set(e.refundIds[0], e.occurredAt);
  const out: RefundEvent[] = [];
  for (const e of tied) {
    if (e.kind === 'refund') {
      out.push({
        refundId: e.entryId,
        occurredAt: e.occurredAt,
        amountCents: e.amountCents,
        failedAt: failures.get(e.entryId) ?? null,
        cause: 'refund',
      });
    } else if (e.kind === 'credit_note') {
      // The refunded part comes back through its refund entries; only the rest is a credit.
      const credited = e.amountCents - (e.refundedCents ?? e.amountCents);
      if (credited > 0) out.push({ refundId: e.entryId, occurredAt: e.occurredAt, amountCents: credited, failedAt: null, cause: 'credit' });
    } else if (e.kind === 'dispute_lost') {
      out.push({ refundId: e.entryId, occurredAt: e.occurredAt, amountCents: e.amountCents, failedAt: null, cause: 'dispute' });
    }
  }
  return out.sort((a, b) => (a.occurredAt === b.occurredAt ? a.refundId.localeCompare(b.refundId) : a.occurredAt < b.occurredAt ? -1 : 1));
}

const taxOf = (invoice: LedgerEntry) => invoice.taxCents ?? 0;
const totalOf = (invoice: LedgerEntry) => invoice.totalCents ?? invoice.amountCents;
export const invoiceNetOfTax = (invoice: LedgerEntry): number => totalOf(invoice) - taxOf(invoice);

/** A refund's amount net of tax: the invoice's tax ratio applied to it, rounded half up. */
export function refundNetOfTax(invoice: LedgerEntry, refundCents: number): number {
  const total = totalOf(invoice);
  const tax = taxOf(invoice);
  if (total <= 0 || tax === 0) return refundCents;
  const share = (BigInt(refundCents) * BigInt(tax) * 2n + BigInt(total)) / (2n * BigInt(total));
  return refundCents - Number(share);
}

/** The invoice's plain schedule: each subscription line over its own period (recognition.ts). */
export function baseSchedule(invoice: LedgerEntry): ScheduleMonth[] {
  return invoiceRecognitionSchedule({
    netCents: invoiceNetOfTax(invoice),
    paidAt: invoice.occurredAt,
    servicePeriod: invoice.servicePeriod,
    ...(invoice.lines ? { lines: invoice.lines } : {}),
  });
}

export interface AdjustedMonth {
  month: string;
  recognizedCents: number;
  deferredAtEndCents: number;
  /** Reversals net of tax taken out in this month (minus failures of earlier refunds undone in it). */
  refundedNetCents: number;
}

/** ⌈a × b / c⌉ for non-negative integers, exactly. */
const ceilMulDiv = (a: number, b: number, c: number): number => Number((BigInt(a) * BigInt(b) + BigInt(c) - 1n) / BigInt(c));
const maxMonth = (a: string, b: string) => (a > b ? a : b);

interface Placed {
  event: RefundEvent;
  net: number;
  month: string;
  undoneIn: string | null;
}

/** The invoice's months from payment to the last month anything happens, and its reversals placed in them. */
function layout(invoice: LedgerEntry, events: readonly RefundEvent[]) {
  const base = baseSchedule(invoice);
  const paidMonth = base[0]!.month;
  const placed: Placed[] = events.map((e) => {
    const month = maxMonth(monthOf(e.occurredAt), paidMonth);
    return {
      event: e,
      net: refundNetOfTax(invoice, e.amountCents),
      month,
      undoneIn: e.failedAt ? maxMonth(monthOf(e.failedAt), month) : null,
    };
  });
  const last = [base.at(-1)!.month, ...placed.flatMap((e) => [e.month, e.undoneIn ?? e.month])].reduce(maxMonth);
  const months = monthsBetween(paidMonth, last);
  const baseDeferred = months.map((_, i) => base[i]?.deferredAtEndCents ?? 0);
  return { months, baseDeferred, placed, index: new Map(months.map((m, i) => [m, i])) };
}

/** The reversals in force in `month` (made by then, not undone by then). */
const activeIn = (placed: readonly Placed[], month: string) =>
  placed.filter((e) => e.month <= month && (e.undoneIn === null || e.undoneIn > month));

/**
 * The deferred balance month by month after each active reversal in turn: from its month on, every
 * month's balance shrinks in the proportion the reversal cut that month's. Rounding up keeps the
 * balance non-increasing and above zero while any is left, so later months never recognize a
 * negative amount.
 */
function remainingAfter(baseDeferred: readonly number[], active: readonly Placed[], index: ReadonlyMap<string, number>): number[] {
  let remaining = baseDeferred.slice();
  for (const e of active) {
    const at = index.get(e.month)!;
    const balance = Math.max(0, remaining[at]!);
    const cut = Math.min(e.net, balance);
    remaining = remaining.map((d, j) => (j < at || d <= 0 ? d : balance === 0 ? 0 : ceilMulDiv(d, balance - cut, balance)));
  }
  return remaining;
}

/**
 * The invoice's recognition once its reversals are taken into account, one entry per month from the
 * payment month to the later of its last service month and its last reversal or failure month.
 */
export function refundAdjustedSchedule(invoice: LedgerEntry, events: readonly RefundEvent[]): AdjustedMonth[] {
  const net = invoiceNetOfTax(invoice);
  const { months, baseDeferred, placed, index } = layout(invoice, events);
  const out: AdjustedMonth[] = [];
  let previousCumulative = 0;
  let previousRefunded = 0;
  months.forEach((month, i) => {
    const active = activeIn(placed, month);
    const deferredNow = remainingAfter(baseDeferred, active, index)[i]!;
    const refunded = active.reduce((a, e) => a + e.net, 0);
    const cumulative = net - refunded - deferredNow;
    out.push({
      month,
      recognizedCents: cumulative - previousCumulative,
      deferredAtEndCents: deferredNow,
      refundedNetCents: refunded - previousRefunded,
    });
    previousCumulative = cumulative;
    previousRefunded = refunded;
  });
  return out;
}

/**
 * When the invoice's service ends, as known at the end of `month`: its service period's end, unless
 * the reversals in force then took back at least what was left of the service when they were made
 * (the unused part, pro rata to the time left, as a cancellation with a prorated refund does; a cent
 * of rounding allowed), which ends it at the time of the reversal that did, with that reversal's
 * cause. A smaller one (a goodwill refund) leaves the member a member. A reversal after the period
 * ended changes money, not the service. A refund that later fails is not in force from its failure
 * month, so the service is back from then on.
 */
export function serviceEndAsOf(
  invoice: LedgerEntry,
  events: readonly RefundEvent[],
  month: string,
): { end: string; endedBy: RefundEvent['cause'] | null } | null {
  if (!invoice.servicePeriod) return null;
  const start = Date.parse(invoice.servicePeriod.start);
  const endMs = Date.parse(invoice.servicePeriod.end);
  const end = new Date(endMs).toISOString();
  const net = invoiceNetOfTax(invoice);
  let taken = 0;
  for (const e of activeIn(layout(invoice, events).placed, month)) {
    taken += e.net;
    const at = Date.parse(e.event.occurredAt);
    if (at >= endMs) continue;
    const unused = at <= start || endMs <= start ? net : Math.floor((net * (endMs - at)) / (endMs - start));
    if (taken >= unused - 1) return { end: new Date(at).toISOString(), endedBy: e.event.cause };
  }
  return { end, endedBy: null };
}
