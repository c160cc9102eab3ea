import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConsentRecord } from '../domain/shopper';
import type { SavingsTotals } from '../domain/savings';
import { keys } from './keys';

/**
 * Shopper-side items of a member's collection, all outside the `ENT#` prefix so the checkout's one
 * Query never reads them:
 * - Stripe customer: `{ PK: MEMBER#id, SK: STRIPE_CUSTOMER, type: 'stripe-customer', customerId, createdAt }`
 *   written once (conditional), with the `CUSTOMER#<id>/LINK` reverse link in the same transaction.
 * - consent: `{ PK: MEMBER#id, SK: CONSENT#<presentedAt>#<checkoutSessionId>, type: 'consent', ...ConsentRecord }`,
 *   no TTL: proof of consent is kept at least three years (see docs/shoppers.md).
 */
export const shopperKeys = {
  stripeCustomerSk: 'STRIPE_CUSTOMER',
  consentPrefix: 'CONSENT#',
  consentSk: (presentedAt: string, checkoutSessionId: string) => `CONSENT#${presentedAt}#${checkoutSessionId}`,
} as const;

export class CustomerLinkConflictError extends Error {
  override name = 'CustomerLinkConflictError';
}

export class DynamoShopperRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getStripeCustomerId(memberId: string): Promise<string | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: keys.memberPk(memberId), SK: shopperKeys.stripeCustomerSk }, ConsistentRead: true }),
    );
    return typeof out.Item?.customerId === 'string' ? out.Item.customerId : null;
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
                  Item: { PK: keys.memberPk(memberId), SK: shopperKeys.stripeCustomerSk, type: 'stripe-customer', customerId, createdAt: now.toISOString() },
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
        if (reasons[1]?.Code === 'ConditionalCheckFailed') throw new CustomerLinkConflictError(`customer ${customerId} belongs to another member`);
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
        Item: { PK: keys.memberPk(consent.memberId), SK: shopperKeys.consentSk(consent.presentedAt, consent.checkoutSessionId), type: 'consent', ...consent },
      }),
    );
  }

  async listConsents(memberId: string): Promise<ConsentRecord[]> {
    const consents: ConsentRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: { ':pk': keys.memberPk(memberId), ':prefix': shopperKeys.consentPrefix },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        const { PK: _pk, SK: _sk, type: _type, ...consent } = item;
        consents.push(consent as ConsentRecord);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return consents;
  }

  /** The savings item the benefits feature maintains (`SK = SAVINGS`); read as stored. */
  async getSavings(memberId: string): Promise<SavingsTotals | null> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { PK: keys.memberPk(memberId), SK: keys.savingsSk } }));
    if (!out.Item) return null;
    const item = out.Item;
    return {
      memberId,
      periodKey: typeof item.periodKey === 'string' ? item.periodKey : null,
      periodSavedCents: Number(item.periodSavedCents ?? 0),
      lifetimeSavedCents: Number(item.lifetimeSavedCents ?? 0),
      feesPaidCents: Number(item.feesPaidCents ?? 0),
      currency: typeof item.currency === 'string' ? item.currency : 'usd',
    };
  }
}
