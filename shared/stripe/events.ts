/**
 * Reads Stripe event payloads (API version `2026-10-28.endive`) into domain events. Works from the
 * payload alone: no Stripe API call on the webhook path. Every object we act on is validated first;
 * a payload that does not match this version's shape raises `StripePayloadError` instead of being
 * misread (the webhook answers 5xx and alarms, Stripe retries after the fix).
 */

import type { MemberClaim } from '../domain/binding';
import type { PlanCatalog } from '../domain/catalog';
import { memberIdSchema } from '../domain/member-id';
import type { MembershipEvent, SubscriptionState } from '../domain/membership';
import type { ChargeRefund } from '../domain/membership-events';

export type { ChargeRefund } from '../domain/membership-events';

import { isoFromEpoch } from '../domain/membership';
import {
  array,
  boolean,
  type Infer,
  int,
  issuesToErrors,
  literal,
  looseObject,
  minLength,
  nullable,
  optional,
  record,
  regex,
  type Schema,
  string,
  union,
  unknown,
} from '../validation';
import { STRIPE_API_VERSION } from './api-version';

export class StripePayloadError extends Error {
  override name = 'StripePayloadError';
  constructor(
    message: string,
    readonly eventId: string,
    readonly eventType: string,
  ) {
    super(message);
  }
}

const id = (prefix: string) => string().check(regex(new RegExp(`^${prefix}_[A-Za-z0-9_]+$`)));
const epoch = int();
const metadata = optional(nullable(record(string(), string())));
const expandable = (prefix: string) => union([id(prefix), looseObject({ id: id(prefix) })]);

/** The event envelope: anything failing this is not a Stripe event at all (400). */
export const stripeEventSchema = looseObject({
  id: id('evt'),
  object: literal('event'),
  type: string().check(minLength(1)),
  created: epoch,
  api_version: nullable(string()),
  livemode: boolean(),
  /** Set on events of a connected account (Connect); absent on the account's own events. */
  account: optional(nullable(string())),
  data: looseObject({ object: looseObject({ object: string() }), previous_attributes: optional(unknown()) }),
});
export type StripeEvent = Infer<typeof stripeEventSchema>;

/** A Stripe address: only what the jurisdiction needs is read (jurisdiction.ts). */
const addressSchema = looseObject({ country: optional(nullable(string())), state: optional(nullable(string())) });

const subscriptionItemSchema = looseObject({
  id: id('si'),
  current_period_start: epoch,
  current_period_end: epoch,
  price: looseObject({
    id: id('price'),
    currency: string(),
    unit_amount: nullable(int()),
    recurring: nullable(looseObject({ interval: string(), interval_count: int() })),
  }),
  quantity: optional(int()),
});

const subscriptionSchema = looseObject({
  id: id('sub'),
  object: literal('subscription'),
  customer: expandable('cus'),
  status: string(),
  metadata,
  cancel_at_period_end: boolean(),
  cancel_at: nullable(epoch),
  canceled_at: nullable(epoch),
  ended_at: nullable(epoch),
  trial_start: nullable(epoch),
  trial_end: nullable(epoch),
  start_date: epoch,
  items: looseObject({ data: array(subscriptionItemSchema).check(minLength(1)) }),
});

const checkoutSessionSchema = looseObject({
  id: id('cs'),
  object: literal('checkout.session'),
  mode: string(),
  client_reference_id: nullable(string()),
  customer: nullable(expandable('cus')),
  subscription: nullable(expandable('sub')),
  metadata,
  customer_details: optional(nullable(looseObject({ email: optional(nullable(string())), address: optional(nullable(addressSchema)) }))),
});

const customerSchema = looseObject({
  id: id('cus'),
  object: literal('customer'),
  address: optional(nullable(addressSchema)),
});

const invoiceSchema = looseObject({
  id: id('in'),
  object: literal('invoice'),
  // Nullable in this API version's types (an invoice of a customer account rather than a customer).
  customer: nullable(expandable('cus')),
  billing_reason: nullable(string()),
  parent: nullable(
    looseObject({
      type: string(),
      subscription_details: optional(nullable(looseObject({ subscription: expandable('sub'), metadata }))),
    }),
  ),
  amount_paid: int(),
  total: int(),
  currency: string(),
  lines: looseObject({
    data: array(
      looseObject({
        period: looseObject({ start: epoch, end: epoch }),
        parent: optional(
          nullable(
            looseObject({
              type: string(),
              subscription_item_details: optional(nullable(looseObject({ subscription: nullable(string()), proration: boolean() }))),
            }),
          ),
        ),
        pricing: optional(nullable(looseObject({ price_details: optional(nullable(looseObject({ price: expandable('price') }))) }))),
      }),
    ),
  }),
});

