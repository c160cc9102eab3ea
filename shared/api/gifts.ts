/** Gift memberships (docs/gifts.md): buy, list, claim, refund. The shopper is always the token's subject. */
import type { RouteSpec } from '../http/types';
import { array, boolean, enumOf, int, maxLength, minLength, nullable, optional, regex, strictObject, string } from '../validation';
import { centsSchema, currencySchema, isoTimeSchema, problem, problemWith, shopperProblemResponses, statusSchema } from './common';
import { noQuery, redirectUrl, shopperBodyProblems, stripeProblems } from './shoppers';

const giftIdSchema = string().check(minLength(1), maxLength(64));
const purchaseIdSchema = string().check(regex(/^gp_[a-z0-9]{20}$/, 'must be a gift purchase id (gp_…)'));
const codeSchema = string().check(minLength(1), maxLength(64));
export const giftStatusSchema = enumOf(['awaiting_payment', 'unclaimed', 'claimed', 'expired', 'refunded']);

export const giftCheckoutRequestSchema = strictObject({
  giftId: giftIdSchema,
  recipientEmail: string().check(maxLength(254), regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an email address')),
  deliverAt: optional(isoTimeSchema.check(regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, 'must be an ISO time in UTC'))),
  message: optional(string().check(maxLength(500))),
  successUrl: redirectUrl,
  cancelUrl: redirectUrl,
});

export const giftCheckoutRoute = {
  method: 'POST',
  path: '/v1/me/gifts/checkout-session',
  operationId: 'createGiftCheckoutSession',
  summary:
    'Buy a gift membership: Stripe Checkout in payment mode for the catalog gift’s one-time price. On payment the gift gets its claim code, emailed to `recipientEmail` at `deliverAt` (default: at payment).',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  body: giftCheckoutRequestSchema,
  query: noQuery,
  responses: {
    200: {
      description: 'Redirect the shopper to `url`; `purchaseId` names the gift in `GET /v1/me/gifts`',
      schema: strictObject({ url: string(), checkoutSessionId: string(), purchaseId: string() }),
    },
    ...shopperBodyProblems,
    ...stripeProblems,
  },
} as const satisfies RouteSpec;

export const myGiftsRoute = {
  method: 'GET',
  path: '/v1/me/gifts',
  operationId: 'listMyGifts',
  summary: 'The gifts the shopper bought, newest first, with their codes (a gift can be handed over in person too).',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  query: noQuery,
  responses: {
    200: {
      description: 'The gifts bought',
      schema: strictObject({
        bought: array(
          strictObject({
            purchaseId: string(),
            giftId: string(),
            planId: string(),
            months: int(),
            code: nullable(string()),
            recipientEmail: string(),
            status: giftStatusSchema,
            deliverAt: nullable(isoTimeSchema),
            claimBy: nullable(isoTimeSchema),
            createdAt: isoTimeSchema,
            claimedAt: nullable(isoTimeSchema),
          }),
        ),
      }),
    },
    ...shopperProblemResponses,
  },
} as const satisfies RouteSpec;

export const claimGiftRoute = {
  method: 'POST',
  path: '/v1/me/gifts/claim',
  operationId: 'claimGift',
  summary:
    'Claim a gift: starts a membership of the gifted months that does not renew, or extends the shopper’s gift membership; after a membership cancelled at period end, it starts when that ends. Claimed once; the same shopper claiming again gets the same answer.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  body: strictObject({ code: codeSchema }),
  query: noQuery,
  responses: {
    200: {
      description: 'The gift’s membership: when it starts and ends, and the shopper’s membership now',
      schema: strictObject({
        code: string(),
        giftId: string(),
        planId: string(),
        startsAt: isoTimeSchema,
        endsAt: isoTimeSchema,
        membership: strictObject({
          status: statusSchema,
          entitled: boolean(),
          planId: nullable(string()),
          accessEndsAt: nullable(isoTimeSchema),
          renews: boolean(),
        }),
      }),
    },
    ...shopperBodyProblems,
    404: problem('No paid gift has this code (`unknown_gift_code`)', problemWith({ reason: enumOf(['unknown_gift_code']) })),
    409: problem(
      'Claimed by someone else (`gift_already_claimed`), or the shopper’s membership renews by itself (`membership_renewing`, `membershipStatus`): cancel it at period end and the gift starts when it ends',
      problemWith({ reason: enumOf(['gift_already_claimed', 'membership_renewing']), membershipStatus: optional(statusSchema) }),
    ),
    410: problem(
      'The gift expired unclaimed (`gift_expired`, `claimBy`) or was refunded (`gift_refunded`)',
      problemWith({ reason: enumOf(['gift_expired', 'gift_refunded']), claimBy: optional(isoTimeSchema) }),
    ),
  },
} as const satisfies RouteSpec;

export const refundGiftRoute = {
  method: 'POST',
  path: '/v1/me/gifts/{purchaseId}/refund',
  operationId: 'refundGift',
  summary:
    'Refund a gift the shopper bought that nobody has claimed: its code stops working at once and Stripe pays the price back. Idempotent; a call after a Stripe failure finishes the refund.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  params: strictObject({ purchaseId: purchaseIdSchema }),
  body: optional(strictObject({})),
  query: noQuery,
  responses: {
    200: {
      description: 'Refunded',
      schema: strictObject({
        purchaseId: string(),
        status: enumOf(['refunded']),
        refundedCents: centsSchema,
        currency: currencySchema,
        refundedAt: isoTimeSchema,
      }),
    },
    ...shopperBodyProblems,
    404: problem('The shopper bought no gift with this id (`unknown_gift`)', problemWith({ reason: enumOf(['unknown_gift']) })),
    409: problem(
      'The gift is claimed, or not paid yet (`gift_not_refundable`, `giftStatus`)',
      problemWith({ reason: enumOf(['gift_not_refundable']), giftStatus: giftStatusSchema }),
    ),
    ...stripeProblems,
  },
} as const satisfies RouteSpec;
