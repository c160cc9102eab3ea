import { MEMBERSHIP_STATUSES } from '../domain/membership';
import { currencySchema } from '../domain/money';
import { array, boolean, enumOf, int, meta, minimum, nullable, number, optional, strictObject, string } from '../validation';

export { memberIdSchema } from '../domain/member-id';
export { currencySchema };

export const centsSchema = int().check(minimum(0), meta({ description: 'Integer amount in minor units (cents).' }));
export const isoTimeSchema = string().check(meta({ description: 'ISO 8601 UTC time', format: 'date-time' }));
export const statusSchema = enumOf(MEMBERSHIP_STATUSES);

export const problemSchema = strictObject({
  type: string(),
  title: string(),
  status: int(),
  detail: string(),
  errors: optional(array(strictObject({ path: string(), message: string() }))),
  reason: optional(string()),
});

export const problemResponses = {
  400: { description: 'Invalid request (problem+json with `errors`)', schema: problemSchema, contentType: 'application/problem+json' },
  401: { description: 'Missing or invalid credentials', schema: problemSchema, contentType: 'application/problem+json' },
  403: { description: 'Credentials lack the required role', schema: problemSchema, contentType: 'application/problem+json' },
  413: { description: 'Body over 256 KiB', schema: problemSchema, contentType: 'application/problem+json' },
} as const;

export const nullableNumber = nullable(number());

/** A coupon as the checkout and the shopper see it, `applicable` to the order at hand. */
export const couponViewSchema = strictObject({
  code: string(),
  amountOffCents: centsSchema,
  currency: currencySchema,
  minSubtotalCents: centsSchema,
  expiresAt: isoTimeSchema,
  applicable: boolean(),
});

/** A shipping voucher as the checkout and the shopper see it. */
export const voucherViewSchema = strictObject({ code: string(), serviceLevel: string(), expiresAt: isoTimeSchema, applicable: boolean() });
