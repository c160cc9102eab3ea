import type { RouteSpec } from '../http/types';
import { array, boolean, enumOf, int, maxLength, meta, nullable, optional, strictObject, string } from '../validation';
import {
  orderCentsSchema as cents,
  currencySchema,
  isoTimeSchema,
  jsonBodyProblems,
  memberIdSchema,
  orderIdSchema,
  problemResponses,
  serviceLevelSchema,
  statusSchema,
} from './common';

export const quoteRequestSchema = strictObject({
  memberId: memberIdSchema,
  currency: currencySchema,
  subtotalCents: cents,
  shippingOptions: array(strictObject({ serviceLevel: serviceLevelSchema, priceCents: cents })).check(maxLength(20)),
  orderId: optional(
    orderIdSchema.check(meta({ description: 'The order being priced, when it already holds codes: they count as available to it.' })),
  ),
}).check(meta({ id: 'QuoteRequest' }));

export const quoteSchema = strictObject({
  memberId: string(),
  entitled: boolean(),
  status: statusSchema,
  currency: currencySchema,
  subtotalCents: int(),
  memberDiscountBps: int(),
  memberDiscountCents: int().check(meta({ description: 'memberDiscountBps of the subtotal, rounded down to the minor unit' })),
  coupon: nullable(
    strictObject({
      code: string(),
      amountOffCents: int(),
      currency: currencySchema,
      minSubtotalCents: int(),
      expiresAt: isoTimeSchema,
      savedCents: int().check(meta({ description: 'What it takes off: its amount, at most the subtotal left after the member discount' })),
    }).check(
      meta({ id: 'QuotedCoupon', description: 'The best applicable coupon: the largest saving; ties by earliest expiry, then code' }),
    ),
  ),
  shippingVoucher: nullable(
    strictObject({
      code: string(),
      serviceLevel: string(),
      expiresAt: isoTimeSchema,
      savedCents: int().check(meta({ description: 'The price of the dearest option it waives' })),
    }).check(meta({ id: 'QuotedShippingVoucher', description: 'The voucher that waives the dearest option free shipping does not cover' })),
  ),
  shippingOptions: array(
    strictObject({
      serviceLevel: string(),
      priceCents: int(),
      shippingWaived: boolean(),
      shippingCents: int().check(meta({ description: 'What the shopper pays for this option: 0 when waived' })),
      waivedBy: nullable(enumOf(['free_shipping', 'shipping_voucher'])),
      shippingVoucherCode: nullable(string()),
      totalSavingsCents: int().check(meta({ description: 'Member discount + coupon + the shipping this option waives' })),
    }).check(meta({ id: 'QuotedShippingOption' })),
  ),
  totalSavingsCents: int().check(
    meta({
      description: 'The most the member saves on this order: the largest of the options’ totals (discount + coupon without options)',
    }),
  ),
}).check(meta({ id: 'Quote' }));

export const quoteOrderRoute = {
  method: 'POST',
  path: '/v1/orders/quote',
  operationId: 'quoteOrder',
  summary:
    "Prices the member's benefits for an order: per shipping option whether it is waived, the member discount, the best applicable coupon and shipping voucher, the total saved. One read, like the entitlement check; nothing is held.",
  tags: ['checkout'],
  auth: { kind: 'service', roles: ['checkout'] },
  body: quoteRequestSchema,
  responses: {
    200: {
      description: 'The quote (an unknown member is `entitled: false, status: "none"`, with nothing waived or discounted)',
      schema: quoteSchema,
    },
    ...problemResponses,
    ...jsonBodyProblems,
  },
} as const satisfies RouteSpec;
