/**
 * Gift memberships (docs/gifts.md): buy one through Stripe Checkout in payment mode, get its code on
 * payment (and the recipient an email at `deliverAt`), claim it once, refund it before it is claimed,
 * list what one bought. The rules are the pure domain's (domain/gifts.ts); this module loads, decides
 * and writes atomically. Buyer and claimant always come from the verified token.
 */
import { generatePurchaseId } from '../codes';
import type { PlanCatalog } from '../domain/catalog';
import { emptyEntry, type LedgerEntry } from '../domain/finance/ledger';
import {
  claimDecision,
  claimedGift,
  deliverAtRefusal,
  deliveryAt,
  type Gift,
  giftEndingNoticeAt,
  giftStatus,
  newGift,
  refundDecision,
} from '../domain/gifts';
import { evaluateMembership, type GiftTerm } from '../domain/membership';
import { ConflictError, GoneError, InvalidInputError, NotFoundError, ProviderFailedError } from '../errors';
import { memberRef } from '../member-ref';
import { logger } from '../observability';
import { type GiftStore, giftPut } from '../storage/gifts';
import { ledgerTransactItems } from '../storage/ledger-repository';
import { ConcurrentModificationError, type MembershipRepository } from '../storage/membership-repository';
import { acknowledgementPut } from '../storage/reminder-store';
import type { StripeAccount } from '../stripe/client';
import { callStripe } from '../stripe/errors';
import { admitShopper, type ShopperRateLimit } from './shopper-limit';
import { checkRedirects, requireStripe } from './shopper-membership';

export interface GiftDeps {
  catalog: PlanCatalog;
  gifts: Pick<GiftStore, 'get' | 'byCode' | 'ofBuyer' | 'save' | 'tableName'>;
  memberships: Pick<MembershipRepository, 'getMembership' | 'saveMembership'>;
  /** Null without a usable Stripe API key: checkout and refund answer 503. */
  stripe: () => Promise<StripeAccount | null>;
  /** Projects a ledger entry the claim committed; if this request dies first, the rollups-settle job does. */
  settleLedger?: (entry: LedgerEntry) => Promise<void>;
  /** The gift checkout and the refund call Stripe: they count against the shopper's limit of such routes. */
  rateLimit: ShopperRateLimit;
  /** Where Checkout may send the buyer back to (domain/redirects.ts). */
  shopOrigins: readonly string[];
}

const MAX_ATTEMPTS = 6;

/** Starts the purchase: the gift is stored as pending, then a payment-mode Checkout Session sells its price. */
export async function createGiftCheckout(
  deps: Pick<GiftDeps, 'catalog' | 'gifts' | 'stripe' | 'rateLimit' | 'shopOrigins'>,
  buyerMemberId: string,
  input: {
    giftId: string;
    recipientEmail: string;
    deliverAt?: string | undefined;
    message?: string | undefined;
    successUrl: string;
    cancelUrl: string;
  },
  now: Date,
) {
  checkRedirects(deps.shopOrigins, { successUrl: input.successUrl, cancelUrl: input.cancelUrl });
  const found = deps.catalog.gift(input.giftId);
  if (!found) throw new InvalidInputError([{ path: '/body/giftId', message: `unknown gift "${input.giftId}"` }]);
  const refusal = deliverAtRefusal(input.deliverAt, now);
  if (refusal) throw new InvalidInputError([{ path: '/body/deliverAt', message: refusal }]);
  await admitShopper(deps.rateLimit, buyerMemberId, now);
  const stripe = await requireStripe(deps);
  const gift = newGift({
    purchaseId: generatePurchaseId(),
    offer: found.gift,
    plan: found.plan,
    buyerMemberId,
    recipientEmail: input.recipientEmail,
    message: input.message ?? null,
    deliverAt: input.deliverAt ? new Date(input.deliverAt).toISOString() : null,
    now,
  });
  // Stored before Stripe sees it, so no payment can ever arrive for a gift we do not know.
  await deps.gifts.save(gift, null);
  const metadata = { memberId: buyerMemberId, purchaseId: gift.purchaseId, giftId: gift.giftId };
  const session = await callStripe('checkout.sessions.create', () =>
    stripe.checkout.sessions.create(
      {
        mode: 'payment',
        line_items: [{ price: found.gift.stripePriceId, quantity: 1 }],
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
        metadata,
        // Copied to the payment, so a refund or dispute seen in the Dashboard names its gift.
        payment_intent_data: { metadata },
        custom_text: {
          submit: {
            message: `A gift of ${found.gift.months} month(s) of ${found.plan.name} for ${input.recipientEmail}. It does not renew. Unclaimed gifts expire after ${found.gift.claimValidDays} days.`,
          },
        },
      },
      { idempotencyKey: `gift-checkout:${gift.purchaseId}` },
    ),
  );
  if (!session.url) throw new ProviderFailedError('stripe', 'failed', 'The payment provider returned no checkout page.');
  logger.info('gift checkout started', { memberRef: await memberRef(buyerMemberId), purchaseId: gift.purchaseId, giftId: gift.giftId });
  return { url: session.url, checkoutSessionId: session.id, purchaseId: gift.purchaseId };
}

