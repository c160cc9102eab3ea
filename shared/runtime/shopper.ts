import { parseRateLimit } from '../domain/rate-limit';
import { parseShopOrigins } from '../domain/redirects';
import { DynamoRateCounter } from '../storage/rate-limits';
import { DynamoShopperRepository } from '../storage/shopper-repository';
import type { ShopperRateLimit } from '../usecases/shopper-limit';
import { planCatalog } from './catalog';
import { dynamo, membershipRepository } from './dynamo';

let repository: DynamoShopperRepository | undefined;

export function shopperRepository(): DynamoShopperRepository {
  if (!repository) {
    const { doc, tables } = dynamo();
    repository = new DynamoShopperRepository(doc, tables.main);
  }
  return repository;
}

/** Default per-shopper limit of the routes that call Stripe: ten requests per ten minutes. */
export const DEFAULT_SHOPPER_STRIPE_RATE_LIMIT = '10/600';

/** SHOPPER_STRIPE_RATE_LIMIT: `<requests>/<seconds>`, default 10/600. */
export const shopperStripeRateLimit = (env: NodeJS.ProcessEnv = process.env) =>
  parseRateLimit(env.SHOPPER_STRIPE_RATE_LIMIT || DEFAULT_SHOPPER_STRIPE_RATE_LIMIT, 'SHOPPER_STRIPE_RATE_LIMIT');

/** The limit in force and its counter in the table. */
export function shopperRateLimit(env: NodeJS.ProcessEnv = process.env): ShopperRateLimit {
  const { doc, tables } = dynamo();
  return { counter: new DynamoRateCounter(doc, tables.main), limit: shopperStripeRateLimit(env) };
}

/**
 * Local default of the shop's origins: the local server, and `https://shop.example` (a reserved
 * name nobody can own) that the docs' curl lines use.
 */
export const LOCAL_SHOP_ORIGINS = 'https://shop.example,http://127.0.0.1:3000,http://localhost:3000';

/**
 * SHOP_ORIGINS: where Checkout and the portal may send shoppers back to. In AWS infra sets it from
 * CDK context `shopOrigins` (validated at synth) and only https origins are accepted; locally it
 * defaults to LOCAL_SHOP_ORIGINS. A malformed list stops the function at load, naming each entry.
 */
export function shopOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  const inAws = Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
  const text = env.SHOP_ORIGINS || (inAws ? '' : LOCAL_SHOP_ORIGINS);
  const { origins, problems } = parseShopOrigins(text, { httpsOnly: inAws });
  if (problems.length) throw new Error(`SHOP_ORIGINS: ${problems.join('; ')}`);
  return origins;
}

/** What every shopper route that calls Stripe needs, but the Stripe account (per request: stripeForRequest). */
export function shopperRouteDeps() {
  return {
    catalog: planCatalog(),
    memberships: membershipRepository(),
    shoppers: shopperRepository(),
    rateLimit: shopperRateLimit(),
    shopOrigins: shopOrigins(),
  };
}
