/**
 * The resilience the checkout client needs and no small, fetch-only library gives together: a time
 * budget per call with a timeout per attempt, retries with full jitter, and one circuit breaker per
 * client. Kept free of the service's code and of any dependency, so the checkout can vendor it.
 */

/** Why a call could not get an answer from the service. */
export type FailureCause = 'timeout' | 'network' | 'server_error' | 'rate_limited' | 'circuit_open';

export interface Failure {
  cause: FailureCause;
  /** The HTTP status for `server_error` and `rate_limited`. */
  status?: number;
  /** Attempts made (0 when the breaker was open). */
  attempts: number;
}

export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';
  constructor(readonly failure: Failure) {
    super(
      `membership service unavailable: ${failure.cause}${failure.status ? ` ${failure.status}` : ''} after ${failure.attempts} attempt(s)`,
    );
  }
}

export interface CallPolicy {
  /** Abort an attempt after this long. */
  attemptTimeoutMs: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** No new attempt starts (nor waits for Retry-After) past this much time since the call began. */
  budgetMs: number;
  /** Backoff before attempt n+1 is a random wait in [0, baseDelayMs × 2^(n-1)] ("full jitter"). */
  baseDelayMs: number;
}

export interface BreakerOptions {
  /** Consecutive failed attempts that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before one probe call may try. */
  openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface Clock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * Closed: calls go through; `failureThreshold` failed attempts in a row open it. Open: calls fail at
 * once (no request) for `openMs`. Then half-open: one call probes; its success closes the breaker, its
 * failure opens it again. Answers of any status below 500 (a 404, a 409) count as successes: the
 * service is up.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private probing = false;

  constructor(
    private readonly options: BreakerOptions,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly onChange: (state: BreakerState) => void = () => {},
  ) {}

  get state(): BreakerState {
    if (this.openedAt === null) return 'closed';
    return this.clock.now() - this.openedAt >= this.options.openMs ? 'half-open' : 'open';
  }

  /** Whether a call may go out now; a half-open breaker lets exactly one through until it reports. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    const wasOpen = this.openedAt !== null;
    this.failures = 0;
    this.openedAt = null;
    this.probing = false;
    if (wasOpen) this.onChange('closed');
  }

  failure(): void {
    this.failures++;
    if (this.probing || (this.openedAt === null && this.failures >= this.options.failureThreshold)) {
      this.openedAt = this.clock.now();
      this.probing = false;
      this.onChange('open');
    }
  }
}

/** One attempt's outcome as the retry loop sees it. */
export type Attempt<T> = { kind: 'answer'; value: T } | { kind: 'retryable'; failure: Omit<Failure, 'attempts'>; retryAfterMs?: number };

/**
 * Runs `attempt` under the policy and the breaker: each attempt gets its own AbortSignal with the
 * attempt timeout; timeouts, network errors, 5xx and 429 are retried with jitter while the budget
 * lasts. Only safe for idempotent calls (every call of this API is: reads, and writes keyed by orderId).
 */
export async function withRetries<T>(
  policy: CallPolicy,
  breaker: CircuitBreaker,
  clock: Clock,
  attempt: (signal: AbortSignal) => Promise<Attempt<T>>,
): Promise<T> {
  const started = clock.now();
  let last: Omit<Failure, 'attempts'> = { cause: 'circuit_open' };
  let attempts = 0;
  while (attempts < policy.maxAttempts) {
    if (!breaker.tryAcquire())
      throw new ServiceUnavailableError({ ...last, cause: attempts === 0 ? 'circuit_open' : last.cause, attempts });
    attempts++;
    let outcome: Attempt<T>;
    try {
      outcome = await attempt(AbortSignal.timeout(policy.attemptTimeoutMs));
    } catch (error) {
      const name = (error as { name?: string })?.name;
      outcome = { kind: 'retryable', failure: { cause: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network' } };
    }
    if (outcome.kind === 'answer') {
      breaker.success();
      return outcome.value;
    }
    breaker.failure();
    last = outcome.failure;
    if (attempts >= policy.maxAttempts) break;
    const backoff = clock.random() * policy.baseDelayMs * 2 ** (attempts - 1);
    const wait = Math.max(backoff, outcome.retryAfterMs ?? 0);
    // A retry that cannot finish inside the budget is not worth starting: answer degraded now instead.
    if (clock.now() - started + wait + policy.attemptTimeoutMs > policy.budgetMs) break;
    await clock.sleep(wait);
  }
  throw new ServiceUnavailableError({ ...last, attempts });
}
