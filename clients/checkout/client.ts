/**
 * The checkout's client of the membership service: typed from the service's OpenAPI document
 * (./openapi.ts, generated), on plain fetch through openapi-fetch, with cockatiel's policies for
 * resilience. Every call has a short timeout per attempt inside a time budget, retries with jitter
 * (every call of this API is idempotent: reads, and writes keyed by orderId), and goes through one
 * circuit breaker. When the service cannot answer, the entitlement check degrades instead of failing
 * the order: the member's last known entitlement from a short cache, else "unknown, proceed as a
 * non-member"; both ask the checkout to adjust the order later. README "Integrating your checkout".
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  fullJitterGenerator,
  handleWhen,
  type IPolicy,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import createClient from 'openapi-fetch';
import type { components, paths } from './openapi';

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

/** Why a call got no answer from the service. */
export type FailureCause = 'timeout' | 'network' | 'server_error' | 'rate_limited' | 'circuit_open';

export interface Failure {
  cause: FailureCause;
  /** The HTTP status of the last attempt, for `server_error` and `rate_limited`. */
  status?: number;
  /** Requests made (0 when the breaker was open). */
  attempts: number;
}

/** The service could not answer within the call's budget, or the breaker is open. */
export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';
  constructor(readonly failure: Failure) {
    super(
      `membership service unavailable: ${failure.cause}${failure.status ? ` ${failure.status}` : ''} after ${failure.attempts} attempt(s)`,
    );
  }
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

/** A write the service may not have been able to answer at all. */
export type WriteResult<T, P = Problem> = Answer<T, P> | { ok: false; status: 'unavailable'; failure: Failure };

/** The problem bodies a route documents for its 4xx answers. */
type ProblemOf<Path extends keyof paths> = paths[Path] extends { post: { responses: infer R } }
  ? {
      [S in keyof R]: S extends 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422
        ? R[S] extends { content: { 'application/problem+json': infer B } }
          ? B
          : never
        : never;
    }[keyof R]
  : never;

export type Operation = 'check' | 'quote' | 'write';

export interface CallPolicy {
  /** Abort an attempt after this long. */
  attemptTimeoutMs: number;
  /** Requests in all, the first included. */
  maxAttempts: number;
  /** The whole call, retries and backoff included, ends after this long. */
  budgetMs: number;
  /** Backoff before a retry: a random wait up to this doubled per attempt ("full jitter"). */
  baseDelayMs: number;
}

/** Defaults: the check and the quote are on the checkout's critical path; writes run a transaction. */
export const DEFAULT_POLICIES: Record<Operation, CallPolicy> = {
  check: { attemptTimeoutMs: 300, maxAttempts: 2, budgetMs: 700, baseDelayMs: 25 },
  quote: { attemptTimeoutMs: 300, maxAttempts: 2, budgetMs: 700, baseDelayMs: 25 },
  write: { attemptTimeoutMs: 1000, maxAttempts: 3, budgetMs: 2500, baseDelayMs: 50 },
};

export type BreakerState = 'closed' | 'open' | 'half-open';

export type ClientEvent =
  | { type: 'breaker'; state: BreakerState }
  | { type: 'degraded'; operation: Operation; source: 'cache' | 'unknown' | 'unavailable'; failure: Failure };

export interface CheckoutClientOptions {
  /** The service's address, e.g. the HTTP API's URL (the OpenAPI document's first server). */
  baseUrl: string;
  /** A service key with the `checkout` role. */
  apiKey: string;
  policies?: Partial<Record<Operation, Partial<CallPolicy>>>;
  /** Consecutive failed requests that open the breaker (5), and how long it stays open before one probe (5 s). */
  breaker?: { failureThreshold?: number; openMs?: number };
  /** The last known entitlement per member, for the degraded check: how long it is trusted (10 min), how many members kept (10,000). */
  cache?: { ttlMs?: number; maxEntries?: number };
  /** For metrics and logs: breaker changes and every degraded answer. */
  onEvent?: (event: ClientEvent) => void;
  fetch?: (request: Request) => Promise<Response>;
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

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/** An answer that says the service cannot serve now (5xx, 429): retried, and counted by the breaker. */
class OutageAnswer extends Error {
  constructor(readonly status: number) {
    super(`service answered ${status}`);
  }
}

/** Timeouts, network errors, 5xx and 429: retried and counted; an open breaker is neither. */
const isOutage = (error: unknown) => !(error instanceof BrokenCircuitError);

const BREAKER_STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

export function createCheckoutClient(options: CheckoutClientOptions): CheckoutClient {
  const emit = options.onEvent ?? (() => {});
  // One breaker for every call: an outage of ours takes reads and writes alike. It counts requests.
  const breaker = circuitBreaker(handleWhen(isOutage), {
    halfOpenAfter: options.breaker?.openMs ?? 5000,
    breaker: new ConsecutiveBreaker(options.breaker?.failureThreshold ?? 5),
  });
  breaker.onStateChange((state) => emit({ type: 'breaker', state: BREAKER_STATES[state] }));

  const policies = Object.fromEntries(
    (Object.keys(DEFAULT_POLICIES) as Operation[]).map((op) => {
      const p = { ...DEFAULT_POLICIES[op], ...options.policies?.[op] };
      const policy: IPolicy = wrap(
        timeout(p.budgetMs, TimeoutStrategy.Aggressive),
        retry(handleWhen(isOutage), {
          maxAttempts: p.maxAttempts - 1,
          backoff: new ExponentialBackoff({ generator: fullJitterGenerator, initialDelay: p.baseDelayMs, maxDelay: p.budgetMs }),
        }),
        breaker,
      );
      return [op, { policy, attemptTimeoutMs: p.attemptTimeoutMs }];
    }),
  ) as Record<Operation, { policy: IPolicy; attemptTimeoutMs: number }>;

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
    const { policy, attemptTimeoutMs } = policies[operation];
    let attempts = 0;
    let last: Omit<Failure, 'attempts'> = { cause: 'circuit_open' };
    try {
      return await policy.execute(async ({ signal }) => {
        attempts++;
        // The attempt ends at its own timeout, or with the call's budget (cockatiel aborts `signal`).
        const attempt = AbortSignal.any([signal, AbortSignal.timeout(attemptTimeoutMs)]);
        try {
          const { data, error, response } = await send(attempt);
          if (response.ok) return { ok: true, data: data as T };
          if (RETRYABLE_STATUS.has(response.status)) throw new OutageAnswer(response.status);
          return { ok: false, status: response.status, problem: error as P };
        } catch (failure) {
          last =
            failure instanceof OutageAnswer
              ? { cause: failure.status === 429 ? 'rate_limited' : 'server_error', status: failure.status }
              : { cause: attempt.aborted ? 'timeout' : 'network' };
          throw failure;
        }
      });
    } catch (error) {
      // The breaker refused before any request, or the budget ran out mid-attempt, or the last attempt failed.
      if (error instanceof BrokenCircuitError && attempts === 0) throw new ServiceUnavailableError({ cause: 'circuit_open', attempts });
      if (error instanceof TaskCancelledError) throw new ServiceUnavailableError({ cause: 'timeout', attempts });
      throw new ServiceUnavailableError({ ...last, attempts });
    }
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
    cache.set(memberId, { entitlement, at: Date.now() });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
  }

  return {
    get breakerState() {
      return BREAKER_STATES[breaker.state];
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
        const ageMs = known ? Date.now() - known.at : Number.POSITIVE_INFINITY;
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
