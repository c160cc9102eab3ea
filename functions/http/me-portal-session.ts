import { portalSessionRoute } from '#shared/api/shoppers';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import { planCatalog } from '#shared/runtime/catalog';
import { membershipRepository } from '#shared/runtime/dynamo';
import { shopperRepository } from '#shared/runtime/shopper';
import { stripeAccount } from '#shared/runtime/stripe-api';
import { createPortalSession } from '#shared/usecases/shopper-membership';

const deps = { catalog: planCatalog(), memberships: membershipRepository(), shoppers: shopperRepository(), stripe: () => stripeAccount() };

export const handler = httpHandler(portalSessionRoute, async ({ principal, body, now }) =>
  json(200, await createPortalSession(deps, shopperId(principal), body, now)),
);
