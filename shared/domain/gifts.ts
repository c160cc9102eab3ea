/**
 * Gift memberships (docs/gifts.md). Pure: a gift's stored facts and a clock in, its status and the
 * decisions about it out. A gift is bought through Stripe Checkout in payment mode; on payment it gets
 * a claim code and a delivery notice at `deliverAt`; claiming starts (or extends) a membership of the
 * gifted months that never renews; an unclaimed gift expires `claimValidDays` after payment; it can be
 * refunded until it is claimed.
 */
import type { GiftOffer, Plan, PlanCatalog } from './catalog';
import {
  emptyMembership,
  evaluateSubscription,
  type GiftTerm,
  giftAccessEnd,
  type MembershipRecord,
  type MembershipStatus,
} from './membership';

/** What is stored: `pending` until Stripe reports the payment; then `paid` until claimed or refunded. */
export type GiftState = 'pending' | 'paid' | 'claimed' | 'refunded';
/** What the buyer sees: the stored state, with `expired` decided by the clock (like a membership's lapse). */
export type GiftStatus = 'awaiting_payment' | 'unclaimed' | 'claimed' | 'expired' | 'refunded';

export interface Gift {
  /** Ours, one per purchase (`gp_…`). */
  purchaseId: string;
  /** The catalog's gift id (`gift-3m`). */
  giftId: string;
  planId: string;
  months: number;
  claimValidDays: number;
  buyerMemberId: string;
  recipientEmail: string;
  message: string | null;
  /** When the code is to be emailed; null: as soon as it is paid. */
  deliverAt: string | null;
  createdAt: string;
  checkoutSessionId: string | null;
  state: GiftState;
  /** Set on payment. */
  code: string | null;
  paidAt: string | null;
  claimBy: string | null;
  amountCents: number | null;
  currency: string | null;
  paymentIntentId: string | null;
  claimedBy: string | null;
  claimedAt: string | null;
  refundedAt: string | null;
  /** Stripe's refund, once Stripe accepted it (a refunded gift without one is still being paid back). */
  refundId: string | null;
}

const DAY_MS = 86_400_000;

/**
 * `iso` plus `months` calendar months, same time of day; a day the target month lacks becomes its last
 * day (31 January + 1 month = 28 or 29 February), as Stripe bills monthly subscriptions.
 */
export function addCalendarMonths(iso: string, months: number): string {
  const d = new Date(iso);
  const day = d.getUTCDate();
  const target = new Date(
    Date.UTC(
      d.getUTCFullYear(),
      d.getUTCMonth() + months,
      1,
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
      d.getUTCMilliseconds(),
    ),
  );
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.toISOString();
}

export const claimByFor = (paidAt: string, claimValidDays: number): string =>
  new Date(Date.parse(paidAt) + claimValidDays * DAY_MS).toISOString();

/** The new gift of a checkout, before payment. */
export function newGift(input: {
  purchaseId: string;
  offer: GiftOffer;
  plan: Plan;
  buyerMemberId: string;
  recipientEmail: string;
  message: string | null;
  deliverAt: string | null;
  now: Date;
}): Gift {
  return {
    purchaseId: input.purchaseId,
    giftId: input.offer.id,
    planId: input.plan.id,
    months: input.offer.months,
    claimValidDays: input.offer.claimValidDays,
    buyerMemberId: input.buyerMemberId,
    recipientEmail: input.recipientEmail,
    message: input.message,
    deliverAt: input.deliverAt,
    createdAt: input.now.toISOString(),
    checkoutSessionId: null,
    state: 'pending',
    code: null,
    paidAt: null,
    claimBy: null,
    amountCents: null,
    currency: null,
    paymentIntentId: null,
    claimedBy: null,
    claimedAt: null,
    refundedAt: null,
    refundId: null,
  };
}

export function giftStatus(gift: Gift, now: Date): GiftStatus {
  switch (gift.state) {
    case 'pending':
      return 'awaiting_payment';
    case 'claimed':
      return 'claimed';
    case 'refunded':
      return 'refunded';
    case 'paid':
      return gift.claimBy !== null && now.toISOString() >= gift.claimBy ? 'expired' : 'unclaimed';
  }
}

/** A `deliverAt` the buyer may ask for: not in the past (a minute's slack for clocks) and within a year. */
export function deliverAtRefusal(deliverAt: string | undefined, now: Date): string | null {
  if (deliverAt === undefined) return null;
  const at = Date.parse(deliverAt);
  if (at < now.getTime() - 60_000) return 'must not be in the past';
  if (at > now.getTime() + 366 * DAY_MS) return 'must be within a year';
  return null;
}

/** The payment Stripe reported, applied to the gift: the facts it keeps and when the code goes out. */
export interface GiftPayment {
  code: string;
  paidAt: string;
  amountCents: number;
  currency: string;
  paymentIntentId: string | null;
  checkoutSessionId: string;
}

