import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredSavings } from '../domain/benefits';
import type { IssuedGrant } from '../domain/grants';
import { grantFromItem, grantKeys, type StoredGrant, storedGrantFromItem } from './grants';
import { indexes, keys } from './keys';
import type { ExtraWrite } from './membership-repository';
import { queryMemberItems } from './query-prefix';
import { readSavings } from './savings';

/**
 * Items of the benefits feature (all in the member's item collection, PK = MEMBER#id):
 * - grant       `ENT#GRANT#<code>`   its layout, writer and mapper are in storage/grants.ts
 * - marker      `ISSUED#<periodKey>#<grantId>` type 'grant-issuance' (one per member, grant, period)
 * - redemption  `REDEMPTION#<code>#<at>#<action>#<orderId>` type 'grant-redemption' (who, when, which order)
 * - usage       `USAGE#<orderId>` type 'benefit-usage' (shipping saved, once per order; `reversedAt` once
 *               the order's code is released)
 * - savings     `SAVINGS` type 'savings' (atomic counters): its writes and its reader are in storage/savings.ts
 */
export const benefitKeys = {
  issuanceSk: (periodKey: string, grantId: string) => `ISSUED#${periodKey}#${grantId}`,
  redemptionSk: (code: string, at: string, action: 'redeem' | 'release', orderId: string) =>
    `REDEMPTION#${code}#${at}#${action}#${orderId}`,
  usageSk: (orderId: string) => `USAGE#${orderId}`,
} as const;

