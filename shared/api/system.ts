import type { RouteSpec } from '../http/types';
import { literal, looseObject, record, strictObject, string, unknown } from '../validation';
import { edgeProblems, problem, problemResponses } from './common';

export const healthRoute = {
  method: 'GET',
  path: '/health',
  operationId: 'health',
  summary: 'Liveness of the API.',
  tags: ['system'],
  auth: { kind: 'public' },
  responses: { 200: { description: 'Up', schema: strictObject({ status: literal('ok'), time: string() }) }, ...edgeProblems },
} as const satisfies RouteSpec;

export const openapiRoute = {
  method: 'GET',
  path: '/openapi.json',
  operationId: 'openapi',
  summary: 'This OpenAPI 3.1 document, generated from the zod schemas that validate requests.',
  tags: ['system'],
  auth: { kind: 'public' },
  responses: {
    200: {
      description: 'OpenAPI 3.1 document',
      schema: looseObject({
        openapi: literal('3.1.0'),
        info: looseObject({ title: string(), version: string() }),
        paths: record(string(), record(string(), unknown())),
      }),
    },
    ...edgeProblems,
  },
} as const satisfies RouteSpec;

export const stripeWebhookRoute = {
  method: 'POST',
  path: '/webhooks/stripe',
  operationId: 'receiveStripeEvent',
  summary: 'Stripe webhook endpoint: verified against Stripe-Signature, idempotent per event id, order-independent.',
  tags: ['stripe'],
  auth: { kind: 'stripe-signature' },
  rawBody: { contentType: 'application/json', description: 'The raw Stripe event, exactly as signed.' },
  responses: {
    200: { description: 'Processed, duplicate, or ignored type', schema: strictObject({ received: literal(true) }) },
    400: problem('Unsigned, badly signed or stale, malformed JSON, or not a Stripe event', problemResponses[400].schema),
    413: edgeProblems[413],
    500: problem('Transient failure or a payload this API version cannot read (alarmed); Stripe retries'),
    503: problem(
      'The same event is still being processed by another delivery after a 5-second wait, or the table or the webhook secret is unavailable (Retry-After); Stripe retries',
    ),
  },
} as const satisfies RouteSpec;
