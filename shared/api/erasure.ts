import type { RouteSpec } from '../http/types';
import { array, int, nullable, strictObject, string } from '../validation';
import { isoTimeSchema, memberIdSchema, problem, problemResponses } from './common';

export const eraseMemberRoute = {
  method: 'DELETE',
  path: '/v1/admin/members/{memberId}',
  operationId: 'eraseMember',
  summary:
    'Erases the member’s personal data (email, addresses of notices); proof of notice, consent and money records stay (docs/erasure.md). Idempotent.',
  tags: ['admin'],
  auth: { kind: 'service', roles: ['admin'] },
  params: strictObject({ memberId: memberIdSchema }),
  query: strictObject({}),
  responses: {
    200: {
      description: 'What was erased and what was kept; the same on every repeat',
      schema: strictObject({
        memberId: memberIdSchema,
        erasedAt: nullable(isoTimeSchema),
        erased: array(string()),
        noticeItems: int(),
        kept: strictObject({ proofsOfNotice: string(), consentRecords: int(), moneyRecords: string() }),
      }),
    },
    ...problemResponses,
    404: problem('Nothing stored for this member'),
  },
} as const satisfies RouteSpec;
