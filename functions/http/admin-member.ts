import { adminMemberRoute } from '#shared/api/shoppers';
import { httpHandler, json } from '#shared/http/handler';
import { planCatalog } from '#shared/runtime/catalog';
import { benefitsRepository, membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { shopperRepository } from '#shared/runtime/shopper';
import { getMemberForAdmin } from '#shared/usecases/admin-member';

const deps = {
  catalog: planCatalog(),
  rules: jurisdictionRules(),
  memberships: membershipRepository(),
  benefits: benefitsRepository(),
  shoppers: shopperRepository(),
};

export const handler = httpHandler(adminMemberRoute, async ({ params, now }) =>
  json(200, await getMemberForAdmin(deps, params.memberId, now)),
);
