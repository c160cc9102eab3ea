import { fixedWindow, type RateLimit } from '../domain/rate-limit';
import { RateLimitedError } from '../errors';
import type { DynamoRateCounter } from '../storage/rate-limits';

/** The per-shopper limit of the routes that call Stripe: the counter and the limit in force. */
export interface ShopperRateLimit {
  counter: Pick<DynamoRateCounter, 'count'>;
  limit: RateLimit;
}

/** The four shopper routes that call Stripe share one budget: it is Stripe calls they cost. */
export const STRIPE_ROUTES_BUCKET = 'stripe';

/**
 * Counts one request of the shopper against the limit; over it, RateLimitedError (429 with
 * Retry-After until the window ends). Counted before any Stripe call, and refused requests count too:
 * a client hammering the route keeps itself out until it waits.
 */
export async function admitShopper(rate: ShopperRateLimit, memberId: string, now: Date): Promise<void> {
  const window = fixedWindow(now, rate.limit.windowSeconds);
  const count = await rate.counter.count(memberId, STRIPE_ROUTES_BUCKET, window);
  if (count > rate.limit.limit) {
    const seconds = rate.limit.windowSeconds;
    const every = seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} seconds`;
    throw new RateLimitedError(
      `Too many payment requests for this account: at most ${rate.limit.limit} every ${every}. Try again in ${window.retryAfterSeconds} seconds.`,
      window.retryAfterSeconds,
    );
  }
}
