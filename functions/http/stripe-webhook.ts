import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import Stripe from 'stripe';
import { stripeWebhookRoute } from '#shared/api/system';
import { httpHandler, json } from '#shared/http/handler';
import { HttpProblem, problems } from '#shared/http/problem';
import { memberRef } from '#shared/member-ref';
import { MetricNames, MetricUnit, metrics } from '#shared/metrics';
import { logger } from '#shared/observability';
import { expectedEventOrigin } from '#shared/runtime/stripe-api';
import { stripeEventIngestion } from '#shared/runtime/stripe-ingestion';
import { stripeWebhookSecrets } from '#shared/runtime/stripe-webhook-secret';
import { foreignEventReason } from '#shared/stripe/event-origin';
import { StripePayloadError, stripeEventSchema } from '#shared/stripe/events';
import type { IngestOutcome } from '#shared/usecases/ingest-stripe-event';
import { issuesToErrors } from '#shared/validation';

const ingestion = stripeEventIngestion({ source: 'webhook' });

/** Stripe's tolerance, both ways: the SDK refuses old signatures; one dated ahead is refused here. */
const SIGNATURE_TOLERANCE_SECONDS = 300;

const signatureRefused = (reason: string) => {
  metrics.addMetric(MetricNames.stripeSignatureRejected, MetricUnit.Count, 1);
  return new HttpProblem(400, `Stripe signature verification failed: ${reason}`, { slug: 'invalid-signature' });
};

async function verify(rawBody: string, signature: string | undefined): Promise<unknown> {
  if (!signature) throw problems.badRequest('Missing Stripe-Signature header.');
  // The SDK checks only that a signature is not too old; a future one would stay replayable for as
  // long as it is ahead of our clock.
  const timestamps = [...signature.matchAll(/(?:^|,)\s*t=(\d+)/g)].map((m) => Number(m[1]));
  if (timestamps.some((t) => t > Date.now() / 1000 + SIGNATURE_TOLERANCE_SECONDS)) {
    throw signatureRefused('Timestamp is more than five minutes in the future');
  }
  let lastError: unknown;
  for (const secret of await stripeWebhookSecrets()) {
    try {
      // Verifies the HMAC over the exact raw bytes and rejects timestamps older than 5 minutes.
      return await Stripe.webhooks.constructEventAsync(rawBody, signature, secret, SIGNATURE_TOLERANCE_SECONDS);
    } catch (error) {
      // A valid signature over a body that is not JSON: the sender is Stripe (or holds our secret),
      // the payload is what is wrong. The parser's message quotes the body, so it is not echoed.
      if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) throw problems.badRequest('The payload is not valid JSON.');
      lastError = error;
    }
  }
  throw signatureRefused(lastError instanceof Error ? lastError.message.split('\n')[0]! : 'invalid signature');
}

const OUTCOME_METRIC: Partial<Record<IngestOutcome['outcome'], string>> = {
  unattributed: MetricNames.stripeEventUnattributed,
  refused: MetricNames.stripeEventRefused,
};

export const handler = httpHandler(stripeWebhookRoute, async ({ event, rawBody, context }) => {
  try {
    const verified = await verify(rawBody, event.headers['stripe-signature']);
    const parsed = stripeEventSchema.safeParse(verified);
    if (!parsed.success) throw problems.validation(issuesToErrors(parsed.error.issues), 'The payload is not a Stripe event.');
    const stripeEvent = parsed.data;
    const fields = { eventId: stripeEvent.id, eventType: stripeEvent.type };
    const foreign = foreignEventReason(stripeEvent, await expectedEventOrigin());
    if (foreign) {
      // Signed with our secret but not about our account or mode: not ours to apply, nor to retry.
      metrics.addMetric(MetricNames.stripeEventForeign, MetricUnit.Count, 1);
      logger.error('stripe event of another account or mode ignored: check which endpoints share this webhook secret', {
        ...fields,
        reason: foreign,
      });
      return json(200, { received: true });
    }
    try {
      ingestion.registerContext(context);
      const { result, duplicate } = await ingestion.ingest(stripeEvent);
      metrics.addMetric(OUTCOME_METRIC[result.outcome] ?? MetricNames.stripeEventProcessed, MetricUnit.Count, 1);
      if (result.outcome === 'refused' && !duplicate) metrics.addMetric(MetricNames.stripeDriftNeedsReview, MetricUnit.Count, 1);
      logger.info('stripe event processed', {
        ...fields,
        outcome: result.outcome,
        duplicate,
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
