import Stripe from 'stripe';
import { STRIPE_API_VERSION } from './api-version';

/** The Stripe account a function works with: its API client and the portal configuration to use. */
export interface StripeAccount {
  api: Stripe;
  /** `billing_portal.configuration` for portal sessions; null uses the account's default one. */
  portalConfigurationId: string | null;
}

/**
 * The Stripe API client, pinned to our API version. `STRIPE_API_BASE` sends calls elsewhere (the test
 * double in tests). Returns null without `STRIPE_SECRET_KEY`: callers answer 503 problem+json.
 * Only functions that call Stripe import this module, so the SDK stays out of other bundles.
 */
export function createStripeClient(env: NodeJS.ProcessEnv = process.env): Stripe | null {
  const key = env.STRIPE_SECRET_KEY;
  if (!key) return null;
  const base = env.STRIPE_API_BASE ? new URL(env.STRIPE_API_BASE) : null;
  return new Stripe(key, {
    apiVersion: STRIPE_API_VERSION as Stripe.LatestApiVersion,
    maxNetworkRetries: 2,
    timeout: 10_000,
    telemetry: false,
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
          protocol: base.protocol.replace(':', '') as 'http' | 'https',
        }
      : {}),
  });
}
