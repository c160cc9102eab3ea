import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  QueryCommand as RawQueryCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { IssuedGrant } from '../domain/grants';
import type { HouseholdLink } from '../domain/household';
import type { MembershipRecord } from '../domain/membership';
import type { ChargeRefund } from '../domain/membership-events';
import { fromAttributeMap, fromAttributeValue } from './attribute-values';
import { batchGetAll } from './batch-get';
import { grantFromItem, isGrantItem } from './grants';
import { householdLinkFromItem, isHouseholdGuard, isHouseholdLinkSk } from './households';
import { keys } from './keys';
import { emailLookupAttributes } from './member-lookup';
import { readPaymentLinks } from './payment-links';
import { queryPartition } from './query-prefix';
import { STRIPE_CUSTOMER_SK, stripeCustomerIdFromItem, stripeCustomerKey } from './stripe-customer';
import type { TransactItem } from './transact';

/** Extra writes that must commit atomically with a membership change (grant issuance, reminders, ...). */
export type ExtraWrite = TransactItem;

export interface EntitlementData {
  record: MembershipRecord | null;
  grants: IssuedGrant[];
  /** Set while the member belongs to someone's household (docs/household.md). */
  household: HouseholdLink | null;
}

export interface StoredMembership {
  record: MembershipRecord;
  /** Optimistic-concurrency revision; 0 means "not stored yet". */
  rev: number;
}

export class ConcurrentModificationError extends Error {
  override name = 'ConcurrentModificationError';
}

/** The record's Stripe customer is linked to another member (a race the binding rules lost). */
export class CustomerLinkedElsewhereError extends Error {
  override name = 'CustomerLinkedElsewhereError';
}

export interface MembershipRepository {
  /**
   * The membership, its grants and the copy of a household owner's membership: the member's `ENT#`
   * item collection, one Query. `consistent` for callers that decide a write from what they read
   * (redeem, refund); the checkout reads eventually.
   */
  getEntitlementData(memberId: string, options?: { consistent?: boolean }): Promise<EntitlementData>;
  getMembership(memberId: string): Promise<StoredMembership | null>;
  findMemberIdByCustomer(customerId: string): Promise<string | null>;
  /** The members the given customers are linked to (eventually consistent: the sweep's page read). */
  findMemberIdsByCustomers(customerIds: readonly string[]): Promise<Map<string, string>>;
  /** Memberships by member id (eventually consistent: the sweep compares, and re-reads before it writes). */
  getMemberships(memberIds: readonly string[]): Promise<Map<string, MembershipRecord>>;
  /**
   * The Stripe customers stored for a member: the one we created for them (`STRIPE_CUSTOMER`) and
   * the one their membership follows. Consistent: the binding rules decide on it.
   */
  memberCustomerIds(memberId: string): Promise<string[]>;
  /**
   * Writes the record if it is still at `expectedRev`, together with `extra` writes, in one
   * transaction. Throws ConcurrentModificationError when another writer got there first.
   */
  saveMembership(record: MembershipRecord, expectedRev: number, extra?: ExtraWrite[], now?: Date): Promise<void>;
  /**
   * The invoice a payment paid, from the payment link the ledger records with `invoice_payment.paid`
   * (storage/payment-links.ts); a consistent read, for the parked-refund handshake.
   */
  invoiceForPayment(paymentRef: string): Promise<string | null>;
  /**
   * Keeps a refund whose payment has no known invoice yet, under that payment; the link's arrival
   * applies it. A later snapshot of the same charge (more refunded) replaces an earlier one.
   */
  parkRefund(paymentRef: string, refund: ParkedRefund, now: Date): Promise<void>;
  parkedRefunds(paymentRef: string): Promise<ParkedRefund[]>;
}

export interface ParkedRefund extends ChargeRefund {
  memberId: string;
  customerId: string;
}

const DAY_S = 86_400;
// A refund whose payment never pays a membership invoice was not about a membership.
const PARKED_REFUND_RETENTION_DAYS = 90;
const expiresIn = (now: Date, days: number) => Math.floor(now.getTime() / 1000) + days * DAY_S;

