import { entitlementsCheckRoute } from '#shared/api/entitlements';
import { quoteOrderRoute } from '#shared/api/orders';
import { httpHandler, json } from '#shared/http/handler';
import type { HttpLambda } from '#shared/http/types';
import { planCatalog } from '#shared/runtime/catalog';
import { membershipRepository } from '#shared/runtime/dynamo';
import { checkEntitlement } from '#shared/usecases/check-entitlement';
import { quoteOrder } from '#shared/usecases/quote-order';

const deps = { catalog: planCatalog(), memberships: membershipRepository() };

// Neither logs anything but a failure, which the wrapper logs with the request's context.
const hot = { logContext: 'on-failure' } as const;

const check = httpHandler(
  entitlementsCheckRoute,
  async ({ body, now }) => json(200, await checkEntitlement(deps, body.memberId, now, body.order)),
  hot,
);

const quote = httpHandler(quoteOrderRoute, async ({ body, now }) => json(200, await quoteOrder(deps, body, now)), hot);

const QUOTE_KEY = `${quoteOrderRoute.method} ${quoteOrderRoute.path}`;

/** The checkout's reads: the entitlement check (every order) and the order quote, one bundle, one read each. */
export const handler: HttpLambda = (event, context) => (event.routeKey === QUOTE_KEY ? quote(event, context) : check(event, context));
