import type { Context } from 'aws-lambda';
import { cancelMembershipRoute, resumeMembershipRoute } from '#shared/api/shoppers';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import type { HttpEvent } from '#shared/http/types';
import { benefitsRepository } from '#shared/runtime/dynamo';
import { shopperRouteDeps } from '#shared/runtime/shopper';
import { stripeForRequest } from '#shared/runtime/stripe-api';
import { cancelMembership, resumeMembership } from '#shared/usecases/shopper-membership';

const deps = { ...shopperRouteDeps(), benefits: benefitsRepository() };

const cancel = httpHandler(cancelMembershipRoute, async ({ principal, body, now, event, context }) =>
  json(
    200,
    await cancelMembership({ ...deps, stripe: stripeForRequest(context) }, shopperId(principal), body, now, event.requestContext.requestId),
  ),
);
const resume = httpHandler(resumeMembershipRoute, async ({ principal, now, event, context }) =>
  json(
    200,
    await resumeMembership({ ...deps, stripe: stripeForRequest(context) }, shopperId(principal), now, event.requestContext.requestId),
  ),
);

/** Cancel and resume are two sides of one decision and share one function (and its Stripe grant). */
export const handler = (event: HttpEvent, context: Context) =>
  event.routeKey === `${resumeMembershipRoute.method} ${resumeMembershipRoute.path}` ? resume(event, context) : cancel(event, context);
