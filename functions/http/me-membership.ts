import { myMembershipRoute } from '../../shared/api/shoppers';
import { httpHandler, json } from '../../shared/http/handler';
import { planCatalog } from '../../shared/runtime/catalog';
import { membershipRepository } from '../../shared/runtime/dynamo';
import { shopperRepository } from '../../shared/runtime/shopper';
import { shopperId } from '../../shared/http/shopper';
import { getMyMembership } from '../../shared/usecases/shopper-membership';

const deps = { catalog: planCatalog(), memberships: membershipRepository(), shoppers: shopperRepository() };

export const handler = httpHandler(myMembershipRoute, async ({ principal, now }) => json(200, await getMyMembership(deps, shopperId(principal), now)));
