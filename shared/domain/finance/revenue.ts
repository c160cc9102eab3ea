/**
 * Monthly revenue figures, per currency (amounts in different currencies are never added) and per
 * plan. Pure: the month's ledger entries and recognition slices in, figures out. Definitions are in
 * docs/finance.md; the short version:
 * - billed: invoice totals (incl. tax) of invoices paid in the month; tax and discounts alongside.
 * - refunded: refunds created in the month − refunds that failed in the month; disputed: dispute
 *   funds withdrawn − reinstated.
 * - net = billed − refunded − disputed (cash view, tax included).
 * - recognized / deferred: see recognition.ts (net of tax, ratable by day, largest remainder).
 * - members: paying members whose paid service period covers part of the month; new = not covered
 *   in the previous month; churned = covered in the previous month, not in this one.
 * - MRR: for each of those members, the recurring price of their subscription: the non-proration
 *   subscription lines (after discounts, without tax) of the latest covering invoice that has any,
 *   per month (annual plans count 1/12; other intervals pro rata by 30 days), summed per line's plan.
 *   Prorations are one-off adjustments and never set MRR.
 */
import type { LedgerEntry } from './ledger';
import { addMonths } from './months';
import { recognitionSchedule } from './recognition';
import { type AdjustedMonth, type Attribution, attribute, type ReversalContext, refundAdjustedSchedule } from './refunds';

/** A recurring (non-proration) subscription line, as MRR reads it. */
export interface RecurringLine {
  planId: string | null;
  interval: string | null;
  amountCents: number;
  periodStart: string;
  periodEnd: string;
}

export interface RecognitionSlice {
  invoiceId: string;
  month: string;
  currency: string;
  planId: string | null;
  /** Who the service is for: memberId, else subscription, else customer, else the invoice itself. */
  subscriberKey: string;
  interval: string | null;
  netCents: number;
  recognizedCents: number;
  deferredAtEndCents: number;
  coversMonth: boolean;
  periodStart: string | null;
  periodEnd: string | null;
  /** When the invoice was paid (its first slice's month); absent on slices stored before it was kept. */
  paidAt?: string;
  /**
   * The invoice's recurring lines (empty for a proration-only or one-off invoice). Absent on slices
   * stored before lines were kept; those are read as one recurring line worth the whole invoice.
   */
  recurring?: RecurringLine[];
}

export const netOfTax = (entry: LedgerEntry): number => (entry.totalCents ?? entry.amountCents) - (entry.taxCents ?? 0);

/**
 * The invoice's recurring lines. An entry without `lines` (recorded before they were kept, or built
 * by hand) is read as one recurring line worth the whole invoice net of tax, as MRR used to be.
 */
function recurringLines(entry: LedgerEntry): RecurringLine[] {
  if (entry.lines === undefined) {
    return entry.servicePeriod
      ? [
          {
            planId: entry.planId,
            interval: entry.interval,
            amountCents: netOfTax(entry),
            periodStart: entry.servicePeriod.start,
            periodEnd: entry.servicePeriod.end,
          },
        ]
      : [];
  }
  return entry.lines
    .filter((l) => !l.proration)
    .map((l) => ({
      planId: l.planId,
      interval: l.interval,
      amountCents: l.amountCents,
      periodStart: l.period.start,
      periodEnd: l.period.end,
    }));
}

/** The recognition slices of one paid invoice, one per month from payment to the end of service. */
export function slicesForInvoice(entry: LedgerEntry): RecognitionSlice[] {
  if (entry.kind !== 'invoice_paid') return [];
  const net = netOfTax(entry);
  const recurring = recurringLines(entry);
  return recognitionSchedule({ netCents: net, paidAt: entry.occurredAt, servicePeriod: entry.servicePeriod }).map((s) => ({
    invoiceId: entry.entryId,
    month: s.month,
    currency: entry.currency,
    planId: entry.planId,
    subscriberKey: entry.memberId ?? entry.subscriptionId ?? entry.customerId ?? entry.entryId,
    interval: entry.interval,
    netCents: net,
    recognizedCents: s.recognizedCents,
    deferredAtEndCents: s.deferredAtEndCents,
    coversMonth: s.coversMonth,
    periodStart: entry.servicePeriod?.start ?? null,
    periodEnd: entry.servicePeriod?.end ?? null,
    paidAt: entry.occurredAt,
    recurring,
  }));
}

