/**
 * Routes of cancellation, withdrawal, save offers and the shopper's privacy rights (docs/compliance.md,
 * docs/erasure.md). The no-login pair (`GET /cancel`, `POST /v1/cancellations`) is public: the page is
 * HTML served by the API and its form posts without JavaScript, so the POST also takes
 * `application/x-www-form-urlencoded` and answers a form with HTML.
 */
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
  regex,
  strictObject,
  string,
  unknown,
} from '../validation';
import {
  centsSchema,
  currencySchema,
  edgeProblems,
  isoTimeSchema,
  jsonBodyProblems,
  memberIdSchema,
  problem,
  problemWith,
  shopperProblemResponses,
  statusSchema,
  validationProblemSchema,
} from './common';

const noQuery = strictObject({});
const langSchema = enumOf(['en', 'de']);
const stripeProblems = {
  502: problem('Stripe failed after retries (5xx, network); safe to retry'),
  503: problem('Stripe rate-limited the request, or no Stripe API key is configured (Retry-After)'),
} as const;

/** Text a person types into the form: trimmed length limits that keep a declaration readable and an item small. */
const personText = (max: number) => string().check(minLength(1), maxLength(max), regex(/\S/, 'must not be blank'));

export const cancellationRequestSchema = strictObject({
  name: personText(200),
  // Spaces around the address (pasted) are forgiven: the flow trims it.
  email: string().check(maxLength(254), regex(/^\s*[^\s@]+@[^\s@]+\.[^\s@]+\s*$/, 'must be an email address')),
  memberId: optional(memberIdSchema),
  reason: optional(string().check(maxLength(1000))),
  /** `ordinary` (the default), `extraordinary` (for good cause, with a reason), or `withdrawal` (within the withdrawal period). */
  type: optional(enumOf(['ordinary', 'extraordinary', 'withdrawal'])),
});

export const cancelPageRoute = {
  method: 'GET',
  path: '/cancel',
  operationId: 'cancelPage',
  summary:
    'The page that lets anyone cancel a membership without logging in (§ 312k BGB confirmation page): name, email, customer number (optional), type and reason; posts to /v1/cancellations. English and German (`lang`, else Accept-Language); works without JavaScript.',
  tags: ['cancellation'],
  auth: { kind: 'public' },
  query: strictObject({ lang: optional(langSchema) }),
  responses: {
    200: { description: 'The cancellation form (HTML)', contentType: 'text/html' },
    400: problem('An unknown query parameter or language', validationProblemSchema),
    ...edgeProblems,
  },
} as const satisfies RouteSpec;

const receivedSchema = strictObject({ status: enumOf(['received']), reference: string(), receivedAt: isoTimeSchema });

export const cancellationsRoute = {
  method: 'POST',
  path: '/v1/cancellations',
  operationId: 'requestCancellation',
  summary:
    'Cancel without login. Always 202 with the same body, whether or not a membership matches: the request is recorded and matched later; a matching membership is cancelled at period end (or withdrawn, within the period) and a confirmation with the type, the time received and the end date goes to its address. JSON or the page’s form (answered with HTML). Rate-limited per client and per email.',
  tags: ['cancellation'],
  auth: { kind: 'public' },
  body: cancellationRequestSchema,
  formBody: true,
  query: strictObject({ lang: optional(langSchema) }),
  responses: {
    202: {
      description: 'Received (the same for every address); a form post gets the confirmation page to keep',
      schema: receivedSchema,
      alternateContentTypes: ['text/html'],
    },
    400: {
      ...problem('Invalid request: fields that fail the schema (`errors` names each one)', validationProblemSchema),
      alternateContentTypes: ['text/html'],
    },
    413: edgeProblems[413],
    415: jsonBodyProblems[415],
    429: { ...problem('Too many requests from this client or for this address (Retry-After)'), alternateContentTypes: ['text/html'] },
    500: edgeProblems[500],
  },
} as const satisfies RouteSpec;

export const withdrawRoute = {
  method: 'POST',
  path: '/v1/me/membership/withdraw',
  operationId: 'withdrawFromMyMembership',
  summary:
    'Withdraw within the withdrawal period of the member’s jurisdiction (14 days in the EU/UK): ends the membership at once and refunds the fee less a proportionate amount for the days served; an acknowledgement with the content, date and time is emailed. A retry answers the same.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  body: optional(strictObject({ name: optional(personText(200)) })),
  query: noQuery,
  responses: {
    200: {
      description: 'Withdrawn: the membership has ended; the refund is on its way',
      schema: strictObject({
        memberId: memberIdSchema,
        outcome: enumOf(['withdrawn']),
        reference: string(),
        receivedAt: isoTimeSchema,
        endedAt: isoTimeSchema,
        refund: nullable(strictObject({ amountCents: centsSchema, currency: currencySchema })),
        chargeForDaysServed: nullable(
          strictObject({ amountCents: centsSchema, currency: currencySchema, daysServed: int(), daysInPeriod: int() }),
        ),
      }),
    },
    ...shopperProblemResponses,
    ...jsonBodyProblems,
    409: problem(
      'No membership (`no_membership`), none in this jurisdiction (`no_withdrawal_right`, `jurisdiction`), or the period is over (`withdrawal_period_over`, `withdrawalEndsAt`): cancel instead',
      problemWith({
        reason: enumOf(['no_membership', 'no_withdrawal_right', 'withdrawal_period_over']),
        membershipStatus: optional(statusSchema),
        jurisdiction: optional(string()),
        withdrawalEndsAt: optional(isoTimeSchema),
      }),
    ),
    ...stripeProblems,
  },
} as const satisfies RouteSpec;

