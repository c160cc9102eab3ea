/**
 * A finance account: everything the ledger knows about one subscriber (a member, else a
 * subscription or customer), and what it adds to each month's figures. Pure: facts in, the
 * account's contributions out, one vector of figures per (month, currency, plan). The month's
 * figures are the sum of every account's contributions, which is what makes them incremental: when
 * a fact reaches an account, the account is projected again and only the difference to what it
 * contributed before is added to the month rollups (shared/usecases/finance-rollups.ts). Because a
 * projection is a function of the set of facts, the order they arrive in, and how often, changes
 * nothing. Definitions and their sources are in docs/finance.md; the short version:
 *
 * Money, per invoice: billed, tax and discounts in its payment month; recognized revenue, deferred
 * balance and reversals net of tax from its schedule (refunds.ts); refunds, credits and dispute
 * funds as cash in their own months, under the invoice's plan.
 *
 * Members, at each month end (the snapshot ChartMogul and Baremetrics report MRR from): a member is
 * paying when an invoice paid by then covers the month's last instant. When their paid service has
 * ended, they stay a paying member (at the same MRR) for the plan's `graceDays` while the renewal is
 * still being collected (dunning), unless their subscription ended first (a cancellation: at the end
 * of the paid period; a collection failure: when Stripe gave up) or a reversal took the service back
 * (a full refund, a lost dispute). Closed months do not change with facts dated after them: an
 * invoice counts for the months from its payment month on.
 */

import { giftSchedule } from './gift-revenue';
import type { LedgerEntry } from './ledger';
import { addMonths, monthEnd, monthOf, monthStart, monthsBetween } from './months';
import { invoiceNetOfTax, type RefundEvent, refundAdjustedSchedule, reversalEvents, serviceEndAsOf } from './refunds';

/** Invoices without a catalog plan (one-off invoices, unknown prices) are grouped here. */
export const NO_PLAN = 'unassigned';
/** Where refunds and dispute funds that no invoice could be found for are counted (not a plan). */
export const UNATTRIBUTED = '~unattributed';

/** Savings delivered to a member in a month (coupons at face value, shipping saved): benefits' counters. */
export interface SavingsFact {
  month: string;
  currency: string;
  cents: number;
}

export interface AccountFacts {
  /** `invoice_paid` entries. */
  invoices: readonly LedgerEntry[];
  /** Refunds, their failures, credit notes, dispute funds and lost disputes, each with the invoice it is tied to. */
  tied: ReadonlyArray<{ entry: LedgerEntry; invoiceId: string }>;
  /** `invoice_payment_failed` entries. */
  failures: readonly LedgerEntry[];
  /** `subscription_ended` entries. */
  endings: readonly LedgerEntry[];
  savings: readonly SavingsFact[];
  /** A gift's account (`gift:<purchaseId>`): its `gift_paid` and `gift_claimed` entries (gift-revenue.ts). */
  gifts?: readonly LedgerEntry[];
}

export interface ProjectionSettings {
  /** The plan's grace after a missed renewal (the catalog's `graceDays`), in days. */
  graceDays(planId: string | null): number;
}

/** Figures by name, non-zero ones only (field names: rollup.ts). */
export type Figures = Record<string, number>;
/** The contributions of an account (or of an unattributed fact): figures per `month|currency|plan`. */
export type Contributions = Map<string, Figures>;

export const contributionKey = (month: string, currency: string, plan: string) => `${month}|${currency}|${plan}`;
export function parseContributionKey(key: string): { month: string; currency: string; plan: string } {
  const [month, currency, ...plan] = key.split('|');
  return { month: month!, currency: currency!, plan: plan.join('|') };
}

export function addFigure(out: Contributions, month: string, currency: string, plan: string, field: string, value: number): void {
  if (value === 0) return;
  const key = contributionKey(month, currency, plan);
  const figures = out.get(key) ?? {};
  const next = (figures[field] ?? 0) + value;
  if (next === 0) delete figures[field];
  else figures[field] = next;
  if (Object.keys(figures).length === 0) out.delete(key);
  else out.set(key, figures);
}