/** Redemption and usage records are support and finance evidence: kept three years. */
const RECORD_RETENTION_DAYS = 3 * 366;
const DAY_S = 86_400;
const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function issuanceMarkerPut(
  tableName: string,
  memberId: string,
  periodKey: string,
  grantId: string,
  codes: string[],
  at: string,
): ExtraWrite {
  return {
    Put: {
      TableName: tableName,
      Item: {
        PK: keys.memberPk(memberId),
        SK: benefitKeys.issuanceSk(periodKey, grantId),
        type: 'grant-issuance',
        periodKey,
        grantId,
        codes,
        at,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

export interface RedemptionRecord {
  code: string;
  memberId: string;
  action: 'redeem' | 'release';
  orderId: string;
  at: string;
  /** The coupon's saving: positive on redeem, negative on release; 0 for a voucher. */
  savedCents: number;
  /** The billing period the saving counted in (null: lifetime only, or nothing saved). */
  periodKey: string | null;
}

export interface UsageRecord {
  memberId: string;
  orderId: string;
  shippingSavedCents: number;
  currency: string;
  at: string;
  /** The billing period the saving counted in (null: lifetime only). */
  periodKey: string | null;
  /** Set once when the order's code was released (order cancelled): the saving was taken back. */
  reversedAt: string | null;
  reversedByCode: string | null;
}

/** What a release does with the benefit usage of the same order. */
export type UsageOnRelease =
  | { kind: 'reverse'; orderId: string }
  /** None recorded: the release requires that none appears meanwhile (it would otherwise be missed). */
  | { kind: 'none'; orderId: string }
  | { kind: 'already-reversed' };

/** Which transact item failed its condition, by index; null when the failure was something else. */
export function failedConditions(error: unknown): number[] | null {
  if (!(error instanceof TransactionCanceledException)) return null;
  const reasons = error.CancellationReasons ?? [];
  if (reasons.some((r) => r.Code === 'TransactionConflict')) return [];
  const failed = reasons.flatMap((r, i) => (r.Code === 'ConditionalCheckFailed' ? [i] : []));
  return failed.length > 0 ? failed : null;
}

export class DynamoBenefitsRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async getGrant(memberId: string, code: string): Promise<StoredGrant | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: grantKeys.item(memberId, code), ConsistentRead: true }),
    );
    return out.Item ? storedGrantFromItem(out.Item) : null;
  }

  /** The code's owner through the `lookup` index (eventually consistent; grant keys never change). */
  async findGrantOwner(code: string): Promise<string | null> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: indexes.lookup,
        KeyConditionExpression: 'lookupPk = :pk',
        ExpressionAttributeValues: { ':pk': grantKeys.codeLookupPk(code) },
        Limit: 1,
      }),
    );
    const item = out.Items?.[0];
    return item ? grantFromItem(item).memberId : null;
  }

  /** Consistent: every caller chooses a conditional savings write (or shows what it just wrote) from it. */
  async getSavings(memberId: string): Promise<StoredSavings | null> {
    return (await readSavings(this.db, this.tableName, memberId, { consistent: true })).savings;
  }

  async getUsage(memberId: string, orderId: string): Promise<UsageRecord | null> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { PK: keys.memberPk(memberId), SK: benefitKeys.usageSk(orderId) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? pickUsage(out.Item) : null;
  }

  /** Redemption/release records of a member (support and finance), oldest first. */
  async listRedemptions(memberId: string, options: { consistent?: boolean } = {}): Promise<RedemptionRecord[]> {
    const items = (await queryMemberItems(this.db, this.tableName, memberId, 'REDEMPTION#', options)).map(pickRedemption);
    return items.sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Benefit usage records of a member (support and finance), oldest first. */
  async listUsages(memberId: string, options: { consistent?: boolean } = {}): Promise<UsageRecord[]> {
    const items = (await queryMemberItems(this.db, this.tableName, memberId, 'USAGE#', options)).map(pickUsage);
    return items.sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Redeem: the grant's conditional update, the redemption record and the savings counters at once. */
  async redeem(input: {
    grant: IssuedGrant;
    orderId: string;
    at: string;
    savedCents: number;
    savings: ExtraWrite | null;
    periodKey: string | null;
    /** The finance rollups' record of the saving (storage/finance-rollups.ts `savingsRollupWrites`). */
    finance?: readonly ExtraWrite[];
  }): Promise<void> {
    const { grant, orderId, at } = input;
    const items: ExtraWrite[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: grantKeys.item(grant.memberId, grant.code),
          UpdateExpression: 'SET #g.#state = :redeemed, #g.redeemedOrderId = :o, #g.redeemedAt = :at, redeemedPeriodKey = :pk',
          ConditionExpression: '#g.#state = :open AND #g.memberId = :m AND #g.expiresAt > :at',
          ExpressionAttributeNames: { '#g': 'grant', '#state': 'state' },
          ExpressionAttributeValues: {
            ':redeemed': 'redeemed',
            ':open': 'open',
            ':o': orderId,
            ':at': at,
            ':m': grant.memberId,
            ':pk': input.periodKey,
          },
        },
      },
      this.redemptionPut({
        code: grant.code,
        memberId: grant.memberId,
        action: 'redeem',
        orderId,
        at,
        savedCents: input.savedCents,
        periodKey: input.periodKey,
      }),
    ];
    if (input.savings) items.push(input.savings);
    items.push(...(input.finance ?? []));
    await this.db.send(new TransactWriteCommand({ TransactItems: items }));
  }

  /**
   * Release (the order was cancelled): the grant back to open, the release record, the order's benefit
   * usage marked reversed (or proven absent), and the savings counters, all at once.
   */
  async release(input: {
    grant: IssuedGrant;
    orderId: string;
    at: string;
    savedCents: number;
    periodKey: string | null;
    usage: UsageOnRelease;
    savings: ExtraWrite | null;
    finance?: readonly ExtraWrite[];
  }): Promise<void> {
    const { grant, orderId, at } = input;
    const items: ExtraWrite[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: grantKeys.item(grant.memberId, grant.code),
          UpdateExpression:
            'SET #g.#state = :open, #g.redeemedOrderId = :null, #g.redeemedAt = :null, lastReleasedOrderId = :o REMOVE redeemedPeriodKey',
          ConditionExpression: '#g.#state = :redeemed AND #g.redeemedOrderId = :o',
          ExpressionAttributeNames: { '#g': 'grant', '#state': 'state' },
          ExpressionAttributeValues: { ':redeemed': 'redeemed', ':open': 'open', ':o': orderId, ':null': null },
        },
      },
      this.redemptionPut({
        code: grant.code,
        memberId: grant.memberId,
        action: 'release',
        orderId,
        at,
        savedCents: -input.savedCents,
        periodKey: input.periodKey,
      }),
    ];
    const usageKey = (id: string) => ({ PK: keys.memberPk(grant.memberId), SK: benefitKeys.usageSk(id) });
    if (input.usage.kind === 'reverse') {
      items.push({
        Update: {
          TableName: this.tableName,
          Key: usageKey(input.usage.orderId),
          UpdateExpression: 'SET reversedAt = :at, reversedByCode = :code',
          ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(reversedAt)',
          ExpressionAttributeValues: { ':at': at, ':code': grant.code },
        },
      });
    } else if (input.usage.kind === 'none') {
      items.push({
        ConditionCheck: { TableName: this.tableName, Key: usageKey(input.usage.orderId), ConditionExpression: 'attribute_not_exists(PK)' },
      });
    }
    if (input.savings) items.push(input.savings);
    items.push(...(input.finance ?? []));
    await this.db.send(new TransactWriteCommand({ TransactItems: items }));
  }

  /** Benefit usage: the once-per-order marker and the savings counters in one transaction. */
  async recordUsage(
    usage: Omit<UsageRecord, 'reversedAt' | 'reversedByCode'>,
    savings: ExtraWrite,
    finance: readonly ExtraWrite[] = [],
  ): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: {
                PK: keys.memberPk(usage.memberId),
                SK: benefitKeys.usageSk(usage.orderId),
                type: 'benefit-usage',
                ...usage,
                ttl: epochSeconds(usage.at) + RECORD_RETENTION_DAYS * DAY_S,
              },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          savings,
          ...finance,
        ],
      }),
    );
  }

  private redemptionPut(record: RedemptionRecord): ExtraWrite {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          PK: keys.memberPk(record.memberId),
          SK: benefitKeys.redemptionSk(record.code, record.at, record.action, record.orderId),
          type: 'grant-redemption',
          ...record,
          ttl: epochSeconds(record.at) + RECORD_RETENTION_DAYS * DAY_S,
        },
      },
    };
  }
}

// biome-ignore lint/suspicious/noExplicitAny: DynamoDB items are untyped; each mapper below names the fields it reads.
type StoredItem = Record<string, any>;

function pickRedemption(item: StoredItem): RedemptionRecord {
  return {
    code: item.code,
    memberId: item.memberId,
    action: item.action,
    orderId: item.orderId,
    at: item.at,
    savedCents: Number(item.savedCents ?? 0),
    periodKey: item.periodKey ?? null,
  };
}

function pickUsage(item: StoredItem): UsageRecord {
  return {
    memberId: item.memberId,
    orderId: item.orderId,
    shippingSavedCents: Number(item.shippingSavedCents ?? 0),
    currency: item.currency,
    at: item.at,
    periodKey: item.periodKey ?? null,
    reversedAt: item.reversedAt ?? null,
    reversedByCode: item.reversedByCode ?? null,
  };
}
