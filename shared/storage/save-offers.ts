/**
 * Save offers (docs/compliance.md): what a member was offered when they cancelled, whether they took
 * it, and whether they left anyway within 90 days. Three item types, one writer each, in the member's
 * partition outside `ENT#`:
 * - offer      `SAVEOFFER#<offerId>`          `{ type: 'save-offer', ...SaveOffer }`; also under
 *              `lookupPk = SAVEOFFERS#<YYYY-MM>` (GSI `lookup`), so a month's offers are one Query;
 * - acceptance `SAVEOFFER_ACCEPTED#<offerId>` `{ type: 'save-offer-acceptance', ... }`, with the
 *              90-day follow-up queued in the same transaction (storage/work-queue.ts);
 * - outcome    `SAVEOFFER_OUTCOME#<offerId>`  `{ type: 'save-offer-outcome', churned, ... }`, by the compliance job.
 * None hold personal data; they are kept (no TTL) as long as the member's records, for finance.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys';
import { queryLookup, queryMemberItems } from './query-prefix';
import type { TransactItem } from './transact';
import { writeTogether } from './transact-write';

export interface SaveOfferTerms {
  percentOff: number;
  durationInMonths: number;
}

export interface SaveOffer {
  offerId: string;
  memberId: string;
  subscriptionId: string;
  offeredAt: string;
  expiresAt: string;
  terms: SaveOfferTerms;
  /** The rules that allowed it (`US-CA`), and whether the member had asked to hear offers. */
  rulesKey: string;
  optedIn: boolean;
}

export interface SaveOfferAcceptance {
  offerId: string;
  memberId: string;
  subscriptionId: string;
  acceptedAt: string;
  couponId: string;
}

export interface SaveOfferOutcome {
  offerId: string;
  memberId: string;
  acceptedAt: string;
  decidedAt: string;
  /** Cancelled again, or ended, within 90 days of accepting. */
  churned: boolean;
  churnedAt: string | null;
}

export const saveOfferKeys = {
  offer: (offerId: string) => `SAVEOFFER#${offerId}`,
  offerPrefix: 'SAVEOFFER#',
  accepted: (offerId: string) => `SAVEOFFER_ACCEPTED#${offerId}`,
  acceptedPrefix: 'SAVEOFFER_ACCEPTED#',
  outcome: (offerId: string) => `SAVEOFFER_OUTCOME#${offerId}`,
  outcomePrefix: 'SAVEOFFER_OUTCOME#',
  monthLookup: (iso: string) => `SAVEOFFERS#${iso.slice(0, 7)}`,
};

const strip = <T>(item: Record<string, unknown>): T => {
  const { PK: _pk, SK: _sk, type: _type, lookupPk: _lpk, lookupSk: _lsk, ...rest } = item;
  return rest as T;
};

export function saveOfferPut(tableName: string, offer: SaveOffer): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        PK: keys.memberPk(offer.memberId),
        SK: saveOfferKeys.offer(offer.offerId),
        type: 'save-offer',
        ...offer,
        lookupPk: saveOfferKeys.monthLookup(offer.offeredAt),
        lookupSk: `${offer.offeredAt}#${offer.offerId}`,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

export function saveOfferAcceptancePut(tableName: string, acceptance: SaveOfferAcceptance): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        PK: keys.memberPk(acceptance.memberId),
        SK: saveOfferKeys.accepted(acceptance.offerId),
        type: 'save-offer-acceptance',
        ...acceptance,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

export function saveOfferOutcomePut(tableName: string, outcome: SaveOfferOutcome): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: { PK: keys.memberPk(outcome.memberId), SK: saveOfferKeys.outcome(outcome.offerId), type: 'save-offer-outcome', ...outcome },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

export class SaveOfferStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  commit(items: TransactItem[]): Promise<{ failed: number[] }> {
    return writeTogether(this.db, items);
  }

  async offers(memberId: string): Promise<SaveOffer[]> {
    return (await queryMemberItems(this.db, this.tableName, memberId, saveOfferKeys.offerPrefix, { consistent: true })).map((i) =>
      strip<SaveOffer>(i),
    );
  }

  async acceptances(memberId: string): Promise<SaveOfferAcceptance[]> {
    return (await queryMemberItems(this.db, this.tableName, memberId, saveOfferKeys.acceptedPrefix, { consistent: true })).map((i) =>
      strip<SaveOfferAcceptance>(i),
    );
  }

  /** Every offer made in a month, with its acceptance and outcome when there is one (for finance). */
  async offersOfMonth(month: string): Promise<SaveOffer[]> {
    return (await queryLookup(this.db, this.tableName, `SAVEOFFERS#${month}`)).map((i) => strip<SaveOffer>(i));
  }
}
