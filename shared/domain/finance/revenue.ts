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
import { recognitionSchedule } from './recognition';

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
    return entry.servicePeriod ? [{ planId: entry.planId, interval: entry.interval, amountCents: netOfTax(entry), periodStart: entry.servicePeriod.start, periodEnd: entry.servicePeriod.end }] : [];
  }
  return entry.lines.filter((l) => !l.proration).map((l) => ({ planId: l.planId, interval: l.interval, amountCents: l.amountCents, periodStart: l.period.start, periodEnd: l.period.end }));
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
    recurring,
  }));
}

const recurringOf = (s: RecognitionSlice): RecurringLine[] =>
  s.recurring ?? (s.periodStart && s.periodEnd ? [{ planId: s.planId, interval: s.interval, amountCents: s.netCents, periodStart: s.periodStart, periodEnd: s.periodEnd }] : []);

/** When the subscription's recurring price in this invoice starts (its earliest recurring line). */
const recurringStart = (lines: RecurringLine[]): string => (lines.length ? lines.map((l) => l.periodStart).reduce((a, b) => (b < a ? b : a)) : '');

/**
 * Of two covering invoices of one member, the one whose recurring price is current: one with
 * recurring lines beats one without (a proration-only invoice changes no price); then the later
 * recurring start (an upgrade that restarts the cycle); then the later service start; then the id.
 */
function later(a: RecognitionSlice, b: RecognitionSlice): boolean {
  const ra = recurringOf(a);
  const rb = recurringOf(b);
  if ((ra.length > 0) !== (rb.length > 0)) return ra.length > 0;
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
  disputedCents: number;
  netCents: number;
  recognizedCents: number;
  deferredCents: number;
  mrrCents: number;
  members: { active: number; new: number; churned: number };
  byPlan: PlanRevenue[];
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

/** Async so a month's entries can stream from the ledger Query without sitting in memory. */
export async function computeMonthRevenue(input: {
  month: string;
  entries: Iterable<LedgerEntry> | AsyncIterable<LedgerEntry>;
  slices: readonly RecognitionSlice[];
  previousSlices: readonly RecognitionSlice[];
  currency?: string;
}): Promise<MonthRevenue> {
  const byCurrency = new Map<string, CurrencyRevenue>();
  const want = (currency: string) => input.currency === undefined || input.currency === currency;
  const cur = (currency: string): CurrencyRevenue => {
    let c = byCurrency.get(currency);
    if (!c) {
      c = { currency, invoices: 0, billedCents: 0, taxCents: 0, discountCents: 0, refunds: 0, refundedCents: 0, disputedCents: 0, netCents: 0, recognizedCents: 0, deferredCents: 0, mrrCents: 0, members: { active: 0, new: 0, churned: 0 }, byPlan: [] };
      byCurrency.set(currency, c);
    }
    return c;
  };
  const plans = new Map<string, PlanRevenue>();
  const plan = (currency: string, planId: string | null): PlanRevenue => {
    const key = `${currency}\u0000${planId ?? NO_PLAN}`;
    let p = plans.get(key);
    if (!p) {
      p = { planId: planId ?? NO_PLAN, invoices: 0, billedCents: 0, taxCents: 0, recognizedCents: 0, deferredCents: 0, mrrCents: 0, activeMembers: 0 };
      plans.set(key, p);
      cur(currency).byPlan.push(p);
    }
    return p;
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
        c.refunds++;
        c.refundedCents += e.amountCents;
        break;
      case 'refund_failed':
        // The money came back in this month; the refund stays in its own (closed) month.
        c.refundedCents -= e.amountCents;
        break;
      case 'dispute_funds_withdrawn':
        c.disputedCents += e.amountCents;
        break;
      case 'dispute_funds_reinstated':
        c.disputedCents -= e.amountCents;
        break;
      default:
        break;
    }
  }

  const activeNow = new Map<string, Map<string, RecognitionSlice>>();
  for (const s of input.slices) {
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
  for (const s of input.previousSlices) {
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
    c.byPlan.sort((a, b) => a.planId.localeCompare(b.planId));
  }
  if (input.currency !== undefined && !byCurrency.has(input.currency)) cur(input.currency);
  return { month: input.month, currencies: [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency)) };
}
