import type { RouteSpec } from '../http/types';
import {
  enumOf,
  type Infer,
  int,
  literal,
  maximum,
  maxLength,
  meta,
  minimum,
  minLength,
  nullable,
  optional,
  strictObject,
  string,
} from '../validation';
import {
  orderCentsSchema as cents,
  currencySchema,
  isoTimeSchema,
  jsonBodyProblems,
  memberIdSchema,
  orderIdSchema,
  problem,
  problemResponses,
  problemWith,
  serviceLevelSchema,
} from './common';

export { orderIdSchema };

/** Any code-looking path segment; a code that cannot exist is answered 404 like an unknown one. */
export const codeParamsSchema = strictObject({ code: string().check(minLength(1), maxLength(64)) });

const claimFields = {
  memberId: memberIdSchema,
  orderId: orderIdSchema,
  subtotalCents: cents,
  currency: currencySchema,
  serviceLevel: optional(serviceLevelSchema.check(meta({ description: "The order's service level: required for a shipping voucher." }))),
};

export const redeemRequestSchema = strictObject(claimFields).check(meta({ id: 'RedeemRequest' }));
export type RedeemRequest = Infer<typeof redeemRequestSchema>;

/** A code redeemed for an order: by a redeem, or by the commit of its hold. */
export const redemptionSchema = strictObject({
  code: string(),
  status: enumOf(['redeemed']),
  orderId: string(),
  amountOffCents: optional(cents),
  currency: optional(currencySchema),
  serviceLevel: optional(string()),
}).check(meta({ id: 'Redemption' }));

export const holdRequestSchema = strictObject({
  ...claimFields,
  holdMinutes: optional(
    int().check(minimum(1), maximum(60), meta({ description: 'How long the hold stands unless committed or released (default 15).' })),
  ),
}).check(meta({ id: 'HoldRequest' }));

export const holdSchema = strictObject({
  code: string(),
  status: literal('held'),
  orderId: string(),
  expiresAt: isoTimeSchema.check(meta({ description: 'When the hold lapses by itself and the code is usable again' })),
}).check(meta({ id: 'Hold' }));

export const commitRequestSchema = strictObject({ orderId: orderIdSchema }).check(meta({ id: 'CommitRequest' }));

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
  hold: nullable(
    strictObject({ orderId: string(), expiresAt: string() }).check(
      meta({ description: "The last order's hold on an open code; it has lapsed once `expiresAt` is past" }),
    ),
  ),
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
const claimRefusalSchema = problemWith({
  reason: enumOf([
    'not_member_code',
    'not_entitled',
    'expired',
    'below_min_subtotal',
    'wrong_currency',
    'service_level_mismatch',
    'service_level_required',
    'one_coupon_per_order',
    'one_voucher_per_order',
    'void',
    'household_role',
  ]),
}).check(meta({ id: 'CodeRefusalProblem' }));
const claimRefusal = problem(
  'Not usable on this order: `reason` says why (the problem `type` is `/problems/<reason>` with dashes). `one_coupon_per_order` / `one_voucher_per_order`: the order already holds or redeemed another code of that kind. `household_role`: a household member whose role does not get the owner’s coupons (docs/household.md)',
  claimRefusalSchema,
);

export const redeemCouponRoute = {
  method: 'POST',
  path: '/v1/coupons/{code}/redeem',
  operationId: 'redeemCoupon',
  summary:
    'Redeem a coupon or shipping voucher for an order: a hold and its commit in one atomic step; one order per code, one coupon and one voucher per order; the same orderId again gets the same answer.',
  tags: ['checkout'],
  auth: { kind: 'service', roles: ['checkout'] },
  params: codeParamsSchema,
  body: redeemRequestSchema,
  responses: {
    200: { description: 'Redeemed (also for a repeat by the winning order)', schema: redemptionSchema },
    ...problemResponses,
    ...jsonBodyProblems,
    404: problem('No such code'),
    409: problem(
      'Redeemed by another order, or held by another order until its hold lapses',
      problemWith({ reason: enumOf(['redeemed_by_another_order', 'held_by_another_order']) }),
    ),
    422: claimRefusal,
  },
} as const satisfies RouteSpec;

export const holdCouponRoute = {
  method: 'POST',
  path: '/v1/coupons/{code}/hold',
  operationId: 'holdCoupon',
  summary:
    'Hold a coupon or shipping voucher for an order being placed: no other order can use it until the hold is committed, released, or lapses by itself (15 minutes unless `holdMinutes` says otherwise). Same rules as redeem; the same orderId again gets the same hold.',
  tags: ['checkout'],
  auth: { kind: 'service', roles: ['checkout'] },
  params: codeParamsSchema,
  body: holdRequestSchema,
  responses: {
    200: { description: 'Held until `expiresAt` (also for a repeat by the same order while the hold stands)', schema: holdSchema },
    ...problemResponses,
    ...jsonBodyProblems,
    404: problem('No such code'),
    409: problem(
      'Redeemed by another order, held by another order, or already redeemed by this order (nothing left to hold)',
      problemWith({ reason: enumOf(['redeemed_by_another_order', 'held_by_another_order', 'redeemed_by_this_order']) }),
    ),
    422: claimRefusal,
  },
} as const satisfies RouteSpec;

export const commitCouponRoute = {
  method: 'POST',
  path: '/v1/coupons/{code}/commit',
  operationId: 'commitCoupon',
  summary:
    "The order was placed: its standing hold on the code becomes a redemption, counted in the member's savings. Idempotent per orderId.",
  tags: ['checkout'],
  auth: { kind: 'service', roles: ['checkout'] },
  params: codeParamsSchema,
  body: commitRequestSchema,
  responses: {
    200: { description: 'Redeemed (also for a repeat by the same order)', schema: redemptionSchema },
    ...problemResponses,
    ...jsonBodyProblems,
    404: problem('No such code'),
    409: problem(
      "The order's hold lapsed before the commit (`hold_lapsed`: hold it again), or the order never held the code (`not_held_by_this_order`)",
      problemWith({ reason: enumOf(['hold_lapsed', 'not_held_by_this_order']) }),
    ),
    422: problem("`reason: void`: the code's billing period was refunded while it was held", problemWith({ reason: enumOf(['void']) })),
  },
} as const satisfies RouteSpec;

export const releaseCouponRoute = {
  method: 'POST',
  path: '/v1/coupons/{code}/release',
  operationId: 'releaseCoupon',
  summary:
    'Give a code back: a redemption (the order was cancelled: its savings are taken back) or a standing hold (nothing was counted); usable again unless expired. Idempotent per orderId.',
  tags: ['checkout'],
  auth: { kind: 'service', roles: ['checkout'] },
  params: codeParamsSchema,
  body: releaseRequestSchema,
  responses: {
    200: { description: 'Released; `status` says whether the code is usable again', schema: releaseResponseSchema },
    ...problemResponses,
    ...jsonBodyProblems,
    404: problem('No such code'),
    409: problem('The code is neither redeemed nor held by this order', problemWith({ reason: enumOf(['not_redeemed_by_this_order']) })),
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
