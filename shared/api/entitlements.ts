import type { RouteSpec } from '../http/types';
import { array, boolean, enumOf, type Infer, int, meta, minimum, nullable, optional, strictObject, string } from '../validation';
import {
  couponViewSchema,
  currencySchema,
  isoTimeSchema,
  jsonBodyProblems,
  memberIdSchema,
  problemResponses,
  statusSchema,
  voucherViewSchema,
} from './common';

export const orderSchema = strictObject({
  subtotalCents: int().check(minimum(0)),
  currency: currencySchema,
  serviceLevel: optional(string()),
}).check(meta({ id: 'OrderContext' }));

export const entitlementRequestSchema = strictObject({
  memberId: memberIdSchema,
  order: optional(orderSchema),
}).check(meta({ id: 'EntitlementCheckRequest' }));
export type EntitlementRequest = Infer<typeof entitlementRequestSchema>;

export const entitlementResponseSchema = strictObject({
  memberId: string(),
  entitled: boolean(),
  status: statusSchema,
  planId: nullable(string()),
  currentPeriodEnd: nullable(isoTimeSchema),
  graceEndsAt: nullable(isoTimeSchema),
  benefits: strictObject({
    freeShipping: strictObject({
      eligible: boolean(),
      serviceLevels: array(string()),
      reason: nullable(enumOf(['not_entitled', 'service_level_not_covered', 'below_min_subtotal', 'household_role'])),
    }),
    memberDiscountBps: int(),
    coupons: array(couponViewSchema),
    shippingVouchers: array(voucherViewSchema),
  }),
  /** Only on a household member's answer: whose membership answered, and the member's role (docs/household.md). */
  via: optional(
    strictObject({ ownerMemberId: string(), role: enumOf(['adult', 'teen', 'child']) }).check(
      meta({ description: 'A household member answered from the owner’s membership (addition to the contract).' }),
    ),
  ),
}).check(meta({ id: 'Entitlement' }));

export const entitlementsCheckRoute = {
  method: 'POST',
  path: '/v1/entitlements/check',
  operationId: 'checkEntitlement',
  summary: 'Is this shopper an entitled member, and which benefits apply to this order? One read, evaluated against the clock.',
  tags: ['checkout'],
  auth: { kind: 'service', roles: ['checkout'] },
  body: entitlementRequestSchema,
  responses: {
    200: { description: 'Entitlement (an unknown member is `entitled: false, status: "none"`)', schema: entitlementResponseSchema },
    ...problemResponses,
    ...jsonBodyProblems,
  },
} as const satisfies RouteSpec;
