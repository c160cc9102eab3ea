/**
 * Rate counters: one item per member, bucket and window, `{ PK: MEMBER#id, SK: RATE#<bucket>#<window
 * start>, type: 'rate-counter', count, ttl }`, outside the `ENT#` prefix so the checkout never reads
 * them. One atomic ADD per request; TTL removes a window's item an hour after it ends.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys, TTL_ATTRIBUTE } from './keys';

export const rateKeys = { counterSk: (bucket: string, windowStart: string) => `RATE#${bucket}#${windowStart}` };

const KEEP_AFTER_WINDOW_S = 3600;

export class DynamoRateCounter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Counts one request in the window and returns the window's count, this one included. */
  async count(memberId: string, bucket: string, window: { start: string; endsAt: Date }): Promise<number> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: keys.memberPk(memberId), SK: rateKeys.counterSk(bucket, window.start) },
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
