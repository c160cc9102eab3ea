import { withdrawRoute } from '#shared/api/compliance';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import { planCatalog } from '#shared/runtime/catalog';
import { declarationStore } from '#shared/runtime/compliance';
import { membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { stripeAccount } from '#shared/runtime/stripe-api';
import { withdrawMembership } from '#shared/usecases/withdraw-membership';

const deps = {
  catalog: planCatalog(),
  rules: jurisdictionRules(),
  memberships: membershipRepository(),
  declarations: declarationStore(),
  stripe: () => stripeAccount(),
};

export const handler = httpHandler(withdrawRoute, async ({ principal, body, now }) =>
  json(200, await withdrawMembership(deps, shopperId(principal), body, now)),
);
