/**
 * The member's own Stripe customer: `{ PK: MEMBER#id, SK: STRIPE_CUSTOMER, type: 'stripe-customer',
 * customerId, createdAt }`, written once by the checkout (shopper-repository.ts, with the
 * `CUSTOMER#<id>/LINK` reverse link in the same transaction). Its reader lives here so that both the
 * shopper flows and the binding rules of ingestion read it the same way.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys';

export const STRIPE_CUSTOMER_SK = 'STRIPE_CUSTOMER';
export const stripeCustomerKey = (memberId: string) => ({ PK: keys.memberPk(memberId), SK: STRIPE_CUSTOMER_SK });

export const stripeCustomerIdFromItem = (item: Record<string, unknown> | undefined): string | null =>
  typeof item?.customerId === 'string' ? item.customerId : null;

export async function readStripeCustomerId(db: DynamoDBDocumentClient, tableName: string, memberId: string): Promise<string | null> {
  const out = await db.send(new GetCommand({ TableName: tableName, Key: stripeCustomerKey(memberId), ConsistentRead: true }));
  return stripeCustomerIdFromItem(out.Item);
}
