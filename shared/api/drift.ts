import { DRIFT_ACTIONS, DRIFT_KINDS, DRIFT_SOURCES } from '../domain/drift';
import type { RouteSpec } from '../http/types';
import { array, boolean, enumOf, meta, nullable, number, optional, record, regex, strictObject, string, union } from '../validation';
import { isoTimeSchema, memberIdSchema, problemResponses } from './common';

export const driftQuerySchema = strictObject({
  cursor: optional(string().check(meta({ description: 'nextCursor of the previous page' }))),
  limit: optional(
    string().check(
      regex(/^([1-9]\d?|[1-4]\d\d|500)$/, 'must be an integer from 1 to 500'),
      meta({ description: 'Page size (default 100)' }),
    ),
  ),
});

const sideSchema = nullable(record(string(), nullable(union([string(), number(), boolean()]))));

export const driftFindingSchema = strictObject({
  memberId: nullable(memberIdSchema),
  kind: enumOf(DRIFT_KINDS),
  stripe: sideSchema,
  stored: sideSchema,
  action: enumOf(DRIFT_ACTIONS),
  subject: string().check(meta({ description: 'The Stripe object (or event) the finding is about' })),
  detail: string(),
  source: enumOf(DRIFT_SOURCES),
  detectedAt: isoTimeSchema,
});

export const driftResponseSchema = strictObject({
  checkedAt: nullable(isoTimeSchema),
  items: array(driftFindingSchema),
  nextCursor: nullable(string()),
});

export const driftRoute = {
  method: 'GET',
  path: '/v1/admin/drift',
  operationId: 'listDriftFindings',
  summary:
    'The latest findings of the Stripe drift sweep (repaired, or left for review) and the Stripe events refused by the binding rules, newest first, kept 30 days. `checkedAt` is when the last full sweep ended. Every page but the last carries `Link: <…>; rel="next"`.',
  tags: ['admin'],
  auth: { kind: 'service', roles: ['admin'] },
  query: driftQuerySchema,
  responses: { 200: { description: 'Findings, newest first', schema: driftResponseSchema }, ...problemResponses },
} as const satisfies RouteSpec;