export function paidGift(gift: Gift, payment: GiftPayment): Gift {
  return {
    ...gift,
    state: 'paid',
    code: payment.code,
    paidAt: payment.paidAt,
    claimBy: claimByFor(payment.paidAt, gift.claimValidDays),
    amountCents: payment.amountCents,
    currency: payment.currency,
    paymentIntentId: payment.paymentIntentId,
    checkoutSessionId: payment.checkoutSessionId,
  };
}

/** When the code is emailed: at `deliverAt`, or at payment when that is later (or not set). */
export const deliveryAt = (gift: Pick<Gift, 'deliverAt'>, paidAt: string): string =>
  gift.deliverAt !== null && gift.deliverAt > paidAt ? gift.deliverAt : paidAt;

/** Subscription statuses that keep renewing (or may: a first payment pending, a pause): a gift would run under them unseen. */
const RENEWING: ReadonlySet<MembershipStatus> = new Set(['pending', 'trialing', 'active', 'grace', 'paused']);

export type ClaimDecision =
  | { kind: 'unknown' }
  | { kind: 'refunded' }
  | { kind: 'expired'; claimBy: string }
  | { kind: 'claimed_by_other' }
  /** A retry of this member's own claim: answered as the first time. */
  | { kind: 'claimed_by_you' }
  | { kind: 'renewing'; membershipStatus: MembershipStatus }
  | { kind: 'claim'; term: GiftTerm; record: MembershipRecord };

/**
 * Whether `memberId` may claim the gift now, and the membership it then has. A lapsed or never-member
 * starts now; a membership cancelled at period end (`canceling`) is followed by the gift from the day
 * it ends; a member's earlier gifts are followed by this one (back to back). A membership that renews
 * (or is paused, or whose first payment is pending) refuses it: the gift would run unseen underneath.
 */
export function claimDecision(
  gift: Gift | null,
  memberId: string,
  record: MembershipRecord | null,
  catalog: PlanCatalog,
  now: Date,
): ClaimDecision {
  if (!gift || gift.state === 'pending') return { kind: 'unknown' };
  if (gift.state === 'refunded') return { kind: 'refunded' };
  if (gift.state === 'claimed') return gift.claimedBy === memberId ? { kind: 'claimed_by_you' } : { kind: 'claimed_by_other' };
  if (giftStatus(gift, now) === 'expired') return { kind: 'expired', claimBy: gift.claimBy! };
  const nowIso = now.toISOString();
  const subscription = evaluateSubscription(record, catalog, now);
  if (RENEWING.has(subscription.status)) return { kind: 'renewing', membershipStatus: subscription.status };
  const terms = record?.giftTerms ?? [];
  let start = subscription.status === 'canceling' && subscription.accessEndsAt ? subscription.accessEndsAt : nowIso;
  const giftEnd = giftAccessEnd(terms, start);
  if (giftEnd !== null) start = giftEnd;
  const term: GiftTerm = {
    purchaseId: gift.purchaseId,
    giftId: gift.giftId,
    planId: gift.planId,
    start,
    end: addCalendarMonths(start, gift.months),
    claimedAt: nowIso,
  };
  const base = record ?? emptyMembership(memberId);
  return { kind: 'claim', term, record: { ...base, giftTerms: [...terms, term] } };
}

export function claimedGift(gift: Gift, memberId: string, now: Date): Gift {
  return { ...gift, state: 'claimed', claimedBy: memberId, claimedAt: now.toISOString() };
}

export type RefundDecision =
  | { kind: 'refund' }
  /** Marked refunded, but Stripe has not confirmed paying it back yet: ask Stripe again (same idempotency key). */
  | { kind: 'finish_refund' }
  | { kind: 'already_refunded' }
  | { kind: 'not_refundable'; status: GiftStatus };

/** A gift can be refunded while it is paid and unclaimed (expired ones too: the code is dead either way). */
export function refundDecision(gift: Gift, now: Date): RefundDecision {
  if (gift.state === 'refunded') return gift.refundId ? { kind: 'already_refunded' } : { kind: 'finish_refund' };
  if (gift.state !== 'paid') return { kind: 'not_refundable', status: giftStatus(gift, now) };
  return { kind: 'refund' };
}

/** Days before a gift membership ends that its holder is told, with an offer to subscribe. */
export const GIFT_ENDING_DAYS_BEFORE = 7;

/** When the notice before the gift's end is due: a week before, or at the claim for a shorter remainder. */
export function giftEndingNoticeAt(term: GiftTerm): string {
  const at = new Date(Date.parse(term.end) - GIFT_ENDING_DAYS_BEFORE * DAY_MS).toISOString();
  return at > term.claimedAt ? at : term.claimedAt;
}

/** Whether the code still goes to its recipient: only while the gift can be claimed. */
export function giftDeliveryRelevance(gift: Gift | null, now: Date): { send: true } | { send: false; reason: string } {
  if (!gift) return { send: false, reason: 'gift_unknown' };
  const status = giftStatus(gift, now);
  return status === 'unclaimed' ? { send: true } : { send: false, reason: `gift_${status}` };
}