const MEMBERSHIP_FIELDS = [
  'memberId',
  'customerId',
  'subscriptionId',
  'checkoutSessionId',
  'checkoutCompletedAt',
  'checkoutVersion',
  'subscription',
  'subscriptions',
  'payment',
  'paymentVersion',
  'firstSubscribedAt',
  'hadTrial',
  'benefits',
  'email',
  'emailVersion',
  'erasedAt',
  'jurisdiction',
  'giftTerms',
] as const satisfies ReadonlyArray<keyof MembershipRecord>;

/** The one mapper of the membership item: from an item the document client read, or from the wire (`fromWire`). */
function mapRecord(field: (name: (typeof MEMBERSHIP_FIELDS)[number]) => unknown): MembershipRecord {
  const record = {} as Record<string, unknown>;
  for (const name of MEMBERSHIP_FIELDS) {
    const value = field(name);
    // Gifts are rare: a record without any keeps its old shape (no `giftTerms: null`).
    if (name === 'giftTerms' && value == null) continue;
    record[name] = value ?? (name === 'hadTrial' ? false : name === 'subscriptions' ? {} : null);
  }
  return record as unknown as MembershipRecord;
}

const toRecord = (item: Record<string, unknown>) => mapRecord((name) => item[name]);
/** The checkout's path: converts only the record's own fields (keys, revision and the like are never read there). */
const fromWire = (raw: Record<string, AttributeValue>) =>
  mapRecord((name) => {
    const value = raw[name];
    return value === undefined ? undefined : fromAttributeValue(value);
  });