export const saveOfferSchema = strictObject({
  offerId: string(),
  description: string(),
  percentOff: int(),
  durationInMonths: int(),
  expiresAt: isoTimeSchema,
  acceptPath: string(),
});

export const acceptSaveOfferRoute = {
  method: 'POST',
  path: '/v1/me/membership/save-offers/{offerId}/accept',
  operationId: 'acceptSaveOffer',
  summary:
    'Take the offer a cancel answered with: the cancellation is undone and the discount applies (a Stripe coupon on the subscription). Cancelling again later works as always. A retry answers the same.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  params: strictObject({ offerId: string().check(maxLength(64), regex(/^[A-Z0-9-]+$/)) }),
  body: optional(strictObject({})),
  query: noQuery,
  responses: {
    200: {
      description: 'Accepted: the membership renews again, with the discount',
      schema: strictObject({
        memberId: memberIdSchema,
        offerId: string(),
        outcome: enumOf(['accepted']),
        acceptedAt: isoTimeSchema,
        renewsAt: nullable(isoTimeSchema),
        discount: strictObject({ percentOff: int(), durationInMonths: int() }),
      }),
    },
    ...shopperProblemResponses,
    ...jsonBodyProblems,
    404: problem('No such offer for this member (`unknown_offer`)', problemWith({ reason: enumOf(['unknown_offer']) })),
    409: problem(
      'The offer has expired (`offer_expired`, `expiresAt`) or its membership has ended (`membership_ended`)',
      problemWith({
        reason: enumOf(['offer_expired', 'membership_ended']),
        expiresAt: optional(isoTimeSchema),
        membershipStatus: optional(statusSchema),
      }),
    ),
    ...stripeProblems,
  },
} as const satisfies RouteSpec;

const exportedItemSchema = strictObject({ itemType: string(), retainedUntil: nullable(isoTimeSchema), data: record(string(), unknown()) });

export const myExportRoute = {
  method: 'GET',
  path: '/v1/me/export',
  operationId: 'exportMyData',
  summary:
    'Everything stored about the signed-in shopper as one JSON document (GDPR Art. 15 and 20): membership, grants and redemptions, savings, notices and their proofs, consent records, declarations, save offers, money records.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  query: noQuery,
  responses: {
    200: {
      description: 'The export (`format: membership-export/1`); each section says what its items are',
      schema: strictObject({
        format: enumOf(['membership-export/1']),
        memberId: memberIdSchema,
        exportedAt: isoTimeSchema,
        summary: strictObject({
          status: statusSchema,
          jurisdiction: nullable(strictObject({ country: string(), state: nullable(string()) })),
          rules: string(),
          itemCount: int(),
        }),
        sections: record(string(), strictObject({ description: string(), items: array(exportedItemSchema) })),
      }),
    },
    ...shopperProblemResponses,
    404: problem('Nothing is stored about this shopper'),
  },
} as const satisfies RouteSpec;

export const eraseMeRoute = {
  method: 'DELETE',
  path: '/v1/me',
  operationId: 'eraseMyData',
  summary:
    'Erase my personal data, with the operator’s rules (money records and proofs stay, without the address); a confirmation goes to the address erased. Refused while the membership still renews: cancel first.',
  tags: ['shopper'],
  auth: { kind: 'shopper' },
  // No body: the member is the token's, and naming anyone in a body is refused.
  body: optional(strictObject({})),
  query: noQuery,
  responses: {
    202: {
      description: 'Erased; the confirmation email is on its way (`confirmation: queued`) unless no address was stored',
      schema: strictObject({
        memberId: memberIdSchema,
        status: enumOf(['erased']),
        erasedAt: nullable(isoTimeSchema),
        erased: array(string()),
        noticeItems: int(),
        kept: strictObject({ proofsOfNotice: string(), consentRecords: int(), moneyRecords: string() }),
        confirmation: enumOf(['queued', 'no_address']),
      }),
    },
    ...shopperProblemResponses,
    ...jsonBodyProblems,
    404: problem('Nothing is stored about this shopper'),
    409: problem(
      'The membership still renews (`membership_renewing`): cancel it first',
      problemWith({ reason: enumOf(['membership_renewing']), membershipStatus: statusSchema }),
    ),
  },
} as const satisfies RouteSpec;

/** The operator's view of a member's jurisdiction (GET /v1/admin/members/{memberId}). */
export const jurisdictionViewSchema = nullable(
  strictObject({ country: string(), state: nullable(string()), source: enumOf(['checkout', 'customer']), rules: string() }),
);

/** The cancel request's opt-in to hearing a save offer, and the answer's offer. */
export const hearOffersSchema = optional(boolean());
export const saveOfferAnswerSchema = nullable(saveOfferSchema);