const creditNoteSchema = looseObject({
  id: id('cn'),
  object: literal('credit_note'),
  invoice: expandable('in'),
  customer: expandable('cus'),
  status: string(),
  type: string(),
  total: int(),
  currency: string(),
  refunds: optional(nullable(array(looseObject({ amount_refunded: int() })))),
});

const invoicePaymentSchema = looseObject({
  id: string().check(minLength(1)),
  object: literal('invoice_payment'),
  invoice: expandable('in'),
  status: string(),
  payment: looseObject({
    type: string(),
    payment_intent: optional(nullable(expandable('pi'))),
    charge: optional(nullable(expandable('ch'))),
  }),
});

const chargeSchema = looseObject({
  id: id('ch'),
  object: literal('charge'),
  customer: nullable(expandable('cus')),
  payment_intent: nullable(expandable('pi')),
  amount_refunded: int(),
  currency: string(),
});

/**
 * The invoice line that bills the subscription itself (not a proration): its period is the billing
 * period the invoice pays for, which keys period grants.
 */
function subscriptionLine(invoice: Infer<typeof invoiceSchema>, subscriptionId: string, catalog: PlanCatalog) {
  const lines = invoice.lines.data.filter(
    (l) => l.parent?.subscription_item_details?.subscription === subscriptionId && !l.parent.subscription_item_details.proration,
  );
  const line = lines.find((l) => catalog.planForPrice(linePriceId(l))) ?? lines[0];
  return line
    ? { periodStart: isoFromEpoch(line.period.start), periodEnd: isoFromEpoch(line.period.end), priceId: linePriceId(line) }
    : null;
}

type InvoiceLine = Infer<typeof invoiceSchema>['lines']['data'][number];
function linePriceId(line: InvoiceLine): string | null {
  const price = line.pricing?.price_details?.price;
  return price === undefined ? null : refOf(price);
}

const refOf = (value: string | { id: string }) => (typeof value === 'string' ? value : value.id);
const iso = (seconds: number | null) => (seconds === null ? null : isoFromEpoch(seconds));

/** Validates the object an event carries; a mismatch is a StripePayloadError (retried, alarmed). */
export function parseObject<T>(schema: Schema<T>, event: StripeEvent): T {
  const result = schema.safeParse(event.data.object);
  if (!result.success) {
    const details = issuesToErrors(result.error.issues)
      .slice(0, 5)
      .map((e) => `${e.path}: ${e.message}`)
      .join('; ');
    throw new StripePayloadError(
      `${event.type} payload does not match API version ${STRIPE_API_VERSION}: ${details}`,
      event.id,
      event.type,
    );
  }
  return result.data;
}

const validMemberId = (candidate: string | null | undefined): string | null =>
  candidate && memberIdSchema.safeParse(candidate).success ? candidate : null;

/** The member an object names, and whether the name comes from our own metadata or from the buyer. */
function claimOf(metadata: Record<string, string> | null | undefined, clientReferenceId?: string | null): MemberClaim | null {
  const fromMetadata = validMemberId(metadata?.memberId);
  if (fromMetadata) return { memberId: fromMetadata, source: 'metadata' };
  const fromBuyer = validMemberId(clientReferenceId);
  return fromBuyer ? { memberId: fromBuyer, source: 'client_reference_id' } : null;
}

/**
 * A domain event about a membership. `claim` is the member the object names (our metadata, or
 * Checkout's `client_reference_id`, which a buyer can set); whom it is applied to is decided by the
 * binding rules (domain/binding.ts) against the stored customer links: an event of a customer linked
 * to nobody that names no member is not about a membership at all.
 */
