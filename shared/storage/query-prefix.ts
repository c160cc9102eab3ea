import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys';

/**
 * Every item of one partition, or of the part of it whose sort key starts with `skPrefix`, across
 * pages: the one Query-all-pages loop. A page stops at 1 MB, so a reader that stopped after the first
 * would silently miss items once a partition grows. `consistent` for callers that decide a write (or
 * a payout) from what they read.
 */
export async function queryPartition(
  db: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  options: { skPrefix?: string; consistent?: boolean } = {},
): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  for await (const page of queryPages(db, tableName, pk, options)) items.push(...page);
  return items;
}

/**
 * The same, a page at a time, for readers that must not hold a whole partition (a month's ledger,
 * a month's accounts): `limit` items a page at most, and only `fields` when given.
 */
export async function* queryPages(
  db: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  options: { skPrefix?: string; consistent?: boolean; limit?: number; fields?: readonly string[] } = {},
): AsyncGenerator<Array<Record<string, unknown>>> {
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: options.skPrefix === undefined ? 'PK = :pk' : 'PK = :pk AND begins_with(SK, :p)',
        ExpressionAttributeValues: { ':pk': pk, ...(options.skPrefix === undefined ? {} : { ':p': options.skPrefix }) },
        ...(options.consistent ? { ConsistentRead: true } : {}),
        ...(options.limit ? { Limit: options.limit } : {}),
        ...(options.fields
          ? {
              ProjectionExpression: options.fields.map((_, i) => `#f${i}`).join(', '),
              ExpressionAttributeNames: Object.fromEntries(options.fields.map((f, i) => [`#f${i}`, f])),
            }
          : {}),
        ExclusiveStartKey: start,
      }),
    );
    yield out.Items ?? [];
    start = out.LastEvaluatedKey;
  } while (start);
}

/** Every item of a member's collection whose sort key starts with `prefix`, across pages. */
export function queryMemberItems(
  db: DynamoDBDocumentClient,
  tableName: string,
  memberId: string,
  prefix: string,
  options: { consistent?: boolean } = {},
): Promise<Array<Record<string, unknown>>> {
  return queryPartition(db, tableName, keys.memberPk(memberId), { skPrefix: prefix, ...options });
}
