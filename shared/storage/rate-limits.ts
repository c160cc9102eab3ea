/**
 * Rate counters, the one writer of item type `rate-counter`: a fixed window's count, one atomic ADD
 * per request so concurrent Lambdas share one count without a read; TTL removes a window's item an
 * hour after it ends. Two places for them:
 * - a member's, `{ PK: MEMBER#id, SK: RATE#<bucket>#<window start> }`: the shopper routes that call
 *   Stripe, outside the `ENT#` prefix so the checkout never reads them;
 * - a key's that names no member, `{ PK: RATE#<bucket>#<sha256 of the key>, SK: RATE#<bucket>#<window start> }`:
 *   the cancellation without login counts per client address and per email typed, stored as hashes.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys, TTL_ATTRIBUTE } from './keys';

export const rateKeys = {
  counterSk: (bucket: string, windowStart: string) => `RATE#${bucket}#${windowStart}`,
  keyPk: (bucket: string, key: string) => `RATE#${bucket}#${createHash('sha256').update(key).digest('hex').slice(0, 32)}`,
};

const KEEP_AFTER_WINDOW_S = 3600;

export interface CounterWindow {
  start: string;
  endsAt: Date;
}

export class DynamoRateCounter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Counts one request of the member in the window and returns the window's count, this one included. */
  count(memberId: string, bucket: string, window: CounterWindow): Promise<number> {
    return this.add(keys.memberPk(memberId), bucket, window);
  }

  /** The same for a key that is not a member (a client address, an email typed); only its hash is stored. */
  countKey(bucket: string, key: string, window: CounterWindow): Promise<number> {
    return this.add(rateKeys.keyPk(bucket, key), bucket, window);
  }

  private async add(pk: string, bucket: string, window: CounterWindow): Promise<number> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: pk, SK: rateKeys.counterSk(bucket, window.start) },
        UpdateExpression: 'SET #type = :type, #ttl = if_not_exists(#ttl, :ttl) ADD #count :one',
        ExpressionAttributeNames: { '#type': 'type', '#ttl': TTL_ATTRIBUTE, '#count': 'count' },
        ExpressionAttributeValues: {
          ':type': 'rate-counter',
          ':ttl': Math.floor(window.endsAt.getTime() / 1000) + KEEP_AFTER_WINDOW_S,
          ':one': 1,
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes?.count ?? 1);
  }
}
