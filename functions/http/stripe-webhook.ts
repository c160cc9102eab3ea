import Stripe from 'stripe';
import { IdempotencyConfig, makeIdempotent, IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { stripeWebhookRoute } from '../../shared/api/system';
import { httpHandler, json } from '../../shared/http/handler';
import { HttpProblem, problems } from '../../shared/http/problem';
import { logger, memberRef } from '../../shared/observability';
import { metrics, MetricNames, MetricUnit } from '../../shared/metrics';
import { planCatalog } from '../../shared/runtime/catalog';
import { dynamo, ledgerRepository, membershipRepository } from '../../shared/runtime/dynamo';
import { stripeWebhookSecrets } from '../../shared/runtime/stripe-webhook-secret';
import { issuesToErrors } from '../../shared/validation';
import { StripePayloadError, stripeEventSchema, type StripeEvent } from '../../shared/stripe/events';
import { ingestStripeEvent, UnattributedEventError } from '../../shared/usecases/ingest-stripe-event';
import { membershipReactions } from '../../shared/usecases/reactions';

const catalog = planCatalog();
const { client, tables } = dynamo();
const memberships = membershipRepository();
const ledger = ledgerRepository();

// Stripe retries for up to three days; keep the record of a processed event for a week.
const idempotencyConfig = new IdempotencyConfig({ eventKeyJmesPath: 'id', expiresAfterSeconds: 7 * 24 * 3600, throwOnNoIdempotencyKey: true });
const ingestOnce = makeIdempotent(
  (event: StripeEvent) => ingestStripeEvent({ catalog, memberships, reactions: membershipReactions, ledger }, event),
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
      lastError = error;
    }
  }
  metrics.addMetric(MetricNames.stripeSignatureRejected, MetricUnit.Count, 1);
  const reason = lastError instanceof Error ? lastError.message.split('\n')[0] : 'invalid signature';
  throw new HttpProblem(400, `Stripe signature verification failed: ${reason}`, { slug: 'invalid-signature', title: 'Invalid signature' });
}

export const handler = httpHandler(stripeWebhookRoute, async ({ event, rawBody, context }) => {
  const verified = await verify(rawBody, event.headers['stripe-signature']);
  const parsed = stripeEventSchema.safeParse(verified);
  if (!parsed.success) throw problems.validation(issuesToErrors(parsed.error.issues), 'The payload is not a Stripe event.');
  const stripeEvent = parsed.data;
  const fields = { eventId: stripeEvent.id, eventType: stripeEvent.type };
  try {
    idempotencyConfig.registerLambdaContext(context);
    const result = await ingestOnce(stripeEvent);
    metrics.addMetric(MetricNames.stripeEventProcessed, MetricUnit.Count, 1);
    logger.info('stripe event processed', { ...fields, outcome: result.outcome, ...('memberId' in result ? { memberRef: memberRef(result.memberId) } : {}) });
    return json(200, { received: true });
  } catch (error) {
    if (error instanceof IdempotencyAlreadyInProgressError) {
      throw new HttpProblem(409, 'This event is being processed by another delivery; retry later.', { slug: 'event-in-progress' });
    }
    if (error instanceof StripePayloadError || error instanceof UnattributedEventError) {
      const metric = error instanceof StripePayloadError ? MetricNames.stripePayloadRejected : MetricNames.stripeEventUnattributed;
      metrics.addMetric(metric, MetricUnit.Count, 1);
      logger.error('stripe event rejected; Stripe will retry', { ...fields, reason: error.message });
      throw new HttpProblem(500, 'The event could not be applied yet; it is safe to retry.', { slug: 'event-not-applied' });
    }
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
});
