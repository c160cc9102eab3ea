import type Stripe from 'stripe';
import { createStripeClient } from '../stripe/client';

const REFRESH_MS = 5 * 60_000;
let cached: { fingerprint: string; client: Stripe | null; loadedAt: number } | undefined;

/**
 * The Stripe API client of this container, or null when no key is configured (callers answer 503).
 * Locally the key is `STRIPE_SECRET_KEY`; in AWS it is read from Secrets Manager
 * (`STRIPE_SECRET_KEY_ARN`) and re-read every five minutes so a rolled key needs no deploy.
 * Rebuilt when the key or `STRIPE_API_BASE` changes (tests switch them between cases).
 */
export async function stripeApi(env: NodeJS.ProcessEnv = process.env): Promise<Stripe | null> {
  let key = env.STRIPE_SECRET_KEY ?? '';
  if (!key && env.STRIPE_SECRET_KEY_ARN) {
    if (cached && cached.fingerprint.startsWith('arn:') && Date.now() - cached.loadedAt < REFRESH_MS) return cached.client;
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    key = String((await getSecret(env.STRIPE_SECRET_KEY_ARN, { maxAge: REFRESH_MS / 1000 })) ?? '').trim();
  }
  const fingerprint = `${env.STRIPE_SECRET_KEY ? 'env' : 'arn:'}|${key}|${env.STRIPE_API_BASE ?? ''}`;
  if (cached?.fingerprint === fingerprint) {
    cached.loadedAt = Date.now();
    return cached.client;
  }
  cached = { fingerprint, client: createStripeClient({ ...env, STRIPE_SECRET_KEY: key }), loadedAt: Date.now() };
  return cached.client;
}
