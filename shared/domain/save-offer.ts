/**
 * Save offers (docs/compliance.md): whether a cancelling member may be offered one, whether an offer
 * can still be taken, and whether someone who took one left anyway within 90 days. Pure.
 *
 * The cancellation always goes through first: an offer comes with the answer of a cancel that is
 * already done, so taking it is a second, optional step (it resumes the membership at the reduced
 * price) and ignoring it costs nothing. At most one offer per cancellation and one per member a year;
 * none where the jurisdiction forbids them, only after the member asked to hear one where the law says
 * so (Minnesota), and never in the cancellation without login.
 */
import type { JurisdictionRules } from './compliance-rules';
import type { MembershipRecord } from './membership';

const DAY_MS = 86_400_000;
/** One offer per member in this many days, so cancel-and-accept cannot become a standing discount. */
export const SAVE_OFFER_COOLDOWN_DAYS = 365;
/** How long an offer can be taken. */
export const SAVE_OFFER_VALID_DAYS = 7;
/** Finance's question: did the member leave anyway within this many days of accepting? */
export const CHURN_WINDOW_DAYS = 90;

export type SaveOfferDecision =
  | { offer: true }
  | { offer: false; reason: 'not_in_this_channel' | 'not_allowed_here' | 'not_asked_for' | 'offered_recently' | 'nothing_to_save' };

export function saveOfferDecision(input: {
  rules: Pick<JurisdictionRules, 'saveOffers'>;
  channel: 'self_service' | 'no_login';
  /** The member said they want to hear offers (`hearOffers: true` in the cancel request). */
  optedIn: boolean;
  previousOffers: ReadonlyArray<{ offeredAt: string }>;
  /** A period-end cancellation that the offer could undo (not a refund that ended it now). */
  resumable: boolean;
  now: Date;
}): SaveOfferDecision {
  if (input.channel !== 'self_service') return { offer: false, reason: 'not_in_this_channel' };
  if (input.rules.saveOffers === 'never') return { offer: false, reason: 'not_allowed_here' };
  if (input.rules.saveOffers === 'opt_in' && !input.optedIn) return { offer: false, reason: 'not_asked_for' };
  if (!input.resumable) return { offer: false, reason: 'nothing_to_save' };
  const since = input.now.getTime() - SAVE_OFFER_COOLDOWN_DAYS * DAY_MS;
  if (input.previousOffers.some((o) => Date.parse(o.offeredAt) > since)) return { offer: false, reason: 'offered_recently' };
  return { offer: true };
}

export const offerExpiresAt = (offeredAt: string) => new Date(Date.parse(offeredAt) + SAVE_OFFER_VALID_DAYS * DAY_MS).toISOString();

export type AcceptDecision = { accept: true } | { accept: false; reason: 'offer_expired' | 'membership_ended' | 'superseded' };

/** Whether an offer can still be taken now: within its week, on the subscription it was made for, before it ended. */
export function acceptDecision(
  offer: { subscriptionId: string; expiresAt: string },
  record: MembershipRecord | null,
  now: Date,
): AcceptDecision {
  if (now.toISOString() > offer.expiresAt) return { accept: false, reason: 'offer_expired' };
  const sub = record?.subscription;
  if (!sub || sub.subscriptionId !== offer.subscriptionId) return { accept: false, reason: 'superseded' };
  if (sub.stripeStatus === 'canceled' || sub.stripeStatus === 'incomplete_expired') return { accept: false, reason: 'membership_ended' };
  return { accept: true };
}

/**
 * Whether a member who accepted an offer left anyway within the window, as the record stands at its
 * end: the subscription was cancelled (a cancellation requested, pending or done) or ended after the
 * acceptance. A cancel that was resumed again does not count.
 */
export function churnedAfter(
  record: MembershipRecord | null,
  subscriptionId: string,
  acceptedAt: string,
  now: Date,
): { churned: boolean; churnedAt: string | null } {
  const sub = record?.subscriptions?.[subscriptionId]?.state ?? null;
  // Stripe's times have whole seconds: a cancel in the second of the acceptance came after it.
  const from = new Date(Math.floor(Date.parse(acceptedAt) / 1000) * 1000).toISOString();
  const windowEnd = new Date(Date.parse(acceptedAt) + CHURN_WINDOW_DAYS * DAY_MS).toISOString();
  const until = now.toISOString() < windowEnd ? now.toISOString() : windowEnd;
  if (!sub) return { churned: false, churnedAt: null };
  const pending = sub.cancelAtPeriodEnd || sub.cancelAt !== null || sub.stripeStatus === 'canceled';
  const at = sub.canceledAt ?? sub.endedAt;
  if (pending && at && at >= from && at <= until) return { churned: true, churnedAt: at };
  if (sub.endedAt && sub.endedAt >= from && sub.endedAt <= until) return { churned: true, churnedAt: sub.endedAt };
  return { churned: false, churnedAt: null };
}
