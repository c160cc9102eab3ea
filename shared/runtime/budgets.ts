/**
 * Time budgets of the clients, so that a dependency that does not answer costs a bounded time and the
 * caller gets a 503/502 with Retry-After instead of a Lambda timeout (a bare 500 from API Gateway).
 * infra/ sets each function's budget from its manifest entry (timeout, checkout path); a CDK test
 * holds every budget's worst case under the function's timeout. Pure: infra imports it at synth.
 */

/** One DynamoDB call: connection and response timeouts per attempt, attempts in all (the SDK's retries). */
export interface DynamoBudget {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  maxAttempts: number;
}

export const DYNAMO_BUDGETS = {
  /** The checkout's calls (entitlement check, benefits): a dead table answers 503 in about 2 s. */
  checkout: { connectTimeoutMs: 300, requestTimeoutMs: 600, maxAttempts: 2 },
  /** Functions with a timeout under 20 s. */
  short: { connectTimeoutMs: 500, requestTimeoutMs: 1500, maxAttempts: 2 },
  /** Functions with up to a minute (webhook, shopper and finance routes). */
  standard: { connectTimeoutMs: 1000, requestTimeoutMs: 2500, maxAttempts: 3 },
  /** Scheduled jobs (minutes): ride out a longer blip rather than fail the run. */
  job: { connectTimeoutMs: 1000, requestTimeoutMs: 5000, maxAttempts: 5 },
  /**
   * Outside Lambda (npm start, tests, bench): generous, because DynamoDB Local on a busy laptop can
   * pause for a second, and a local timeout would only make tests flaky.
   */
  local: { connectTimeoutMs: 2000, requestTimeoutMs: 10_000, maxAttempts: 3 },
} as const satisfies Record<string, DynamoBudget>;

export function dynamoBudgetFor(fn: { timeoutSeconds: number; checkoutPath: boolean; job: boolean }): DynamoBudget {
  if (fn.checkoutPath) return DYNAMO_BUDGETS.checkout;
  if (fn.job) return DYNAMO_BUDGETS.job;
  return fn.timeoutSeconds < 20 ? DYNAMO_BUDGETS.short : DYNAMO_BUDGETS.standard;
}

/**
 * The longest one DynamoDB call can take: every attempt runs into both timeouts, and the SDK waits
 * its longest backoff between attempts (throttling: up to 1 s, doubling; @smithy/core retry).
 */
export function dynamoWorstCaseMs(b: DynamoBudget): number {
  const backoff = 1000 * (2 ** (b.maxAttempts - 1) - 1);
  return b.maxAttempts * (b.connectTimeoutMs + b.requestTimeoutMs) + backoff;
}

/** The environment variables infra sets from a budget; `dynamoBudgetFromEnv` reads them back. */
export function dynamoBudgetEnvironment(b: DynamoBudget): Record<string, string> {
  return {
    DYNAMODB_CONNECT_TIMEOUT_MS: String(b.connectTimeoutMs),
    DYNAMODB_REQUEST_TIMEOUT_MS: String(b.requestTimeoutMs),
    DYNAMODB_MAX_ATTEMPTS: String(b.maxAttempts),
  };
}

const positive = (value: string | undefined, fallback: number, name: string) => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
};

export function dynamoBudgetFromEnv(env: NodeJS.ProcessEnv): DynamoBudget {
  const local = DYNAMO_BUDGETS.local;
  return {
    connectTimeoutMs: positive(env.DYNAMODB_CONNECT_TIMEOUT_MS, local.connectTimeoutMs, 'DYNAMODB_CONNECT_TIMEOUT_MS'),
    requestTimeoutMs: positive(env.DYNAMODB_REQUEST_TIMEOUT_MS, local.requestTimeoutMs, 'DYNAMODB_REQUEST_TIMEOUT_MS'),
    maxAttempts: positive(env.DYNAMODB_MAX_ATTEMPTS, local.maxAttempts, 'DYNAMODB_MAX_ATTEMPTS'),
  };
}

/**
 * One Stripe API call: the SDK's timeout per attempt and its retries. A shopper waits for the answer,
 * so a Stripe that accepts and never answers costs two short attempts (about 6.5 s) and a 502 with
 * Retry-After; a job can wait longer. Each attempt is also cut to the time the invocation has left
 * (shared/stripe/client.ts), so a request never outlives its Lambda.
 */
export interface StripeBudget {
  timeoutMs: number;
  maxNetworkRetries: number;
}

export const STRIPE_BUDGETS = {
  shopper: { timeoutMs: 3000, maxNetworkRetries: 1 },
  job: { timeoutMs: 20_000, maxNetworkRetries: 3 },
} as const satisfies Record<string, StripeBudget>;

/** stripe-node sleeps 0.5 s before the first retry, doubling, at most 5 s. */
export function stripeWorstCaseMs(b: StripeBudget): number {
  let sleeps = 0;
  for (let i = 0; i < b.maxNetworkRetries; i++) sleeps += Math.min(500 * 2 ** i, 5000);
  return (b.maxNetworkRetries + 1) * b.timeoutMs + sleeps;
}

/** Time an HTTP function keeps to answer once a dependency has used up its budget. */
export const ANSWER_RESERVE_MS = 1500;
