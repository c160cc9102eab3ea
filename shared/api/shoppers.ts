import type { RouteSpec } from '../http/types';
import {
  array,
  boolean,
  enumOf,
  int,
  maxLength,
  minLength,
  nullable,
  optional,
  record,
  strictObject,
  string,
  unknown,
  url,
} from '../validation';
import { adminBenefitUsageSchema, adminGrantSchema, adminRedemptionSchema, adminSavingsSchema } from './benefits';
import {
  centsSchema,
  couponViewSchema,
  currencySchema,
  isoTimeSchema,
  jsonBodyProblems,
  memberIdSchema,
  problem,
  problemResponses,
  problemWith,
  shopperProblemResponses,
  statusSchema,
  voucherViewSchema,
} from './common';
import { hearOffersSchema, jurisdictionViewSchema, saveOfferAnswerSchema } from './compliance';

/** Shopper routes take their memberId from the token only: no body, query or path field may name one. */
export const noQuery = strictObject({});
export const redirectUrl = string().check(maxLength(2048), url({ protocol: /^https?$/ }));

export const shopperBodyProblems = { ...shopperProblemResponses, ...jsonBodyProblems } as const;
/** Routes that call Stripe: the per-shopper limit, and Stripe's (or the table's) failures, each with Retry-After. */
export const stripeProblems = {
  429: problem(
    'Too many payment requests from this shopper (10 per 10 minutes across checkout, portal, cancel, resume, gift checkout and gift refund); Retry-After says when the window ends',
  ),
  502: problem('Stripe failed after retries (5xx, network, no answer in time); safe to retry (Retry-After when a retry may get through)'),
  503: problem('Stripe rate-limited the request, no Stripe API key is configured, or the table is unavailable (Retry-After)'),
} as const;

export const myMembershipSchema = strictObject({
  memberId: memberIdSchema,
  status: statusSchema,
  entitled: boolean(),
  planId: nullable(string()),
  planName: nullable(string()),
  currentPeriodStart: nullable(isoTimeSchema),
  currentPeriodEnd: nullable(isoTimeSchema),
  trialEnd: nullable(isoTimeSchema),
  cancelAtPeriodEnd: boolean(),
  accessEndsAt: nullable(isoTimeSchema),
  graceEndsAt: nullable(isoTimeSchema),
  nextCharge: nullable(strictObject({ amountCents: centsSchema, currency: currencySchema, date: isoTimeSchema })),
  coupons: array(couponViewSchema),
  shippingVouchers: array(voucherViewSchema),
  savings: strictObject({
    periodCents: centsSchema,
    lifetimeCents: centsSchema,
    feesPaidCents: centsSchema,
    currency: nullable(currencySchema),
  }),
});

export const myMembershipRoute = {
  method: 'GET',
  path: '/v1/me/membership',
  operationId: 'getMyMembership',
  summary: 'The signed-in shopper’s membership: status, plan, dates, next charge, open coupons and vouchers, savings vs fees paid.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  query: noQuery,
  responses: {
    200: { description: 'The membership (status `none` when there is none)', schema: myMembershipSchema },
    ...shopperProblemResponses,
  },
} as const satisfies RouteSpec;

export const checkoutSessionRequestSchema = strictObject({
  planId: string().check(minLength(1), maxLength(64)),
  successUrl: redirectUrl,
  cancelUrl: redirectUrl,
});

export const checkoutSessionRoute = {
  method: 'POST',
  path: '/v1/me/checkout-session',
  operationId: 'createCheckoutSession',
  summary:
    'Stripe Checkout (subscription mode) for a catalog plan, on the member’s one Stripe customer; a free trial only for someone who never had a trial or membership. Stores the consent record.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  body: checkoutSessionRequestSchema,
  query: noQuery,
  responses: {
    200: {
      description: 'Redirect the shopper to `url`',
      schema: strictObject({ url: string(), checkoutSessionId: string(), planId: string(), trialDays: int(), renewalTerms: string() }),
    },
    ...shopperBodyProblems,
    409: problem(
      'Already a member, in our records or in Stripe (`reason: already_member`, `portalSessionPath` says where to manage it), or a concurrent checkout made a newer session (`reason: checkout_superseded`: try again)',
      problemWith({
        reason: enumOf(['already_member', 'checkout_superseded']),
        membershipStatus: optional(statusSchema),
        portalSessionPath: optional(string()),
      }),
    ),
    ...stripeProblems,
  },
} as const satisfies RouteSpec;

