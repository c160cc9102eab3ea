/**
 * A price change for existing members (docs/compliance.md, "Price changes"): the catalog names the
 * plan's new price and the date from which it may apply (`priceChange`). Each auto-renewing member
 * gets the notice their jurisdiction requires before the first charge at the new price, and their
 * subscription moves to it only after that notice went out. Pure: record, plan, rules and a clock in.
 *
 * The charge a notice announces (the "target" renewal) is chosen so the notice can go out inside the
 * jurisdiction's window: the coming renewal when there is still time, else the one after. A notice is
 * identified by the renewal *before* its target (`prev`), which is known exactly once it is the current
 * period's start, so planning the same change again after a renewal keeps the same id.
 */
import type { Plan } from './catalog';
import type { JurisdictionRules } from './compliance-rules';
import type { MembershipRecord, SubscriptionState } from './membership';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export const startOfUtcDay = (iso: string) => {
  const d = new Date(iso);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
};

/** Whole calendar days (UTC) from `fromIso` to `toIso`: a notice sent on 1 March for 31 March is 30 days ahead. */
export const calendarDaysBefore = (fromIso: string, toIso: string) => Math.round((startOfUtcDay(toIso) - startOfUtcDay(fromIso)) / DAY_MS);

const addMonthsClamped = (anchor: Date, months: number) => {
  const y = anchor.getUTCFullYear();
  const m = anchor.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(y, m, Math.min(anchor.getUTCDate(), lastDay), anchor.getUTCHours(), anchor.getUTCMinutes(), anchor.getUTCSeconds()),
  );
};

/**
 * The renewal after `renewalIso`, as Stripe bills it: monthly periods keep the day of the billing
 * anchor (the trial end, else the start), clamped to the month's last day; yearly ones the date a year
 * on. An estimate: the notice says "on or about", and the subscription only moves once that renewal's
 * period has started and the date is exact.
 */
