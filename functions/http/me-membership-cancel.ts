import type { Context } from 'aws-lambda';
import { cancelMembershipRoute, resumeMembershipRoute } from '#shared/api/shoppers';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import type { HttpEvent } from '#shared/http/types';
import { saveOfferStore, saveOfferTerms } from '#shared/runtime/compliance';
import { benefitsRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { shopperRouteDeps } from '#shared/runtime/shopper';
import { stripeForRequest } from '#shared/runtime/stripe-api';
import { offerAfterCancel } from '#shared/usecases/save-offers';
import { cancelMembership, resumeMembership } from '#shared/usecases/shopper-membership';

const deps = {
  ...shopperRouteDeps(),
  benefits: benefitsRepository(),
  rules: jurisdictionRules(),
  offers: saveOfferStore(),
  terms: saveOfferTerms(),
};

// The cancel is done first; an offer (where the member's jurisdiction allows one) only comes with its answer.
const cancel = httpHandler(cancelMembershipRoute, async ({ principal, body, now, event, context }) => {
  const memberId = shopperId(principal);
  const withStripe = { ...deps, stripe: stripeForRequest(context) };
  const result = await cancelMembership(withStripe, memberId, body, now, event.requestContext.requestId);
  const saveOffer = await offerAfterCancel(
    withStripe,
    memberId,
    { hearOffers: body?.hearOffers === true, resumable: result.outcome === 'cancel_at_period_end' },
    now,
  );
  return json(200, { ...result, saveOffer });
});
const resume = httpHandler(resumeMembershipRoute, async ({ principal, now, event, context }) =>
  json(
    200,
    await resumeMembership({ ...deps, stripe: stripeForRequest(context) }, shopperId(principal), now, event.requestContext.requestId),
  ),
);

/** Cancel and resume are two sides of one decision and share one function (and its Stripe grant). */
export const handler = (event: HttpEvent, context: Context) =>
  event.routeKey === `${resumeMembershipRoute.method} ${resumeMembershipRoute.path}` ? resume(event, context) : cancel(event, context);
