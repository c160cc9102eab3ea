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
 * - MRR: for each of those members, the latest covering invoice's net-of-tax amount per month
 *   (annual plans count 1/12; other intervals pro rata by 30 days), summed per plan.
 */
import type { LedgerEntry } from './ledger';
import { recognitionSchedule } from './recognition';

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
}

export const netOfTax = (entry: LedgerEntry): number => (entry.totalCents ?? entry.amountCents) - (entry.taxCents ?? 0);

/** The recognition slices of one paid invoice, one per month from payment to the end of service. */
export function slicesForInvoice(entry: LedgerEntry): RecognitionSlice[] {
  if (entry.kind !== 'invoice_paid') return [];
  const net = netOfTax(entry);
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
  }));
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

function monthlyAmount(slice: RecognitionSlice): { monthly: number; annual: number } {
  if (slice.interval === 'year') return { monthly: 0, annual: slice.netCents };
  if (slice.interval === 'month' || slice.periodStart === null || slice.periodEnd === null) return { monthly: slice.netCents, annual: 0 };
  const days = (Date.parse(slice.periodEnd) - Date.parse(slice.periodStart)) / 86_400_000;
  return { monthly: days > 0 ? Math.round((slice.netCents * 30) / days) : slice.netCents, annual: 0 };
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
    // The latest covering invoice decides plan and MRR (an upgrade mid-month shows the new plan).
    if (!seen || (s.periodStart ?? '') > (seen.periodStart ?? '') || ((s.periodStart ?? '') === (seen.periodStart ?? '') && s.invoiceId > seen.invoiceId)) {
      members.set(s.subscriberKey, s);
    }
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
      const p = plan(currency, s.planId);
      p.activeMembers++;
      const parts = mrrParts.get(p) ?? { monthly: 0, annual: 0 };
      const m = monthlyAmount(s);
      parts.monthly += m.monthly;
      parts.annual += m.annual;
      mrrParts.set(p, parts);
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
