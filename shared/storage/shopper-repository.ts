import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ConsentAcceptance, ConsentRecord } from '../domain/shopper';
import { keys } from './keys';
import type { ExtraWrite } from './membership-repository';
import { queryMemberItems } from './query-prefix';
import { readStripeCustomerId, STRIPE_CUSTOMER_SK } from './stripe-customer';

/**
 * Shopper-side items of a member's collection, all outside the `ENT#` prefix so the checkout's one
 * Query never reads them:
 * - Stripe customer: `{ PK: MEMBER#id, SK: STRIPE_CUSTOMER, type: 'stripe-customer', customerId, createdAt }`
 *   written once (conditional), with the `CUSTOMER#<id>/LINK` reverse link in the same transaction.
 * - consent: `{ PK: MEMBER#id, SK: CONSENT#<presentedAt>#<checkoutSessionId>, type: 'consent', ...ConsentRecord }`,
 *   no TTL: proof of consent is kept at least three years (see docs/shoppers.md).
 * - acceptance: `{ PK: MEMBER#id, SK: CONSENT_ACCEPTED#<checkoutSessionId>, type: 'consent-acceptance', ...ConsentAcceptance }`,
 *   written with the membership change of `checkout.session.completed`, no TTL either.
 */
export const shopperKeys = {
  stripeCustomerSk: STRIPE_CUSTOMER_SK,
  consentPrefix: 'CONSENT#',
  consentSk: (presentedAt: string, checkoutSessionId: string) => `CONSENT#${presentedAt}#${checkoutSessionId}`,
  consentAcceptedPrefix: 'CONSENT_ACCEPTED#',
  consentAcceptedSk: (checkoutSessionId: string) => `CONSENT_ACCEPTED#${checkoutSessionId}`,
} as const;

/**
 * The acceptance write for a membership transaction. Its own item, keyed by the session alone: the
 * webhook knows the session id but not the presentation's key (its time), and the write must never
 * fail the membership change — there is no condition, whether or not we presented the session (one
 * made elsewhere has no consent record). Repeating it keeps the first acceptance time.
 */
export function consentAcceptanceWrite(tableName: string, acceptance: ConsentAcceptance): ExtraWrite {
  return {
    Update: {
      TableName: tableName,
      Key: { PK: keys.memberPk(acceptance.memberId), SK: shopperKeys.consentAcceptedSk(acceptance.checkoutSessionId) },
      UpdateExpression:
        'SET #type = :type, memberId = :m, checkoutSessionId = :s, acceptedAt = if_not_exists(acceptedAt, :at), eventId = if_not_exists(eventId, :e)',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: {
        ':type': 'consent-acceptance',
        ':m': acceptance.memberId,
        ':s': acceptance.checkoutSessionId,
        ':at': acceptance.acceptedAt,
        ':e': acceptance.eventId,
      },
    },
  };
}

export class CustomerLinkConflictError extends Error {
  override name = 'CustomerLinkConflictError';
}

export class DynamoShopperRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  getStripeCustomerId(memberId: string): Promise<string | null> {
    return readStripeCustomerId(this.db, this.tableName, memberId);
  }

  /**
   * Stores the member's Stripe customer unless one is stored already; returns the one that is stored.
   * Two concurrent checkouts race here: the loser adopts the winner's customer.
   */
  async linkStripeCustomer(memberId: string, customerId: string, now: Date): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    PK: keys.memberPk(memberId),
                    SK: shopperKeys.stripeCustomerSk,
                    type: 'stripe-customer',
                    customerId,
                    createdAt: now.toISOString(),
                  },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...keys.customerLink(customerId), type: 'customer-link', memberId },
                  ConditionExpression: 'attribute_not_exists(PK) OR memberId = :member',
                  ExpressionAttributeValues: { ':member': memberId },
                },
              },
            ],
          }),
        );
        return customerId;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        if (reasons[1]?.Code === 'ConditionalCheckFailed')
          throw new CustomerLinkConflictError(`customer ${customerId} belongs to another member`);
        const stored = await this.getStripeCustomerId(memberId);
        if (stored) return stored;
        // Cancelled by a concurrent transaction that has not committed (TransactionConflict): try again.
        if (attempt >= 4) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      }
    }
  }

  /** Idempotent: the key is the session's creation time and id, so a replayed session writes the same item. */
  async putConsent(consent: ConsentRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          PK: keys.memberPk(consent.memberId),
          SK: shopperKeys.consentSk(consent.presentedAt, consent.checkoutSessionId),
          type: 'consent',
          ...consent,
        },
      }),
    );
  }

  async listConsents(memberId: string): Promise<ConsentRecord[]> {
    return (await queryMemberItems(this.db, this.tableName, memberId, shopperKeys.consentPrefix)).map((item) => {
      const { PK: _pk, SK: _sk, type: _type, ...consent } = item;
      return consent as unknown as ConsentRecord;
    });
  }

  async listConsentAcceptances(memberId: string): Promise<ConsentAcceptance[]> {
    const items = await queryMemberItems(this.db, this.tableName, memberId, shopperKeys.consentAcceptedPrefix, { consistent: true });
    return items.map((item) => ({
      memberId: String(item.memberId),
      checkoutSessionId: String(item.checkoutSessionId),
      acceptedAt: String(item.acceptedAt),
      eventId: String(item.eventId),
    }));
  }
}
