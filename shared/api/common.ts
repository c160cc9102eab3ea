import { MEMBERSHIP_STATUSES } from '../domain/membership';
import { currencySchema } from '../domain/money';
import {
  array,
  boolean,
  enumOf,
  int,
  maximum,
  meta,
  minimum,
  nullable,
  number,
  optional,
  regex,
  type Schema,
  strictObject,
  string,
} from '../validation';

export { memberIdSchema } from '../domain/member-id';
export { currencySchema };

export const centsSchema = int().check(minimum(0), meta({ description: 'Integer amount in minor units (cents).' }));
export const isoTimeSchema = string().check(meta({ description: 'ISO 8601 UTC time', format: 'date-time' }));
export const statusSchema = enumOf(MEMBERSHIP_STATUSES);

const problemShape = { type: string(), title: string(), status: int(), detail: string() };

/** A problem+json body (RFC 9457) with exactly these extension members besides the standard ones. */
export const problemWith = <const E extends Record<string, Schema>>(extensions: E) => strictObject({ ...problemShape, ...extensions });

/** A problem without extension members: most refusals. */
export const problemSchema = problemWith({}).check(meta({ id: 'Problem' }));

/** A 400: malformed JSON (no `errors`), or fields that fail their schema (`errors` names each one). */
export const validationProblemSchema = problemWith({
  errors: optional(array(strictObject({ path: string(), message: string() }))),
}).check(meta({ id: 'ValidationProblem' }));

export const problem = <S extends Schema = typeof problemSchema>(description: string, schema?: S) => ({
  description,
  schema: (schema ?? problemSchema) as S,
  contentType: 'application/problem+json' as const,
});

/**
 * What the shared handler wrapper (shared/http/handler.ts) can answer on any route, before or around
 * the route's own code: the 256 KiB body limit, and an unexpected failure.
 */
export const edgeProblems = {
  413: problem('Body over 256 KiB'),
  500: problem('Unexpected failure; safe to retry'),
} as const;

/**
 * Routes that read the table or a secret: an outage of either (unreachable, throttled, timing out)
 * answers 503 with Retry-After within the function's budget (shared/aws-failures.ts), never a 500.
 */
export const dependencyProblems = {
  503: problem('The table or the service’s secrets are unavailable right now; Retry-After says when to try again'),
} as const;

/** A route that validates a JSON body also refuses another content type. */
export const jsonBodyProblems = { 415: problem('The body is not application/json') } as const;

/** Service-key routes: the wrapper's validation and authentication, plus `edgeProblems`. */
export const problemResponses = {
  400: problem('Invalid request: malformed JSON, or fields that fail the schema (`errors` names each one)', validationProblemSchema),
  401: problem('Missing or invalid credentials'),
  403: problem('Credentials lack the required role'),
  ...edgeProblems,
  ...dependencyProblems,
} as const;

/** Shopper routes: as service routes, without roles (a token speaks only for its own member). */
export const shopperProblemResponses = {
  400: problemResponses[400],
  401: problem('Missing, expired or invalid shopper token (in AWS the JWT authorizer answers this itself, not as problem+json)'),
  ...edgeProblems,
  ...dependencyProblems,
} as const;

export const nullableNumber = nullable(number());

/** The shop's order id: same character set as member ids. */
export const orderIdSchema = string().check(regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 _ . : -'));
/** An amount of an order (subtotal, shipping, saving) in minor units, up to a million in major units. */
export const orderCentsSchema = int().check(minimum(0), maximum(100_000_000));
/** A shipping service level as the catalog spells them (`standard`, `two-day`, `next-day`, ...). */
export const serviceLevelSchema = string().check(regex(/^[a-z0-9-]{1,64}$/, 'must be 1-64 characters of a-z 0-9 -'));

/** A coupon as the checkout and the shopper see it, `applicable` to the order at hand. */
export const couponViewSchema = strictObject({
  code: string(),
  amountOffCents: centsSchema,
  currency: currencySchema,
  minSubtotalCents: centsSchema,
  expiresAt: isoTimeSchema,
  applicable: boolean(),
}).check(meta({ id: 'Coupon' }));

/** A shipping voucher as the checkout and the shopper see it. */
export const voucherViewSchema = strictObject({
  code: string(),
  serviceLevel: string(),
  expiresAt: isoTimeSchema,
  applicable: boolean(),
}).check(meta({ id: 'ShippingVoucher' }));
