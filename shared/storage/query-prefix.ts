import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys';

/**
 * Every item of a member's collection whose sort key starts with `prefix`, across pages. `consistent`
 * for callers that decide a write (or a payout) from what they read.
 */
export async function queryMemberItems(
  db: DynamoDBDocumentClient,
  tableName: string,
  memberId: string,
  prefix: string,
  options: { consistent?: boolean } = {},
): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
        ExpressionAttributeValues: { ':pk': keys.memberPk(memberId), ':p': prefix },
        ...(options.consistent ? { ConsistentRead: true } : {}),
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
