/**
 * Moving a subscription to a plan's new price (docs/compliance.md, "Price changes"). The reminders job
 * queues the move when it sends the member's price-change notice, so no subscription moves before its
 * notice went out; the compliance job then moves it once the renewal before the new price's first
 * charge has happened, with proration off, so the new price applies from that charge on. Before moving
 * it checks that Stripe's price charges what the notice said.
 */
import type { PlanCatalog } from '../domain/catalog';
import { priceMoveDecision } from '../domain/price-change';
import { memberRef } from '../member-ref';
import { logger } from '../observability';
import type { WorkItem } from '../storage/work-queue';
import type { StripeAccount } from '../stripe/client';
import { callStripe } from '../stripe/errors';
import { periodOf, requireStripe, updateSubscription } from './shopper-membership';

export type PriceMoveOutcome = { done: string } | { dropped: string } | { later: string; reason: string };

export async function movePrice(
  deps: { catalog: PlanCatalog; stripe: () => Promise<StripeAccount | null> },
  item: WorkItem,
  now: Date,
): Promise<PriceMoveOutcome> {
  const move = item.payload as { subscriptionId: string; toPriceId: string; prev: string; target: string };
  const stripe = await requireStripe(deps);
  const live = await callStripe('subscriptions.retrieve', () => stripe.subscriptions.retrieve(move.subscriptionId));
  const current = live.items.data[0];
  const decision = priceMoveDecision(
    move,
    {
      id: live.id,
      status: live.status,
      priceId: current?.price.id ?? null,
      currentPeriodStart: periodOf(live).start,
      cancelAtPeriodEnd: live.cancel_at_period_end,
      cancelAt: live.cancel_at === null ? null : new Date(live.cancel_at * 1000).toISOString(),
    },
    now,
  );
  if (decision.action === 'done') return { done: 'already_on_new_price' };
  if (decision.action === 'drop') return { dropped: decision.reason };
  if (decision.action === 'wait') return { later: decision.until, reason: 'renewal_before_the_change_not_yet_started' };
  const change = deps.catalog.planForPrice(move.toPriceId)?.priceChange;
  const price = await callStripe('prices.retrieve', () => stripe.prices.retrieve(move.toPriceId));
  // The notice named an amount; a Stripe price that charges anything else would make it untrue.
  if (!change || price.unit_amount !== change.amountCents || price.currency !== change.currency) {
    logger.error('price change not applied: the Stripe price does not charge what the notice said', {
      priceId: move.toPriceId,
      memberRef: await memberRef(item.memberId ?? ''),
    });
    return { dropped: 'price_mismatch' };
  }
  await updateSubscription(
    stripe,
    move.subscriptionId,
    { items: [{ id: current!.id, price: move.toPriceId }], proration_behavior: 'none' },
    `price-move:${move.subscriptionId}:${move.toPriceId}`,
  );
  logger.info('subscription moved to the new price', { memberRef: await memberRef(item.memberId ?? ''), priceId: move.toPriceId });
  return { done: 'moved' };
}
