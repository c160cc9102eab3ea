import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unavailableMiddleware, unavailableMiddlewareOptions } from '../aws-failures';
import { DynamoBenefitsRepository } from '../storage/benefits-repository';
import { documentClient, type TableNames } from '../storage/dynamodb';
import { GiftStore } from '../storage/gifts';
import { HouseholdStore } from '../storage/households';
import { LedgerRepository } from '../storage/ledger-repository';
import { StripeSyncStore } from '../storage/stripe-sync-store';
import { dynamoBudgetFromEnv } from './budgets';

export function tableNamesFromEnv(env: NodeJS.ProcessEnv = process.env): TableNames {
  return {
    main: env.TABLE_NAME ?? 'membership',
    idempotency: env.IDEMPOTENCY_TABLE_NAME ?? 'membership-idempotency',
  };
}

/**
 * One client per container. Locally `DYNAMODB_ENDPOINT` points at DynamoDB Local with dummy
 * credentials; in AWS the SDK's default chain applies. Every client has explicit connection and
 * response timeouts and an attempts budget (infra sets them per function, shared/runtime/budgets.ts),
 * and maps "unreachable, throttled, timing out" to ProviderUnavailableError (shared/aws-failures.ts).
 */
export function createDynamoClient(env: NodeJS.ProcessEnv = process.env, extra: DynamoDBClientConfig = {}): DynamoDBClient {
  const endpoint = env.DYNAMODB_ENDPOINT;
  const budget = dynamoBudgetFromEnv(env);
  const client = new DynamoDBClient({
    ...(endpoint ? { endpoint, region: env.AWS_REGION ?? 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: budget.maxAttempts,
    // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes and keeps waiting.
    requestHandler: { connectionTimeout: budget.connectTimeoutMs, requestTimeout: budget.requestTimeoutMs, throwOnRequestTimeout: true },
    ...extra,
  });
  client.middlewareStack.add(unavailableMiddleware('dynamodb'), unavailableMiddlewareOptions('dynamodb'));
  return client;
}

import { DynamoMembershipRepository } from '../storage/membership-repository';

let client: DynamoDBClient | undefined;
let doc: DynamoDBDocumentClient | undefined;

/** Per-container singletons, created on first use so module load stays cheap. */
export function dynamo(): { client: DynamoDBClient; doc: DynamoDBDocumentClient; tables: TableNames } {
  client ??= createDynamoClient();
  doc ??= documentClient(client);
  return { client, doc, tables: tableNamesFromEnv() };
}

export function membershipRepository(): DynamoMembershipRepository {
  const { doc: db, client: raw, tables } = dynamo();
  return new DynamoMembershipRepository(db, raw, tables.main);
}

export function benefitsRepository(): DynamoBenefitsRepository {
  const { doc: db, tables } = dynamo();
  return new DynamoBenefitsRepository(db, tables.main);
}

export function stripeSyncStore(): StripeSyncStore {
  const { doc: db, tables } = dynamo();
  return new StripeSyncStore(db, tables.main);
}

export function ledgerRepository(): LedgerRepository {
  const { doc: db, tables } = dynamo();
  return new LedgerRepository(db, tables.main);
}

export function householdStore(): HouseholdStore {
  const { doc: db, tables } = dynamo();
  return new HouseholdStore(db, tables.main);
}

export function giftStore(): GiftStore {
  const { doc: db, tables } = dynamo();
  return new GiftStore(db, tables.main);
}
