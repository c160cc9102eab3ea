import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { indexes, keys } from './keys';

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
  return queryAllPages(db, {
    TableName: tableName,
    KeyConditionExpression: options.skPrefix === undefined ? 'PK = :pk' : 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': pk, ...(options.skPrefix === undefined ? {} : { ':p': options.skPrefix }) },
    ...(options.consistent ? { ConsistentRead: true } : {}),
  });
}

/** The one loop over a Query's pages. */
async function queryAllPages(
  db: DynamoDBDocumentClient,
  input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'ExclusiveStartKey'>,
): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
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

/**
 * Every item under one key of the `lookup` index, across pages (a member's ledger entries, the
 * memberships holding an address, a month's save offers). Eventually consistent, like every GSI read.
 */
export async function queryLookup(
  db: DynamoDBDocumentClient,
  tableName: string,
  lookupPk: string,
  options: { projection?: string } = {},
): Promise<Array<Record<string, unknown>>> {
  return queryAllPages(db, {
    TableName: tableName,
    IndexName: indexes.lookup,
    KeyConditionExpression: 'lookupPk = :pk',
    ExpressionAttributeValues: { ':pk': lookupPk },
    ...(options.projection ? { ProjectionExpression: options.projection } : {}),
  });
}

/**
 * One page of what is due at `asOf` in one shard of a queue on the sparse `due` index (`DUE#n` for
 * reminders, `WORK#n` for compliance work), oldest first: the queue's only read, never a Scan.
 */
export async function dueInShard(
  db: DynamoDBDocumentClient,
  tableName: string,
  shardKey: string,
  asOf: Date,
  limit: number,
  startKey?: Record<string, unknown>,
) {
  return db.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: indexes.due,
      KeyConditionExpression: 'dueShard = :shard AND dueAt <= :upper',
      ExpressionAttributeValues: { ':shard': shardKey, ':upper': `${asOf.toISOString()}#\uffff` },
      Limit: limit,
      ExclusiveStartKey: startKey,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
}