const recurringOf = (s: RecognitionSlice): RecurringLine[] =>
  s.recurring ??
  (s.periodStart && s.periodEnd
    ? [{ planId: s.planId, interval: s.interval, amountCents: s.netCents, periodStart: s.periodStart, periodEnd: s.periodEnd }]
    : []);

/** When the subscription's recurring price in this invoice starts (its earliest recurring line). */
const recurringStart = (lines: RecurringLine[]): string =>
  lines.length ? lines.map((l) => l.periodStart).reduce((a, b) => (b < a ? b : a)) : '';

/**
 * Of two covering invoices of one member, the one whose recurring price is current: one with
 * recurring lines beats one without (a proration-only invoice changes no price); then the later
 * recurring start (an upgrade that restarts the cycle); then the later service start; then the id.
 */
function later(a: RecognitionSlice, b: RecognitionSlice): boolean {
  const ra = recurringOf(a);
  const rb = recurringOf(b);
  if (ra.length > 0 !== rb.length > 0) return ra.length > 0;
  const sa = recurringStart(ra);
  const sb = recurringStart(rb);
  if (sa !== sb) return sa > sb;
  const pa = a.periodStart ?? '';
  const pb = b.periodStart ?? '';
  if (pa !== pb) return pa > pb;
  return a.invoiceId > b.invoiceId;
}

export interface PlanRevenue {
  planId: string;
  invoices: number;
  billedCents: number;
  taxCents: number;
  /** Refunds of this plan's invoices created in the month (cash, tax included), and how many. */
  refunds: number;
  refundedCents: number;
  /** The same refunds net of tax, minus failures of earlier ones: what came out of recognition and deferral. */
  refundedNetOfTaxCents: number;
  disputedCents: number;
  /** billed − refunded − disputed: cash, tax included, before Stripe's fees. */
  netCents: number;
  recognizedCents: number;
  deferredCents: number;
  mrrCents: number;
  activeMembers: number;
}

export interface CurrencyRevenue {
  currency: string;
  invoices: number;
  billedCents: number;
  taxCents: number;
  discountCents: number;
  refunds: number;
  refundedCents: number;
  /** Refunds tied to an invoice, net of tax, minus failures of earlier ones (Σ over plans). */
  refundedNetOfTaxCents: number;
  disputedCents: number;
  /** billed − refunded − disputed: cash, tax included, before Stripe's fees. */
  netCents: number;
  recognizedCents: number;
  deferredCents: number;
  mrrCents: number;
  members: { active: number; new: number; churned: number };
  byPlan: PlanRevenue[];
  /** Refunds and dispute funds of the month no invoice in the ledger could be found for (in the totals above, in no plan). */
  unattributed: { refunds: number; refundedCents: number; disputedCents: number };
}

export interface MonthRevenue {
  month: string;
  currencies: CurrencyRevenue[];
}

/** Invoices without a catalog plan (one-off invoices, unknown prices) are grouped here. */
export const NO_PLAN = 'unassigned';

const paying = (s: RecognitionSlice) => s.coversMonth && s.netCents > 0;

/** A recurring line per month: monthly as is, annual kept apart (1/12 per plan, rounded once), other intervals pro rata to 30 days. */
function monthlyAmount(line: RecurringLine): { monthly: number; annual: number } {
  if (line.interval === 'year') return { monthly: 0, annual: line.amountCents };
  if (line.interval === 'month') return { monthly: line.amountCents, annual: 0 };
  const days = (Date.parse(line.periodEnd) - Date.parse(line.periodStart)) / 86_400_000;
  return { monthly: days > 0 ? Math.round((line.amountCents * 30) / days) : line.amountCents, annual: 0 };
}

/** The plan a member counts under: their largest recurring line's (ties to the first), else the invoice's. */
function memberPlan(s: RecognitionSlice): string | null {
  const lines = recurringOf(s);
  if (lines.length === 0) return s.planId;
  return lines.reduce((best, l) => (l.amountCents > best.amountCents ? l : best)).planId;
}

/** The invoices refunds touch, with their refund-adjusted schedule by month. */
type Adjusted = Map<string, { invoice: LedgerEntry; byMonth: Map<string, AdjustedMonth> }>;

function adjustedInvoices(attribution: Attribution): Adjusted {
  const out: Adjusted = new Map();
  const invoices = new Map([...attribution.invoiceOf.values()].map((e) => [e.entryId, e]));
  for (const [invoiceId, refunds] of attribution.refundsOf) {
    const invoice = invoices.get(invoiceId);
    if (!invoice) continue;
    out.set(invoiceId, { invoice, byMonth: new Map(refundAdjustedSchedule(invoice, refunds).map((m) => [m.month, m])) });
  }
  return out;
}