/** Cash a tied or unattributed entry moves in its own month (refunds count as they are made, failures give back). */
export function cashFigures(entry: LedgerEntry, tied: boolean): Figures {
  switch (entry.kind) {
    case 'refund':
      return { refunds: 1, refundedCents: entry.amountCents };
    case 'refund_failed':
      return { refundedCents: -entry.amountCents };
    case 'dispute_funds_withdrawn':
      return { disputedCents: entry.amountCents };
    case 'dispute_funds_reinstated':
      return { disputedCents: -entry.amountCents };
    case 'credit_note':
      // Only once tied: a credit note of an invoice the ledger does not hold is no membership's credit.
      return tied ? { creditedCents: entry.amountCents - (entry.refundedCents ?? entry.amountCents) } : {};
    default:
      return {};
  }
}

/** The contributions of a refund-like entry no invoice could be found for: cash in its month, in no plan. */
export function unattributedContributions(entry: LedgerEntry): Contributions {
  const out: Contributions = new Map();
  for (const [field, value] of Object.entries(cashFigures(entry, false)))
    addFigure(out, monthOf(entry.occurredAt), entry.currency, UNATTRIBUTED, field, value);
  return out;
}

// ---- MRR ------------------------------------------------------------------------------------

/** A recurring (non-proration) subscription line, as MRR reads it. */
export interface RecurringLine {
  planId: string | null;
  interval: string | null;
  amountCents: number;
  periodStart: string;
  periodEnd: string;
}

/**
 * The invoice's recurring lines. An entry without `lines` (recorded before they were kept, or built
 * by hand) is read as one recurring line worth the whole invoice net of tax.
 */
