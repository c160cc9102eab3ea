import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface TableNames {
  /** Single table: memberships, grants, links, reminders, ledger (see docs/data-model.md). */
  main: string;
  /** Idempotency records of processed Stripe events (Powertools layout, TTL on `expiration`). */
  idempotency: string;
}

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}