/**
 * A month's slices with refunds applied: a refunded invoice's recognized, deferred and coverage are
 * its adjusted schedule's; an invoice whose service had ended but whose refund reverses revenue in
 * this month gets a slice for it.
 */
function withRefunds(slices: readonly RecognitionSlice[], month: string, adjusted: Adjusted): RecognitionSlice[] {
  if (adjusted.size === 0) return [...slices];
  const out = slices.map((s) => {
    const a = adjusted.get(s.invoiceId)?.byMonth.get(month);
    return a ? { ...s, recognizedCents: a.recognizedCents, deferredAtEndCents: a.deferredAtEndCents, coversMonth: a.coversMonth } : s;
  });
  const present = new Set(slices.map((s) => s.invoiceId));
  for (const [invoiceId, { invoice, byMonth }] of adjusted) {
    const a = byMonth.get(month);
    if (!a || present.has(invoiceId) || (a.recognizedCents === 0 && a.deferredAtEndCents === 0)) continue;
    out.push({
      ...slicesForInvoice(invoice)[0]!,
      month,
      recognizedCents: a.recognizedCents,
      deferredAtEndCents: a.deferredAtEndCents,
      coversMonth: false,
    });
  }
  return out;
}

/**
 * Async so a month's entries can stream from the ledger Query without sitting in memory. With
 * `reversals` (the refunds, failures, credit notes and dispute funds of `reversalWindow`, the links
 * and invoices they are tied to), refunds are attributed to plans and taken out of recognition and
 * deferral (see refunds.ts); without, every refund is unattributed cash.
 */
