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
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: options.skPrefix === undefined ? 'PK = :pk' : 'PK = :pk AND begins_with(SK, :p)',
        ExpressionAttributeValues: { ':pk': pk, ...(options.skPrefix === undefined ? {} : { ':p': options.skPrefix }) },
        ...(options.consistent ? { ConsistentRead: true } : {}),
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
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
