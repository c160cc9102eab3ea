import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoBenefitsRepository } from '../storage/benefits-repository';
import { createDynamoClient, documentClient, type TableNames, tableNamesFromEnv } from '../storage/dynamodb';
import { LedgerRepository } from '../storage/ledger-repository';
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

export function ledgerRepository(): LedgerRepository {
  const { doc: db, tables } = dynamo();
  return new LedgerRepository(db, tables.main);
}