export interface ClaimResult {
  code: string;
  giftId: string;
  planId: string;
  startsAt: string;
  endsAt: string;
  membership: { status: string; entitled: boolean; planId: string | null; accessEndsAt: string | null; renews: false };
}

const claimResult = (code: string, term: GiftTerm, membership: ReturnType<typeof evaluateMembership>): ClaimResult => ({
  code,
  giftId: term.giftId,
  planId: term.planId,
  startsAt: term.start,
  endsAt: term.end,
  membership: {
    status: membership.status,
    entitled: membership.entitled,
    planId: membership.planId,
    accessEndsAt: membership.accessEndsAt,
    renews: false,
  },
});

/**
 * Claims a gift for the shopper: the membership (its new gift term), the gift (`claimed`, conditional on
 * still being `paid`), the ledger's `gift_claimed` entry with its rollup facts, and the notice before
 * the gift ends, all in one transaction, so a code is claimed exactly once and finance always knows it.
 */
export async function claimGift(
  deps: Pick<GiftDeps, 'catalog' | 'gifts' | 'memberships' | 'settleLedger'>,
  memberId: string,
  code: string,
  now: Date,
): Promise<ClaimResult> {
  for (let attempt = 1; ; attempt++) {
    const gift = await deps.gifts.byCode(code);
    const stored = await deps.memberships.getMembership(memberId);
    const decision = claimDecision(gift, memberId, stored?.record ?? null, deps.catalog, now);
    switch (decision.kind) {
      case 'unknown':
        throw new NotFoundError('No gift has this code.', 'unknown_gift_code');
      case 'refunded':
        throw new GoneError('gift_refunded', 'This gift was refunded; its code can no longer be used.');
      case 'expired':
        throw new GoneError('gift_expired', 'This gift expired unclaimed.', { claimBy: decision.claimBy });
      case 'claimed_by_other':
        throw new ConflictError('gift_already_claimed', 'This gift has been claimed already.');
      case 'renewing':
        throw new ConflictError(
          'membership_renewing',
          'Your membership renews by itself: cancel it at period end first, and the gift starts when it ends.',
          { membershipStatus: decision.membershipStatus },
        );
      case 'claimed_by_you': {
        // A retry of this member's own claim: the same answer as the first time.
        const term = stored?.record.giftTerms?.find((t) => t.purchaseId === gift!.purchaseId);
        if (!term) throw new Error(`gift ${gift!.purchaseId} claimed by ${await memberRef(memberId)} without its term`);
        return claimResult(code, term, evaluateMembership(stored!.record, deps.catalog, now));
      }
      case 'claim': {
        const g = gift!;
        const entry = claimEntry(g, decision.term, memberId);
        const record = stored?.record ?? null;
        const extra = [
          giftPut(deps.gifts.tableName, claimedGift(g, memberId, now), 'paid'),
          ...ledgerTransactItems(deps.gifts.tableName, entry, now),
          acknowledgementPut(
            deps.gifts.tableName,
            {
              memberId,
              kind: 'gift_ending',
              subscriptionId: null,
              anchor: decision.term.end,
              facts: { planId: decision.term.planId, endsAt: decision.term.end, giftId: decision.term.giftId },
              ...(record?.email ? {} : { deliverTo: g.recipientEmail }),
              dueAt: giftEndingNoticeAt(decision.term),
            },
            now,
          ),
        ];
        try {
          await deps.memberships.saveMembership(decision.record, stored?.rev ?? 0, extra, now);
        } catch (error) {
          // The membership or the gift moved meanwhile (a webhook, a concurrent claim, a refund): decide again.
          if (attempt >= MAX_ATTEMPTS) throw error;
          if (!(error instanceof ConcurrentModificationError) && (await deps.gifts.get(g.buyerMemberId, g.purchaseId))?.state === 'paid')
            throw error;
          continue;
        }
        logger.info('gift claimed', { memberRef: await memberRef(memberId), purchaseId: g.purchaseId, startsAt: decision.term.start });
        await settle(deps, entry);
        return claimResult(code, decision.term, evaluateMembership(decision.record, deps.catalog, now));
      }
    }
  }
}

