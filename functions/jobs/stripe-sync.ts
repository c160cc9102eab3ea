/**
 * Replays Stripe's events and sweeps for drift (EventBridge Scheduler every 15 minutes; the sweep
 * starts once a day and continues over as many runs as it needs). Locally
 * `npm run job -- stripe-sync [--as-of ISO] [--sweep due|now|skip]` (docs/stripe-sync.md).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { SweepMode } from '#shared/domain/drift';
import { type JobEvent, jobHandler } from '#shared/jobs/handler';
import { MetricNames, MetricUnit, metrics } from '#shared/metrics';
import { logger } from '#shared/observability';
import { planCatalog } from '#shared/runtime/catalog';
import { ledgerRepository, membershipRepository, stripeSyncStore } from '#shared/runtime/dynamo';
import { stripeApi } from '#shared/runtime/stripe-api';
import { stripeEventIngestion } from '#shared/runtime/stripe-ingestion';
import { stripeSyncSource } from '#shared/stripe/sync-source';
import { runStripeSync, type StripeSyncResult } from '#shared/usecases/stripe-sync';

const ingestion = stripeEventIngestion({ source: 'replay' });
const store = stripeSyncStore();
const SWEEP_MODES: readonly SweepMode[] = ['due', 'now', 'skip'];
// `npm run job` gives no Lambda context: the run then gets the schedule's 15 minutes, as in AWS.
const LOCAL_RUN_MS = 15 * 60_000;

function publish(result: StripeSyncResult) {
  const { replay, sweep } = result;
  if (replay) {
    metrics.addMetric(MetricNames.stripeSyncEventsReplayed, MetricUnit.Count, replay.replayed);
    if (replay.newestEventAgeSeconds !== null) {
      metrics.addMetric(MetricNames.stripeSyncNewestEventAge, MetricUnit.Seconds, replay.newestEventAgeSeconds);
    }
  }
  metrics.addMetric(MetricNames.stripeDriftRepaired, MetricUnit.Count, sweep?.repairedNow ?? 0);
  metrics.addMetric(MetricNames.stripeDriftNeedsReview, MetricUnit.Count, (sweep?.needsReviewNow ?? 0) + (replay?.refused ?? 0));
  metrics.publishStoredMetrics();
}

export const handler = jobHandler('stripe-sync', async (event: JobEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const now = event.asOf ? new Date(event.asOf) : new Date();
  if (Number.isNaN(now.getTime())) throw new Error(`asOf must be an ISO time, got "${event.asOf}"`);
  const sweep = (event.sweep ?? 'due') as SweepMode;
  if (!SWEEP_MODES.includes(sweep)) throw new Error(`sweep must be one of ${SWEEP_MODES.join(', ')}, got "${event.sweep}"`);
  const stripe = await stripeApi();
  if (!stripe) throw new Error('STRIPE_SECRET_KEY is not set: the stripe-sync job needs the Stripe API');

  const deadline = Date.now() + LOCAL_RUN_MS;
  const clock = context ?? { getRemainingTimeInMillis: () => deadline - Date.now() };
  ingestion.registerContext(clock);
  const result = await runStripeSync(
    {
      source: stripeSyncSource(stripe),
      store,
      ingest: (e) => ingestion.ingest(e),
      ingestDeps: ingestion.deps,
      catalog: planCatalog(),
      memberships: membershipRepository(),
      ledger: ledgerRepository(),
      remainingMs: () => clock.getRemainingTimeInMillis(),
    },
    { now, sweep, runId: randomUUID() },
  );
  logger.info('stripe-sync job done', { ...result });
  publish(result);
  // A Stripe rate limit or outage is "resume next run"; an event we cannot apply is a failure (the
  // function's Errors alarm): the cursor waits at it until the cause is fixed (docs/operations.md).
  if (result.replay?.stoppedBy === 'event_failed') {
    throw new Error(`stripe-sync stopped at an event it could not apply: ${result.replay.failure}; the next run resumes there`);
  }
  return result;
});
