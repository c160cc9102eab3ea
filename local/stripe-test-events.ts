/**
 * Builders of realistic Stripe events in API version 2026-10-28.endive, for tests, the benchmark and
 * `npm run send-test-event`. They start from Stripe's own fixture objects (tests/fixtures/stripe) and
 * move them to this version's shape: periods on subscription items, invoice → subscription through
 * `parent.subscription_details`, no `invoice.subscription`.
 */
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { STRIPE_API_VERSION } from '#shared/stripe/api-version';
import sessionFixture from '../tests/fixtures/stripe/checkout_session.json' with { type: 'json' };
import eventFixture from '../tests/fixtures/stripe/event.json' with { type: 'json' };
import invoiceFixture from '../tests/fixtures/stripe/invoice.json' with { type: 'json' };
import subscriptionFixture from '../tests/fixtures/stripe/subscription.json' with { type: 'json' };

// biome-ignore lint/suspicious/noExplicitAny: Stripe objects built from fixtures, edited field by field.
type Json = Record<string, any>;
const clone = <T>(value: T): T => structuredClone(value);
export const stripeId = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;
const DAY = 86_400;

export interface SubscriptionSpec {
  id?: string;
  customer?: string;
  memberId?: string | null;
  status?: string;
  priceId?: string;
  unitAmount?: number;
  interval?: 'month' | 'year';
  periodStart: number;
  periodEnd?: number;
  trialStart?: number | null;
  trialEnd?: number | null;
  /** When the subscription was created; Stripe repeats it on every later snapshot. Default: the trial or period start. */
  startDate?: number;
  cancelAtPeriodEnd?: boolean;
  cancelAt?: number | null;
  canceledAt?: number | null;
  endedAt?: number | null;
}

export function subscriptionObject(spec: SubscriptionSpec): Json {
  const sub: Json = clone(subscriptionFixture);
  const interval = spec.interval ?? 'month';
  const periodEnd = spec.periodEnd ?? spec.periodStart + (interval === 'year' ? 365 : 30) * DAY;
  const item: Json = clone(sub.items.data[0]);
  delete sub.current_period_start;
  delete sub.current_period_end;
  delete sub.subscription; // not part of this version
  Object.assign(item, { id: stripeId('si'), current_period_start: spec.periodStart, current_period_end: periodEnd, quantity: 1 });
  item.price = {
    ...item.price,
    id: spec.priceId ?? (interval === 'year' ? 'price_prime_annual_usd' : 'price_prime_monthly_usd'),
    currency: 'usd',
    unit_amount: spec.unitAmount ?? (interval === 'year' ? 13900 : 1499),
    recurring: { ...item.price.recurring, interval, interval_count: 1 },
  };
  const id = spec.id ?? stripeId('sub');
  item.subscription = id;
  return Object.assign(sub, {
    id,
    customer: spec.customer ?? stripeId('cus'),
    status: spec.status ?? 'active',
    metadata: spec.memberId === null ? {} : { memberId: spec.memberId ?? 'member-1' },
    cancel_at_period_end: spec.cancelAtPeriodEnd ?? false,
    cancel_at: spec.cancelAt ?? null,
    canceled_at: spec.canceledAt ?? null,
    ended_at: spec.endedAt ?? null,
    trial_start: spec.trialStart ?? null,
    trial_end: spec.trialEnd ?? null,
    start_date: spec.startDate ?? spec.trialStart ?? spec.periodStart,
    items: { ...sub.items, data: [item], url: `/v1/subscription_items?subscription=${id}` },
    status_details: null,
    latest_invoice: null,
  });
}

export interface InvoiceSpec {
  id?: string;
  customer: string;
  subscription: string;
  memberId?: string | null;
  billingReason?: string;
  status?: 'paid' | 'open';
  amountPaid?: number;
  tax?: number;
  currency?: string;
  periodStart: number;
  periodEnd: number;
  priceId?: string;
  created?: number;
}

