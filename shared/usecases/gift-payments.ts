/**
 * A gift's payment, as Stripe reports it (docs/gifts.md). Apart from usecases/gifts.ts so the webhook
 * bundles only this.
 */
import { generateGrantCode } from '../codes';
import { deliveryAt, type Gift, paidGift } from '../domain/gifts';
import { logger } from '../observability';
import type { GiftStore } from '../storage/gifts';
import { acknowledgementPut } from '../storage/reminder-store';
import type { GiftPaymentFacts } from '../stripe/events';

const MAX_ATTEMPTS = 6;

/**
 * Stripe reports a gift paid (the webhook, or the stripe-sync job's replay): the gift gets its code and
 * the recipient's email is queued for `deliverAt`, in one transaction. A repeat finds it paid already.
 */
export async function recordGiftPayment(
  deps: { gifts: Pick<GiftStore, 'get' | 'save' | 'tableName'> },
  payment: GiftPaymentFacts,
  now: Date,
): Promise<'recorded' | 'duplicate' | 'unknown'> {
  for (let attempt = 1; ; attempt++) {
    const gift = await deps.gifts.get(payment.buyerMemberId, payment.purchaseId);
    if (!gift) {
      // Our metadata but no gift: it cannot have been stored by this table (another environment sharing the Stripe account).
      logger.error('gift payment for an unknown gift', { purchaseId: payment.purchaseId, checkoutSessionId: payment.checkoutSessionId });
      return 'unknown';
    }
    if (gift.state !== 'pending') return 'duplicate';
    const paid = paidGift(gift, { ...payment, code: generateGrantCode() });
    const notice = acknowledgementPut(
      deps.gifts.tableName,
      {
        memberId: gift.buyerMemberId,
        kind: 'gift_delivery',
        subscriptionId: null,
        anchor: gift.purchaseId,
        facts: deliveryFacts(paid),
        deliverTo: gift.recipientEmail,
        dueAt: deliveryAt(gift, payment.paidAt),
      },
      now,
    );
    try {
      await deps.gifts.save(paid, 'pending', [notice]);
      return 'recorded';
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

function deliveryFacts(gift: Gift): Record<string, string> {
  return {
    code: gift.code!,
    giftId: gift.giftId,
    planId: gift.planId,
    months: String(gift.months),
    claimBy: gift.claimBy!,
    ...(gift.message ? { message: gift.message } : {}),
  };
}
