import { parseRateLimit } from '../domain/rate-limit';
import { DynamoRateCounter } from '../storage/rate-limits';
import { DynamoShopperRepository } from '../storage/shopper-repository';
import type { ShopperRateLimit } from '../usecases/shopper-limit';
import { dynamo } from './dynamo';

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

/** SHOPPER_STRIPE_RATE_LIMIT (`<requests>/<seconds>`, default 10/600), counted in the table. */
export function shopperRateLimit(env: NodeJS.ProcessEnv = process.env): ShopperRateLimit {
  const { doc, tables } = dynamo();
  return {
    counter: new DynamoRateCounter(doc, tables.main),
    limit: parseRateLimit(env.SHOPPER_STRIPE_RATE_LIMIT || DEFAULT_SHOPPER_STRIPE_RATE_LIMIT, 'SHOPPER_STRIPE_RATE_LIMIT'),
  };
}
