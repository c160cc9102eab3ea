import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '#shared/runtime/dynamo';
import { keys } from '#shared/storage/keys';

/** Every stored item of a member (consistent read), for tests that check what a call wrote or left alone. */
export async function memberItems(memberId: string): Promise<Array<Record<string, any>>> {
  const { doc, tables } = dynamo();
  const out = await doc.send(
    new QueryCommand({
      TableName: tables.main,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.memberPk(memberId) },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}
