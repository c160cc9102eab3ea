/**
 * Refunds against recognition. Pure: ledger entries in, attribution and per-invoice schedules out.
 *
 * Attribution. A refund is tied to its invoice by a credit note that lists it (credit notes name
 * their invoice), else by an `invoice_payment` link from its payment intent or charge to the
 * invoice. A refund's failure goes with its refund; dispute funds go through the same links. What
 * cannot be tied to an invoice the ledger holds is *unattributed*: still counted as cash, never
 * dropped, but not taken out of any plan's revenue.
 *
 * Policy (docs/finance.md, "Refunds and recognition"):
 * - A refund is taken out net of tax: its tax share is the invoice's tax ratio applied to the refund
 *   (`round half up(refund × tax / total)`), each refund on its own, so a refund's share never
 *   depends on which other refunds are known.
 * - From the refund's month on, it first reduces the invoice's deferred revenue: the deferred balance
 *   left at the end of the refund month shrinks by the refund, and every later month's remaining
 *   balance shrinks in the same proportion, so what is left is still recognized ratably over the
 *   rest of the service period. A refund larger than that balance (the service already delivered)
 *   reverses recognized revenue in the refund month. Months before the refund month never change.
 * - A refund that fails is undone from its failure month: the schedule from then on is the one
 *   without that refund, the difference caught up in the failure month.
 * - Invariant, for every invoice and month end M (property-tested, exact to the cent):
 *     Σ recognized up to M + deferred at M = billed net of tax − refunds net of tax up to M.
 *   It holds by construction: recognized in M is defined as the change of (net − refunds − deferred).
 * - An invoice whose deferred balance refunds have taken to zero before its service ended has ended:
 *   its member no longer counts as active (or in MRR) from the next month.
 */
import type { LedgerEntry } from './ledger';
import { addMonths, monthOf, monthsBetween } from './months';
import { recognitionSchedule } from './recognition';

export interface ReversalContext {
  /** Refunds, refund failures, credit notes and dispute funds of the months that matter (see `reversalWindow`). */
  entries: readonly LedgerEntry[];
  /** Payment intent or charge id → invoice id, from `invoice_payment` entries. */
  links: ReadonlyMap<string, string>;
  /** Invoice id → its `invoice_paid` entry, for the invoices the entries are tied to. */
  invoices: ReadonlyMap<string, LedgerEntry>;
}

export interface Attribution {
  /** Refund, refund-failure and dispute-funds entry id → its invoice's entry, or absent when unattributed. */
  invoiceOf: Map<string, LedgerEntry>;
  /** Invoice id → its refunds (with their failure, if any), in the order they were made. */
  refundsOf: Map<string, RefundEvent[]>;
}

export interface RefundEvent {
  refundId: string;
  occurredAt: string;
  amountCents: number;
  failedAt: string | null;
}

const REFUND_LIKE = new Set<LedgerEntry['kind']>(['refund', 'refund_failed', 'dispute_funds_withdrawn', 'dispute_funds_reinstated']);

/** The payment intent and charge ids the entries can be tied through (what to look links up for). */
export function linkIds(entries: readonly LedgerEntry[]): string[] {
  const ids = new Set<string>();
  for (const e of entries) {
    if (!REFUND_LIKE.has(e.kind)) continue;
    if (e.paymentIntentId) ids.add(e.paymentIntentId);
    if (e.chargeId) ids.add(e.chargeId);
  }
  return [...ids];
}

/** Invoice ids the entries are tied to, by credit note or by the given links. */
export function invoiceIds(entries: readonly LedgerEntry[], links: ReadonlyMap<string, string>): string[] {
  const ids = new Set<string>();
  for (const e of entries) {
    if (e.kind === 'credit_note' && e.invoiceId) ids.add(e.invoiceId);
    if (!REFUND_LIKE.has(e.kind)) continue;
    const viaLink = (e.paymentIntentId ? links.get(e.paymentIntentId) : undefined) ?? (e.chargeId ? links.get(e.chargeId) : undefined);
    if (viaLink) ids.add(viaLink);
  }
  return [...ids];
}

export function attribute(ctx: ReversalContext): Attribution {
  const byCreditNote = new Map<string, string>();
  for (const e of ctx.entries) if (e.kind === 'credit_note' && e.invoiceId) for (const r of e.refundIds) byCreditNote.set(r, e.invoiceId);
  const invoiceOf = new Map<string, LedgerEntry>();
  const failures = new Map<string, string>();
  for (const e of ctx.entries) {
    if (!REFUND_LIKE.has(e.kind)) continue;
    const refundId = e.kind === 'refund' || e.kind === 'refund_failed' ? (e.refundIds[0] ?? null) : null;
    const invoiceId =
      (refundId ? byCreditNote.get(refundId) : undefined) ??
      (e.paymentIntentId ? ctx.links.get(e.paymentIntentId) : undefined) ??
      (e.chargeId ? ctx.links.get(e.chargeId) : undefined);
    const invoice = invoiceId ? ctx.invoices.get(invoiceId) : undefined;
    // A refund in another currency than the invoice cannot be its refund: leave it unattributed.
    if (invoice && invoice.currency === e.currency) invoiceOf.set(e.entryId, invoice);
    if (e.kind === 'refund_failed' && refundId) failures.set(refundId, e.occurredAt);
  }
  const refundsOf = new Map<string, RefundEvent[]>();
  for (const e of ctx.entries) {
    if (e.kind !== 'refund') continue;
    const invoice = invoiceOf.get(e.entryId);
    if (!invoice) continue;
    const list = refundsOf.get(invoice.entryId) ?? [];
    list.push({ refundId: e.entryId, occurredAt: e.occurredAt, amountCents: e.amountCents, failedAt: failures.get(e.entryId) ?? null });
    refundsOf.set(invoice.entryId, list);
  }
  for (const list of refundsOf.values())
    list.sort((a, b) => (a.occurredAt === b.occurredAt ? a.refundId.localeCompare(b.refundId) : a.occurredAt < b.occurredAt ? -1 : 1));
  return { invoiceOf, refundsOf };
}

