import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface TableNames {
  /** Single table: memberships, grants, links, reminders, ledger (see docs/data-model.md). */
  main: string;
  /** Idempotency records of processed Stripe events (Powertools layout, TTL on `expiration`). */
  idempotency: string;
}

export function tableNamesFromEnv(env: NodeJS.ProcessEnv = process.env): TableNames {
  return {
    main: env.TABLE_NAME ?? 'membership',
    idempotency: env.IDEMPOTENCY_TABLE_NAME ?? 'membership-idempotency',
  };
}

/**
 * One client per container. Locally `DYNAMODB_ENDPOINT` points at DynamoDB Local with dummy
 * credentials; in AWS the SDK's default chain applies.
 */
export function createDynamoClient(env: NodeJS.ProcessEnv = process.env, extra: DynamoDBClientConfig = {}): DynamoDBClient {
  const endpoint = env.DYNAMODB_ENDPOINT;
  return new DynamoDBClient({
    ...(endpoint ? { endpoint, region: env.AWS_REGION ?? 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    ...extra,
  });
}

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}
