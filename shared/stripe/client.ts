import Stripe from 'stripe';
import { STRIPE_API_VERSION } from './api-version';

/** The Stripe account a function works with: its API client and the portal configuration to use. */
export interface StripeAccount {
  api: Stripe;
  /** `billing_portal.configuration` for portal sessions; null uses the account's default one. */
  portalConfigurationId: string | null;
}

/**
 * How long the client may wait: the SDK's timeout per attempt and its retries (shared/runtime/budgets.ts),
 * and optionally the time the invocation has left to spend on Stripe at all.
 */
export interface StripeClientBudget {
  timeoutMs: number;
  maxNetworkRetries: number;
  /** Milliseconds left for Stripe in this request; each attempt is cut to it, none starts at 0. */
  remainingMs?: () => number;
}

type HttpClientInterface = ReturnType<typeof Stripe.createNodeHttpClient>;

/**
 * The SDK's own Node HTTP client, with every attempt's timeout cut to what the request has left. A
 * Stripe that accepts and never answers then costs at most the request's budget, and the SDK's retry
 * finds no time left and fails at once: the shopper gets a 502 with Retry-After from the function
 * instead of a Lambda timeout.
 */
function deadlineHttpClient(remainingMs: () => number): HttpClientInterface {
  const inner = Stripe.createNodeHttpClient();
  return {
    getClientName: () => inner.getClientName(),
    makeRequest: (host, port, path, method, headers, requestData, protocol, timeout) => {
      const left = Math.floor(remainingMs());
      if (left <= 0) return Promise.reject(Stripe.HttpClient.makeTimeoutError());
      return inner.makeRequest(host, port, path, method, headers, requestData, protocol, Math.min(timeout, left));
    },
  };
}

/**
 * The Stripe API client, pinned to our API version. `STRIPE_API_BASE` sends calls elsewhere (the test
 * double in tests). Returns null without `STRIPE_SECRET_KEY`: callers answer 503 problem+json.
 * Only functions that call Stripe import this module, so the SDK stays out of other bundles.
 */
export function createStripeClient(env: NodeJS.ProcessEnv, budget: StripeClientBudget): Stripe | null {
  const key = env.STRIPE_SECRET_KEY;
  if (!key) return null;
  const base = env.STRIPE_API_BASE ? new URL(env.STRIPE_API_BASE) : null;
  return new Stripe(key, {
    apiVersion: STRIPE_API_VERSION as Stripe.LatestApiVersion,
    maxNetworkRetries: budget.maxNetworkRetries,
    timeout: budget.timeoutMs,
    telemetry: false,
    ...(budget.remainingMs ? { httpClient: deadlineHttpClient(budget.remainingMs) } : {}),
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
          protocol: base.protocol.replace(':', '') as 'http' | 'https',
        }
      : {}),
  });
}
