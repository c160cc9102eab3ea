import fc from 'fast-check';
import { stripeId } from '../../local/stripe-test-events';
import chargeFixture from '../fixtures/stripe/charge.json' with { type: 'json' };
import creditNoteFixture from '../fixtures/stripe/credit_note.json' with { type: 'json' };
import invoicePaymentFixture from '../fixtures/stripe/invoice_payment.json' with { type: 'json' };

/**
 * A refund credit note (post-payment, issued) against an invoice, from Stripe's fixture object. By
 * default it credits the customer's balance; `refundedThroughCharge` is the part it returned as a
 * Refund of the charge (which Stripe also reports as charge.refunded).
 */
export function creditNoteObject(spec: {
  invoice: string;
  customer: string;
  amount?: number;
  refundedThroughCharge?: number;
}): Record<string, any> {
  const note: Record<string, any> = structuredClone(creditNoteFixture);
  return Object.assign(note, {
    id: stripeId('cn'),
    invoice: spec.invoice,
    customer: spec.customer,
    status: 'issued',
    type: 'post_payment',
    amount: spec.amount ?? 1499,
    total: spec.amount ?? 1499,
    voided_at: null,
    refunds: spec.refundedThroughCharge
      ? [{ refund: stripeId('re'), amount_refunded: spec.refundedThroughCharge, type: 'refund', payment_record_refund: null }]
      : [],
  });
}

/** A charge that paid a membership invoice through a PaymentIntent, after `refundedCents` came back. */
export function refundedChargeObject(spec: {
  customer: string;
  paymentIntent: string;
  amount?: number;
  refundedCents: number;
}): Record<string, any> {
  const charge: Record<string, any> = structuredClone(chargeFixture);
  return Object.assign(charge, {
    id: stripeId('ch'),
    customer: spec.customer,
    payment_intent: spec.paymentIntent,
    amount: spec.amount ?? 1499,
    amount_refunded: spec.refundedCents,
    refunded: spec.refundedCents >= (spec.amount ?? 1499),
    currency: 'usd',
    refunds: { object: 'list', data: [], has_more: false, url: '/v1/charges/ch/refunds' },
  });
}

/** Stripe's InvoicePayment: which PaymentIntent paid which invoice. */
export function invoicePaymentObject(spec: {
  invoice: string;
  paymentIntent: string;
  amount?: number;
  paidAt: number;
}): Record<string, any> {
  const payment: Record<string, any> = structuredClone(invoicePaymentFixture);
  return Object.assign(payment, {
    id: stripeId('inpay'),
    invoice: spec.invoice,
    amount_paid: spec.amount ?? 1499,
    amount_requested: spec.amount ?? 1499,
    currency: 'usd',
    status: 'paid',
    created: spec.paidAt,
    payment: { type: 'payment_intent', payment_intent: spec.paymentIntent },
    status_transitions: { paid_at: spec.paidAt, canceled_at: null },
  });
}

export type Command =
  | { op: 'issue' }
  | { op: 'redeem'; grant: number; order: number; subtotal: number }
  | { op: 'hold'; grant: number; order: number; subtotal: number }
  | { op: 'commit'; grant: number; order: number }
  | { op: 'wait'; minutes: number }
  | { op: 'release'; grant: number; order: number }
  | { op: 'expire'; days: number }
  | { op: 'refund' }
  | { op: 'usage'; order: number; cents: number }
  | { op: 'new-period' };

/**
 * Few codes and orders, so sequences often hit the interesting cases: a code redeemed and released by
 * the same order, two codes claimed for one order, a hold that lapses before its commit (holds last
 * 15 minutes, `wait` moves the clock 1–20 minutes), a usage reported by an order that later releases
 * its code, a release in a later period. Usage orders share the redeem orders' numbers (`order` 0–3)
 * and go a little beyond.
 */
export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ op: 'issue' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('redeem' as const),
      grant: fc.nat(3),
      order: fc.nat(3),
      subtotal: fc.constantFrom(1000, 3000, 6000),
    }),
  },
  // Holds and commits aim at fewer codes and orders, so a commit often meets its own hold, standing or lapsed.
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('hold' as const),
      grant: fc.nat(1),
      order: fc.nat(1),
      subtotal: fc.constantFrom(1000, 3000, 6000),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('commit' as const), grant: fc.nat(1), order: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('wait' as const), minutes: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), grant: fc.nat(3), order: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), grant: fc.nat(1), order: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('expire' as const), days: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'refund' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('usage' as const), order: fc.nat(5), cents: fc.integer({ min: 0, max: 2000 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'new-period' as const }) },
);
