import { myMembershipRoute } from '#shared/api/shoppers';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import { planCatalog } from '#shared/runtime/catalog';
import { benefitsRepository, membershipRepository } from '#shared/runtime/dynamo';
import { getMyMembership } from '#shared/usecases/shopper-membership';

const deps = { catalog: planCatalog(), memberships: membershipRepository(), benefits: benefitsRepository() };

export const handler = httpHandler(myMembershipRoute, async ({ principal, now }) =>
  json(200, await getMyMembership(deps, shopperId(principal), now)),
);