export class DynamoMembershipRepository implements MembershipRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly raw: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * The checkout hot path: one Query of the member's `ENT#` items on the plain client, converted from
   * the wire by ./attribute-values (the document client's middleware, then the SDK's `unmarshall`,
   * cost more than the rest of the handler); this call decides the entitlement latency budget (see
   * bench/entitlement.ts). A ProjectionExpression was measured slower on DynamoDB Local, so the whole
   * items are read, and only the record's fields converted. For the same reason it keeps its own
   * paging loop instead of `queryPartition`, which runs on the document client; the items still go
   * through the one membership mapper and the grant mapper.
   */
  async getEntitlementData(memberId: string, options: { consistent?: boolean } = {}): Promise<EntitlementData> {
    let record: MembershipRecord | null = null;
    let household: HouseholdLink | null = null;
    const grants: IssuedGrant[] = [];
    // One page in practice (a member holds a handful of grants); following pages matters because
    // grant keys sort before the membership item, which must never fall off a full first page.
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.raw.send(
        new RawQueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: keys.memberPk(memberId) }, ':prefix': { S: keys.entitlementPrefix } },
          ...(options.consistent ? { ConsistentRead: true } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const raw of out.Items ?? []) {
        if (raw.SK?.S === keys.membershipSk) record = fromWire(raw);
        // The grant mapper reads `type` and `grant`: the lookup keys and the TTL stay unconverted.
        else if (isGrantItem({ type: raw.type?.S }) && raw.grant) grants.push(grantFromItem({ grant: fromAttributeValue(raw.grant) }));
        else if (isHouseholdLinkSk(raw.SK?.S)) household = householdLinkFromItem(fromAttributeMap(raw));
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return { record, grants, household };
  }

  async getMembership(memberId: string): Promise<StoredMembership | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: keys.memberPk(memberId), SK: keys.membershipSk }, ConsistentRead: true }),
    );
    return out.Item ? { record: toRecord(out.Item), rev: Number(out.Item.rev ?? 0) } : null;
  }

  async findMemberIdByCustomer(customerId: string): Promise<string | null> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.customerLink(customerId), ConsistentRead: true }));
    return typeof out.Item?.memberId === 'string' ? out.Item.memberId : null;
  }

  async findMemberIdsByCustomers(customerIds: readonly string[]): Promise<Map<string, string>> {
    const items = await batchGetAll(this.db, this.tableName, [...new Set(customerIds)].map(keys.customerLink));
    return new Map(
      items.filter((i) => typeof i.memberId === 'string').map((i) => [String(i.PK).slice('CUSTOMER#'.length), String(i.memberId)]),
    );
  }

  async getMemberships(memberIds: readonly string[]): Promise<Map<string, MembershipRecord>> {
    const wanted = [...new Set(memberIds)].map((id) => ({ PK: keys.memberPk(id), SK: keys.membershipSk }));
    const items = await batchGetAll(this.db, this.tableName, wanted);
    return new Map(items.map((item) => [String(item.memberId), toRecord(item)]));
  }

  async memberCustomerIds(memberId: string): Promise<string[]> {
    const items = await batchGetAll(
      this.db,
      this.tableName,
      [{ PK: keys.memberPk(memberId), SK: keys.membershipSk }, stripeCustomerKey(memberId)],
      { consistent: true },
    );
    const ids = items.map((item) => (item.SK === STRIPE_CUSTOMER_SK ? stripeCustomerIdFromItem(item) : toRecord(item).customerId));
    return [...new Set(ids.filter((id): id is string => id !== null))];
  }

  async invoiceForPayment(paymentRef: string): Promise<string | null> {
    return (await readPaymentLinks(this.db, this.tableName, [paymentRef], { consistent: true })).get(paymentRef) ?? null;
  }

  async parkRefund(paymentRef: string, refund: ParkedRefund, now: Date): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: keys.paymentPk(paymentRef),
            SK: keys.parkedRefundSk(refund.chargeId),
            type: 'parked-refund',
            refund,
            refundedCents: refund.refundedCents,
            ttl: expiresIn(now, PARKED_REFUND_RETENTION_DAYS),
          },
          ConditionExpression: 'attribute_not_exists(PK) OR refundedCents < :cents',
          ExpressionAttributeValues: { ':cents': refund.refundedCents },
        }),
      );
    } catch (error) {
      // An equal or larger snapshot of this charge's refunds is parked already.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async parkedRefunds(paymentRef: string): Promise<ParkedRefund[]> {
    const items = await queryPartition(this.db, this.tableName, keys.paymentPk(paymentRef), {
      skPrefix: keys.parkedRefundPrefix,
      consistent: true,
    });
    return items.map((item) => item.refund as ParkedRefund);
  }

  async saveMembership(record: MembershipRecord, expectedRev: number, extra: ExtraWrite[] = [], now = new Date()): Promise<void> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            PK: keys.memberPk(record.memberId),
            SK: keys.membershipSk,
            type: 'membership',
            ...record,
            // The email's lookup keys live and die with the email (storage/member-lookup.ts).
            ...emailLookupAttributes(record.memberId, record.email),
            rev: expectedRev + 1,
            updatedAt: now.toISOString(),
          },
          ConditionExpression: expectedRev === 0 ? 'attribute_not_exists(PK)' : 'rev = :rev',
          ...(expectedRev === 0 ? {} : { ExpressionAttributeValues: { ':rev': expectedRev } }),
        },
      },
    ];
    if (record.customerId) {
      // The link lets events that carry only a customer id (no metadata) find their member.
      items.push({
        Put: {
          TableName: this.tableName,
          Item: { ...keys.customerLink(record.customerId), type: 'customer-link', memberId: record.memberId },
          ConditionExpression: 'attribute_not_exists(PK) OR memberId = :member',
          ExpressionAttributeValues: { ':member': record.memberId },
        },
      });
    }
    items.push(...extra);
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = error.CancellationReasons ?? [];
        // The household guard failing means a join or leave since the roster was read: decide again.
        const guardFailed = reasons.some((r, i) => r.Code === 'ConditionalCheckFailed' && isHouseholdGuard(items[i]));
        if (reasons[0]?.Code === 'ConditionalCheckFailed' || guardFailed || reasons.some((r) => r.Code === 'TransactionConflict')) {
          throw new ConcurrentModificationError(`membership of revision ${expectedRev} changed concurrently`);
        }
        if (record.customerId && reasons[1]?.Code === 'ConditionalCheckFailed') {
          throw new CustomerLinkedElsewhereError(`Stripe customer ${record.customerId} is already linked to another member`);
        }
      }
      throw error;
    }
  }
}