const taxOf = (invoice: LedgerEntry) => invoice.taxCents ?? 0;
const totalOf = (invoice: LedgerEntry) => invoice.totalCents ?? invoice.amountCents;

/** A refund's amount net of tax: the invoice's tax ratio applied to it, rounded half up. */
export function refundNetOfTax(invoice: LedgerEntry, refundCents: number): number {
  const total = totalOf(invoice);
  const tax = taxOf(invoice);
  if (total <= 0 || tax === 0) return refundCents;
  const share = (BigInt(refundCents) * BigInt(tax) * 2n + BigInt(total)) / (2n * BigInt(total));
  return refundCents - Number(share);
}

export interface AdjustedMonth {
  month: string;
  recognizedCents: number;
  deferredAtEndCents: number;
  /** Refunds net of tax taken out in this month (minus failures of earlier refunds undone in it). */
  refundedNetCents: number;
  coversMonth: boolean;
}

/** ⌈a × b / c⌉ for non-negative integers, exactly. */
const ceilMulDiv = (a: number, b: number, c: number): number => Number((BigInt(a) * BigInt(b) + BigInt(c) - 1n) / BigInt(c));

/**
 * The invoice's recognition once its refunds are taken into account, one entry per month from the
 * payment month to the later of its last service month and its last refund or failure month.
 */
export function refundAdjustedSchedule(invoice: LedgerEntry, refunds: readonly RefundEvent[]): AdjustedMonth[] {
  const net = totalOf(invoice) - taxOf(invoice);
  const base = recognitionSchedule({ netCents: net, paidAt: invoice.occurredAt, servicePeriod: invoice.servicePeriod });
  const paidMonth = base[0]!.month;
  const events = refunds.map((r) => {
    const month = maxMonth(monthOf(r.occurredAt), paidMonth);
    return { net: refundNetOfTax(invoice, r.amountCents), month, undoneIn: r.failedAt ? maxMonth(monthOf(r.failedAt), month) : null };
  });
  const last = [base.at(-1)!.month, ...events.flatMap((e) => [e.month, e.undoneIn ?? e.month])].reduce(maxMonth);
  const months = monthsBetween(paidMonth, last);
  const deferred = months.map((_, i) => base[i]?.deferredAtEndCents ?? 0);
  const index = new Map(months.map((m, i) => [m, i]));

  const out: AdjustedMonth[] = [];
  let previousCumulative = 0;
  let previousRefunded = 0;
  let previousDeferred = net;
  months.forEach((month, i) => {
    const active = events.filter((e) => e.month <= month && (e.undoneIn === null || e.undoneIn > month));
    // The deferred balance month by month after each active refund in turn: from the refund's month
    // on, every month's balance shrinks in the proportion the refund cut the refund month's. Rounding
    // up keeps the balance non-increasing and above zero while any is left, so later months never
    // recognize a negative amount and the service ends only when the balance is really gone.
    let remaining = deferred.slice();
    for (const e of active) {
      const at = index.get(e.month)!;
      const balance = remaining[at]!;
      const cut = Math.min(e.net, balance);
      remaining = remaining.map((d, j) => (j < at ? d : balance === 0 ? 0 : ceilMulDiv(d, balance - cut, balance)));
    }
    const refunded = active.reduce((a, e) => a + e.net, 0);
    const deferredNow = remaining[i]!;
    const cumulative = net - refunded - deferredNow;
    out.push({
      month,
      recognizedCents: cumulative - previousCumulative,
      deferredAtEndCents: deferredNow,
      refundedNetCents: refunded - previousRefunded,
      // Once refunds have taken the remaining balance to zero, the service is over.
      coversMonth: (base[i]?.coversMonth ?? false) && !(previousRefunded > 0 && previousDeferred === 0),
    });
    previousCumulative = cumulative;
    previousRefunded = refunded;
    previousDeferred = deferredNow;
  });
  return out;
}

const maxMonth = (a: string, b: string) => (a > b ? a : b);

/**
 * The months whose refunds can change month `month`'s figures: from the month before the earliest
 * payment of an invoice still recognizing or deferring revenue in `month` or the month before (a
 * refund comes after its payment; one month more covers a charge made seconds before an invoice
 * paid just after midnight), up to `month`.
 */
export function reversalWindow(month: string, paidMonths: Iterable<string>): string[] {
  let first = month;
  for (const m of paidMonths) if (m < first) first = m;
  return monthsBetween(addMonths(first, -1), month);
}
