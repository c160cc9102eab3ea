import { isoFromEpoch } from '../domain/membership';
import { consentAcceptanceWrite } from '../storage/shopper-repository';
import type { MembershipReaction } from './ingest-stripe-event';

/**
 * Records that the shopper accepted the terms of a Checkout Session, in the same transaction as the
 * membership change of its `checkout.session.completed` (or `async_payment_succeeded`), so the
 * consent proof and the membership never disagree. Pure: returns the write. A completion the record
 * already holds (a redelivery) writes nothing, so a duplicate event stays "unchanged".
 */
export function consentAcceptanceReaction(tableName: string): MembershipReaction {
  return ({ before, event }) => {
    if (event.kind !== 'checkout-completed' || before?.checkoutSessionId === event.checkoutSessionId) return [];
    return [
      consentAcceptanceWrite(tableName, {
        memberId: event.memberId,
        checkoutSessionId: event.checkoutSessionId,
        acceptedAt: isoFromEpoch(event.created),
        eventId: event.eventId,
      }),
    ];
  };
}
