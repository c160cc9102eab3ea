import { acceptSaveOfferRoute } from '#shared/api/compliance';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import { saveOfferStore, saveOfferTerms } from '#shared/runtime/compliance';
import { membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { stripeForRequest } from '#shared/runtime/stripe-api';
import { acceptSaveOffer } from '#shared/usecases/save-offers';

const deps = {
  rules: jurisdictionRules(),
  memberships: membershipRepository(),
  offers: saveOfferStore(),
  terms: saveOfferTerms(),
};

export const handler = httpHandler(acceptSaveOfferRoute, async ({ principal, params, now, context }) =>
  json(200, await acceptSaveOffer({ ...deps, stripe: stripeForRequest(context) }, shopperId(principal), params.offerId, now)),
);
