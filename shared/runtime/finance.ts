import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LedgerEntry } from '../domain/finance/ledger';
import type { TableNames } from '../storage/dynamodb';
import { DynamoRollupStore, entryMarker } from '../storage/finance-rollups';
import { LedgerRepository } from '../storage/ledger-repository';
import { ProjectingLedger, RollupProjector } from '../usecases/finance-rollups';
import { planCatalog } from './catalog';
import { dynamo } from './dynamo';

/** Defaults to this container's DynamoDB client and tables (benchmarks and the replay pass others). */
type On = { doc: DynamoDBDocumentClient; tables: TableNames };

/** The rollups' store on the container's DynamoDB client. */
export function rollupStore(on: On = dynamo()): DynamoRollupStore {
  return new DynamoRollupStore(on.doc, on.tables.main);
}

/** Projects finance accounts with the catalog's grace per plan. */
export function rollupProjector(on: On = dynamo()): RollupProjector {
  const catalog = planCatalog();
  return new RollupProjector(rollupStore(on), { graceDays: (planId) => catalog.plan(planId)?.graceDays ?? 0 });
}

/** The ledger money events are recorded in: each entry projected into the rollups after its commit. */
export function projectingLedger(on: On = dynamo()): ProjectingLedger {
  return new ProjectingLedger(new LedgerRepository(on.doc, on.tables.main), rollupProjector(on));
}

/** Projects a ledger entry a use case committed in its own transaction (a gift's claim); the queue covers a crash. */
export function ledgerSettler(on: On = dynamo()): (entry: LedgerEntry) => Promise<void> {
  const projector = rollupProjector(on);
  return async (entry) => {
    const marker = entryMarker(entry);
    if (marker) await projector.settle(marker);
  };
}
