import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { indexes, keys } from './keys';

type QueryInput = Omit<ConstructorParameters<typeof QueryCommand>[0], 'ExclusiveStartKey'>;

/**
 * Every item of one partition, or of the part of it whose sort key starts with `skPrefix`, across
 * pages. A page stops at 1 MB, so a reader that stopped after the first would silently miss items
 * once a partition grows. `consistent` for callers that decide a write (or a payout) from what they read.
 */
export async function queryPartition(
  db: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  options: { skPrefix?: string; consistent?: boolean } = {},
): Promise<Array<Record<string, unknown>>> {
  return collect(queryPages(db, tableName, pk, options));
}

/**
 * The same, a page at a time, for readers that must not hold a whole partition (a month's ledger,
 * a month's accounts): `limit` items a page at most, and only `fields` when given.
 */
export function queryPages(
  db: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  options: { skPrefix?: string; consistent?: boolean; limit?: number; fields?: readonly string[] } = {},
): AsyncGenerator<Array<Record<string, unknown>>> {
  return pagesOf(db, {
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
  });
}

/** The one loop over a Query's pages. */
async function* pagesOf(db: DynamoDBDocumentClient, input: QueryInput): AsyncGenerator<Array<Record<string, unknown>>> {
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    yield out.Items ?? [];
    start = out.LastEvaluatedKey;
  } while (start);
}

async function collect(pages: AsyncGenerator<Array<Record<string, unknown>>>): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  for await (const page of pages) items.push(...page);
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
  return collect(
    pagesOf(db, {
      TableName: tableName,
      IndexName: indexes.lookup,
      KeyConditionExpression: 'lookupPk = :pk',
      ExpressionAttributeValues: { ':pk': lookupPk },
      ...(options.projection ? { ProjectionExpression: options.projection } : {}),
    }),
  );
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
