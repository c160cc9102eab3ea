import { createInviteRoute, joinHouseholdRoute, myHouseholdRoute, removeHouseholdMemberRoute } from '#shared/api/household';
import { generateReference } from '#shared/codes';
import { httpHandler, json } from '#shared/http/handler';
import { problemResponse, problems } from '#shared/http/problem';
import { shopperId } from '#shared/http/shopper';
import type { HttpLambda } from '#shared/http/types';
import { planCatalog } from '#shared/runtime/catalog';
import { householdStore, membershipRepository } from '#shared/runtime/dynamo';
import { getHousehold, inviteToHousehold, joinHousehold, leaveHousehold } from '#shared/usecases/household';

const deps = {
  catalog: planCatalog(),
  memberships: membershipRepository(),
  households: householdStore(),
  inviteCode: () => generateReference('HH'),
};

const view = httpHandler(myHouseholdRoute, async ({ principal, now }) => json(200, await getHousehold(deps, shopperId(principal), now)));

const invite = httpHandler(createInviteRoute, async ({ principal, body, now }) =>
  json(200, await inviteToHousehold(deps, shopperId(principal), body.role, now)),
);

// Codes are read out and typed: any case is the same code.
const join = httpHandler(joinHouseholdRoute, async ({ principal, body, now }) =>
  json(200, await joinHousehold(deps, shopperId(principal), { code: body.code.toUpperCase(), email: body.email }, now)),
);

const remove = httpHandler(removeHouseholdMemberRoute, async ({ principal, params, now }) =>
  json(200, await leaveHousehold(deps, shopperId(principal), params.memberId, now)),
);

const byRoute: Record<string, HttpLambda> = {
  [`${myHouseholdRoute.method} ${myHouseholdRoute.path}`]: view,
  [`${createInviteRoute.method} ${createInviteRoute.path}`]: invite,
  [`${joinHouseholdRoute.method} ${joinHouseholdRoute.path}`]: join,
  [`${removeHouseholdMemberRoute.method} ${removeHouseholdMemberRoute.path}`]: remove,
};

/** The household's routes share their dependencies and warm containers. */
export const handler: HttpLambda = async (event, context) => {
  const route = byRoute[event.routeKey];
  if (!route) return problemResponse(problems.notFound(`No route for ${event.routeKey}.`));
  return route(event, context);
};
