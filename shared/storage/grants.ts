/**
 * The grant item, a coupon or shipping voucher of one member:
 * `{ PK: MEMBER#id, SK: ENT#GRANT#<code>, type: 'grant', grant: IssuedGrant, lookupPk: CODE#<code>,
 * lookupSk: MEMBER#id, ttl }`, plus `redeemedPeriodKey` and `lastReleasedOrderId` once redeem and
 * release have touched it. Benefit issuance and the reminders job's win-back coupon both write it
 * through `grantPut`, and every reader maps it back through `grantFromItem`: a grant written without
 * its lookup keys cannot be found by its code alone, so release would answer "No such code".
 */
import type { IssuedGrant } from '../domain/grants';
import { keys } from './keys';
import type { TransactItem } from './transact';

export const grantKeys = {
  item: (memberId: string, code: string) => ({ PK: keys.memberPk(memberId), SK: keys.grantSk(code) }),
  /** The `lookup` index's partition of a code: redeem's and release's way from a code to its member. */
  codeLookupPk: (code: string) => `CODE#${code}`,
} as const;

/** Expired codes stay visible (not applicable) for a while, then DynamoDB's TTL removes them. */
const GRANT_RETENTION_AFTER_EXPIRY_DAYS = 30;
const DAY_S = 86_400;

/**
 * The one write of a new grant, on its own or in a transaction. Conditional on the key being new: a
 * code collision (≈2^-83) must fail loudly rather than hand one member another's code, and a writer
 * that retries with the same code finds its own grant there.
 */
export function grantPut(tableName: string, grant: IssuedGrant): { Put: NonNullable<TransactItem['Put']> } {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...grantKeys.item(grant.memberId, grant.code),
        type: 'grant',
        grant,
        lookupPk: grantKeys.codeLookupPk(grant.code),
        lookupSk: keys.memberPk(grant.memberId),
        ttl: Math.floor(Date.parse(grant.expiresAt) / 1000) + GRANT_RETENTION_AFTER_EXPIRY_DAYS * DAY_S,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

export const isGrantItem = (item: Record<string, unknown>): boolean => item.type === 'grant';

export function grantFromItem(item: Record<string, unknown>): IssuedGrant {
  return item.grant as IssuedGrant;
}

/** The grant with what redeem and release keep beside it. */
export interface StoredGrant {
  grant: IssuedGrant;
  /** The billing period the redeemed coupon's saving counted in. */
  redeemedPeriodKey: string | null;
  /** The order the last release was for: a repeated release of it is answered, not refused. */
  lastReleasedOrderId: string | null;
}

export function storedGrantFromItem(item: Record<string, unknown>): StoredGrant {
  return {
    grant: grantFromItem(item),
    redeemedPeriodKey: typeof item.redeemedPeriodKey === 'string' ? item.redeemedPeriodKey : null,
    lastReleasedOrderId: typeof item.lastReleasedOrderId === 'string' ? item.lastReleasedOrderId : null,
  };
}
