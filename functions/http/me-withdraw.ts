import { withdrawRoute } from '#shared/api/compliance';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import { planCatalog } from '#shared/runtime/catalog';
import { declarationStore } from '#shared/runtime/compliance';
import { membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { stripeForRequest } from '#shared/runtime/stripe-api';
import { withdrawMembership } from '#shared/usecases/withdraw-membership';

const deps = {
  catalog: planCatalog(),
  rules: jurisdictionRules(),
  memberships: membershipRepository(),
  declarations: declarationStore(),
};

export const handler = httpHandler(withdrawRoute, async ({ principal, body, now, context }) =>
  json(200, await withdrawMembership({ ...deps, stripe: stripeForRequest(context) }, shopperId(principal), body, now)),
);
