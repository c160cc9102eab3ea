import { portalSessionRoute } from '#shared/api/shoppers';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import { shopperRouteDeps } from '#shared/runtime/shopper';
import { stripeForRequest } from '#shared/runtime/stripe-api';
import { createPortalSession } from '#shared/usecases/shopper-membership';

const deps = shopperRouteDeps();

export const handler = httpHandler(portalSessionRoute, async ({ principal, body, now, context }) =>
  json(200, await createPortalSession({ ...deps, stripe: stripeForRequest(context) }, shopperId(principal), body, now)),
);
