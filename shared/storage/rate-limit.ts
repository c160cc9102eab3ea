/**
 * A fixed-window request counter in the single table: `{ PK: RATE#<scope>#<key>, SK: W#<window start>,
 * count, ttl }`, one atomic `ADD` per request, so concurrent Lambdas share one count without a read.
 * Keys are hashes (a client address, an email): no personal datum is stored. Items expire a minute
 * after their window.
 *
 * Behind the `RateLimiter` shape the cancellation request takes (shared/usecases/cancellation-requests.ts),
 * so another limiter can replace it without touching the flow.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TTL_ATTRIBUTE } from './keys';

export interface FixedWindow {
  /** Requests allowed per window. */
  limit: number;
  windowSeconds: number;
}

export class DynamoFixedWindowLimiter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly windows: Record<string, FixedWindow>,
  ) {}

  /** Counts one request of `key` in `scope`; refused (with the seconds until the window ends) past the limit. */
  async consume(scope: string, key: string, now: Date): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
    const window = this.windows[scope];
    if (!window) throw new Error(`no rate limit for scope "${scope}"`);
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const start = nowSeconds - (nowSeconds % window.windowSeconds);
    const end = start + window.windowSeconds;
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: `RATE#${scope}#${createHash('sha256').update(key).digest('hex').slice(0, 32)}`, SK: `W#${start}` },
        UpdateExpression: 'ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl), #type = :type',
        ExpressionAttributeNames: { '#count': 'count', '#ttl': TTL_ATTRIBUTE, '#type': 'type' },
        ExpressionAttributeValues: { ':one': 1, ':ttl': end + 60, ':type': 'rate-window' },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const count = Number(out.Attributes?.count ?? 0);
    return { allowed: count <= window.limit, retryAfterSeconds: Math.max(1, end - nowSeconds) };
  }
}
