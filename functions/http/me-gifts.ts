import { claimGiftRoute, giftCheckoutRoute, myGiftsRoute, refundGiftRoute } from '#shared/api/gifts';
import { normalizeGrantCode } from '#shared/domain/grant-codes';
import { httpHandler, json } from '#shared/http/handler';
import { problemResponse, problems } from '#shared/http/problem';
import { shopperId } from '#shared/http/shopper';
import type { HttpLambda } from '#shared/http/types';
import { planCatalog } from '#shared/runtime/catalog';
import { giftStore, membershipRepository } from '#shared/runtime/dynamo';
import { ledgerSettler } from '#shared/runtime/finance';
import { shopOrigins, shopperRateLimit } from '#shared/runtime/shopper';
import { stripeForRequest } from '#shared/runtime/stripe-api';
import { claimGift, createGiftCheckout, listGifts, refundGift } from '#shared/usecases/gifts';

const deps = {
  catalog: planCatalog(),
  gifts: giftStore(),
  memberships: membershipRepository(),
  settleLedger: ledgerSettler(),
  rateLimit: shopperRateLimit(),
  shopOrigins: shopOrigins(),
  // Outside a request (the claim calls no Stripe): a client without the invocation's budget is never used.
  stripe: async () => null,
};

const checkout = httpHandler(giftCheckoutRoute, async ({ principal, body, now, context }) =>
  json(200, await createGiftCheckout({ ...deps, stripe: stripeForRequest(context) }, shopperId(principal), body, now)),
);

const list = httpHandler(myGiftsRoute, async ({ principal, now }) => json(200, await listGifts(deps, shopperId(principal), now)));

const claim = httpHandler(claimGiftRoute, async ({ principal, body, now }) => {
  // Codes are read aloud and typed: lower case and missing dashes are forgiven, like coupon codes.
  const code = normalizeGrantCode(body.code);
  if (code === null) throw problems.notFound('No gift has this code.');
  return json(200, await claimGift(deps, shopperId(principal), code, now));
});

const refund = httpHandler(refundGiftRoute, async ({ principal, params, now, context }) =>
  json(200, await refundGift({ ...deps, stripe: stripeForRequest(context) }, shopperId(principal), params.purchaseId, now)),
);

const byRoute: Record<string, HttpLambda> = {
  [`${giftCheckoutRoute.method} ${giftCheckoutRoute.path}`]: checkout,
  [`${myGiftsRoute.method} ${myGiftsRoute.path}`]: list,
  [`${claimGiftRoute.method} ${claimGiftRoute.path}`]: claim,
  [`${refundGiftRoute.method} ${refundGiftRoute.path}`]: refund,
};

/** One Lambda for the shopper's gifts: they share dependencies and warm containers. */
export const handler: HttpLambda = async (event, context) => {
  const route = byRoute[event.routeKey];
  if (!route) return problemResponse(problems.notFound(`No route for ${event.routeKey}.`));
  return route(event, context);
};
