import { checkoutSessionRoute } from '#shared/api/shoppers';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import { shopperRouteDeps } from '#shared/runtime/shopper';
import { stripeForRequest } from '#shared/runtime/stripe-api';
import { createCheckoutSession } from '#shared/usecases/shopper-membership';

const deps = shopperRouteDeps();

export const handler = httpHandler(checkoutSessionRoute, async ({ principal, body, now, context }) =>
  json(200, await createCheckoutSession({ ...deps, stripe: stripeForRequest(context) }, shopperId(principal), body, now)),
);
