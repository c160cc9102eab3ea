/**
 * The checkout's client of the membership service: typed from the service's OpenAPI document
 * (./openapi.ts, generated), on plain fetch through openapi-fetch. Every call has a short timeout per
 * attempt and a time budget, retries with jitter (every call of this API is idempotent: reads, and
 * writes keyed by orderId), and shares one circuit breaker. When the service cannot answer, the
 * entitlement check degrades instead of failing the order: the member's last known entitlement from a
 * short cache, else "unknown, proceed as a non-member"; both ask the checkout to adjust the order
 * later. The README's "Integrating your checkout" explains when to use which call.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './openapi';
import {
  type Attempt,
  type BreakerOptions,
  type BreakerState,
  type CallPolicy,
  CircuitBreaker,
  type Clock,
  type Failure,
  ServiceUnavailableError,
  systemClock,
  withRetries,
} from './resilience';

type Schemas = components['schemas'];
export type Entitlement = Schemas['Entitlement'];
export type OrderContext = Schemas['OrderContext'];
export type Quote = Schemas['Quote'];
export type QuoteRequest = Schemas['QuoteRequest'];
export type HoldRequest = Schemas['HoldRequest'];
export type Hold = Schemas['Hold'];
export type RedeemRequest = Schemas['RedeemRequest'];
export type Redemption = Schemas['Redemption'];
export type Release = Schemas['ReleaseCouponResponse'];
export type BenefitUsageRequest = Schemas['RecordBenefitUsageRequest'];
export type BenefitUsage = Schemas['RecordBenefitUsageResponse'];
export type Problem = Schemas['Problem'];
export { type Failure, type FailureCause, ServiceUnavailableError } from './resilience';

/**
 * The check's answer. `service`: from the service, now. `cache`: the service could not answer; this is
 * the member's last known entitlement, `ageMs` old (honour `entitled` and free shipping; coupons and
 * vouchers cannot be held meanwhile). `unknown`: nothing known; proceed as a non-member. Both degraded
 * answers carry `adjustLater: true`: record the order and re-check it once the service is back.
 */
export type CheckResult =
  | { source: 'service'; entitlement: Entitlement }
  | { source: 'cache'; entitlement: Entitlement; ageMs: number; failure: Failure; adjustLater: true }
  | { source: 'unknown'; entitlement: null; failure: Failure; adjustLater: true };

/** A call the service answered: the 2xx body, or the documented problem (4xx) of that route. */
export type Answer<T, P = Problem> = { ok: true; data: T } | { ok: false; status: number; problem: P };

/** A write the service may not have been able to answer at all (see `ServiceUnavailableError`). */
export type WriteResult<T, P = Problem> = Answer<T, P> | { ok: false; status: 'unavailable'; failure: Failure };

type ProblemOf<Path extends keyof paths> = paths[Path] extends {
  post: { responses: infer R };
}
  ? {
      [S in keyof R]: S extends 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422
        ? R[S] extends { content: { 'application/problem+json': infer B } }
          ? B
          : never
        : never;
    }[keyof R]
  : never;

export type Operation = 'check' | 'quote' | 'write';

/** Defaults: the check and the quote are on the checkout's critical path; writes run a transaction. */
export const DEFAULT_POLICIES: Record<Operation, CallPolicy> = {
  check: { attemptTimeoutMs: 300, maxAttempts: 2, budgetMs: 700, baseDelayMs: 25 },
  quote: { attemptTimeoutMs: 300, maxAttempts: 2, budgetMs: 700, baseDelayMs: 25 },
  write: { attemptTimeoutMs: 1000, maxAttempts: 3, budgetMs: 2500, baseDelayMs: 50 },
};

export type ClientEvent =
  | { type: 'breaker'; state: BreakerState }
  | { type: 'degraded'; operation: Operation; source: 'cache' | 'unknown' | 'unavailable'; failure: Failure };

export interface CheckoutClientOptions {
  /** The service's address, e.g. the HTTP API's URL (the OpenAPI document's first server). */
  baseUrl: string;
  /** A service key with the `checkout` role. */
  apiKey: string;
  policies?: Partial<Record<Operation, Partial<CallPolicy>>>;
  breaker?: Partial<BreakerOptions>;
  /** The last known entitlement per member, for the degraded check: how long it is trusted, how many members kept. */
  cache?: { ttlMs?: number; maxEntries?: number };
  /** For metrics and logs: breaker changes and every degraded answer. */
  onEvent?: (event: ClientEvent) => void;
  fetch?: (request: Request) => Promise<Response>;
  clock?: Partial<Clock>;
}

export interface CheckoutClient {
  /** Is this shopper an entitled member, and which benefits apply to this order? Never throws for the service being down. */
  checkEntitlement(memberId: string, order?: OrderContext): Promise<CheckResult>;
  /** Prices the member's benefits for an order. Throws `ServiceUnavailableError` when the service cannot answer. */
  quote(request: QuoteRequest): Promise<Answer<Quote, ProblemOf<'/v1/orders/quote'>>>;
  hold(code: string, request: HoldRequest): Promise<WriteResult<Hold, ProblemOf<'/v1/coupons/{code}/hold'>>>;
  commit(code: string, orderId: string): Promise<WriteResult<Redemption, ProblemOf<'/v1/coupons/{code}/commit'>>>;
  redeem(code: string, request: RedeemRequest): Promise<WriteResult<Redemption, ProblemOf<'/v1/coupons/{code}/redeem'>>>;
  release(code: string, orderId: string): Promise<WriteResult<Release, ProblemOf<'/v1/coupons/{code}/release'>>>;
  reportBenefitUsage(request: BenefitUsageRequest): Promise<WriteResult<BenefitUsage, ProblemOf<'/v1/benefit-usage'>>>;
  readonly breakerState: BreakerState;
}