export const portalSessionRoute = {
  method: 'POST',
  path: '/v1/me/portal-session',
  operationId: 'createPortalSession',
  summary: 'Stripe customer portal: change plan (monthly ↔ annual), update the payment method, see invoices, cancel.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  body: strictObject({ returnUrl: redirectUrl }),
  query: noQuery,
  responses: {
    200: { description: 'Redirect the shopper to `url` (valid a few minutes)', schema: strictObject({ url: string() }) },
    ...shopperBodyProblems,
    409: problem('No billing account yet (never checked out)', problemWith({ reason: enumOf(['no_billing_account']) })),
    ...stripeProblems,
  },
} as const satisfies RouteSpec;

export const cancelRequestSchema = optional(
  strictObject({
    refundIfUnused: optional(boolean()),
    /** Minnesota and opt-in jurisdictions: the member agrees to hear one save offer (docs/compliance.md). */
    hearOffers: hearOffersSchema,
  }),
);
const refusalReason = enumOf(['benefit_used', 'grant_redeemed', 'nothing_paid', 'no_current_period']);

export const cancelMembershipRoute = {
  method: 'POST',
  path: '/v1/me/membership/cancel',
  operationId: 'cancelMyMembership',
  summary:
    'Cancel at period end through Stripe (benefits last until `accessEndsAt`). With `refundIfUnused: true` and no benefit used this period: cancel now and refund the period’s fee in full. The cancel is done either way; where the member’s jurisdiction allows (with `hearOffers: true` where it asks for consent) the answer may carry one `saveOffer` to take with a second call.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  body: cancelRequestSchema,
  query: noQuery,
  responses: {
    200: {
      description: 'Cancellation accepted by Stripe; the stored membership follows from Stripe’s webhooks',
      schema: strictObject({
        memberId: memberIdSchema,
        outcome: enumOf(['cancel_at_period_end', 'canceled_and_refunded']),
        accessEndsAt: nullable(isoTimeSchema),
        refund: nullable(strictObject({ amountCents: centsSchema, currency: currencySchema })),
        refundRefusal: nullable(strictObject({ reason: refusalReason, detail: string() })),
        saveOffer: saveOfferAnswerSchema,
      }),
    },
    ...shopperBodyProblems,
    409: problem(
      'No running membership to cancel (`reason: no_membership`), or Stripe has already ended it (`reason: membership_ended`)',
      problemWith({ reason: enumOf(['no_membership', 'membership_ended']), membershipStatus: statusSchema }),
    ),
    ...stripeProblems,
  },
} as const satisfies RouteSpec;

export const resumeMembershipRoute = {
  method: 'POST',
  path: '/v1/me/membership/resume',
  operationId: 'resumeMyMembership',
  summary: 'Undo the cancellation Stripe has pending (set here, in the portal, or while in grace): the membership renews again.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  body: optional(strictObject({})),
  query: noQuery,
  responses: {
    200: {
      description: 'Renewing again',
      schema: strictObject({ memberId: memberIdSchema, outcome: enumOf(['renewing']), renewsAt: nullable(isoTimeSchema) }),
    },
    ...shopperBodyProblems,
    409: problem(
      'Nothing to resume: no membership, or it has already ended (`reason: nothing_to_resume` from our records, `membership_ended` from Stripe)',
      problemWith({ reason: enumOf(['nothing_to_resume', 'membership_ended']), membershipStatus: statusSchema }),
    ),
    ...stripeProblems,
  },
} as const satisfies RouteSpec;

export const adminMemberRoute = {
  method: 'GET',
  path: '/v1/admin/members/{memberId}',
  operationId: 'getMemberForAdmin',
  summary:
    'Everything stored about a member: membership, grants and savings as they stand now, the redeem/release and benefit-usage records, Stripe customer link and consent records (each `accepted` with `acceptedAt`, or only `presented`).',
  tags: ['admin'],
  auth: { kind: 'service', roles: ['admin'] },
  params: strictObject({ memberId: memberIdSchema }),
  query: noQuery,
  responses: {
    200: {
      description: 'Stored member data',
      schema: strictObject({
        memberId: memberIdSchema,
        status: statusSchema,
        entitled: boolean(),
        membership: nullable(record(string(), unknown())),
        /** Country (and US state) of the member's billing address, and the rules entry that applies (docs/compliance.md). */
        jurisdiction: jurisdictionViewSchema,
        stripeCustomerId: nullable(string()),
        grants: array(adminGrantSchema),
        savings: adminSavingsSchema,
        redemptions: array(adminRedemptionSchema),
        benefitUsages: array(adminBenefitUsageSchema),
        consents: array(record(string(), unknown())),
        completedWithoutConsent: array(record(string(), unknown())),
      }),
    },
    ...problemResponses,
    404: problem('Nothing stored for this member'),
  },
} as const satisfies RouteSpec;
