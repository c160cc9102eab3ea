import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredSavings } from '../domain/benefits';
import type { GrantHold, GrantKind, IssuedGrant, OrderSlot } from '../domain/grants';
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
 * - order slot  `ORDER#<orderId>#<kind>` type 'order-slot': the one coupon and the one shipping voucher an
 *               order holds or redeemed (`OrderSlot`), written only in the same transaction as the grant
 *               (`slotPut`, `slotDelete`), so stacking is refused atomically
 */
export const benefitKeys = {
  issuanceSk: (periodKey: string, grantId: string) => `ISSUED#${periodKey}#${grantId}`,
  redemptionSk: (code: string, at: string, action: 'redeem' | 'release', orderId: string) =>
    `REDEMPTION#${code}#${at}#${action}#${orderId}`,
  usageSk: (orderId: string) => `USAGE#${orderId}`,
  slotSk: (orderId: string, kind: GrantKind) => `ORDER#${orderId}#${kind}`,
  slotPrefix: (orderId: string) => `ORDER#${orderId}#`,
} as const;

/** Redemption and usage records are support and finance evidence: kept three years. */
const RECORD_RETENTION_DAYS = 3 * 366;
/** A held slot only matters until its hold lapses; abandoned checkouts are cleaned up a day later. */
const HELD_SLOT_RETENTION_DAYS = 1;
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

/** What a redeem or a commit writes besides the grant's new state. */
export interface RedemptionWrite {
  grant: IssuedGrant;
  orderId: string;
  at: string;
  /** The coupon's saving, counted now (0 for a voucher). */
  savedCents: number;
  savings: ExtraWrite | null;
  /** The billing period the saving counts in (null: lifetime only, or nothing saved). */
  periodKey: string | null;
  /** The finance rollups' record of the saving (storage/finance-rollups.ts `savingsRollupWrites`). */
  finance?: readonly ExtraWrite[];
}

/** What a release does with the benefit usage of the same order. */
export type UsageOnRelease =
  | { kind: 'reverse'; orderId: string }
  /** None recorded: the release requires that none appears meanwhile (it would otherwise be missed). */
  | { kind: 'none'; orderId: string }
  | { kind: 'already-reversed' };

