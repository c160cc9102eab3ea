/**
 * What a shopper may do with their own membership, decided from data alone: whether a new checkout is
 * allowed and with which trial, what the renewal terms say, what the next charge is, and whether a
 * cancellation earns a refund of the current period. Pure: the clock is passed in.
 */
import type { Plan } from './catalog';
import type { MembershipRecord, MembershipStatus, MembershipView, SubscriptionState } from './membership';
import { formatMoney } from './money';
import { periodKey } from './savings';

/** Statuses with a subscription that is still running: a second checkout would mean a second subscription. */
const HAS_LIVE_SUBSCRIPTION: ReadonlySet<MembershipStatus> = new Set(['pending', 'trialing', 'active', 'canceling', 'grace', 'paused']);

/**
 * One of the member's subscriptions as Stripe lists it right now (`subscriptions.list({ customer,
 * status: 'all' })`), which may be ahead of what the webhooks have told us.
 */
export interface BillingSubscription {
  id: string;
  /** Stripe's status (an open enum). */
  status: string;
  /** `cancel_at_period_end || cancel_at !== null`. */
  pendingCancellation: boolean;
}

/** Stripe statuses of a subscription that has not ended: it can still bill or give access. */
const STRIPE_NOT_ENDED: ReadonlySet<string> = new Set(['incomplete', 'trialing', 'active', 'past_due', 'unpaid', 'paused']);

/** How a subscription Stripe has and our record does not yet know reads as a membership status. */
function statusOfBilling(sub: BillingSubscription): MembershipStatus {
  switch (sub.status) {
    case 'incomplete':
      return 'pending';
    case 'past_due':
    case 'unpaid':
      return 'grace';
    case 'paused':
      return 'paused';
    default:
      return sub.pendingCancellation ? 'canceling' : (sub.status as 'trialing' | 'active');
  }
}

export type CheckoutOffer =
  | { allowed: true; trialDays: number }
  | { allowed: false; reason: 'already_member'; membershipStatus: MembershipStatus };

/**
 * Whether a new checkout may start, and with which trial, from both sources: the webhook-derived
 * record and Stripe's own list of the member's subscriptions. Webhooks can be minutes late, so a
 * checkout just completed (or a membership Stripe has and we never heard of) counts as much as one
 * we stored.
 *
 * - Refused while any subscription is alive in either source: the portal is the way (plan changes,
 *   payment method, cancel), a second checkout would be a second subscription.
 * - The plan's trial only for someone who never had a trial nor any membership, under any plan
 *   (re-subscribing to get another free month is the classic abuse): any stored trace of one, or any
 *   subscription Stripe lists for the customer, whatever its status, means no trial.
 *
 * Monotonic: more facts only ever refuse more or give less trial, so deciding on the stored record
 * alone first (before asking Stripe) can only refuse what the full decision refuses too.
 */
export function checkoutOffer(facts: {
  view: MembershipView;
  record: MembershipRecord | null;
  plan: Plan;
  stripeSubscriptions: readonly BillingSubscription[];
}): CheckoutOffer {
  const { view, record, plan, stripeSubscriptions } = facts;
  if (HAS_LIVE_SUBSCRIPTION.has(view.status)) return { allowed: false, reason: 'already_member', membershipStatus: view.status };
  const live = stripeSubscriptions.find((s) => STRIPE_NOT_ENDED.has(s.status));
  if (live) return { allowed: false, reason: 'already_member', membershipStatus: statusOfBilling(live) };
  const everMember =
    record !== null &&
    (record.hadTrial ||
      record.firstSubscribedAt !== null ||
      record.checkoutCompletedAt !== null ||
      Object.keys(record.subscriptions ?? {}).length > 0);
  const trialDays = plan.trialDays > 0 && !everMember && stripeSubscriptions.length === 0 ? plan.trialDays : 0;
  return { allowed: true, trialDays };
}

/** A Checkout Session of the member that is still open (`checkout.sessions.list({ customer, status: 'open' })`). */
export interface OpenCheckoutSession {
  id: string;
  /** Creation time, epoch seconds. */
  created: number;
}

export type SessionSweep = { keep: true; expire: string[] } | { keep: false };