/** A 4xx the caller must see (a bad request, a wrong key): a configuration or programming error, not an outage. */
export class CheckoutApiError extends Error {
  override name = 'CheckoutApiError';
  constructor(
    readonly status: number,
    readonly problem: unknown,
  ) {
    super(`membership service refused the request: ${status} ${(problem as { detail?: string })?.detail ?? ''}`.trim());
  }
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

export function createCheckoutClient(options: CheckoutClientOptions): CheckoutClient {
  const clock: Clock = { ...systemClock, ...options.clock };
  const policies = Object.fromEntries(
    (Object.keys(DEFAULT_POLICIES) as Operation[]).map((op) => [op, { ...DEFAULT_POLICIES[op], ...options.policies?.[op] }]),
  ) as Record<Operation, CallPolicy>;
  const emit = options.onEvent ?? (() => {});
  const breaker = new CircuitBreaker({ failureThreshold: 5, openMs: 5000, ...options.breaker }, clock, (state) =>
    emit({ type: 'breaker', state }),
  );
  const api = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ''),
    headers: { authorization: `Bearer ${options.apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const ttlMs = options.cache?.ttlMs ?? 10 * 60_000;
  const maxEntries = options.cache?.maxEntries ?? 10_000;
  const cache = new Map<string, { entitlement: Entitlement; at: number }>();

  /** One call under its policy: an answer (2xx, or a 4xx problem), or ServiceUnavailableError. */
  async function call<T, P>(
    operation: Operation,
    send: (signal: AbortSignal) => Promise<{ data?: T; error?: P; response: Response }>,
  ): Promise<Answer<T, P>> {
    return withRetries<Answer<T, P>>(policies[operation], breaker, clock, async (signal): Promise<Attempt<Answer<T, P>>> => {
      const { data, error, response } = await send(signal);
      if (response.ok) return { kind: 'answer', value: { ok: true, data: data as T } };
      if (RETRYABLE_STATUS.has(response.status)) {
        const retryAfter = retryAfterMs(response);
        return {
          kind: 'retryable',
          failure: { cause: response.status === 429 ? 'rate_limited' : 'server_error', status: response.status },
          ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
        };
      }
      return { kind: 'answer', value: { ok: false, status: response.status, problem: error as P } };
    });
  }

  async function write<T, P>(
    send: (signal: AbortSignal) => Promise<{ data?: T; error?: P; response: Response }>,
  ): Promise<WriteResult<T, P>> {
    try {
      return await call('write', send);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
      emit({ type: 'degraded', operation: 'write', source: 'unavailable', failure: error.failure });
      return { ok: false, status: 'unavailable', failure: error.failure };
    }
  }

  function remember(memberId: string, entitlement: Entitlement) {
    cache.delete(memberId);
    cache.set(memberId, { entitlement, at: clock.now() });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
  }

  return {
    get breakerState() {
      return breaker.state;
    },

    async checkEntitlement(memberId, order) {
      try {
        const answer = await call('check', (signal) =>
          api.POST('/v1/entitlements/check', { body: { memberId, ...(order ? { order } : {}) }, signal }),
        );
        if (!answer.ok) throw new CheckoutApiError(answer.status, answer.problem);
        remember(memberId, answer.data);
        return { source: 'service', entitlement: answer.data };
      } catch (error) {
        if (!(error instanceof ServiceUnavailableError)) throw error;
        const known = cache.get(memberId);
        const ageMs = known ? clock.now() - known.at : Number.POSITIVE_INFINITY;
        if (known && ageMs <= ttlMs) {
          emit({ type: 'degraded', operation: 'check', source: 'cache', failure: error.failure });
          return { source: 'cache', entitlement: known.entitlement, ageMs, failure: error.failure, adjustLater: true };
        }
        emit({ type: 'degraded', operation: 'check', source: 'unknown', failure: error.failure });
        return { source: 'unknown', entitlement: null, failure: error.failure, adjustLater: true };
      }
    },

    async quote(request) {
      try {
        return await call('quote', (signal) => api.POST('/v1/orders/quote', { body: request, signal }));
      } catch (error) {
        if (error instanceof ServiceUnavailableError)
          emit({ type: 'degraded', operation: 'quote', source: 'unavailable', failure: error.failure });
        throw error;
      }
    },

    hold: (code, request) => write((signal) => api.POST('/v1/coupons/{code}/hold', { params: { path: { code } }, body: request, signal })),
    commit: (code, orderId) =>
      write((signal) => api.POST('/v1/coupons/{code}/commit', { params: { path: { code } }, body: { orderId }, signal })),
    redeem: (code, request) =>
      write((signal) => api.POST('/v1/coupons/{code}/redeem', { params: { path: { code } }, body: request, signal })),
    release: (code, orderId) =>
      write((signal) => api.POST('/v1/coupons/{code}/release', { params: { path: { code } }, body: { orderId }, signal })),
    reportBenefitUsage: (request) => write((signal) => api.POST('/v1/benefit-usage', { body: request, signal })),
  };
}
