import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { TableNames } from './dynamodb';
import { indexes, TTL_ATTRIBUTE } from './keys';

/**
 * Table definitions for local runs and tests. infra/ declares the same tables for AWS; a CDK test
 * checks both stay in step (same keys, indexes and TTL attributes).
 */
export function tableDefinitions(names: TableNames): Array<{ input: CreateTableCommandInput; ttlAttribute: string }> {
  const str = (AttributeName: string) => ({ AttributeName, AttributeType: 'S' as const });
  return [
    {
      ttlAttribute: TTL_ATTRIBUTE,
      input: {
        TableName: names.main,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [str('PK'), str('SK'), str('lookupPk'), str('lookupSk'), str('dueShard'), str('dueAt')],
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: indexes.lookup,
            KeySchema: [
              { AttributeName: 'lookupPk', KeyType: 'HASH' },
              { AttributeName: 'lookupSk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: indexes.due,
            KeySchema: [
              { AttributeName: 'dueShard', KeyType: 'HASH' },
              { AttributeName: 'dueAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      },
    },
    {
      ttlAttribute: 'expiration',
      input: {
        TableName: names.idempotency,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [str('id')],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      },
    },
  ];
}

/** Creates missing tables and waits until they are active. Safe to call concurrently and repeatedly. */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const created: string[] = [];
  for (const { input, ttlAttribute } of tableDefinitions(names)) {
    try {
      await client.send(new CreateTableCommand(input));
      created.push(input.TableName!);
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    for (let i = 0; ; i++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
      if (Table?.TableStatus === 'ACTIVE') break;
      if (i > 100) throw new Error(`table ${input.TableName} did not become active`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (created.includes(input.TableName!)) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: input.TableName,
          TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
        }),
      );
    }
  }
  return created;
}
