import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import Stripe from 'stripe';
import { stripeWebhookRoute } from '#shared/api/system';
import { httpHandler, json } from '#shared/http/handler';
import { HttpProblem, problems } from '#shared/http/problem';
import { memberRef } from '#shared/member-ref';
import { MetricNames, MetricUnit, metrics } from '#shared/metrics';
import { logger } from '#shared/observability';
import { planCatalog } from '#shared/runtime/catalog';
import { dynamo, ledgerRepository, membershipRepository } from '#shared/runtime/dynamo';
import { stripeWebhookSecrets } from '#shared/runtime/stripe-webhook-secret';
import { type StripeEvent, StripePayloadError, stripeEventSchema } from '#shared/stripe/events';
import { type IngestOutcome, ingestStripeEvent } from '#shared/usecases/ingest-stripe-event';
import { membershipReactions } from '#shared/usecases/reactions';
import { issuesToErrors } from '#shared/validation';

const catalog = planCatalog();
const { client, tables } = dynamo();
const memberships = membershipRepository();
const ledger = ledgerRepository();

// Stripe retries for up to three days; keep the record of a processed event for a week.
const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'id',
  expiresAfterSeconds: 7 * 24 * 3600,
  throwOnNoIdempotencyKey: true,
});
const ingestOnce = makeIdempotent(
  (event: StripeEvent) => ingestStripeEvent({ catalog, memberships, reactions: membershipReactions(tables.main), ledger }, event),
  { persistenceStore: new DynamoDBPersistenceLayer({ tableName: tables.idempotency, awsSdkV3Client: client }), config: idempotencyConfig },
);

async function verify(rawBody: string, signature: string | undefined): Promise<unknown> {
  if (!signature) throw problems.badRequest('Missing Stripe-Signature header.');
  let lastError: unknown;
  for (const secret of await stripeWebhookSecrets()) {
    try {
      // Verifies the HMAC over the exact raw bytes and rejects timestamps older than 5 minutes.
      return await Stripe.webhooks.constructEventAsync(rawBody, signature, secret);
    } catch (error) {
      // A valid signature over a body that is not JSON: the sender is Stripe (or holds our secret),
      // the payload is what is wrong. The parser's message quotes the body, so it is not echoed.
      if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) throw problems.badRequest('The payload is not valid JSON.');
      lastError = error;
    }
  }
  metrics.addMetric(MetricNames.stripeSignatureRejected, MetricUnit.Count, 1);
  const reason = lastError instanceof Error ? lastError.message.split('\n')[0] : 'invalid signature';
  throw new HttpProblem(400, `Stripe signature verification failed: ${reason}`, { slug: 'invalid-signature' });
}

// A delivery that races another delivery of the same event waits for its outcome (a few hundred
// milliseconds normally) and answers like a duplicate; past this it asks Stripe to come back later.
const IN_PROGRESS_WAIT_MS = 5_000;
const IN_PROGRESS_POLL_MS = 100;

async function ingestWaitingForInFlight(event: StripeEvent): Promise<IngestOutcome> {
  const deadline = Date.now() + IN_PROGRESS_WAIT_MS;
  for (;;) {
    try {
      return await ingestOnce(event);
    } catch (error) {
      if (!(error instanceof IdempotencyAlreadyInProgressError) || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, IN_PROGRESS_POLL_MS));
    }
  }
}

export const handler = httpHandler(stripeWebhookRoute, async ({ event, rawBody, context }) => {
  try {
    const verified = await verify(rawBody, event.headers['stripe-signature']);
    const parsed = stripeEventSchema.safeParse(verified);
    if (!parsed.success) throw problems.validation(issuesToErrors(parsed.error.issues), 'The payload is not a Stripe event.');
    const stripeEvent = parsed.data;
    const fields = { eventId: stripeEvent.id, eventType: stripeEvent.type };
    try {
      idempotencyConfig.registerLambdaContext(context);
      const result = await ingestWaitingForInFlight(stripeEvent);
      metrics.addMetric(
        result.outcome === 'unattributed' ? MetricNames.stripeEventUnattributed : MetricNames.stripeEventProcessed,
        MetricUnit.Count,
        1,
      );
      logger.info('stripe event processed', {
        ...fields,
        outcome: result.outcome,
        ...('reason' in result ? { reason: result.reason } : {}),
        ...('memberId' in result ? { memberRef: await memberRef(result.memberId) } : {}),
      });
      return json(200, { received: true });
    } catch (error) {
      if (error instanceof IdempotencyAlreadyInProgressError) {
        throw new HttpProblem(503, 'This event is being processed by another delivery; retry later.', {
          slug: 'event-in-progress',
          headers: { 'retry-after': '5' },
        });
      }
      if (error instanceof StripePayloadError) {
        metrics.addMetric(MetricNames.stripePayloadRejected, MetricUnit.Count, 1);
        logger.error('stripe event rejected; Stripe will retry', { ...fields, reason: error.message });
        throw new HttpProblem(500, 'The event could not be applied; it is safe to retry.', { slug: 'event-not-applied' });
      }
      throw error;
    }
  } finally {
    // Every way out, the 400s included: the signature alarm counts rejected requests.
    metrics.publishStoredMetrics();
  }
});
