import { type JobEvent, jobHandler } from '#shared/jobs/handler';
import { MetricNames, MetricUnit, metrics } from '#shared/metrics';
import { logger } from '#shared/observability';
import { planCatalog } from '#shared/runtime/catalog';
import { declarationStore, memberLookup, saveOfferStore, workQueue } from '#shared/runtime/compliance';
import { membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { stripeAccount } from '#shared/runtime/stripe-api';
import { runComplianceWork } from '#shared/usecases/compliance-work';

const deps = {
  catalog: planCatalog(),
  rules: jurisdictionRules(),
  memberships: membershipRepository(),
  lookup: memberLookup(),
  declarations: declarationStore(),
  offers: saveOfferStore(),
  queue: workQueue(),
  stripe: () => stripeAccount(),
};

/**
 * EventBridge Scheduler every 5 minutes; `npm run job -- compliance [--as-of ISO]` locally. Cancellations
 * received without login, withdrawals to finish, price moves after their notice, save-offer follow-ups.
 */
export const handler = jobHandler('compliance', async (event: JobEvent) => {
  const asOf = event.asOf ? new Date(event.asOf) : new Date();
  if (Number.isNaN(asOf.getTime())) throw new Error(`asOf must be an ISO time, got "${event.asOf}"`);
  const result = await runComplianceWork(deps, asOf);
  const gaveUp = Object.entries(result.dropped)
    .filter(([key]) => key.endsWith(':attempts_exhausted'))
    .reduce((sum, [, n]) => sum + n, 0);
  metrics.addMetric(MetricNames.complianceWorkGaveUp, MetricUnit.Count, gaveUp);
  metrics.publishStoredMetrics();
  logger.info('compliance job done', { ...result });
  return result;
});
