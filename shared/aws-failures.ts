/**
 * The one place that decides what an AWS SDK failure means for a caller. After the SDK's own retries,
 * an error that says "the service is out of reach, overloaded or timing out" becomes
 * `ProviderUnavailableError` (503 with Retry-After at the edge), raised by a middleware on the client
 * itself, so every repository, the idempotency layer and the secret readers get it without a
 * try/catch of their own. Everything else (a failed condition, a cancelled transaction, a validation
 * error) passes through unchanged: callers branch on those.
 *
 * The classification is the SDK's own (`@smithy/core/retry`, what its retry strategy uses), so a
 * failure we call transient is one the SDK already retried.
 */
import { type Provider, ProviderUnavailableError } from './errors';

type Classification = typeof import('@smithy/core/retry');
let classification: Promise<Classification> | undefined;

/**
 * Whether a failure that survived the SDK's retries means the service cannot serve us right now.
 * The classifier is loaded on the first failure: importing it eagerly initialises the whole retry
 * module at cold start (about 4 ms of the checkout's module load, bench/cold-start.ts).
 */
export async function isUnavailable(error: unknown): Promise<boolean> {
  if (!(error instanceof Error)) return false;
  classification ??= import('@smithy/core/retry');
  const { isServerError, isThrottlingError, isTransientError } = await classification;
  const e = error as unknown as Parameters<Classification['isTransientError']>[0];
  return isTransientError(e) || isThrottlingError(e) || isServerError(e);
}

const MESSAGES: Record<Provider, string> = {
  dynamodb: 'The database is temporarily unavailable. Nothing was changed that a retry would not finish; try again shortly.',
  secrets: 'The service cannot read its configuration right now. Try again shortly.',
  email: 'The email service is temporarily unavailable. Try again shortly.',
  stripe: 'The payment provider is temporarily unavailable. Try again shortly.',
};

/** Seconds a client should wait: these outages are usually seconds long, and the checkout retries. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

export function unavailable(provider: Provider, cause: unknown): ProviderUnavailableError {
  const error = new ProviderUnavailableError(provider, 'unavailable', MESSAGES[provider], UNAVAILABLE_RETRY_AFTER_SECONDS);
  // Kept for the log line (the edge logs every 5xx); never part of the answer.
  (error as Error & { cause?: unknown }).cause = cause;
  return error;
}

/**
 * The mapping as an SDK middleware, for `client.middlewareStack.add(unavailableMiddleware(p),
 * unavailableMiddlewareOptions(p))`. It sits in the `initialize` step, outside the retry middleware, so
 * it sees only what is left once the SDK's attempts are spent.
 */
export function unavailableMiddleware(provider: Provider) {
  return <A, R>(next: (args: A) => Promise<R>) =>
    async (args: A): Promise<R> => {
      try {
        return await next(args);
      } catch (error) {
        throw (await isUnavailable(error)) ? unavailable(provider, error) : error;
      }
    };
}

export const unavailableMiddlewareOptions = (provider: Provider) =>
  ({ step: 'initialize', name: `unavailable-${provider}`, priority: 'high', override: true }) as const;
