import type { RouteSpec } from '../http/types';
import { literal, strictObject, string } from '../validation';
import { problemResponses } from './common';

export const healthRoute = {
  method: 'GET',
  path: '/health',
  operationId: 'health',
  summary: 'Liveness of the API.',
  tags: ['system'],
  auth: { kind: 'public' },
  responses: { 200: { description: 'Up', schema: strictObject({ status: literal('ok'), time: string() }) } },
} as const satisfies RouteSpec;

export const openapiRoute = {
  method: 'GET',
  path: '/openapi.json',
  operationId: 'openapi',
  summary: 'This OpenAPI 3.1 document, generated from the zod schemas that validate requests.',
  tags: ['system'],
  auth: { kind: 'public' },
  responses: { 200: { description: 'OpenAPI 3.1 document' } },
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
    400: problemResponses[400],
    409: { description: 'The same event is being processed right now; Stripe retries', contentType: 'application/problem+json' },
    413: problemResponses[413],
    500: {
      description: 'Transient failure or a payload this API version cannot read (alarmed); Stripe retries',
      contentType: 'application/problem+json',
    },
  },
} as const satisfies RouteSpec;
