/**
 * Save offers (docs/compliance.md): a self-service cancel that is done may come back with one offer —
 * by default a month at half price, a Stripe coupon on the subscription — where the member's
 * jurisdiction allows it (and, in Minnesota, only when the member asked to hear one). Taking it is a
 * second, optional step that resumes the membership with the discount; it never stands in the way of
 * a later cancel, which simply cancels again. Offers, acceptances and what happened 90 days later are
 * recorded for finance (storage/save-offers.ts).
 */
import type Stripe from 'stripe';
import { generateReference } from '../codes';
import type { RulesResolver } from '../domain/compliance-rules';
import { acceptDecision, CHURN_WINDOW_DAYS, churnedAfter, offerExpiresAt, saveOfferDecision } from '../domain/save-offer';
import { ConflictError, NotFoundError } from '../errors';
import { memberRef } from '../member-ref';
import { logger } from '../observability';
import { keys } from '../storage/keys';
import type { MembershipRepository } from '../storage/membership-repository';
import {
  type SaveOffer,
  type SaveOfferStore,
  type SaveOfferTerms,
  saveOfferAcceptancePut,
  saveOfferOutcomePut,
  saveOfferPut,
} from '../storage/save-offers';
import { type WorkItem, workPut } from '../storage/work-queue';
import type { StripeAccount } from '../stripe/client';
import { callStripe, isStripeError, stripeFailure } from '../stripe/errors';
import { requireStripe, updateSubscription } from './shopper-membership';

export interface SaveOfferDeps {
  rules: RulesResolver;
  memberships: Pick<MembershipRepository, 'getMembership'>;
  offers: Pick<SaveOfferStore, 'offers' | 'acceptances' | 'commit' | 'tableName'>;
  /** What an offer gives (SAVE_OFFER_PERCENT_OFF, SAVE_OFFER_MONTHS). */
  terms: SaveOfferTerms;
  stripe: () => Promise<StripeAccount | null>;
}

export interface SaveOfferView {
  offerId: string;
  description: string;
  percentOff: number;
  durationInMonths: number;
  expiresAt: string;
  /** POST here (shopper token) to take it: the membership renews again with the discount. */
  acceptPath: string;
}

const DAY_MS = 86_400_000;

export const describeOffer = (terms: SaveOfferTerms) =>
  `Stay and pay ${100 - terms.percentOff}% of the price for the next ${terms.durationInMonths === 1 ? 'month' : `${terms.durationInMonths} months`}.`;

/**
 * After a self-service cancel that ended in a period-end cancellation: one offer, or null. The cancel
 * is already done, so nothing here can stand in its way; a failure to record an offer only means no offer.
 */
export async function offerAfterCancel(
  deps: SaveOfferDeps,
  memberId: string,
  input: { hearOffers: boolean; resumable: boolean },
  now: Date,
): Promise<SaveOfferView | null> {
  try {
    const [stored, previous] = await Promise.all([deps.memberships.getMembership(memberId), deps.offers.offers(memberId)]);
    const record = stored?.record ?? null;
    const sub = record?.subscription;
    if (!sub) return null;
    const rules = deps.rules.rulesFor(record.jurisdiction);
    const decision = saveOfferDecision({
      rules,
      channel: 'self_service',
      optedIn: input.hearOffers,
      previousOffers: previous,
      resumable: input.resumable,
      now,
    });
    if (!decision.offer) {
      logger.info('no save offer', { memberRef: await memberRef(memberId), reason: decision.reason, rules: rules.key });
      return null;
    }
    const offer: SaveOffer = {
      offerId: generateReference('OFR'),
      memberId,
      subscriptionId: sub.subscriptionId,
      offeredAt: now.toISOString(),
      expiresAt: offerExpiresAt(now.toISOString()),
      terms: deps.terms,
      rulesKey: rules.key,
      optedIn: input.hearOffers,
    };
    await deps.offers.commit([saveOfferPut(deps.offers.tableName, offer)]);
    return viewOf(offer);
  } catch (error) {
    logger.error('save offer not made', { memberRef: await memberRef(memberId), error: (error as Error).name });
    return null;
  }
}

const viewOf = (offer: SaveOffer): SaveOfferView => ({
  offerId: offer.offerId,
  description: describeOffer(offer.terms),
  percentOff: offer.terms.percentOff,
  durationInMonths: offer.terms.durationInMonths,
  expiresAt: offer.expiresAt,
  acceptPath: `/v1/me/membership/save-offers/${offer.offerId}/accept`,
});

