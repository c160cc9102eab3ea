import { entitlementsCheckRoute } from '#shared/api/entitlements';
import { httpHandler, json } from '#shared/http/handler';
import { planCatalog } from '#shared/runtime/catalog';
import { membershipRepository } from '#shared/runtime/dynamo';
import { checkEntitlement } from '#shared/usecases/check-entitlement';

const deps = { catalog: planCatalog(), memberships: membershipRepository() };

export const handler = httpHandler(entitlementsCheckRoute, async ({ body, now }) =>
  json(200, await checkEntitlement(deps, body.memberId, now, body.order)),
);