/**
 * What to do with the member's open sessions once ours exists. Two open sessions could both be paid,
 * which makes two subscriptions, so only ours may stay open:
 * - sessions that were open before ours was created (`seenBefore`) are older: expired;
 * - sessions that appeared while ours was being made (a concurrent checkout of the same member) are
 *   ordered by (creation time, id): ours expires the ones before it and gives way to one after it.
 * Never two stay open: whichever of two racing checkouts lists last sees the other's session. In the
 * rare interleaving where each sees the other only as "already open before", both expire each other's
 * and both pages are dead: the shopper retries, which is safe.
 */
export function sweepOpenSessions(
  ours: OpenCheckoutSession,
  open: readonly OpenCheckoutSession[],
  seenBefore: readonly string[],
): SessionSweep {
  const after = (a: OpenCheckoutSession, b: OpenCheckoutSession) => a.created > b.created || (a.created === b.created && a.id > b.id);
  const others = open.filter((s) => s.id !== ours.id);
  if (others.some((s) => !seenBefore.includes(s.id) && after(s, ours))) return { keep: false };
  return { keep: true, expire: others.map((s) => s.id) };
}

export interface PriceTerms {
  priceId: string;
  amountCents: number;
  currency: string;
  interval: string;
  intervalCount: number;
}

const intervalText = (interval: string, count: number) => (count === 1 ? interval : `${count} ${interval}s`);

/**
 * The automatic-renewal terms shown on the Checkout page (above the pay button) and stored with the
 * consent: what is charged, how often, when the first charge happens, and how to cancel.
 */