export function invoiceObject(spec: InvoiceSpec): Json {
  const inv: Json = clone(invoiceFixture);
  delete inv.subscription;
  const amount = spec.amountPaid ?? 1499;
  const tax = spec.tax ?? 0;
  const line: Json = clone(inv.lines.data[0] ?? {});
  Object.assign(line, {
    id: stripeId('il'),
    object: 'line_item',
    amount: amount - tax,
    currency: spec.currency ?? 'usd',
    period: { start: spec.periodStart, end: spec.periodEnd },
    parent: {
      type: 'subscription_item_details',
      subscription_item_details: {
        subscription: spec.subscription,
        subscription_item: stripeId('si'),
        proration: false,
        invoice_item: null,
        proration_details: { credited_items: null },
      },
      invoice_item_details: null,
    },
    pricing: {
      type: 'price_details',
      price_details: { price: spec.priceId ?? 'price_prime_monthly_usd', product: 'prod_prime' },
      unit_amount_decimal: String(amount - tax),
    },
  });
  const paid = (spec.status ?? 'paid') === 'paid';
  return Object.assign(inv, {
    id: spec.id ?? stripeId('in'),
    customer: spec.customer,
    billing_reason: spec.billingReason ?? 'subscription_cycle',
    status: spec.status ?? 'paid',
    currency: spec.currency ?? 'usd',
    amount_due: amount,
    amount_paid: paid ? amount : 0,
    amount_remaining: paid ? 0 : amount,
    subtotal: amount - tax,
    subtotal_excluding_tax: amount - tax,
    total: amount,
    total_excluding_tax: amount - tax,
    total_taxes: tax
      ? [
          {
            amount: tax,
            tax_behavior: 'exclusive',
            taxable_amount: amount - tax,
            taxability_reason: 'standard_rated',
            tax_rate_details: null,
            type: 'tax_rate_details',
          },
        ]
      : [],
    period_start: spec.periodStart,
    period_end: spec.periodStart,
    created: spec.created ?? spec.periodStart,
    status_transitions: { ...inv.status_transitions, paid_at: paid ? (spec.created ?? spec.periodStart) : null },
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: {
        subscription: spec.subscription,
        metadata: spec.memberId === null ? {} : { memberId: spec.memberId ?? 'member-1' },
      },
    },
    lines: { ...inv.lines, data: [line], has_more: false, total_count: 1 },
  });
}

/** Where test shoppers live unless a test says otherwise: California, whose rules the reminders were built to. */
export const DEFAULT_BILLING_ADDRESS = { country: 'US', state: 'CA' } as const;

export function checkoutSessionObject(spec: {
  memberId: string;
  customer: string;
  subscription: string;
  id?: string;
  email?: string;
  address?: { country: string; state?: string | null } | null;
}): Json {
  const session: Json = clone(sessionFixture);
  const address = spec.address === undefined ? DEFAULT_BILLING_ADDRESS : spec.address;
  return Object.assign(session, {
    customer_details: {
      ...session.customer_details,
      ...(spec.email ? { email: spec.email } : {}),
      address: address ? { ...session.customer_details.address, state: null, ...address } : null,
    },
    id: spec.id ?? stripeId('cs'),
    mode: 'subscription',
    status: 'complete',
    payment_status: 'paid',
    client_reference_id: spec.memberId,
    customer: spec.customer,
    subscription: spec.subscription,
    metadata: { memberId: spec.memberId },
  });
}

export function stripeEvent(
  type: string,
  object: Json,
  options: { created: number; id?: string; apiVersion?: string | null; previousAttributes?: Json },
): Json {
  const event: Json = clone(eventFixture);
  return Object.assign(event, {
    id: options.id ?? stripeId('evt'),
    object: 'event',
    type,
    created: options.created,
    api_version: options.apiVersion === undefined ? STRIPE_API_VERSION : options.apiVersion,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object, ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}) },
  });
}

/** A `Stripe-Signature` header for a payload, exactly as Stripe computes it. */
export function signPayload(payload: string, secret: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: timestampSeconds });
}

/** The usual opening of a membership: checkout completes, subscription created (trialing or active), first invoice paid. */
export function signupEvents(options: {
  memberId: string;
  start: number;
  trialDays?: number;
  interval?: 'month' | 'year';
  customer?: string;
  subscription?: string;
  /** The checkout's billing address (default: California); null for none. */
  address?: { country: string; state?: string | null } | null;
  email?: string;
}) {
  const customer = options.customer ?? stripeId('cus');
  const subscription = options.subscription ?? stripeId('sub');
  const trialEnd = options.trialDays ? options.start + options.trialDays * DAY : null;
  const sub = subscriptionObject({
    id: subscription,
    customer,
    memberId: options.memberId,
    status: trialEnd ? 'trialing' : 'active',
    interval: options.interval,
    periodStart: options.start,
    ...(trialEnd ? { periodEnd: trialEnd, trialStart: options.start, trialEnd } : {}),
  });
  const item = sub.items.data[0];
  const periodEnd = item.current_period_end as number;
  return {
    customer,
    subscription,
    periodEnd,
    events: [
      stripeEvent(
        'checkout.session.completed',
        checkoutSessionObject({
          memberId: options.memberId,
          customer,
          subscription,
          ...(options.address !== undefined ? { address: options.address } : {}),
          ...(options.email ? { email: options.email } : {}),
        }),
        { created: options.start },
      ),
      stripeEvent('customer.subscription.created', sub, { created: options.start }),
      stripeEvent(
        'invoice.paid',
        invoiceObject({
          customer,
          subscription,
          memberId: options.memberId,
          billingReason: 'subscription_create',
          // The first invoice bills the subscription's own price: 139.00 on the annual plan, not 14.99.
          amountPaid: trialEnd ? 0 : (item.price.unit_amount as number),
          priceId: item.price.id as string,
          periodStart: options.start,
          periodEnd,
        }),
        { created: options.start + 1 },
      ),
    ],
  };
}
