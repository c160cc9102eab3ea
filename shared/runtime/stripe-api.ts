import type Stripe from 'stripe';
import { createStripeClient } from '../stripe/client';

let cached: { key: string; client: Stripe } | undefined;

/**
 * The Stripe API client of this container. Locally `STRIPE_SECRET_KEY`; in AWS the key is read from
 * Secrets Manager (`STRIPE_SECRET_KEY_ARN`, refreshed every five minutes). Null when no key is
 * configured: callers answer 503 problem+json.
 */
export async function stripeApi(env: NodeJS.ProcessEnv = process.env): Promise<Stripe | null> {
  let key = env.STRIPE_SECRET_KEY;
  if (!key && env.STRIPE_SECRET_KEY_ARN) {
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    key = String(await getSecret(env.STRIPE_SECRET_KEY_ARN, { maxAge: 300 }) ?? '').trim();
  }
  if (!key) return null;
  if (cached?.key !== key) cached = { key, client: createStripeClient({ ...env, STRIPE_SECRET_KEY: key })! };
  return cached.client;
}