export type TranslatedEvent =
  | { kind: 'ignored'; reason: string }
  /**
   * A payment of an invoice (`invoice_payment.paid`): in this API version the only place that ties
   * a PaymentIntent (or Charge) to its invoice, which a later refund of that payment needs.
   */
  | { kind: 'payment-link'; paymentRef: string; invoiceId: string }
  /**
   * Money returned on a charge (Refunds API, Dashboard, a credit note's refund): the charge names its
   * customer and payment, not its invoice, which the payment link supplies.
   */
  | { kind: 'charge-refunded'; customerId: string | null; paymentRef: string; refund: ChargeRefund }
  /** A gift bought through Checkout in payment mode was paid (docs/gifts.md). */
  | { kind: 'gift-paid'; payment: GiftPaymentFacts }
  | {
      kind: 'membership';
      claim: MemberClaim | null;
      customerId: string | null;
      /** The Stripe object, for the operator's review list when the event is refused. */
      subject: { object: string; id: string };
      /** For subscription events: the snapshot as read (the drift sweep compares it with ours). */
      subscription?: SubscriptionState;
      build: (memberId: string) => MembershipEvent;
    };

const giftSessionSchema = looseObject({
  id: id('cs'),
  object: literal('checkout.session'),
  mode: string(),
  payment_status: string(),
  amount_total: nullable(int()),
  currency: nullable(string()),
  payment_intent: nullable(expandable('pi')),
  total_details: optional(nullable(looseObject({ amount_tax: optional(nullable(int())) }))),
  metadata,
});

/** What a paid gift checkout tells: whose gift, which, what it cost, and the payment refunds go through. */
export interface GiftPaymentFacts {
  buyerMemberId: string;
  purchaseId: string;
  giftId: string;
  planId: string;
  months: number;
  claimValidDays: number;
  checkoutSessionId: string;
  paymentIntentId: string | null;
  amountCents: number;
  taxCents: number;
  currency: string;
  /** The event's time: a session has no payment time of its own, and only one event reports it paid. */
  paidAt: string;
}

/**
 * The gift a Checkout Session event reports paid, or null for any other session (a subscription
 * checkout, someone else's payment, a payment still pending: `async_payment_succeeded` reports that one
 * later). A gift session is ours by its metadata (`purchaseId`, `giftId`, `memberId`), which only this
 * service writes; a gift the catalog no longer knows cannot be booked and is refused loudly (5xx).
 */
export function giftPaymentOf(event: StripeEvent, catalog: PlanCatalog): GiftPaymentFacts | null {
  if (event.type !== 'checkout.session.completed' && event.type !== 'checkout.session.async_payment_succeeded') return null;
  const session = parseObject(giftSessionSchema, event);
  const meta = session.metadata ?? {};
  if (session.mode !== 'payment' || !meta.purchaseId || !meta.giftId || !meta.memberId) return null;
  if (session.payment_status !== 'paid') return null;
  const found = catalog.gift(meta.giftId);
  if (!found) throw new StripePayloadError(`gift ${meta.giftId} is not in the plan catalog`, event.id, event.type);
  const buyer = memberIdSchema.safeParse(meta.memberId);
  if (!buyer.success || session.amount_total === null || !session.currency)
    throw new StripePayloadError('gift checkout session without a valid buyer, amount or currency', event.id, event.type);
  return {
    buyerMemberId: buyer.data,
    purchaseId: meta.purchaseId,
    giftId: found.gift.id,
    planId: found.plan.id,
    months: found.gift.months,
    claimValidDays: found.gift.claimValidDays,
    checkoutSessionId: session.id,
    paymentIntentId: session.payment_intent ? refOf(session.payment_intent) : null,
    amountCents: session.amount_total,
    taxCents: session.total_details?.amount_tax ?? 0,
    currency: session.currency,
    paidAt: isoFromEpoch(event.created),
  };
}

export function toSubscriptionState(sub: Infer<typeof subscriptionSchema>, catalog: PlanCatalog): SubscriptionState {
  // Memberships are single-item subscriptions; the item carrying a catalog price decides the plan.
  const items = sub.items.data;
  const item = items.find((i) => catalog.planForPrice(i.price.id)) ?? items[0]!;
  const plan = catalog.planForPrice(item.price.id);
  return {
    subscriptionId: sub.id,
    customerId: refOf(sub.customer),
    stripeStatus: sub.status,
    priceId: item.price.id,
    planId: plan?.id ?? null,
    amountCents: item.price.unit_amount === null ? null : item.price.unit_amount * (item.quantity ?? 1),
    currency: item.price.currency,
    interval: item.price.recurring?.interval ?? null,
    currentPeriodStart: iso(item.current_period_start),
    currentPeriodEnd: iso(item.current_period_end),
    trialStart: iso(sub.trial_start),
    trialEnd: iso(sub.trial_end),
    startDate: isoFromEpoch(sub.start_date),
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    cancelAt: iso(sub.cancel_at),
    canceledAt: iso(sub.canceled_at),
    endedAt: iso(sub.ended_at),
  };
}

