import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { SavingsMove, SavingsPeriod, StoredSavings } from '../domain/benefits';
import type { IssuedGrant } from '../domain/grants';
import { grantFromItem, grantKeys, type StoredGrant, storedGrantFromItem } from './grants';
import { indexes, keys } from './keys';
import type { ExtraWrite } from './membership-repository';
import { queryMemberItems } from './query-prefix';

/**
 * Items of the benefits feature (all in the member's item collection, PK = MEMBER#id):
 * - grant       `ENT#GRANT#<code>`   its layout, writer and mapper are in storage/grants.ts
 * - marker      `ISSUED#<periodKey>#<grantId>` type 'grant-issuance' (one per member, grant, period)
 * - redemption  `REDEMPTION#<code>#<at>#<action>#<orderId>` type 'grant-redemption' (who, when, which order)
 * - usage       `USAGE#<orderId>` type 'benefit-usage' (shipping saved, once per order; `reversedAt` once
 *               the order's code is released)
 * - savings     `SAVINGS` type 'savings' (atomic counters)
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

export function feesPaidUpdate(tableName: string, memberId: string, amountCents: number, currency: string): ExtraWrite {
  return {
    Update: {
      TableName: tableName,
      Key: { PK: keys.memberPk(memberId), SK: keys.savingsSk },
      UpdateExpression:
        'SET #type = :type, memberId = :m, currency = if_not_exists(currency, :c), periodSavedCents = if_not_exists(periodSavedCents, :zero), lifetimeSavedCents = if_not_exists(lifetimeSavedCents, :zero) ADD feesPaidCents :amount',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type': 'savings', ':m': memberId, ':c': currency, ':amount': amountCents, ':zero': 0 },
    },
  };
}

/**
 * The savings counter update for one move. Each move carries the condition under which it is the
 * right one, so a concurrent period change fails the transaction (and the caller retries) instead of
 * adding to the wrong period: no read-modify-write race.
 */
export function savingsUpdate(
  tableName: string,
  memberId: string,
  currency: string,
  deltaCents: number,
  move: SavingsMove,
  period: SavingsPeriod | null,
): ExtraWrite {
  const names: Record<string, string> = { '#type': 'type' };
  const values: Record<string, unknown> = { ':type': 'savings', ':m': memberId, ':c': currency, ':d': deltaCents, ':zero': 0 };
  const base =
    'SET #type = :type, memberId = :m, currency = if_not_exists(currency, :c), feesPaidCents = if_not_exists(feesPaidCents, :zero)';
  let update: string;
  let condition: string;
  const currencyOk = '(attribute_not_exists(currency) OR currency = :c)';
  switch (move) {
    case 'same-period':
      values[':pk'] = period!.key;
      update = `${base} ADD periodSavedCents :d, lifetimeSavedCents :d`;
      condition = `periodKey = :pk AND ${currencyOk}`;
      break;
    case 'new-period':
      values[':pk'] = period!.key;
      values[':ps'] = period!.start;
      update = `${base}, periodKey = :pk, periodStart = :ps, periodSavedCents = :d ADD lifetimeSavedCents :d`;
      condition = `(attribute_not_exists(periodStart) OR periodStart < :ps) AND ${currencyOk}`;
      break;
    case 'older-period':
      values[':pk'] = period!.key;
      values[':ps'] = period!.start;
      update = `${base}, periodSavedCents = if_not_exists(periodSavedCents, :zero) ADD lifetimeSavedCents :d`;
      condition = `periodKey <> :pk AND periodStart >= :ps AND ${currencyOk}`;
      break;
    case 'lifetime-only':
      update = `${base}, periodSavedCents = if_not_exists(periodSavedCents, :zero) ADD lifetimeSavedCents :d`;
      if (period) {
        values[':pk'] = period.key;
        condition = `(attribute_not_exists(periodKey) OR periodKey <> :pk) AND ${currencyOk}`;
      } else {
        condition = currencyOk;
      }
      break;
  }
  return {
    Update: {
      TableName: tableName,
      Key: { PK: keys.memberPk(memberId), SK: keys.savingsSk },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/**
 * Takes savings back (a release): the counters move by deltas computed from the stored period
 * (`reversalDeltas`), on the condition that the stored period is still that one. A concurrent period
 * move fails the transaction and the caller recomputes, so a reversal never lands on the wrong period.
 */
export function savingsReversalUpdate(
  tableName: string,
  memberId: string,
  currency: string,
  deltas: { periodCents: number; lifetimeCents: number },
  storedPeriodKey: string | null,
): ExtraWrite {
  const values: Record<string, unknown> = {
    ':type': 'savings',
    ':m': memberId,
    ':c': currency,
    ':zero': 0,
    ':dp': deltas.periodCents,
    ':dl': deltas.lifetimeCents,
  };
  if (storedPeriodKey !== null) values[':spk'] = storedPeriodKey;
  return {
    Update: {
      TableName: tableName,
      Key: { PK: keys.memberPk(memberId), SK: keys.savingsSk },
      UpdateExpression:
        'SET #type = :type, memberId = :m, currency = if_not_exists(currency, :c), feesPaidCents = if_not_exists(feesPaidCents, :zero) ADD periodSavedCents :dp, lifetimeSavedCents :dl',
      ConditionExpression: `${storedPeriodKey === null ? 'attribute_not_exists(periodKey)' : 'periodKey = :spk'} AND (attribute_not_exists(currency) OR currency = :c)`,
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: values,
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

  async getSavings(memberId: string): Promise<StoredSavings | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: keys.memberPk(memberId), SK: keys.savingsSk }, ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item) return null;
    return {
      memberId,
      periodKey: item.periodKey ?? null,
      periodStart: item.periodStart ?? null,
      periodSavedCents: Number(item.periodSavedCents ?? 0),
      lifetimeSavedCents: Number(item.lifetimeSavedCents ?? 0),
      feesPaidCents: Number(item.feesPaidCents ?? 0),
      currency: item.currency ?? 'usd',
    };
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
    await this.db.send(new TransactWriteCommand({ TransactItems: items }));
  }

  /** Benefit usage: the once-per-order marker and the savings counters in one transaction. */
  async recordUsage(usage: Omit<UsageRecord, 'reversedAt' | 'reversedByCode'>, savings: ExtraWrite): Promise<void> {
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
