import { acceptSaveOfferRoute } from '#shared/api/compliance';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import { saveOfferStore, saveOfferTerms } from '#shared/runtime/compliance';
import { membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { stripeAccount } from '#shared/runtime/stripe-api';
import { acceptSaveOffer } from '#shared/usecases/save-offers';

const deps = {
  rules: jurisdictionRules(),
  memberships: membershipRepository(),
  offers: saveOfferStore(),
  terms: saveOfferTerms(),
  stripe: () => stripeAccount(),
};

export const handler = httpHandler(acceptSaveOfferRoute, async ({ principal, params, now }) =>
  json(200, await acceptSaveOffer(deps, shopperId(principal), params.offerId, now)),
);
