/**
 * The errors use cases and adapters raise. They say what went wrong in the caller's terms and know
 * nothing of HTTP: the edge (shared/http/problem.ts `problemFor`) maps each kind to one problem+json
 * answer, and docs/errors.md lists them (a unit test keeps the two in step).
 *
 * `reason` is a stable snake_case word a client may branch on; `details` are extra fields the answer
 * carries (documented per route in shared/api).
 */
export type ErrorDetails = Record<string, string | number | boolean | null>;

/**
 * Why a request conflicts with the state it found (409 `reason`). One list for the whole service, so
 * docs/errors.md can be checked against it.
 */
export const CONFLICT_REASONS = [
  'already_member',
  'checkout_superseded',
  'no_billing_account',
  'membership_ended',
  'no_membership',
  'nothing_to_resume',
  'redeemed_by_another_order',
  'held_by_another_order',
  'redeemed_by_this_order',
  'hold_lapsed',
  'not_held_by_this_order',
  'not_redeemed_by_this_order',
  'usage_differs',
  'no_withdrawal_right',
  'withdrawal_period_over',
  'membership_renewing',
  'offer_expired',
  // Households (docs/household.md)
  'no_household_plan',
  'in_another_household',
  'household_full',
  'already_in_household',
  'rejoin_locked',
  'own_membership',
  'household_inactive',
  'household_owner',
  'gift_already_claimed',
  'gift_not_refundable',
] as const;
export type ConflictReason = (typeof CONFLICT_REASONS)[number];

/** Why the domain refuses a well-formed request (422, typed `/problems/<reason with dashes>`). */
export const REJECTION_REASONS = [
  'not_entitled',
  'expired',
  'wrong_currency',
  'below_min_subtotal',
  'service_level_mismatch',
  'void',
  'not_member_code',
  'service_level_required',
  'one_coupon_per_order',
  'one_voucher_per_order',
  'household_role',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** What a 404 may say it did not find, beyond "no such resource". */
export const NOT_FOUND_REASONS = [
  'unknown_member',
  'unknown_offer',
  'no_household',
  'unknown_invite',
  'not_in_household',
  'unknown_gift_code',
  'unknown_gift',
] as const;
export type NotFoundReason = (typeof NOT_FOUND_REASONS)[number];

/** What a 410 says is gone for good (it existed, and can no longer be used): an expired invite, a gift's code that expired or was refunded. */
export const GONE_REASONS = ['invite_expired', 'gift_expired', 'gift_refunded'] as const;
export type GoneReason = (typeof GONE_REASONS)[number];

export abstract class AppError extends Error {
  abstract readonly kind: string;
  constructor(
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

/** The request names something that does not exist (an unknown plan, a field the domain refuses). */
export class InvalidInputError extends AppError {
  override name = 'InvalidInputError';
  readonly kind = 'invalid_input' as const;
  constructor(
    readonly errors: Array<{ path: string; message: string }>,
    message = 'The request is not valid.',
  ) {
    super(message);
  }
}

/** Nothing of the kind asked for exists (for this caller). */
export class NotFoundError extends AppError {
  override name = 'NotFoundError';
  readonly kind = 'not_found' as const;
  constructor(
    message: string,
    readonly reason: NotFoundReason | null = null,
  ) {
    super(message, reason ? { reason } : {});
  }
}

/** The request is well-formed but the state it finds forbids it (already redeemed, already a member). */
export class ConflictError extends AppError {
  override name = 'ConflictError';
  readonly kind = 'conflict' as const;
  constructor(
    readonly reason: ConflictReason,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, { reason, ...details });
  }
}

/** What the request names existed but is gone for good (an expired invite, an expired or refunded gift code). */
export class GoneError extends AppError {
  override name = 'GoneError';
  readonly kind = 'gone' as const;
  constructor(
    readonly reason: GoneReason,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, { reason, ...details });
  }
}

/** The domain refuses the request on its merits (below the minimum, expired, not entitled). */
export class RejectedError extends AppError {
  override name = 'RejectedError';
  readonly kind = 'rejected' as const;
  constructor(
    readonly reason: RejectionReason,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, { reason, ...details });
  }
}

/** Too many requests from one caller; retry after `retryAfterSeconds`. */
export class RateLimitedError extends AppError {
  override name = 'RateLimitedError';
  readonly kind = 'rate_limited' as const;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The dependencies a use case can find unavailable or failing (Secrets Manager is `secrets`). */
export type Provider = 'stripe' | 'dynamodb' | 'email' | 'secrets';

/**
 * A dependency cannot serve us right now: not configured, busy (rate limited) or down. Nothing was
 * changed that a retry after `retryAfterSeconds` would not finish.
 */
export class ProviderUnavailableError extends AppError {
  override name = 'ProviderUnavailableError';
  readonly kind = 'provider_unavailable' as const;
  constructor(
    readonly provider: Provider,
    readonly reason: 'not_configured' | 'busy' | 'unavailable',
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
  }
}

/**
 * A dependency answered, but not with what we needed (an error, a misconfigured object), or did not
 * answer in time. `retryAfterSeconds` when a retry soon may well succeed (a timeout, a 5xx); null
 * when only a fix on our side helps (a misconfigured plan price).
 */
export class ProviderFailedError extends AppError {
  override name = 'ProviderFailedError';
  readonly kind = 'provider_failed' as const;
  constructor(
    readonly provider: Provider,
    readonly reason: 'failed' | 'misconfigured',
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** Every error a use case may raise, discriminated by `kind`. */
export type UseCaseError =
  | InvalidInputError
  | NotFoundError
  | GoneError
  | ConflictError
  | GoneError
  | RejectedError
  | RateLimitedError
  | ProviderUnavailableError
  | ProviderFailedError;

export type UseCaseErrorKind = UseCaseError['kind'];

export const isUseCaseError = (error: unknown): error is UseCaseError => error instanceof AppError;

/**
 * The typed error behind `error`: itself, or the first one along its `cause` chain. Libraries that
 * call our code or our clients (Powertools idempotency, middy) wrap what they catch; a DynamoDB outage
 * inside them still deserves its 503.
 */
export function useCaseErrorIn(error: unknown): UseCaseError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (isUseCaseError(current)) return current;
    current = (current as Error & { cause?: unknown }).cause;
  }
  return null;
}
