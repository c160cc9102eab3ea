import { benefitUsageRoute, commitCouponRoute, holdCouponRoute, redeemCouponRoute, releaseCouponRoute } from '#shared/api/benefits';
import { normalizeGrantCode } from '#shared/domain/grant-codes';
import { httpHandler, json } from '#shared/http/handler';
import { problemResponse, problems } from '#shared/http/problem';
import type { HttpLambda } from '#shared/http/types';
import { planCatalog } from '#shared/runtime/catalog';
import { benefitsRepository, membershipRepository } from '#shared/runtime/dynamo';
import { commitGrant, holdGrant, recordBenefitUsage, redeemGrant, releaseGrant } from '#shared/usecases/benefits';

const deps = { catalog: planCatalog(), memberships: membershipRepository(), benefits: benefitsRepository() };

/** Codes are read aloud and typed: accept lower case and missing dashes; a code that cannot exist is unknown. */
function normalizeCode(raw: string): string {
  const code = normalizeGrantCode(raw);
  if (code === null) throw problems.notFound('No such code.');
  return code;
}

const redeem = httpHandler(redeemCouponRoute, async ({ params, body, now }) =>
  json(200, await redeemGrant(deps, { code: normalizeCode(params.code), ...body }, now)),
);

const hold = httpHandler(holdCouponRoute, async ({ params, body, now }) =>
  json(200, await holdGrant(deps, { code: normalizeCode(params.code), ...body }, now)),
);

const commit = httpHandler(commitCouponRoute, async ({ params, body, now }) =>
  json(200, await commitGrant(deps, { code: normalizeCode(params.code), orderId: body.orderId }, now)),
);

const release = httpHandler(releaseCouponRoute, async ({ params, body, now }) =>
  json(200, await releaseGrant(deps, { code: normalizeCode(params.code), orderId: body.orderId }, now)),
);

const usage = httpHandler(benefitUsageRoute, async ({ body, now }) => json(200, await recordBenefitUsage(deps, body, now)));

const byRoute: Record<string, HttpLambda> = {
  [`${holdCouponRoute.method} ${holdCouponRoute.path}`]: hold,
  [`${commitCouponRoute.method} ${commitCouponRoute.path}`]: commit,
  [`${redeemCouponRoute.method} ${redeemCouponRoute.path}`]: redeem,
  [`${releaseCouponRoute.method} ${releaseCouponRoute.path}`]: release,
  [`${benefitUsageRoute.method} ${benefitUsageRoute.path}`]: usage,
};

/** One Lambda for the checkout's benefit writes: they share dependencies and warm containers. */
export const handler: HttpLambda = async (event, context) => {
  const route = byRoute[event.routeKey];
  if (!route) return problemResponse(problems.notFound(`No route for ${event.routeKey}.`));
  return route(event, context);
};
