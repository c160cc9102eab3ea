/**
 * What a shopper may do with their own membership, decided from data alone: whether a new checkout is
 * allowed and with which trial, what the renewal terms say, what the next charge is, and whether a
 * cancellation earns a refund of the current period. Pure: the clock is passed in.
 */
import type { Plan } from './catalog';
import type { IssuedGrant } from './grants';
import type { MembershipRecord, MembershipView, SubscriptionState } from './membership';
import { periodKey, type SavingsTotals } from './savings';

/** Statuses with a subscription that is still running: a second checkout would mean a second subscription. */
const HAS_LIVE_SUBSCRIPTION = new Set(['pending', 'trialing', 'active', 'canceling', 'grace', 'paused']);

export type CheckoutRefusal = 'already_member' | null;

/** A new checkout is refused while any subscription of the member is still alive: the portal is the way. */
export function checkoutRefusal(view: MembershipView): CheckoutRefusal {
  return HAS_LIVE_SUBSCRIPTION.has(view.status) ? 'already_member' : null;
}

/**
 * Trial days for a new checkout: the plan's trial only for someone who never had a trial nor any
 * membership (re-subscribing to get another free month is the classic abuse).
 */
export function trialDaysFor(record: MembershipRecord | null, plan: Plan): number {
  if (plan.trialDays <= 0) return 0;
  if (!record) return plan.trialDays;
  const everMember =
    record.hadTrial || record.firstSubscribedAt !== null || record.checkoutCompletedAt !== null || Object.keys(record.subscriptions ?? {}).length > 0;
  return everMember ? 0 : plan.trialDays;
}

export interface PriceTerms {
  priceId: string;
  amountCents: number;
  currency: string;
  interval: string;
  intervalCount: number;
}

const formatMoney = (amountCents: number, currency: string) =>
  `${(amountCents / 100).toFixed(2)} ${currency.toUpperCase()}`;

const intervalText = (interval: string, count: number) => (count === 1 ? interval : `${count} ${interval}s`);

/**
 * The automatic-renewal terms shown on the Checkout page (above the pay button) and stored with the
 * consent: what is charged, how often, when the first charge happens, and how to cancel.
 */
export function renewalTermsText(plan: Plan, price: PriceTerms, trialDays: number): string {
  const every = intervalText(price.interval, price.intervalCount);
  const amount = formatMoney(price.amountCents, price.currency);
  const start = trialDays > 0
    ? `your ${trialDays}-day free trial starts today; unless you cancel before it ends, you will be charged ${amount} when it ends`
    : `you will be charged ${amount} today`;
  return (
    `${plan.name} renews automatically: ${start} and then ${amount} every ${every} until you cancel. ` +
    'Cancel anytime in your account (Membership > Cancel); benefits last until the end of the paid period.'
  );
}

/** What the shopper agreed to at checkout, kept as proof of consent (automatic-renewal laws). */
export interface ConsentRecord {
  memberId: string;
  checkoutSessionId: string;
  planId: string;
  planName: string;
  priceId: string;
  amountCents: number;
  currency: string;
  interval: string;
  intervalCount: number;
  trialDays: number;
  renewalTerms: string;
  /** When the terms were presented (the Checkout Session's creation time). */
  presentedAt: string;
}

export interface NextCharge {
  amountCents: number;
  currency: string;
  date: string;
}

/** The next automatic charge, or null when none is coming (canceling, lapsed, paused, pending, grace). */
export function nextCharge(view: MembershipView, sub: SubscriptionState | null): NextCharge | null {
  if (!sub || sub.amountCents === null || sub.currency === null) return null;
  if (view.status !== 'active' && view.status !== 'trialing') return null;
  const date = view.status === 'trialing' ? (sub.trialEnd ?? sub.currentPeriodEnd) : sub.currentPeriodEnd;
  return date ? { amountCents: sub.amountCents, currency: sub.currency, date } : null;
}

/** Savings for display: period counters count only while they belong to the current period. */
export function savingsFor(savings: SavingsTotals | null, currentPeriodKey: string | null) {
  return {
    periodCents: savings && currentPeriodKey !== null && savings.periodKey === currentPeriodKey ? savings.periodSavedCents : 0,
    lifetimeCents: savings?.lifetimeSavedCents ?? 0,
    feesPaidCents: savings?.feesPaidCents ?? 0,
    currency: savings?.currency ?? null,
  };
}

export type RefundDecision =
  | { eligible: true; periodKey: string }
  | { eligible: false; reason: RefundRefusal; detail: string };

export type RefundRefusal = 'benefit_used' | 'grant_redeemed' | 'nothing_paid' | 'no_current_period';

export interface RefundFacts {
  subscriptionId: string;
  /** Start of the current billing period, as Stripe reports it now. */
  currentPeriodStart: string | null;
  stripeStatus: string;
  savings: SavingsTotals | null;
  grants: readonly IssuedGrant[];
  /** What the latest invoice collected; 0 for a trial's free invoice. */
  latestInvoicePaidCents: number;
}

/**
 * Prime's policy: cancelling with `refundIfUnused` refunds the current period's fee in full when no
 * benefit was used in that period — no shipping saving recorded for it and no grant redeemed since
 * it started. Otherwise the membership simply ends at period end.
 */
export function refundDecision(facts: RefundFacts): RefundDecision {
  if (facts.currentPeriodStart === null || (facts.stripeStatus !== 'active' && facts.stripeStatus !== 'past_due')) {
    if (facts.stripeStatus === 'trialing') {
      return { eligible: false, reason: 'nothing_paid', detail: 'The membership is in its free trial: nothing was charged, and nothing will be once it ends.' };
    }
    return { eligible: false, reason: 'no_current_period', detail: 'There is no paid period to refund.' };
  }
  if (facts.latestInvoicePaidCents <= 0) {
    return { eligible: false, reason: 'nothing_paid', detail: 'Nothing was charged for the current period.' };
  }
  const key = periodKey(facts.subscriptionId, facts.currentPeriodStart);
  // The savings item only speaks for the period it names; a stale key means nothing was recorded yet.
  if (facts.savings && facts.savings.periodKey === key && facts.savings.periodSavedCents > 0) {
    return { eligible: false, reason: 'benefit_used', detail: 'Member benefits were already used in the current period.' };
  }
  const redeemed = facts.grants.some((g) => g.redeemedAt !== null && g.redeemedAt >= facts.currentPeriodStart!);
  if (redeemed) {
    return { eligible: false, reason: 'grant_redeemed', detail: 'A member coupon or voucher was redeemed in the current period.' };
  }
  return { eligible: true, periodKey: key };
}