export async function computeMonthRevenue(input: {
  month: string;
  entries: Iterable<LedgerEntry> | AsyncIterable<LedgerEntry>;
  slices: readonly RecognitionSlice[];
  previousSlices: readonly RecognitionSlice[];
  reversals?: ReversalContext;
  currency?: string;
}): Promise<MonthRevenue> {
  const attribution: Attribution = input.reversals ? attribute(input.reversals) : { invoiceOf: new Map(), refundsOf: new Map() };
  const adjusted = adjustedInvoices(attribution);
  const previousMonth = addMonths(input.month, -1);
  const slicesNow = withRefunds(input.slices, input.month, adjusted);
  const slicesBefore = withRefunds(input.previousSlices, previousMonth, adjusted);

  const byCurrency = new Map<string, CurrencyRevenue>();
  const want = (currency: string) => input.currency === undefined || input.currency === currency;
  const cur = (currency: string): CurrencyRevenue => {
    let c = byCurrency.get(currency);
    if (!c) {
      c = {
        currency,
        invoices: 0,
        billedCents: 0,
        taxCents: 0,
        discountCents: 0,
        refunds: 0,
        refundedCents: 0,
        refundedNetOfTaxCents: 0,
        disputedCents: 0,
        netCents: 0,
        recognizedCents: 0,
        deferredCents: 0,
        mrrCents: 0,
        members: { active: 0, new: 0, churned: 0 },
        byPlan: [],
        unattributed: { refunds: 0, refundedCents: 0, disputedCents: 0 },
      };
      byCurrency.set(currency, c);
    }
    return c;
  };
  const plans = new Map<string, PlanRevenue>();
  const plan = (currency: string, planId: string | null): PlanRevenue => {
    const key = `${currency}\u0000${planId ?? NO_PLAN}`;
    let p = plans.get(key);
    if (!p) {
      p = {
        planId: planId ?? NO_PLAN,
        invoices: 0,
        billedCents: 0,
        taxCents: 0,
        refunds: 0,
        refundedCents: 0,
        refundedNetOfTaxCents: 0,
        disputedCents: 0,
        netCents: 0,
        recognizedCents: 0,
        deferredCents: 0,
        mrrCents: 0,
        activeMembers: 0,
      };
      plans.set(key, p);
      cur(currency).byPlan.push(p);
    }
    return p;
  };
  /** Where a refund's or dispute's money is counted: its invoice's plan, else the unattributed bucket. */
  const owner = (e: LedgerEntry) => {
    const invoice = attribution.invoiceOf.get(e.entryId);
    return invoice ? plan(e.currency, invoice.planId) : null;
  };

  for await (const e of input.entries) {
    if (!want(e.currency)) continue;
    const c = cur(e.currency);
    switch (e.kind) {
      case 'invoice_paid': {
        const p = plan(e.currency, e.planId);
        c.invoices++;
        p.invoices++;
        c.billedCents += e.totalCents ?? e.amountCents;
        p.billedCents += e.totalCents ?? e.amountCents;
        c.taxCents += e.taxCents ?? 0;
        p.taxCents += e.taxCents ?? 0;
        c.discountCents += e.discountCents ?? 0;
        break;
      }
      case 'refund':
      case 'refund_failed': {
        // A failure gives the money back in its own month; the refund's (possibly closed) month stays.
        const sign = e.kind === 'refund' ? 1 : -1;
        const count = e.kind === 'refund' ? 1 : 0;
        c.refunds += count;
        c.refundedCents += sign * e.amountCents;
        const target = owner(e) ?? c.unattributed;
        target.refunds += count;
        target.refundedCents += sign * e.amountCents;
        break;
      }
      case 'dispute_funds_withdrawn':
      case 'dispute_funds_reinstated': {
        const sign = e.kind === 'dispute_funds_withdrawn' ? 1 : -1;
        c.disputedCents += sign * e.amountCents;
        (owner(e) ?? c.unattributed).disputedCents += sign * e.amountCents;
        break;
      }
      default:
        break;
    }
  }

  for (const { invoice, byMonth } of adjusted.values()) {
    const a = byMonth.get(input.month);
    if (!a || a.refundedNetCents === 0 || !want(invoice.currency)) continue;
    cur(invoice.currency).refundedNetOfTaxCents += a.refundedNetCents;
    plan(invoice.currency, invoice.planId).refundedNetOfTaxCents += a.refundedNetCents;
  }

  const activeNow = new Map<string, Map<string, RecognitionSlice>>();
  for (const s of slicesNow) {
    if (!want(s.currency)) continue;
    const c = cur(s.currency);
    const p = plan(s.currency, s.planId);
    c.recognizedCents += s.recognizedCents;
    p.recognizedCents += s.recognizedCents;
    c.deferredCents += s.deferredAtEndCents;
    p.deferredCents += s.deferredAtEndCents;
    if (!paying(s)) continue;
    const members = activeNow.get(s.currency) ?? new Map<string, RecognitionSlice>();
    activeNow.set(s.currency, members);
    const seen = members.get(s.subscriberKey);
    // The covering invoice with the current recurring price decides plan and MRR (see `later`).
    if (!seen || later(s, seen)) members.set(s.subscriberKey, s);
  }
  const activeBefore = new Map<string, Set<string>>();
  for (const s of slicesBefore) {
    if (!want(s.currency) || !paying(s)) continue;
    const set = activeBefore.get(s.currency) ?? new Set<string>();
    activeBefore.set(s.currency, set);
    set.add(s.subscriberKey);
  }

  const mrrParts = new Map<PlanRevenue, { monthly: number; annual: number }>();
  for (const [currency, members] of activeNow) {
    const c = cur(currency);
    const before = activeBefore.get(currency) ?? new Set<string>();
    c.members.active = members.size;
    for (const [key, s] of members) {
      if (!before.has(key)) c.members.new++;
      plan(currency, memberPlan(s)).activeMembers++;
      // Each recurring line counts under its own plan (a multi-plan subscription splits its MRR).
      for (const line of recurringOf(s)) {
        const p = plan(currency, line.planId);
        const parts = mrrParts.get(p) ?? { monthly: 0, annual: 0 };
        const m = monthlyAmount(line);
        parts.monthly += m.monthly;
        parts.annual += m.annual;
        mrrParts.set(p, parts);
      }
    }
  }
  for (const [currency, before] of activeBefore) {
    const now = activeNow.get(currency);
    const c = cur(currency);
    for (const key of before) if (!now?.has(key)) c.members.churned++;
  }
  for (const [p, parts] of mrrParts) p.mrrCents = parts.monthly + Math.round(parts.annual / 12);

  for (const c of byCurrency.values()) {
    c.netCents = c.billedCents - c.refundedCents - c.disputedCents;
    c.mrrCents = c.byPlan.reduce((sum, p) => sum + p.mrrCents, 0);
    for (const p of c.byPlan) p.netCents = p.billedCents - p.refundedCents - p.disputedCents;
    c.byPlan.sort((a, b) => a.planId.localeCompare(b.planId));
  }
  if (input.currency !== undefined && !byCurrency.has(input.currency)) cur(input.currency);
  return { month: input.month, currencies: [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency)) };
}
