import { AppError, ProviderFailedError, ProviderUnavailableError } from '../errors';
import { logger } from '../observability';

/** Failures a retry soon may get past: no answer in time, a network failure, Stripe's own 5xx, a key in use. */
const TRANSIENT = new Set(['StripeConnectionError', 'StripeAPIError', 'StripeIdempotencyError']);
const STRIPE_RETRY_AFTER_SECONDS = 5;

interface StripeLikeError {
  type?: unknown;
  statusCode?: unknown;
  code?: unknown;
  requestId?: unknown;
}

export const isStripeError = (error: unknown): error is Error & StripeLikeError =>
  error instanceof Error &&
  typeof (error as StripeLikeError).type === 'string' &&
  String((error as StripeLikeError).type).startsWith('Stripe');

/**
 * Maps a Stripe failure that survived the SDK's retries to a typed error (the edge answers it): rate limits to 503
 * with Retry-After (try again shortly); a key Stripe refuses (401 invalid, 403 a restricted key
 * without the permission) to 503, as our configuration is at fault, with an error log line telling
 * the operator what to fix; everything else (5xx, network, no answer in time, a request Stripe refused)
 * to 502, with Retry-After when a retry may get through. Never
 * passes Stripe's message through: it can name internals. Non-Stripe errors are rethrown.
 */
export function stripeFailure(error: unknown, operation: string): never {
  if (error instanceof AppError || !isStripeError(error)) throw error;
  const type = String(error.type);
  const details = { operation, stripeErrorType: type, status: error.statusCode, code: error.code, stripeRequestId: error.requestId };
  if (type === 'StripeAuthenticationError' || type === 'StripePermissionError') {
    logger.error(
      'Stripe refused our API key: set a valid key with the needed permissions in secret:stripe-api (docs/operations.md)',
      details,
    );
    throw new ProviderUnavailableError('stripe', 'not_configured', 'Payments are temporarily unavailable. Try again later.');
  }
  logger.warn('stripe call failed', details);
  if (type === 'StripeRateLimitError') {
    throw new ProviderUnavailableError('stripe', 'busy', 'The payment provider is busy. Try again in a few seconds.');
  }
  throw new ProviderFailedError(
    'stripe',
    'failed',
    'The payment provider could not complete the request. Nothing was changed that a retry would not finish; try again.',
    TRANSIENT.has(type) ? STRIPE_RETRY_AFTER_SECONDS : null,
  );
}

/** Runs one Stripe call, turning its failures into problems. */
export async function callStripe<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    stripeFailure(error, operation);
  }
}

export const stripeUnavailable = () =>
  new ProviderUnavailableError('stripe', 'not_configured', 'Payments are not configured on this server (no Stripe API key).');