export function nextRenewalAfter(renewalIso: string, sub: Pick<SubscriptionState, 'interval' | 'trialEnd' | 'startDate'>): string {
  const renewal = new Date(renewalIso);
  if (sub.interval === 'year') return addMonthsClamped(renewal, 12).toISOString();
  const anchor = new Date(sub.trialEnd ?? sub.startDate ?? renewalIso);
  // The month count from the anchor to this renewal, then one more.
  const months = (renewal.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + renewal.getUTCMonth() - anchor.getUTCMonth();
  const candidate = addMonthsClamped(anchor, months + 1);
  // A plan switch moves the anchor: fall back to the same day next month.
  return Math.abs(candidate.getTime() - addMonthsClamped(renewal, 1).getTime()) <= 4 * DAY_MS
    ? candidate.toISOString()
    : addMonthsClamped(renewal, 1).toISOString();
}

export interface PriceChangeNotice {
  /** The renewal before the first charge at the new price: identifies the notice. */
  prev: string;
  /** The first charge at the new price (estimated when it is not the coming renewal). */
  target: string;
  toPriceId: string;
  /** The first day of the window: `maxDays` before the target's day. */
  dueAt: string;
}

const noticeWindow = (rules: JurisdictionRules) => (rules.notices.priceChange.mode === 'notice' ? rules.notices.priceChange : null);

/**
 * The price-change notice a member's record calls for, or null: none without a change in the catalog,
 * for a member already on the new price, not auto-renewing, or whose jurisdiction asks for consent
 * (the service then never moves them: docs/compliance.md).
 */
export function plannedPriceChange(record: MembershipRecord, plan: Plan | undefined, rules: JurisdictionRules): PriceChangeNotice | null {
  const sub = record.subscription;
  const change = plan?.priceChange;
  const window = noticeWindow(rules);
  if (!sub || !change || !window || sub.priceId === change.priceId) return null;
  if (sub.stripeStatus !== 'active' || sub.cancelAtPeriodEnd || sub.cancelAt !== null) return null;
  if (!sub.currentPeriodStart || !sub.currentPeriodEnd) return null;
  const candidates = [
    { prev: sub.currentPeriodStart, target: sub.currentPeriodEnd },
    { prev: sub.currentPeriodEnd, target: nextRenewalAfter(sub.currentPeriodEnd, sub) },
  ];
  for (const { prev, target } of candidates) {
    if (Date.parse(target) < Date.parse(change.from)) continue;
    const lastDay = startOfUtcDay(target) - window.minDays * DAY_MS;
    // The coming renewal only when a day is left after the period starts to send the notice in time.
    if (prev === sub.currentPeriodStart && lastDay < Date.parse(sub.currentPeriodStart) + DAY_MS) continue;
    return { prev, target, toPriceId: change.priceId, dueAt: new Date(startOfUtcDay(target) - window.maxDays * DAY_MS).toISOString() };
  }
  return null;
}

export type PriceNoticeRelevance = { send: true; target: string } | { send: false; reason: string };

/** Whether a planned price-change notice still goes out at `now`, and for which charge. */
export function priceChangeRelevance(
  notice: { prev: string; toPriceId: string },
  record: MembershipRecord,
  plan: Plan | undefined,
  rules: JurisdictionRules,
  now: Date,
): PriceNoticeRelevance {
  const sub = record.subscription!;
  const window = noticeWindow(rules);
  if (!plan?.priceChange || plan.priceChange.priceId !== notice.toPriceId) return { send: false, reason: 'price_change_withdrawn' };
  if (!window) return { send: false, reason: 'consent_required' };
  if (sub.priceId === notice.toPriceId) return { send: false, reason: 'already_on_new_price' };
  const planned = plannedPriceChange(record, plan, rules);
  if (!planned) return { send: false, reason: 'not_renewing' };
  if (planned.prev !== notice.prev) return { send: false, reason: 'date_changed' };
  const days = calendarDaysBefore(now.toISOString(), planned.target);
  if (days < window.minDays) return { send: false, reason: 'too_late' };
  if (days > window.maxDays) return { send: false, reason: 'too_early' };
  return { send: true, target: planned.target };
}

export type PriceMoveDecision =
  | { action: 'move' }
  | { action: 'wait'; until: string }
  | { action: 'done' }
  | { action: 'drop'; reason: string };

/**
 * Whether the subscription moves to the new price now: only after its notice went out (the move is
 * queued by the send), once the renewal before the target has happened (so the update bills from the
 * target on, never the coming renewal of a notice meant for the one after), and before the target.
 * `live` is the subscription as Stripe shows it now.
 */
export function priceMoveDecision(
  move: { subscriptionId: string; toPriceId: string; prev: string; target: string },
  live: {
    id: string;
    status: string;
    priceId: string | null;
    currentPeriodStart: string | null;
    cancelAtPeriodEnd: boolean;
    cancelAt: string | null;
  },
  now: Date,
): PriceMoveDecision {
  if (live.id !== move.subscriptionId) return { action: 'drop', reason: 'superseded' };
  if (live.priceId === move.toPriceId) return { action: 'done' };
  if (live.status !== 'active' && live.status !== 'past_due') return { action: 'drop', reason: `status_${live.status}` };
  if (live.cancelAtPeriodEnd || live.cancelAt !== null) return { action: 'drop', reason: 'not_renewing' };
  // Stripe finalizes a renewal's invoice about an hour after the period starts.
  if (!live.currentPeriodStart || live.currentPeriodStart < move.prev) {
    const until = new Date(Math.max(now.getTime() + 15 * 60_000, Date.parse(move.prev) + HOUR_MS)).toISOString();
    return now.toISOString() < move.target ? { action: 'wait', until } : { action: 'drop', reason: 'missed_renewal' };
  }
  if (now.getTime() >= Date.parse(move.target) - HOUR_MS) return { action: 'drop', reason: 'missed_renewal' };
  return { action: 'move' };
}
