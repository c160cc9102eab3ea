import { DynamoRollupStore } from '../storage/finance-rollups';
import { ProjectingLedger, RollupProjector } from '../usecases/finance-rollups';
import { planCatalog } from './catalog';
import { dynamo, ledgerRepository } from './dynamo';

/** The rollups' store on the container's DynamoDB client. */
export function rollupStore(): DynamoRollupStore {
  const { doc, tables } = dynamo();
  return new DynamoRollupStore(doc, tables.main);
}

/** Projects finance accounts with the catalog's grace per plan. */
export function rollupProjector(): RollupProjector {
  const catalog = planCatalog();
  return new RollupProjector(rollupStore(), { graceDays: (planId) => catalog.plan(planId)?.graceDays ?? 0 });
}

/** The ledger the webhook records money events in: each entry projected into the rollups after its commit. */
export function projectingLedger(): ProjectingLedger {
  return new ProjectingLedger(ledgerRepository(), rollupProjector());
}
