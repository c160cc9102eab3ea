import type { RouteSpec } from '../http/types';
import { strictObject } from '../validation';
import { preferencesBodySchema, preferencesResponseSchema } from './admin-notifications';
import { jsonBodyProblems, shopperProblemResponses } from './common';

/**
 * The shopper's own marketing opt-out: the target of the preferences link in every marketing notice.
 * The same body and stored preferences as the operator's route; the memberId is the token's `sub`.
 */
export const myPreferencesRoute = {
  method: 'PUT',
  path: '/v1/me/preferences',
  operationId: 'setMyPreferences',
  summary:
    'Sets the signed-in shopper’s marketing opt-out (win-back emails respect it; renewal, trial and payment notices do not). Addition to the contract.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  query: strictObject({}),
  body: preferencesBodySchema,
  responses: {
    200: { description: 'The stored preferences', schema: preferencesResponseSchema },
    ...shopperProblemResponses,
    ...jsonBodyProblems,
  },
} as const satisfies RouteSpec;
