import { benefitUsageRoute, redeemCouponRoute, releaseCouponRoute } from '#shared/api/benefits';
import { normalizeGrantCode } from '#shared/domain/grant-codes';
import { httpHandler, json } from '#shared/http/handler';
import { type HttpProblem, problemResponse, problems } from '#shared/http/problem';
import type { HttpLambda } from '#shared/http/types';
import { planCatalog } from '#shared/runtime/catalog';
import { benefitsRepository, membershipRepository } from '#shared/runtime/dynamo';
import { BenefitError, recordBenefitUsage, redeemGrant, releaseGrant } from '#shared/usecases/benefits';

const deps = { catalog: planCatalog(), memberships: membershipRepository(), benefits: benefitsRepository() };

/** Codes are read aloud and typed: accept lower case and missing dashes; a code that cannot exist is unknown. */
function normalizeCode(raw: string): string {
  const code = normalizeGrantCode(raw);
  if (code === null) throw problems.notFound('No such code.');
  return code;
}

function toProblem(error: unknown): unknown {
  if (!(error instanceof BenefitError)) return error;
  if (error.kind === 'not_found') return problems.notFound(error.message);
  if (error.kind === 'conflict') return problems.conflict(error.message);
  return problems.unprocessable(error.reason ?? 'rejected', error.message);
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toProblem(error) as HttpProblem;
  }
}

const redeem = httpHandler(redeemCouponRoute, async ({ params, body, now }) =>
  json(200, await mapped(() => redeemGrant(deps, { code: normalizeCode(params.code), ...body }, now))),
);

const release = httpHandler(releaseCouponRoute, async ({ params, body, now }) =>
  json(200, await mapped(() => releaseGrant(deps, { code: normalizeCode(params.code), orderId: body.orderId }, now))),
);

const usage = httpHandler(benefitUsageRoute, async ({ body, now }) => json(200, await mapped(() => recordBenefitUsage(deps, body, now))));

const byRoute: Record<string, HttpLambda> = {
  [`${redeemCouponRoute.method} ${redeemCouponRoute.path}`]: redeem,
  [`${releaseCouponRoute.method} ${releaseCouponRoute.path}`]: release,
  [`${benefitUsageRoute.method} ${benefitUsageRoute.path}`]: usage,
};

/** One Lambda for the three checkout benefit routes: they share dependencies and warm containers. */
export const handler: HttpLambda = async (event, context) => {
  const route = byRoute[event.routeKey];
  if (!route) return problemResponse(problems.notFound(`No route for ${event.routeKey}.`));
  return route(event, context);
};
