/** Household sharing (contract additions; docs/household.md). Shopper routes: the memberId is the token's `sub`. */
import { HOUSEHOLD_ROLES } from '../domain/household';
import type { RouteSpec } from '../http/types';
import { array, enumOf, meta, nullable, optional, regex, strictObject, string } from '../validation';
import { isoTimeSchema, jsonBodyProblems, memberIdSchema, problem, problemWith, shopperProblemResponses, statusSchema } from './common';

const noQuery = strictObject({});
const roleSchema = enumOf(HOUSEHOLD_ROLES);

/** Invite codes as shared/codes.ts makes them (`HH-7K4M-Q2RT-9WZH`); typed by people, so any case. */
const inviteCodeSchema = string().check(
  regex(/^[Hh][Hh]-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$/, 'must be an invite code (HH-XXXX-XXXX-XXXX)'),
);

export const householdSchema = strictObject({
  ownerMemberId: memberIdSchema,
  members: array(strictObject({ memberId: memberIdSchema, role: roleSchema, joinedAt: isoTimeSchema })),
  invites: array(strictObject({ code: string(), role: roleSchema, expiresAt: isoTimeSchema })),
}).check(
  meta({ id: 'Household', description: 'The owner first (an adult), then the members; standing invites are shown to the owner only.' }),
);

const noHousehold = problem(
  'The caller neither owns nor belongs to a household (`no_household`)',
  problemWith({ reason: enumOf(['no_household']) }),
);

export const myHouseholdRoute = {
  method: 'GET',
  path: '/v1/me/household',
  operationId: 'getMyHousehold',
  summary:
    'The household the signed-in shopper belongs to or owns (an entitled member of a sharing plan sees a household of one): its people, and for the owner the standing invites.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  query: noQuery,
  responses: {
    200: { description: 'The household', schema: householdSchema },
    ...shopperProblemResponses,
    404: noHousehold,
  },
} as const satisfies RouteSpec;

export const createInviteRoute = {
  method: 'POST',
  path: '/v1/me/household/invites',
  operationId: 'inviteToHousehold',
  summary:
    'The owner invites someone of a role, within the plan’s caps (the owner counts as an adult; standing invites hold their seat until used or expired). The code expires after the plan’s `inviteValidDays`.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  query: noQuery,
  body: strictObject({ role: roleSchema }),
  responses: {
    200: { description: 'The invite', schema: strictObject({ code: string(), role: roleSchema, expiresAt: isoTimeSchema }) },
    ...shopperProblemResponses,
    ...jsonBodyProblems,
    409: problem(
      'Not running (`no_membership`), a plan without households (`no_household_plan`), a member of another household (`in_another_household`), or no seat of the role left (`household_full`)',
      problemWith({
        reason: enumOf(['no_membership', 'no_household_plan', 'in_another_household', 'household_full']),
        membershipStatus: statusSchema,
      }),
    ),
  },
} as const satisfies RouteSpec;

export const joinHouseholdRoute = {
  method: 'POST',
  path: '/v1/me/household/join',
  operationId: 'joinHousehold',
  summary:
    'Joins the household of an invite, with its role. One household at a time; not within the rejoin lock; not with a paid membership of one’s own (it would be paid twice).',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  query: noQuery,
  body: strictObject({
    code: inviteCodeSchema,
    email: optional(
      string().check(
        regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address'),
        meta({
          description:
            'Where household notices go (the owner’s membership ending); addition to the contract. Default: the address of a membership of the shopper’s own, if any.',
        }),
      ),
    ),
  }),
  responses: {
    200: { description: 'Joined: the household', schema: householdSchema },
    ...shopperProblemResponses,
    ...jsonBodyProblems,
    404: problem('No such invite, or it was used (`unknown_invite`)', problemWith({ reason: enumOf(['unknown_invite']) })),
    409: problem(
      'Already in a household (`already_in_household`), within the rejoin lock (`rejoin_locked`, `lockedUntil`), a membership of one’s own (`own_membership`), the owner’s membership not running (`household_inactive`), or no seat left (`household_full`)',
      problemWith({
        reason: enumOf(['already_in_household', 'rejoin_locked', 'own_membership', 'household_inactive', 'household_full']),
        lockedUntil: optional(isoTimeSchema),
      }),
    ),
    410: problem('The invite expired (`invite_expired`): ask the owner for a new one', problemWith({ reason: enumOf(['invite_expired']) })),
  },
} as const satisfies RouteSpec;

export const removeHouseholdMemberRoute = {
  method: 'DELETE',
  path: '/v1/me/household/members/{memberId}',
  operationId: 'removeHouseholdMember',
  summary:
    'The owner removes a member, or a member leaves (their own memberId). Either starts the member’s rejoin lock (`rejoinLockDays`); their check stops answering from the owner’s membership at once.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  params: strictObject({ memberId: memberIdSchema }),
  query: noQuery,
  responses: {
    200: {
      description: 'Removed',
      schema: strictObject({ memberId: memberIdSchema, ownerMemberId: memberIdSchema, rejoinLockedUntil: nullable(isoTimeSchema) }),
    },
    ...shopperProblemResponses,
    404: problem(
      'The member is not in the caller’s household, or the caller may not remove them (`not_in_household`)',
      problemWith({ reason: enumOf(['not_in_household']) }),
    ),
    409: problem('The owner cannot leave their own household (`household_owner`)', problemWith({ reason: enumOf(['household_owner']) })),
  },
} as const satisfies RouteSpec;