const SUBSCRIPTION_EVENTS: ReadonlySet<string> = new Set([
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'customer.subscription.pending_update_applied',
  'customer.subscription.pending_update_expired',
  'customer.subscription.trial_will_end',
]);

/** Every event type the membership reads (the ledger reads its own, money-events.ts). */
export const MEMBERSHIP_EVENT_TYPES: ReadonlySet<string> = new Set([
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'customer.created',
  'customer.updated',
  ...SUBSCRIPTION_EVENTS,
  'invoice.paid',
  'invoice.payment_failed',
  'invoice_payment.paid',
  'charge.refunded',
  'credit_note.created',
]);

/** Maps a verified Stripe event to what the membership needs from it. */
export function translateStripeEvent(event: StripeEvent, catalog: PlanCatalog): TranslatedEvent {
  // A type we do not read is ignored whatever its version: refusing it would only earn Stripe's retries.
  if (!MEMBERSHIP_EVENT_TYPES.has(event.type)) return { kind: 'ignored', reason: `event type ${event.type} is not handled` };
  if (event.api_version !== STRIPE_API_VERSION) {
    throw new StripePayloadError(
      `event rendered in API version ${event.api_version ?? 'unknown'}, expected ${STRIPE_API_VERSION}: set the webhook endpoint's api_version`,
      event.id,
      event.type,
    );
  }
  const base = { eventId: event.id, created: event.created };

  if (event.type === 'checkout.session.completed' || event.type === 'checkout.session.async_payment_succeeded') {
    const gift = giftPaymentOf(event, catalog);
    if (gift) return { kind: 'gift-paid', payment: gift };
    const session = parseObject(checkoutSessionSchema, event);
    if (session.mode !== 'subscription') return { kind: 'ignored', reason: `checkout mode ${session.mode}` };
    const claim = claimOf(session.metadata, session.client_reference_id);
    // Every session this service creates carries the memberId; one without it was made elsewhere on
    // the Stripe account (another product, a Payment Link) and is not a membership.
    if (!claim) return { kind: 'ignored', reason: 'subscription checkout session without a memberId: not created by this service' };
    const customerId = session.customer ? refOf(session.customer) : null;
    const subscriptionId = session.subscription ? refOf(session.subscription) : null;
    const email = session.customer_details?.email ?? null;
    const address = session.customer_details?.address ?? null;
    return {
      kind: 'membership',
      claim,
      customerId,
      subject: { object: 'checkout.session', id: session.id },
      build: (m) => ({
        kind: 'checkout-completed',
        ...base,
        memberId: m,
        customerId,
        subscriptionId,
        checkoutSessionId: session.id,
        email,
        address,
      }),
    };
  }

  if (event.type === 'customer.updated' || event.type === 'customer.created') {
    // Only the address matters here (the member's jurisdiction). The member is whoever the customer is
    // already linked to, never its metadata: a customer event must not bind a member to a customer. A
    // customer linked to no member is another product's buyer and ends as unattributed.
    const customer = parseObject(customerSchema, event);
    return {
      kind: 'membership',
      claim: null,
      customerId: customer.id,
      subject: { object: 'customer', id: customer.id },
      build: (m) => ({ kind: 'customer-updated', ...base, memberId: m, customerId: customer.id, address: customer.address ?? null }),
    };
  }

  if (SUBSCRIPTION_EVENTS.has(event.type)) {
    const sub = parseObject(subscriptionSchema, event);
    const subscription = toSubscriptionState(sub, catalog);
    const claim = claimOf(sub.metadata);
    if (subscription.planId === null) {
      // A subscription this service sold always has a catalog price: one that lost it (a price
      // dropped from the catalog) is a configuration error worth an alarm and Stripe's retries.
      // Without our memberId it is another product sold on the same account, even to a member.
      if (claim) {
        throw new StripePayloadError(
          `subscription ${sub.id} of member metadata has price ${subscription.priceId}, which no catalog plan lists: keep retired prices in the catalog`,
          event.id,
          event.type,
        );
      }
      return { kind: 'ignored', reason: `subscription price ${subscription.priceId} is not a membership plan` };
    }
    return {
      kind: 'membership',
      claim,
      customerId: subscription.customerId,
      subject: { object: 'subscription', id: sub.id },
      subscription,
      build: (m) => ({
        kind: 'subscription-changed',
        ...base,
        memberId: m,
        subscription,
        ...(event.type === 'customer.subscription.trial_will_end' ? { trialWillEnd: true } : {}),
      }),
    };
  }

  if (event.type === 'invoice.paid' || event.type === 'invoice.payment_failed') {
    const invoice = parseObject(invoiceSchema, event);
    const details = invoice.parent?.type === 'subscription_details' ? invoice.parent.subscription_details : null;
    if (!details) return { kind: 'ignored', reason: 'invoice without a subscription' };
    const customerId = invoice.customer ? refOf(invoice.customer) : null;
    const subscriptionId = refOf(details.subscription);
    const claim = claimOf(details.metadata);
    // An invoice of a member's other (non-membership) subscription must not touch the membership:
    // its payment outcome would overwrite the one that decides grace, its period would issue grants.
    if (!claim && !invoice.lines.data.some((l) => catalog.planForPrice(linePriceId(l)))) {
      return { kind: 'ignored', reason: 'invoice of a subscription without a membership plan' };
    }
    const line = subscriptionLine(invoice, subscriptionId, catalog);
    return {
      kind: 'membership',
      claim,
      customerId,
      subject: { object: 'invoice', id: invoice.id },
      build: (m) => ({
        kind: event.type === 'invoice.paid' ? 'invoice-paid' : 'invoice-payment-failed',
        ...base,
        memberId: m,
        customerId,
        subscriptionId,
        invoiceId: invoice.id,
        billingReason: invoice.billing_reason,
        ...(event.type === 'invoice.paid'
          ? {
              periodStart: line?.periodStart ?? null,
              periodEnd: line?.periodEnd ?? null,
              priceId: line?.priceId ?? null,
              amountPaidCents: invoice.amount_paid,
              totalCents: invoice.total,
              currency: invoice.currency,
            }
          : {}),
      }),
    };
  }

  if (event.type === 'invoice_payment.paid') {
    const payment = parseObject(invoicePaymentSchema, event);
    const ref = payment.payment.payment_intent ?? payment.payment.charge;
    if (payment.status !== 'paid' || !ref)
      return { kind: 'ignored', reason: `invoice payment ${payment.status} by ${payment.payment.type}` };
    return { kind: 'payment-link', paymentRef: refOf(ref), invoiceId: refOf(payment.invoice) };
  }

  if (event.type === 'charge.refunded') {
    const charge = parseObject(chargeSchema, event);
    return {
      kind: 'charge-refunded',
      customerId: charge.customer ? refOf(charge.customer) : null,
      // The key invoice payments use: the PaymentIntent, or the charge itself for a bare charge.
      paymentRef: charge.payment_intent ? refOf(charge.payment_intent) : charge.id,
      refund: {
        eventId: event.id,
        created: event.created,
        chargeId: charge.id,
        refundedCents: charge.amount_refunded,
        currency: charge.currency,
      },
    };
  }

  // Refunds void the period's unredeemed grants. A Charge no longer names its invoice in this API
  // version, while a credit note does, so `credit_note.created` is the event that finds the period.
  if (event.type === 'credit_note.created') {
    const note = parseObject(creditNoteSchema, event);
    // A pre-payment credit note lowers an unpaid invoice: nothing was refunded.
    if (note.status !== 'issued' || note.type === 'pre_payment')
      return { kind: 'ignored', reason: `credit note ${note.type} ${note.status}` };
    const customerId = refOf(note.customer);
    const invoiceId = refOf(note.invoice);
    return {
      kind: 'membership',
      claim: null,
      customerId,
      subject: { object: 'credit_note', id: note.id },
      // The part refunded through Refund objects reaches us as charge.refunded; counting it here too
      // would take it off fees paid twice. What is left was credited to the balance or paid out of band.
      build: (m) => ({
        kind: 'invoice-refunded',
        ...base,
        memberId: m,
        customerId,
        invoiceId,
        creditNoteId: note.id,
        amountCents: Math.max(0, note.total - (note.refunds ?? []).reduce((sum, r) => sum + r.amount_refunded, 0)),
        currency: note.currency,
      }),
    };
  }

  return { kind: 'ignored', reason: `event type ${event.type} is not handled` };
}