export function recurringLines(entry: LedgerEntry): RecurringLine[] {
  if (entry.lines === undefined) {
    return entry.servicePeriod
      ? [
          {
            planId: entry.planId,
            interval: entry.interval,
            amountCents: invoiceNetOfTax(entry),
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

/**
 * A recurring line per month: monthly as is, annual at 1/12 rounded half up, other intervals pro
 * rata to 30 days. Rounded per line, so a member's MRR is a whole number of cents and MRR is the
 * plain sum of the members' (the movements then add up to the change exactly).
 */
export function lineMrr(line: RecurringLine): number {
  if (line.interval === 'year') return Math.round(line.amountCents / 12);
  if (line.interval === 'month') return line.amountCents;
  const days = (Date.parse(line.periodEnd) - Date.parse(line.periodStart)) / 86_400_000;
  return days > 0 ? Math.round((line.amountCents * 30) / days) : line.amountCents;
}

const recurringStart = (lines: RecurringLine[]): string =>
  lines.length ? lines.map((l) => l.periodStart).reduce((a, b) => (b < a ? b : a)) : '';

/**
 * Of two covering invoices of one member, the one whose recurring price is current: one with
 * recurring lines beats one without (a proration-only invoice changes no price); then the later
 * recurring start (an upgrade that restarts the cycle); then the later service start; then the id.
 */
export function isLater(a: LedgerEntry, b: LedgerEntry): boolean {
  const ra = recurringLines(a);
  const rb = recurringLines(b);
  if (ra.length > 0 !== rb.length > 0) return ra.length > 0;
  const sa = Date.parse(recurringStart(ra) || '0');
  const sb = Date.parse(recurringStart(rb) || '0');
  if (sa !== sb) return sa > sb;
  const pa = Date.parse(a.servicePeriod?.start ?? '0');
  const pb = Date.parse(b.servicePeriod?.start ?? '0');
  if (pa !== pb) return pa > pb;
  return a.entryId > b.entryId;
}

/** The plan a member counts under: their largest recurring line's (ties to the first), else the invoice's. */
export function memberPlanOf(invoice: LedgerEntry): string {
  const lines = recurringLines(invoice);
  if (lines.length === 0) return invoice.planId ?? NO_PLAN;
  return lines.reduce((best, l) => (l.amountCents > best.amountCents ? l : best)).planId ?? NO_PLAN;
}

/** MRR by plan of an invoice's recurring lines (a multi-plan subscription splits its MRR). */
function mrrByPlan(invoice: LedgerEntry): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of recurringLines(invoice)) out.set(l.planId ?? NO_PLAN, (out.get(l.planId ?? NO_PLAN) ?? 0) + lineMrr(l));
  return out;
}

// ---- member state at a month end --------------------------------------------------------------

const DAY_MS = 86_400_000;
/** A failed renewal belongs to the period that ended when its service period starts within this of the end. */
const RENEWAL_MATCH_MS = DAY_MS;
const INVOLUNTARY_ENDINGS = new Set(['payment_failed', 'payment_disputed']);

export interface MemberState {
  paying: boolean;
  /** The member's plan (of the invoice that decides their price); null when not paying. */
  plan: string | null;
  mrr: Map<string, number>;
  mrrTotal: number;
  /** When not paying: when their paid service (and grace) ran out, and why; null if it never covered this far. */
  lapse: { at: number; involuntary: boolean } | null;
}

interface Invoice {
  entry: LedgerEntry;
  events: RefundEvent[];
  paidMonth: string;
  start: number;
  end: number;
  graceMs: number;
}

function stateAt(month: string, invoices: readonly Invoice[], facts: AccountFacts): MemberState {
  const T = monthEnd(month).getTime();
  const from = monthStart(month).getTime();
  const candidates = invoices
    .filter((i) => i.paidMonth <= month && i.start < T && i.end + i.graceMs >= from)
    .map((i) => {
      const service = serviceEndAsOf(i.entry, i.events, month)!;
      return { ...i, coverEnd: Date.parse(service.end), endedBy: service.endedBy };
    });
  const covering = candidates.filter((c) => c.coverEnd >= T);
  const paying = (invoice: LedgerEntry): MemberState => {
    const mrr = mrrByPlan(invoice);
    return { paying: true, plan: memberPlanOf(invoice), mrr, mrrTotal: [...mrr.values()].reduce((a, b) => a + b, 0), lapse: null };
  };
  if (covering.length > 0) return paying(covering.reduce((best, c) => (isLater(c.entry, best.entry) ? c : best)).entry);
  if (candidates.length === 0) return { paying: false, plan: null, mrr: new Map(), mrrTotal: 0, lapse: null };

  // Not covered: the most recent coverage decides whether the member is in grace or gone, and why.
  const last = candidates.reduce((best, c) =>
    c.coverEnd > best.coverEnd || (c.coverEnd === best.coverEnd && isLater(c.entry, best.entry)) ? c : best,
  );
  const E = last.coverEnd;
  let lapse: { at: number; involuntary: boolean };
  if (last.endedBy !== null) {
    // A full refund or credit: the member left (voluntary); a lost dispute: the bank took the payment back.
    lapse = { at: E, involuntary: last.endedBy === 'dispute' };
  } else {
    const subscription = last.entry.subscriptionId;
    const ending = facts.endings.find((e) => e.subscriptionId === subscription && Date.parse(e.occurredAt) < T);
    if (ending) {
      const endedAt = Date.parse(ending.occurredAt);
      lapse = { at: Math.min(Math.max(endedAt, E), E + last.graceMs), involuntary: INVOLUNTARY_ENDINGS.has(ending.reason ?? '') };
    } else {
      const failed = facts.failures.some(
        (f) =>
          f.subscriptionId === subscription &&
          f.billingReason !== 'subscription_create' &&
          Date.parse(f.occurredAt) < T &&
          f.servicePeriod !== null &&
          Math.abs(Date.parse(f.servicePeriod.start) - E) <= RENEWAL_MATCH_MS,
      );
      lapse = { at: E + last.graceMs, involuntary: failed };
    }
  }
  if (T < lapse.at) return paying(last.entry);
  return { paying: false, plan: null, mrr: new Map(), mrrTotal: 0, lapse };
}

/** Day of the month a lapse counts on (the day its last covered instant falls in), 1-based. */
function lapseDay(month: string, at: number): number {
  const clamped = Math.min(Math.max(at, monthStart(month).getTime() + 1), monthEnd(month).getTime());
  return new Date(clamped - 1).getUTCDate();
}
const dd = (day: number) => String(day).padStart(2, '0');

/** How many months after the first paying month a cohort is followed. */
export const COHORT_MONTHS = 12;

// ---- the projection ---------------------------------------------------------------------------

export function projectAccount(facts: AccountFacts, settings: ProjectionSettings): Contributions {
  const out: Contributions = new Map();
  const tiedTo = new Map<string, LedgerEntry[]>();
  for (const { entry, invoiceId } of facts.tied) tiedTo.set(invoiceId, [...(tiedTo.get(invoiceId) ?? []), entry]);

  const invoices: Invoice[] = facts.invoices.map((entry) => ({
    entry,
    events: reversalEvents(tiedTo.get(entry.entryId) ?? []),
    paidMonth: monthOf(entry.occurredAt),
    start: entry.servicePeriod ? Date.parse(entry.servicePeriod.start) : Number.NaN,
    end: entry.servicePeriod ? Date.parse(entry.servicePeriod.end) : Number.NaN,
    graceMs: settings.graceDays(entry.planId) * DAY_MS,
  }));

  // Money, invoice by invoice.
  for (const i of invoices) {
    const e = i.entry;
    const plan = e.planId ?? NO_PLAN;
    const add = (month: string, field: string, value: number) => addFigure(out, month, e.currency, plan, field, value);
    add(i.paidMonth, 'invoices', 1);
    add(i.paidMonth, 'billedCents', e.totalCents ?? e.amountCents);
    add(i.paidMonth, 'collectedCents', e.amountCents);
    add(i.paidMonth, 'taxCents', e.taxCents ?? 0);
    add(i.paidMonth, 'discountCents', e.discountCents ?? 0);
    for (const m of refundAdjustedSchedule(e, i.events)) {
      add(m.month, 'recognizedCents', m.recognizedCents);
      add(m.month, 'deferredCents', m.deferredAtEndCents);
      add(m.month, 'refundedNetOfTaxCents', m.refundedNetCents);
    }
    for (const t of tiedTo.get(e.entryId) ?? [])
      for (const [field, value] of Object.entries(cashFigures(t, true)))
        addFigure(out, monthOf(t.occurredAt), e.currency, plan, field, value);
  }

  projectGifts(out, facts.gifts ?? [], tiedTo);

  const currencies = new Set([...invoices.map((i) => i.entry.currency), ...facts.failures.map((f) => f.currency)]);
  const states = new Map<string, Map<string, MemberState>>();
  for (const currency of currencies) states.set(currency, projectMember(out, currency, invoices, facts));

  // Failed renewals of the month, and whether the invoice was paid after all.
  for (const f of facts.failures) {
    if (f.billingReason === 'subscription_create') continue;
    const month = monthOf(f.occurredAt);
    const plan = f.planId ?? NO_PLAN;
    addFigure(out, month, f.currency, plan, 'failedRenewals', 1);
    if (facts.invoices.some((i) => i.entryId === f.invoiceId)) addFigure(out, month, f.currency, plan, 'recoveredRenewals', 1);
  }

  // Savings: their cost under the member's plan at the time, and against the fee of paying members.
  for (const s of facts.savings) {
    if (s.cents === 0) continue;
    const state = states.get(s.currency)?.get(s.month);
    const plan = state?.paying ? state.plan! : planAt(s.month, invoices, states);
    addFigure(out, s.month, s.currency, plan, 'benefitCostCents', s.cents);
  }
  for (const [currency, byMonth] of states) {
    for (const [month, state] of byMonth) {
      if (!state.paying) continue;
      const saved = facts.savings.filter((s) => s.month === month && s.currency === currency).reduce((a, s) => a + s.cents, 0);
      const plan = state.plan!;
      addFigure(out, month, currency, plan, 'valueSavingsCents', saved);
      addFigure(out, month, currency, plan, 'valueFeesCents', state.mrrTotal);
      if (state.mrrTotal > 0 && saved >= state.mrrTotal) addFigure(out, month, currency, plan, 'valueAtLeastFee', 1);
    }
  }
  return out;
}

/**
 * A gift's figures (gift-revenue.ts), under the plan it gives: billed and collected when paid,
 * deferred until claimed, recognized over the gifted service or as breakage at the claim deadline.
 * The gift figures (`gift*`) repeat what the general ones contain, so finance can see gifts apart.
 */
function projectGifts(out: Contributions, gifts: readonly LedgerEntry[], tiedTo: ReadonlyMap<string, LedgerEntry[]>): void {
  const claims = new Map(gifts.filter((g) => g.kind === 'gift_claimed').map((g) => [g.gift?.purchaseId, g]));
  for (const sale of gifts) {
    if (sale.kind !== 'gift_paid') continue;
    const plan = sale.planId ?? NO_PLAN;
    const add = (month: string, field: string, value: number) => addFigure(out, month, sale.currency, plan, field, value);
    const paidMonth = monthOf(sale.occurredAt);
    add(paidMonth, 'giftsSold', 1);
    add(paidMonth, 'billedCents', sale.totalCents ?? sale.amountCents);
    add(paidMonth, 'giftBilledCents', sale.totalCents ?? sale.amountCents);
    add(paidMonth, 'collectedCents', sale.amountCents);
    add(paidMonth, 'taxCents', sale.taxCents ?? 0);
    const claim = claims.get(sale.gift?.purchaseId) ?? null;
    const tied = tiedTo.get(sale.entryId) ?? [];
    const schedule = giftSchedule(sale, claim, reversalEvents(tied));
    if (claim) add(monthOf(claim.occurredAt), 'giftsClaimed', 1);
    for (const m of schedule) {
      add(m.month, 'recognizedCents', m.recognizedCents);
      add(m.month, 'deferredCents', m.deferredAtEndCents);
      add(m.month, 'refundedNetOfTaxCents', m.refundedNetCents);
      add(m.month, 'giftRecognizedCents', m.recognizedCents);
      add(m.month, 'giftDeferredCents', m.deferredAtEndCents);
      add(m.month, 'giftBreakageCents', m.breakageCents);
      // Expired: unclaimed at the deadline and not wholly taken back before it.
      if (m.breakageCents > 0) add(m.month, 'giftsExpired', 1);
    }
    for (const t of tied)
      for (const [field, value] of Object.entries(cashFigures(t, true)))
        addFigure(out, monthOf(t.occurredAt), sale.currency, plan, field, value);
  }
}

/** The plan a non-paying member's benefits count under: their plan in another currency, else their latest invoice's by then. */
function planAt(month: string, invoices: readonly Invoice[], states: Map<string, Map<string, MemberState>>): string {
  for (const byMonth of states.values()) {
    const s = byMonth.get(month);
    if (s?.paying) return s.plan!;
  }
  const paid = invoices.filter((i) => i.paidMonth <= month && i.entry.servicePeriod);
  if (paid.length === 0) return NO_PLAN;
  return memberPlanOf(paid.reduce((best, i) => (isLater(i.entry, best.entry) ? i : best)).entry);
}

/** Member figures of one currency, month by month; returns the state at each month end. */
function projectMember(out: Contributions, currency: string, all: readonly Invoice[], facts: AccountFacts): Map<string, MemberState> {
  const invoices = all.filter((i) => i.entry.currency === currency);
  const paying = invoices.filter((i) => i.entry.servicePeriod && invoiceNetOfTax(i.entry) > 0);
  const states = new Map<string, MemberState>();

  // Trials: $0 first invoices with a service period; converted when a paying invoice of the same subscription follows.
  for (const t of invoices) {
    const subscription = t.entry.subscriptionId;
    if (!subscription || !t.entry.servicePeriod || invoiceNetOfTax(t.entry) !== 0 || t.entry.billingReason !== 'subscription_create')
      continue;
    const month = monthOf(new Date(t.end));
    const plan = t.entry.planId ?? NO_PLAN;
    addFigure(out, month, currency, plan, 'trialsEnded', 1);
    if (paying.some((p) => p.entry.subscriptionId === subscription && p.start >= t.start))
      addFigure(out, month, currency, plan, 'trialsConverted', 1);
  }

  // Annual terms coming to an end, and whether a paid period followed within the grace.
  const terms = new Set<string>();
  for (const p of paying) {
    const yearly = recurringLines(p.entry).filter((l) => l.interval === 'year');
    if (yearly.length === 0) continue;
    const E = Math.max(...yearly.map((l) => Date.parse(l.periodEnd)));
    const term = `${p.entry.subscriptionId ?? p.entry.entryId}@${E}`;
    if (terms.has(term)) continue;
    terms.add(term);
    const month = monthOf(new Date(E));
    if (serviceEndAsOf(p.entry, p.events, month)?.endedBy) continue;
    const plan = p.entry.planId ?? NO_PLAN;
    addFigure(out, month, currency, plan, 'renewalsDue', 1);
    if (paying.some((q) => q !== p && q.start >= E - RENEWAL_MATCH_MS && q.start <= E + p.graceMs))
      addFigure(out, month, currency, plan, 'renewalsRenewed', 1);
  }

  if (paying.length === 0) return states;
  const first = paying.map((p) => p.paidMonth).reduce((a, b) => (b < a ? b : a));
  const horizon = [
    ...paying.map((p) => monthOf(new Date(p.end + p.graceMs))),
    ...paying.flatMap((p) => p.events.flatMap((e) => [monthOf(e.occurredAt), ...(e.failedAt ? [monthOf(e.failedAt)] : [])])),
    ...facts.endings.map((e) => monthOf(e.occurredAt)),
    ...facts.failures.map((f) => monthOf(f.occurredAt)),
    ...facts.savings.map((s) => s.month),
  ].reduce((a, b) => (b > a ? b : a), first);

  let previous: MemberState = { paying: false, plan: null, mrr: new Map(), mrrTotal: 0, lapse: null };
  let cohort: string | null = null;
  let last = addMonths(horizon, 1);
  for (let month = first; month <= last; month = addMonths(month, 1)) {
    const now = stateAt(month, paying, facts);
    states.set(month, now);
    const add = (plan: string, field: string, value: number) => addFigure(out, month, currency, plan, field, value);
    if (previous.paying) {
      add(previous.plan!, 'membersStart', 1);
      for (const [plan, cents] of previous.mrr) add(plan, 'mrrStartCents', cents);
    }
    if (now.paying) {
      add(now.plan!, 'membersEnd', 1);
      for (const [plan, cents] of now.mrr) add(plan, 'mrrEndCents', cents);
    }
    if (!previous.paying && now.paying) {
      const kind = cohort === null ? 'new' : 'reactivated';
      add(now.plan!, `${kind}Members`, 1);
      add(now.plan!, `${kind}MrrCents`, now.mrrTotal);
      if (cohort === null) {
        cohort = month;
        addFigure(out, cohort, currency, now.plan!, 'cohortSize', 1);
        // Follow the cohort for its twelve months even past the facts' horizon.
        const end = addMonths(cohort, COHORT_MONTHS);
        if (end > last) last = end;
      }
    } else if (previous.paying && !now.paying) {
      // Dated by the day it happens, so a month in progress counts only the lapses already past.
      const day = dd(lapseDay(month, now.lapse?.at ?? monthEnd(month).getTime()));
      add(previous.plan!, `lapsed_${day}_${now.lapse?.involuntary ? 'i' : 'v'}`, 1);
      for (const [plan, cents] of previous.mrr) add(plan, `lapsedMrr_${day}`, cents);
    } else if (previous.paying && now.paying && now.mrrTotal !== previous.mrrTotal) {
      add(
        now.plan!,
        now.mrrTotal > previous.mrrTotal ? 'expansionMrrCents' : 'contractionMrrCents',
        Math.abs(now.mrrTotal - previous.mrrTotal),
      );
    }
    if (cohort !== null && month > cohort && month <= addMonths(cohort, COHORT_MONTHS) && now.paying) {
      const k = monthsBetween(cohort, month).length - 1;
      addFigure(out, cohort, currency, states.get(cohort)!.plan!, `retained_${k}`, 1);
    }
    previous = now;
  }
  return states;
}

/** Entry kinds that belong to an account directly, by the subscriber they name. */
export const ACCOUNT_KINDS: ReadonlySet<LedgerEntry['kind']> = new Set([
  'invoice_paid',
  'invoice_payment_failed',
  'subscription_ended',
  'gift_paid',
  'gift_claimed',
]);

/**
 * The account an invoice, failed renewal or ending belongs to: the member, else the subscription, else
 * the customer, else the entry. A gift's entries belong to the gift's own account.
 */
export const accountKeyOf = (entry: LedgerEntry): string =>
  entry.gift ? `gift:${entry.gift.purchaseId}` : (entry.memberId ?? entry.subscriptionId ?? entry.customerId ?? entry.entryId);

/** An empty set of facts, to fill. */
export const emptyAccount = (): {
  -readonly [K in keyof AccountFacts]-?: NonNullable<AccountFacts[K]> extends ReadonlyArray<infer T> ? T[] : never;
} => ({
  invoices: [],
  tied: [],
  failures: [],
  endings: [],
  savings: [],
  gifts: [],
});

/** Adds a ledger entry of `ACCOUNT_KINDS` to an account's facts (once per entry id). */
export function addAccountEntry(facts: ReturnType<typeof emptyAccount>, entry: LedgerEntry): void {
  const list =
    entry.kind === 'invoice_paid'
      ? facts.invoices
      : entry.kind === 'invoice_payment_failed'
        ? facts.failures
        : entry.kind === 'gift_paid' || entry.kind === 'gift_claimed'
          ? facts.gifts
          : facts.endings;
  if (!list.some((e) => e.entryId === entry.entryId)) list.push(entry);
}