export function renewalTermsText(plan: Plan, price: PriceTerms, trialDays: number): string {
  const every = intervalText(price.interval, price.intervalCount);
  const amount = formatMoney(price.amountCents, price.currency);
  const start =
    trialDays > 0
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

/**
 * That the shopper accepted the terms of a Checkout Session: they completed it, as Stripe's
 * `checkout.session.completed` says. Stored atomically with the membership change it causes.
 */
export interface ConsentAcceptance {
  memberId: string;
  checkoutSessionId: string;
  /** When Stripe recorded the completion (the event's time; the first completion event if several). */
  acceptedAt: string;
  /** The Stripe event that said so. */
  eventId: string;
}

/** A presented consent with whether (and when) the shopper accepted it. */
export type ConsentEntry = ConsentRecord & { status: 'accepted' | 'presented'; acceptedAt: string | null };

/**
 * The operator's view of consent: every presentation, marked accepted when its session was completed
 * or else only presented; and completions of sessions we have no presentation of (made elsewhere,
 * e.g. in the Dashboard), which are proof gaps to know about.
 */
export function consentHistory(presented: readonly ConsentRecord[], accepted: readonly ConsentAcceptance[]) {
  const bySession = new Map(accepted.map((a) => [a.checkoutSessionId, a]));
  const consents: ConsentEntry[] = presented.map((c) => {
    const acceptance = bySession.get(c.checkoutSessionId);
    return { ...c, status: acceptance ? 'accepted' : 'presented', acceptedAt: acceptance?.acceptedAt ?? null };
  });
  const known = new Set(presented.map((c) => c.checkoutSessionId));
  return { consents, completedWithoutConsent: accepted.filter((a) => !known.has(a.checkoutSessionId)) };
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

/** What resuming takes, from the subscription as Stripe has it now. */
export type ResumeAction = 'ended' | 'nothing_pending' | 'clear_cancel_at' | 'clear_cancel_at_period_end';

/**
 * Resume undoes whatever cancellation Stripe has pending, whatever our record says (the portal may
 * have set one we have not heard of, and a membership in grace can have one too). A cancellation
 * set as an explicit date (the portal can) is cleared by unsetting `cancel_at`; a period-end one by
 * `cancel_at_period_end: false` (Stripe then clears the `cancel_at` it mirrored).
 */
export function resumeAction(live: { status: string; cancelAtPeriodEnd: boolean; cancelAt: number | null }): ResumeAction {
  if (live.status === 'canceled' || live.status === 'incomplete_expired') return 'ended';
  if (live.cancelAtPeriodEnd) return 'clear_cancel_at_period_end';
  if (live.cancelAt !== null) return 'clear_cancel_at';
  return 'nothing_pending';
}

/**
 * Until when benefits last once a cancellation is set. Stripe's date is the end of the paid period
 * (or of the trial); in grace a renewal is unpaid and benefits stop at `graceEndsAt` unless the
 * member pays, so the sooner of the two is the answer.
 */
export function accessEndsAfterCancel(view: MembershipView, stripeEndsAt: string | null): string | null {
  if (view.status === 'grace' && view.graceEndsAt !== null && (stripeEndsAt === null || view.graceEndsAt < stripeEndsAt))
    return view.graceEndsAt;
  return stripeEndsAt;
}

export type RefundDecision = { eligible: true; periodKey: string } | { eligible: false; reason: RefundRefusal; detail: string };

export type RefundRefusal = 'benefit_used' | 'grant_redeemed' | 'nothing_paid' | 'no_current_period';

/** A coupon or voucher redeemed by an order, or given back when the order was cancelled (benefits feature). */
export interface BenefitRedemption {
  code: string;
  orderId: string;
  action: 'redeem' | 'release';
  at: string;
}

/** A benefit used by an order, e.g. free shipping (benefits feature). */
export interface BenefitUsage {
  orderId: string;
  shippingSavedCents: number;
  at: string;
}

export interface RefundFacts {
  subscriptionId: string;
  /** Start of the current billing period, as Stripe reports it now (it may be ahead of our record). */
  currentPeriodStart: string | null;
  stripeStatus: string;
  /** Every redemption and release record of the member, read consistently. */
  redemptions: readonly BenefitRedemption[];
  /** Every benefit usage record of the member, read consistently. */
  usages: readonly BenefitUsage[];
  /** What the latest invoice collected; 0 for a trial's free invoice. */
  latestInvoicePaidCents: number;
}

const atOrAfter = (at: string, start: string) => Date.parse(at) >= Date.parse(start);

/**
 * Which benefit, if any, was used since `start`, from the records' own timestamps: a shipping
 * saving recorded at or after it, or a redemption at or after it that was not given back (a release
 * of the same code for the same order, later than the redemption, undoes it). Timestamps rather than
 * period keys: the period we store follows the webhooks, and a renewal Stripe has made but not yet
 * reported would put this period's usage under the previous period's key.
 */
export function benefitUsedSince(
  start: string,
  redemptions: readonly BenefitRedemption[],
  usages: readonly BenefitUsage[],
): 'benefit_used' | 'grant_redeemed' | null {
  if (usages.some((u) => u.shippingSavedCents > 0 && atOrAfter(u.at, start))) return 'benefit_used';
  const released = (r: BenefitRedemption) =>
    redemptions.some((x) => x.action === 'release' && x.code === r.code && x.orderId === r.orderId && Date.parse(x.at) >= Date.parse(r.at));
  if (redemptions.some((r) => r.action === 'redeem' && atOrAfter(r.at, start) && !released(r))) return 'grant_redeemed';
  return null;
}

/**
 * Prime's policy: cancelling with `refundIfUnused` refunds the current period's fee in full when no
 * benefit was used in that period — no shipping saving and no coupon or voucher redeemed (and kept)
 * since it started. Otherwise the membership simply ends at period end.
 */
export function refundDecision(facts: RefundFacts): RefundDecision {
  if (facts.currentPeriodStart === null || (facts.stripeStatus !== 'active' && facts.stripeStatus !== 'past_due')) {
    if (facts.stripeStatus === 'trialing') {
      return {
        eligible: false,
        reason: 'nothing_paid',
        detail: 'The membership is in its free trial: nothing was charged, and nothing will be once it ends.',
      };
    }
    return { eligible: false, reason: 'no_current_period', detail: 'There is no paid period to refund.' };
  }
  if (facts.latestInvoicePaidCents <= 0) {
    return { eligible: false, reason: 'nothing_paid', detail: 'Nothing was charged for the current period.' };
  }
  switch (benefitUsedSince(facts.currentPeriodStart, facts.redemptions, facts.usages)) {
    case 'benefit_used':
      return { eligible: false, reason: 'benefit_used', detail: 'Member benefits were already used in the current period.' };
    case 'grant_redeemed':
      return { eligible: false, reason: 'grant_redeemed', detail: 'A member coupon or voucher was redeemed in the current period.' };
  }
  return { eligible: true, periodKey: periodKey(facts.subscriptionId, facts.currentPeriodStart) };
}