/** One coupon per set of terms, made once and reused: `membership-save-50pct-1m`. */
const couponIdOf = (terms: SaveOfferTerms) => `membership-save-${terms.percentOff}pct-${terms.durationInMonths}m`;

async function ensureCoupon(stripe: Stripe, terms: SaveOfferTerms): Promise<string> {
  const id = couponIdOf(terms);
  try {
    await stripe.coupons.create(
      {
        id,
        percent_off: terms.percentOff,
        duration: 'repeating',
        duration_in_months: terms.durationInMonths,
        name: `Membership save offer: ${terms.percentOff}% off for ${terms.durationInMonths} month(s)`,
        metadata: { purpose: 'save-offer' },
      },
      { idempotencyKey: `save-offer-coupon:${id}` },
    );
  } catch (error) {
    // Made before (by another acceptance, more than a day ago): the coupon is there, which is all we need.
    if (!(isStripeError(error) && error.code === 'resource_already_exists')) stripeFailure(error, 'coupons.create');
  }
  return id;
}

export async function acceptSaveOffer(deps: SaveOfferDeps, memberId: string, offerId: string, now: Date) {
  const [offers, acceptances, stored] = await Promise.all([
    deps.offers.offers(memberId),
    deps.offers.acceptances(memberId),
    deps.memberships.getMembership(memberId),
  ]);
  const offer = offers.find((o) => o.offerId === offerId);
  if (!offer) throw new NotFoundError('There is no such offer for you.', 'unknown_offer');
  const taken = acceptances.find((a) => a.offerId === offerId);
  if (!taken) {
    const decision = acceptDecision(offer, stored?.record ?? null, now);
    if (!decision.accept) {
      if (decision.reason === 'offer_expired')
        throw new ConflictError('offer_expired', 'This offer has expired.', { expiresAt: offer.expiresAt });
      throw new ConflictError('membership_ended', 'The membership this offer was for has ended.', { membershipStatus: 'lapsed' });
    }
  }
  const stripe = await requireStripe(deps);
  const couponId = await ensureCoupon(stripe, offer.terms);
  const live = await callStripe('subscriptions.retrieve', () => stripe.subscriptions.retrieve(offer.subscriptionId));
  // Resume whatever cancellation is pending and apply the coupon, in one keyed update.
  const params: Stripe.SubscriptionUpdateParams = {
    ...(live.cancel_at !== null && !live.cancel_at_period_end ? { cancel_at: '' } : { cancel_at_period_end: false }),
    discounts: [{ coupon: couponId }],
  };
  const renewing = await updateSubscription(stripe, offer.subscriptionId, params, `save-offer-accept:${offerId}`);
  const acceptedAt = taken?.acceptedAt ?? now.toISOString();
  if (!taken) {
    await deps.offers.commit([
      saveOfferAcceptancePut(deps.offers.tableName, { offerId, memberId, subscriptionId: offer.subscriptionId, acceptedAt, couponId }),
      workPut(deps.offers.tableName, {
        PK: keys.memberPk(memberId),
        kind: 'save_offer_followup',
        workId: offerId,
        memberId,
        payload: { offerId, subscriptionId: offer.subscriptionId, acceptedAt },
        dueAt: new Date(Date.parse(acceptedAt) + CHURN_WINDOW_DAYS * DAY_MS).toISOString(),
        now,
      }),
    ]);
    logger.info('save offer accepted', { memberRef: await memberRef(memberId), offerId });
  }
  const item = renewing.items.data[0];
  return {
    memberId,
    offerId,
    outcome: 'accepted' as const,
    acceptedAt,
    renewsAt: item ? new Date(item.current_period_end * 1000).toISOString() : null,
    discount: { percentOff: offer.terms.percentOff, durationInMonths: offer.terms.durationInMonths },
  };
}

/** The 90-day look (compliance job): did the member leave anyway? Recorded once, for finance. */
export async function followUpSaveOffer(deps: Pick<SaveOfferDeps, 'memberships' | 'offers'>, item: WorkItem, now: Date): Promise<string> {
  const { offerId, subscriptionId, acceptedAt } = item.payload as { offerId: string; subscriptionId: string; acceptedAt: string };
  const memberId = item.memberId!;
  const record = (await deps.memberships.getMembership(memberId))?.record ?? null;
  const { churned, churnedAt } = churnedAfter(record, subscriptionId, acceptedAt, now);
  await deps.offers.commit([
    saveOfferOutcomePut(deps.offers.tableName, { offerId, memberId, acceptedAt, decidedAt: now.toISOString(), churned, churnedAt }),
  ]);
  return churned ? 'churned' : 'retained';
}
