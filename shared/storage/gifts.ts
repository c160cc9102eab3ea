/**
 * The gift item, under its buyer (docs/gifts.md, docs/data-model.md):
 * `{ PK: MEMBER#<buyer>, SK: GIFT#<purchaseId>, type: 'gift', gift: Gift, state, lookupPk?: GIFTCODE#<code>, lookupSk?: MEMBER#<buyer> }`.
 * Outside the `ENT#` prefix, so the checkout's one read never pays for it. Once paid, the code finds
 * it through the `lookup` index (eventually consistent; a code never moves), and every decision re-reads
 * the item itself consistently. `giftPut` is the one writer: every change is a whole-item Put conditional
 * on the state it was decided from, so a claim, a refund and a payment can never both win.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Gift, GiftState } from '../domain/gifts';
import { keys } from './keys';
import { queryLookup, queryPartition } from './query-prefix';
import type { TransactItem } from './transact';

export const giftKeys = {
  item: (buyerMemberId: string, purchaseId: string) => ({ PK: keys.memberPk(buyerMemberId), SK: `GIFT#${purchaseId}` }),
  prefix: 'GIFT#',
  codeLookupPk: (code: string) => `GIFTCODE#${code}`,
} as const;

/** Thrown when the gift is no longer in the state a change was decided from (another request won). */
export class GiftChangedError extends Error {
  override name = 'GiftChangedError';
}

/**
 * The one write of a gift: the whole item, conditional on the stored state being `expected` (null: a
 * new gift). On its own, or inside another transaction (a claim commits it with the membership).
 */
export function giftPut(tableName: string, gift: Gift, expected: GiftState | null): { Put: NonNullable<TransactItem['Put']> } {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...giftKeys.item(gift.buyerMemberId, gift.purchaseId),
        type: 'gift',
        state: gift.state,
        // Personal fields at the top, where an erasure finds them (storage/item-registry.ts).
        gift: { ...gift, recipientEmail: undefined, message: undefined },
        recipientEmail: gift.recipientEmail,
        ...(gift.message ? { message: gift.message } : {}),
        ...(gift.code ? { lookupPk: giftKeys.codeLookupPk(gift.code), lookupSk: keys.memberPk(gift.buyerMemberId) } : {}),
      },
      ...(expected === null
        ? { ConditionExpression: 'attribute_not_exists(PK)' }
        : {
            ConditionExpression: '#state = :expected',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':expected': expected },
          }),
    },
  };
}

export const giftFromItem = (item: Record<string, unknown>): Gift => ({
  ...(item.gift as Gift),
  recipientEmail: typeof item.recipientEmail === 'string' ? item.recipientEmail : '',
  message: typeof item.message === 'string' ? item.message : null,
});

export class GiftStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async get(buyerMemberId: string, purchaseId: string): Promise<Gift | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: giftKeys.item(buyerMemberId, purchaseId), ConsistentRead: true }),
    );
    return out.Item ? giftFromItem(out.Item) : null;
  }

  /** The gift a code names, read consistently from its item once the index has found it. */
  async byCode(code: string): Promise<Gift | null> {
    const [found] = await queryLookup(this.db, this.tableName, giftKeys.codeLookupPk(code));
    if (!found) return null;
    return this.get(String(found.lookupSk).slice('MEMBER#'.length), giftFromItem(found).purchaseId);
  }

  /** A buyer's gifts, newest first. */
  async ofBuyer(buyerMemberId: string): Promise<Gift[]> {
    const items = await queryPartition(this.db, this.tableName, keys.memberPk(buyerMemberId), { skPrefix: giftKeys.prefix });
    return items.map(giftFromItem).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /**
   * Writes the gift from state `expected` together with `extra` (the delivery notice of a payment, ...).
   * GiftChangedError when the gift's state moved meanwhile: the caller decides again from a fresh read.
   */
  async save(gift: Gift, expected: GiftState | null, extra: TransactItem[] = []): Promise<void> {
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: [giftPut(this.tableName, gift, expected), ...extra] }));
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')
        throw new GiftChangedError(`gift ${gift.purchaseId} is no longer ${expected ?? 'new'}`);
      throw error;
    }
  }
}
