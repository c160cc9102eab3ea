import type { Context } from 'aws-lambda';
import type Stripe from 'stripe';
import { logger } from '../observability';
import { createStripeClient, type StripeAccount } from '../stripe/client';
import type { ExpectedOrigin } from '../stripe/event-origin';
import { parseStripeSettings, type StripeSettings } from '../stripe/settings';
import { ANSWER_RESERVE_MS, STRIPE_BUDGETS, type StripeBudget } from './budgets';
import { readSecret } from './secrets';

let cached: { key: string; budget: StripeBudget; client: Stripe } | undefined;

export interface StripeAccess {
  /** Timeout per attempt and retries; the job budget unless said otherwise. */
  budget?: StripeBudget;
  /** Time left for Stripe in this request: a client of its own whose attempts never outlive it. */
  remainingMs?: () => number;
}

/**
 * The Stripe account of this container: the API client and the portal configuration. Locally from
 * `STRIPE_SECRET_KEY` and `STRIPE_PORTAL_CONFIGURATION_ID`; in AWS from the Secrets Manager secret
 * (`STRIPE_SECRET_KEY_ARN`, refreshed every five minutes), see shared/stripe/settings.ts. Null when
 * the key is unset or not a Stripe key: callers answer 503 problem+json, and the log says why.
 */
async function stripeSettings(env: NodeJS.ProcessEnv): Promise<StripeSettings> {
  let raw = env.STRIPE_SECRET_KEY;
  if (!raw && env.STRIPE_SECRET_KEY_ARN) {
    raw = await readSecret(env.STRIPE_SECRET_KEY_ARN, env);
  }
  return parseStripeSettings(raw, env.STRIPE_PORTAL_CONFIGURATION_ID, env.STRIPE_ACCOUNT_ID);
}

export async function stripeAccount(env: NodeJS.ProcessEnv = process.env, access: StripeAccess = {}): Promise<StripeAccount | null> {
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
  const budget = access.budget ?? STRIPE_BUDGETS.job;
  const keyed = { ...env, STRIPE_SECRET_KEY: settings.apiKey };
  // A deadline is the request's own: a fresh client (about 0.1 ms; connections are pooled by the SDK).
  if (access.remainingMs) {
    return {
      api: createStripeClient(keyed, { ...budget, remainingMs: access.remainingMs })!,
      portalConfigurationId: settings.portalConfigurationId,
    };
  }
  if (cached?.key !== settings.apiKey || cached.budget !== budget)
    cached = { key: settings.apiKey, budget, client: createStripeClient(keyed, budget)! };
  return { api: cached.client, portalConfigurationId: settings.portalConfigurationId };
}

/**
 * The Stripe account for one shopper request: short attempts (STRIPE_BUDGETS.shopper), none of them
 * running into the last ANSWER_RESERVE_MS of the invocation, which the function keeps to answer.
 */
export const stripeForRequest = (context: Pick<Context, 'getRemainingTimeInMillis'>) => () =>
  stripeAccount(process.env, {
    budget: STRIPE_BUDGETS.shopper,
    remainingMs: () => context.getRemainingTimeInMillis() - ANSWER_RESERVE_MS,
  });

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
