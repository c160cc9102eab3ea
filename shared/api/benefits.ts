import type { RouteSpec } from '../http/types';
import {
  enumOf,
  type Infer,
  int,
  maximum,
  maxLength,
  minimum,
  minLength,
  nullable,
  optional,
  regex,
  strictObject,
  string,
} from '../validation';
import { currencySchema, jsonBodyProblems, memberIdSchema, problem, problemResponses, problemWith } from './common';

/** The shop's order id: same character set as member ids. */
export const orderIdSchema = string().check(regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 _ . : -'));
const cents = int().check(minimum(0), maximum(100_000_000));

/** Any code-looking path segment; a code that cannot exist is answered 404 like an unknown one. */
export const codeParamsSchema = strictObject({ code: string().check(minLength(1), maxLength(64)) });

export const redeemRequestSchema = strictObject({
  memberId: memberIdSchema,
  orderId: orderIdSchema,
  subtotalCents: cents,
  currency: currencySchema,
});
export type RedeemRequest = Infer<typeof redeemRequestSchema>;

export const redeemResponseSchema = strictObject({
  code: string(),
  status: enumOf(['redeemed']),
  orderId: string(),
  amountOffCents: optional(cents),
  currency: optional(currencySchema),
  serviceLevel: optional(string()),
});

export const releaseRequestSchema = strictObject({ orderId: orderIdSchema });
export const releaseResponseSchema = strictObject({ code: string(), status: enumOf(['open', 'expired', 'void']), orderId: string() });

export const benefitUsageRequestSchema = strictObject({
  memberId: memberIdSchema,
  orderId: orderIdSchema,
  shippingSavedCents: cents,
  currency: currencySchema,
});
export const benefitUsageResponseSchema = strictObject({
  memberId: string(),
  orderId: string(),
  shippingSavedCents: cents,
  currency: currencySchema,
  recordedAt: string(),
});

/** The operator's view of a member's benefits (GET /v1/admin/members/{memberId}). */
export const adminSavingsSchema = strictObject({
  memberId: string(),
  periodKey: nullable(string()),
  periodSavedCents: int(),
  lifetimeSavedCents: int(),
  feesPaidCents: int(),
  currency: currencySchema,
});

export const adminGrantSchema = strictObject({
  code: string(),
  memberId: string(),
  grantId: string(),
  kind: enumOf(['coupon', 'shipping-voucher']),
  amountOffCents: nullable(cents),
  currency: nullable(currencySchema),
  minSubtotalCents: nullable(cents),
  serviceLevel: nullable(string()),
  issuedAt: string(),
  expiresAt: string(),
  periodKey: string(),
  state: enumOf(['open', 'redeemed', 'void']),
  redeemedOrderId: nullable(string()),
  redeemedAt: nullable(string()),
});

/** Who redeemed or released which code, when, for which order (support and finance). */
export const adminRedemptionSchema = strictObject({
  code: string(),
  action: enumOf(['redeem', 'release']),
  orderId: string(),
  at: string(),
  savedCents: int(),
  periodKey: nullable(string()),
});

/** Shipping saved per order; `reversedAt` once the order's code was released (order cancelled). */
export const adminBenefitUsageSchema = strictObject({
  orderId: string(),
  shippingSavedCents: cents,
  currency: currencySchema,
  at: string(),
  periodKey: nullable(string()),
  reversedAt: nullable(string()),
  reversedByCode: nullable(string()),
});

/** Why a code cannot be used on the order (shared/domain: GrantRejection, RedeemRejection). */
const redeemRefusalSchema = problemWith({
  reason: enumOf(['not_member_code', 'not_entitled', 'expired', 'below_min_subtotal', 'wrong_currency', 'service_level_mismatch', 'void']),
});

export const redeemCouponRoute = {
  method: 'POST',
  path: '/v1/coupons/{code}/redeem',
  operationId: 'redeemCoupon',
  summary: 'Redeem a coupon or shipping voucher for an order: atomic, one order per code; the same orderId again gets the same answer.',
  tags: ['checkout'],
  auth: { kind: 'service', roles: ['checkout'] },
  params: codeParamsSchema,
  body: redeemRequestSchema,
  responses: {
    200: { description: 'Redeemed (also for a repeat by the winning order)', schema: redeemResponseSchema },
    ...problemResponses,
    ...jsonBodyProblems,
    404: problem('No such code'),
    409: problem('Already redeemed by another order', problemWith({ reason: enumOf(['redeemed_by_another_order']) })),
    422: problem(
      'Not usable on this order: `reason` says why (the problem `type` is `/problems/<reason>` with dashes)',
      redeemRefusalSchema,
    ),
  },
} as const satisfies RouteSpec;

export const releaseCouponRoute = {
  method: 'POST',
  path: '/v1/coupons/{code}/release',
  operationId: 'releaseCoupon',
  summary: 'Give a redeemed code back (the order was cancelled); usable again unless expired. Idempotent per orderId.',
  tags: ['checkout'],
  auth: { kind: 'service', roles: ['checkout'] },
  params: codeParamsSchema,
  body: releaseRequestSchema,
  responses: {
    200: { description: 'Released; `status` says whether the code is usable again', schema: releaseResponseSchema },
    ...problemResponses,
    ...jsonBodyProblems,
    404: problem('No such code'),
    409: problem('The code is not redeemed by this order', problemWith({ reason: enumOf(['not_redeemed_by_this_order']) })),
  },
} as const satisfies RouteSpec;

export const benefitUsageRoute = {
  method: 'POST',
  path: '/v1/benefit-usage',
  operationId: 'recordBenefitUsage',
  summary: "Report the shipping a member saved on an order; counted once per orderId into the member's savings.",
  tags: ['checkout'],
  auth: { kind: 'service', roles: ['checkout'] },
  body: benefitUsageRequestSchema,
  responses: {
    200: { description: 'Recorded (a repeat of the same report answers the original)', schema: benefitUsageResponseSchema },
    ...problemResponses,
    ...jsonBodyProblems,
    404: problem('Unknown member', problemWith({ reason: enumOf(['unknown_member']) })),
    409: problem('This order already reported a different usage', problemWith({ reason: enumOf(['usage_differs']) })),
    422: problem(
      "`reason: wrong_currency`: the member's savings are kept in another currency",
      problemWith({ reason: enumOf(['wrong_currency']) }),
    ),
  },
} as const satisfies RouteSpec;
