/**
 * The projections still owed to the finance rollups (EventBridge Scheduler every minute; locally
 * `npm run job -- rollups-settle [--as-of ISO]`, and every few seconds inside `npm start`): what a
 * request recorded but did not project (it died, or it was a benefit write, which leaves it to this
 * job to keep the checkout fast). Markers younger than a minute are left to the request that is
 * still projecting them; with `--as-of`, those written before that time. Stops before the next run.
 */

import { type JobEvent, jobHandler } from '#shared/jobs/handler';
import { MetricNames, MetricUnit, metrics } from '#shared/metrics';
import { rollupProjector, rollupStore } from '#shared/runtime/finance';
import { projectOwed } from '#shared/usecases/finance-rollups';

const store = rollupStore();
const projector = rollupProjector();
/** What a request in flight may still be doing. */
const GRACE_MS = 60_000;
/** A run covers at most this many, so a minute's schedule never stacks runs. */
const PER_RUN = 5_000;

export const handler = jobHandler('rollups-settle', async (event: JobEvent) => {
  const before = event.asOf ? new Date(event.asOf) : new Date(Date.now() - GRACE_MS);
  const result = await projectOwed(store, projector, { before, limit: PER_RUN });
  metrics.addMetric(MetricNames.rollupsSettled, MetricUnit.Count, result.settled);
  metrics.addMetric(MetricNames.rollupsOwed, MetricUnit.Count, result.remaining);
  metrics.publishStoredMetrics();
  return result;
});
