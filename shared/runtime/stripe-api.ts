import type Stripe from 'stripe';
import { logger } from '../observability';
import { createStripeClient, type StripeAccount } from '../stripe/client';
import type { ExpectedOrigin } from '../stripe/event-origin';
import { parseStripeSettings, type StripeSettings } from '../stripe/settings';

let cached: { key: string; client: Stripe } | undefined;

/**
 * The Stripe account of this container: the API client and the portal configuration. Locally from
 * `STRIPE_SECRET_KEY` and `STRIPE_PORTAL_CONFIGURATION_ID`; in AWS from the Secrets Manager secret
 * (`STRIPE_SECRET_KEY_ARN`, refreshed every five minutes), see shared/stripe/settings.ts. Null when
 * the key is unset or not a Stripe key: callers answer 503 problem+json, and the log says why.
 */
async function stripeSettings(env: NodeJS.ProcessEnv): Promise<StripeSettings> {
  let raw = env.STRIPE_SECRET_KEY;
  if (!raw && env.STRIPE_SECRET_KEY_ARN) {
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    raw = String((await getSecret(env.STRIPE_SECRET_KEY_ARN, { maxAge: 300 })) ?? '');
  }
  return parseStripeSettings(raw, env.STRIPE_PORTAL_CONFIGURATION_ID, env.STRIPE_ACCOUNT_ID);
}

export async function stripeAccount(env: NodeJS.ProcessEnv = process.env): Promise<StripeAccount | null> {
  const settings = await stripeSettings(env);
  if (!settings.configured) {
    // For the operator: which setting to fix (never its value). Shoppers see a plain 503.
    const log = settings.problem === 'unset' ? logger.warn.bind(logger) : logger.error.bind(logger);
    log('Stripe is not configured: payment routes answer 503', {
      problem: settings.problem,
      detail: settings.detail,
      setting: env.STRIPE_SECRET_KEY ? 'STRIPE_SECRET_KEY' : 'secret:stripe-api',
    });
    return null;
  }
  if (cached?.key !== settings.apiKey)
    cached = { key: settings.apiKey, client: createStripeClient({ ...env, STRIPE_SECRET_KEY: settings.apiKey })! };
  return { api: cached.client, portalConfigurationId: settings.portalConfigurationId };
}

/** The API client alone, for callers that need no account settings (the reconcile job). */
export async function stripeApi(env: NodeJS.ProcessEnv = process.env): Promise<Stripe | null> {
  return (await stripeAccount(env))?.api ?? null;
}

/**
 * The account and mode webhook events must come from: the configured key's mode and the account of
 * `STRIPE_ACCOUNT_ID` (or the secret's `accountId`). Without a usable key the mode is not known and
 * only connected accounts' events are told apart; the webhook does not call Stripe either way.
 */
export async function expectedEventOrigin(env: NodeJS.ProcessEnv = process.env): Promise<ExpectedOrigin> {
  const settings = await stripeSettings(env);
  if (settings.configured) return { livemode: settings.livemode, accountId: settings.accountId };
  const accountId = env.STRIPE_ACCOUNT_ID?.trim();
  return { livemode: null, accountId: accountId || null };
}