const GRANT_NAMES = { '#g': 'grant', '#state': 'state', '#hold': 'hold' } as const;
/** The code may be claimed by order `:o` at `:at`: open, the member's, unexpired, and held by no other order. */
const CLAIMABLE =
  '#g.#state = :open AND #g.memberId = :m AND #g.expiresAt > :at AND (attribute_not_exists(#g.#hold) OR #g.#hold.expiresAt <= :at OR #g.#hold.orderId = :o)';

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

  /** The order's slots, a coupon's and a voucher's (consistent: hold, commit and redeem decide from them). */
  async getOrderSlots(memberId: string, orderId: string): Promise<OrderSlot[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.memberPk(memberId), ':prefix': benefitKeys.slotPrefix(orderId) },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map(orderSlotFromItem);
  }

  /** Hold: the grant's hold and the order's slot at once; a slot another code of the kind holds refuses it. */
  async hold(input: { grant: IssuedGrant; hold: GrantHold; at: string }): Promise<void> {
    const { grant, hold, at } = input;
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          this.grantUpdate(
            grant,
            'SET #g.#hold = :hold',
            // Unlike a redeem, a hold never replaces a standing hold, even this order's own: that one is answered as it is.
            '#g.#state = :open AND #g.memberId = :m AND #g.expiresAt > :at AND (attribute_not_exists(#g.#hold) OR #g.#hold.expiresAt <= :at)',
            { ':open': 'open', ':m': grant.memberId, ':at': at, ':hold': hold },
          ),
          this.slotPut(grant, { orderId: hold.orderId, state: 'held', holdExpiresAt: hold.expiresAt }, at),
        ],
      }),
    );
  }

  /**
   * A redemption: the grant's conditional update, the order's slot, the redemption record and the
   * savings counters at once. `redeem` claims a code no other order holds (a hold and its commit in
   * one step); `commit` turns this order's standing hold into the redemption.
   */
  async redeem(input: RedemptionWrite, how: 'redeem' | 'commit' = 'redeem'): Promise<void> {
    await this.db.send(new TransactWriteCommand({ TransactItems: this.redemptionWrites(input, how) }));
  }

  /** Drops this order's standing hold (nothing was counted for it) and frees the order's slot. */
  async releaseHold(input: { grant: IssuedGrant; orderId: string }): Promise<void> {
    const { grant, orderId } = input;
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          this.grantUpdate(grant, 'REMOVE #g.#hold SET lastReleasedOrderId = :o', '#g.#state = :open AND #g.#hold.orderId = :o', {
            ':open': 'open',
            ':o': orderId,
          }),
          this.slotDelete(grant, orderId),
        ],
      }),
    );
  }

  private redemptionWrites(input: RedemptionWrite, how: 'redeem' | 'commit'): ExtraWrite[] {
    const { grant, orderId, at } = input;
    const items: ExtraWrite[] = [
      this.grantUpdate(
        grant,
        'SET #g.#state = :redeemed, #g.redeemedOrderId = :o, #g.redeemedAt = :at, redeemedPeriodKey = :pk REMOVE #g.#hold',
        // A commit needs this order's hold, still standing; a redeem needs the code claimable by this order.
        how === 'commit' ? '#g.#state = :open AND #g.memberId = :m AND #g.#hold.orderId = :o AND #g.#hold.expiresAt > :at' : CLAIMABLE,
        { ':redeemed': 'redeemed', ':open': 'open', ':o': orderId, ':at': at, ':m': grant.memberId, ':pk': input.periodKey },
      ),
      this.slotPut(grant, { orderId, state: 'redeemed', holdExpiresAt: null }, at),
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
    return items;
  }

  /** A conditional update of the grant item's state (`#g` the grant, `#state`, `#hold`). */
  private grantUpdate(grant: IssuedGrant, update: string, condition: string, values: Record<string, unknown>): ExtraWrite {
    return {
      Update: {
        TableName: this.tableName,
        Key: grantKeys.item(grant.memberId, grant.code),
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: GRANT_NAMES,
        ExpressionAttributeValues: values,
      },
    };
  }

  /**
   * The order's slot for the grant's kind, taken by this code: allowed when the slot is free, already
   * this code's, or held by a hold that has lapsed. Two codes of one kind racing for one order both
   * write this item, so one of the two transactions fails.
   */
  private slotPut(grant: IssuedGrant, slot: Pick<OrderSlot, 'orderId' | 'state' | 'holdExpiresAt'>, at: string): ExtraWrite {
    const retentionFrom = slot.holdExpiresAt ?? at;
    const days = slot.state === 'held' ? HELD_SLOT_RETENTION_DAYS : RECORD_RETENTION_DAYS;
    const item: OrderSlot & Record<string, unknown> = {
      PK: keys.memberPk(grant.memberId),
      SK: benefitKeys.slotSk(slot.orderId, grant.kind),
      type: 'order-slot',
      orderId: slot.orderId,
      kind: grant.kind,
      code: grant.code,
      state: slot.state,
      holdExpiresAt: slot.holdExpiresAt,
      at,
      ttl: epochSeconds(retentionFrom) + days * DAY_S,
    };
    return {
      Put: {
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(PK) OR code = :code OR (#st = :held AND holdExpiresAt <= :at)',
        ExpressionAttributeNames: { '#st': 'state' },
        ExpressionAttributeValues: { ':code': grant.code, ':held': 'held', ':at': at },
      },
    };
  }

  /** Frees the order's slot of the grant's kind, unless another code has taken it since. */
  private slotDelete(grant: IssuedGrant, orderId: string): ExtraWrite {
    return {
      Delete: {
        TableName: this.tableName,
        Key: { PK: keys.memberPk(grant.memberId), SK: benefitKeys.slotSk(orderId, grant.kind) },
        ConditionExpression: 'attribute_not_exists(PK) OR code = :code',
        ExpressionAttributeValues: { ':code': grant.code },
      },
    };
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
      this.slotDelete(grant, orderId),
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

export function orderSlotFromItem(item: StoredItem): OrderSlot {
  return {
    orderId: item.orderId,
    kind: item.kind,
    code: item.code,
    state: item.state,
    holdExpiresAt: item.holdExpiresAt ?? null,
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