/** The claim as finance books it: the gifted service period, in the gift's own finance account. */
function claimEntry(gift: Gift, term: GiftTerm, memberId: string): LedgerEntry {
  return emptyEntry({
    entryId: `${gift.purchaseId}#claimed`,
    kind: 'gift_claimed',
    occurredAt: term.claimedAt,
    currency: gift.currency ?? 'usd',
    amountCents: 0,
    memberId,
    planId: gift.planId,
    paymentIntentId: gift.paymentIntentId,
    servicePeriod: { start: term.start, end: term.end },
    gift: { purchaseId: gift.purchaseId, giftId: gift.giftId, months: gift.months, claimBy: gift.claimBy! },
  });
}

async function settle(deps: Pick<GiftDeps, 'settleLedger'>, entry: LedgerEntry) {
  try {
    await deps.settleLedger?.(entry);
  } catch (error) {
    // The marker committed with the claim: rollups-settle projects it within a minute.
    logger.warn('gift claim projection left to rollups-settle', {
      entryId: entry.entryId,
      error: error instanceof Error ? error.name : 'unknown',
    });
  }
}

/**
 * Refunds an unclaimed gift to its buyer. The gift is marked refunded first (conditional on still being
 * unclaimed), so a claim racing the refund loses; then Stripe refunds the payment, with an idempotency
 * key of the gift. If Stripe fails, the gift stays refunded-but-unpaid-back and the same call again
 * finishes it (`refundId` null until Stripe answered).
 */
export async function refundGift(deps: GiftDeps, buyerMemberId: string, purchaseId: string, now: Date) {
  await admitShopper(deps.rateLimit, buyerMemberId, now);
  for (let attempt = 1; ; attempt++) {
    const gift = await deps.gifts.get(buyerMemberId, purchaseId);
    if (!gift) throw new NotFoundError('You bought no gift with this id.', 'unknown_gift');
    const decision = refundDecision(gift, now);
    if (decision.kind === 'not_refundable')
      throw new ConflictError('gift_not_refundable', 'Only a paid gift that nobody claimed can be refunded.', {
        giftStatus: decision.status,
      });
    if (decision.kind === 'already_refunded') return refundAnswer(gift);
    let refunding = gift;
    if (decision.kind === 'refund') {
      refunding = { ...gift, state: 'refunded', refundedAt: now.toISOString() };
      try {
        await deps.gifts.save(refunding, 'paid');
      } catch (error) {
        // Claimed or refunded meanwhile: decide again from what is stored now.
        if (attempt >= MAX_ATTEMPTS) throw error;
        continue;
      }
    }
    const stripe = await requireStripe(deps);
    const refund = await callStripe('refunds.create', () =>
      stripe.refunds.create(
        { payment_intent: gift.paymentIntentId!, reason: 'requested_by_customer', metadata: { purchaseId, memberId: buyerMemberId } },
        { idempotencyKey: `gift-refund:${purchaseId}` },
      ),
    );
    const done = { ...refunding, refundId: refund.id };
    await deps.gifts.save(done, 'refunded');
    logger.info('gift refunded', { memberRef: await memberRef(buyerMemberId), purchaseId, refundId: refund.id });
    return refundAnswer(done);
  }
}

const refundAnswer = (gift: Gift) => ({
  purchaseId: gift.purchaseId,
  status: 'refunded' as const,
  refundedCents: gift.amountCents ?? 0,
  currency: gift.currency ?? 'usd',
  refundedAt: gift.refundedAt!,
});

/** The buyer's gifts, with their codes (a gift can be handed over in person too). */
export async function listGifts(deps: Pick<GiftDeps, 'gifts'>, buyerMemberId: string, now: Date) {
  const gifts = await deps.gifts.ofBuyer(buyerMemberId);
  return {
    bought: gifts.map((g) => ({
      purchaseId: g.purchaseId,
      giftId: g.giftId,
      planId: g.planId,
      months: g.months,
      code: g.code,
      recipientEmail: g.recipientEmail,
      status: giftStatus(g, now),
      deliverAt: g.paidAt ? deliveryAt(g, g.paidAt) : g.deliverAt,
      claimBy: g.claimBy,
      createdAt: g.createdAt,
      claimedAt: g.claimedAt,
    })),
  };
}
