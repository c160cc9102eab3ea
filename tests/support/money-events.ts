/** Builders of endive-shaped money events (refunds, disputes, credit notes, invoice payments) from Stripe's fixtures. */

import { type InvoiceSpec, invoiceObject, stripeId } from '../../local/stripe-test-events';
import balanceTransactionFixture from '../fixtures/stripe/balance_transaction.json' with { type: 'json' };
import creditNoteFixture from '../fixtures/stripe/credit_note.json' with { type: 'json' };
import disputeFixture from '../fixtures/stripe/dispute.json' with { type: 'json' };
import invoicePaymentFixture from '../fixtures/stripe/invoice_payment.json' with { type: 'json' };
import refundFixture from '../fixtures/stripe/refund.json' with { type: 'json' };

type Json = Record<string, any>;
const clone = <T>(v: T): T => structuredClone(v);

export function refundObject(spec: {
  id: string;
  charge: string;
  paymentIntent?: string | null;
  amount: number;
  created: number;
  status?: string;
  currency?: string;
  /** A failed refund's `failure_balance_transaction`: an id, or expanded with its time. */
  failure?: string | { id: string; created: number };
}): Json {
  const refund = Object.assign(clone(refundFixture) as Json, {
    id: spec.id,
    charge: spec.charge,
    payment_intent: spec.paymentIntent ?? null,
    amount: spec.amount,
    currency: spec.currency ?? 'usd',
    created: spec.created,
    status: spec.status ?? 'succeeded',
    balance_transaction: null,
  });
  if (spec.failure !== undefined) {
    refund.failure_balance_transaction =
      typeof spec.failure === 'string'
        ? spec.failure
        : {
            ...clone(balanceTransactionFixture),
            id: spec.failure.id,
            created: spec.failure.created,
            amount: spec.amount,
            net: spec.amount,
            currency: refund.currency,
            reporting_category: 'refund_failure',
            type: 'refund_failure',
            source: spec.id,
          };
    refund.failure_reason = 'expired_or_canceled_card';
  }
  return refund;
}

/** A dispute; its balance transactions are in the dispute's currency unless one names its own (a settlement in another currency). */
export function disputeObject(spec: {
  id: string;
  charge: string;
  paymentIntent?: string;
  amount: number;
  created: number;
  status: string;
  transactions?: Array<{ id: string; amount: number; created: number; currency?: string }>;
  currency?: string;
}): Json {
  return Object.assign(clone(disputeFixture) as Json, {
    id: spec.id,
    charge: spec.charge,
    payment_intent: spec.paymentIntent ?? null,
    amount: spec.amount,
    currency: spec.currency ?? 'usd',
    created: spec.created,
    status: spec.status,
    balance_transactions: (spec.transactions ?? []).map((t) => ({
      ...clone(balanceTransactionFixture),
      id: t.id,
      amount: t.amount,
      net: t.amount,
      fee: 0,
      created: t.created,
      currency: t.currency ?? spec.currency ?? 'usd',
      reporting_category: t.amount < 0 ? 'dispute' : 'dispute_reversal',
      type: t.amount < 0 ? 'adjustment' : 'adjustment',
      source: spec.id,
    })),
  });
}

export function creditNoteObject(spec: {
  id: string;
  invoice: string;
  total: number;
  tax?: number;
  created: number;
  refund?: string;
}): Json {
  return Object.assign(clone(creditNoteFixture) as Json, {
    id: spec.id,
    invoice: spec.invoice,
    total: spec.total,
    subtotal: spec.total - (spec.tax ?? 0),
    total_taxes: spec.tax
      ? [
          {
            amount: spec.tax,
            tax_behavior: 'exclusive',
            taxable_amount: spec.total - spec.tax,
            taxability_reason: 'standard_rated',
            type: 'tax_rate_details',
            tax_rate_details: null,
          },
        ]
      : [],
    created: spec.created,
    status: 'issued',
    type: 'post_payment',
    refunds: spec.refund ? [{ refund: spec.refund, amount_refunded: spec.total, type: 'refund', payment_record_refund: null }] : [],
  });
}

export function invoicePaymentObject(spec: { id: string; invoice: string; paymentIntent: string; amount: number; paidAt: number }): Json {
  return Object.assign(clone(invoicePaymentFixture) as Json, {
    id: spec.id,
    invoice: spec.invoice,
    amount_paid: spec.amount,
    amount_requested: spec.amount,
    currency: 'usd',
    status: 'paid',
    created: spec.paidAt,
    payment: { type: 'payment_intent', payment_intent: spec.paymentIntent },
    status_transitions: { paid_at: spec.paidAt, canceled_at: null },
  });
}

export interface LineSpec {
  /** Line amount before discounts, tax exclusive. */
  amount: number;
  priceId: string;
  start: number;
  end: number;
  proration?: boolean;
  discount?: number;
}

/**
 * A paid subscription invoice with the given subscription lines (recurring prices, prorations,
 * discounts), shaped like Stripe's: each line's parent is its subscription item, `proration` says
 * whether it is one; the invoice's totals add up from the lines.
 */
export function invoiceWithLines(spec: Omit<InvoiceSpec, 'amountPaid' | 'periodStart' | 'periodEnd' | 'priceId'>, lines: LineSpec[]): Json {
  const tax = spec.tax ?? 0;
  const net = lines.reduce((a, l) => a + l.amount - (l.discount ?? 0), 0);
  const inv = invoiceObject({ ...spec, amountPaid: net + tax, periodStart: lines[0]!.start, periodEnd: lines[0]!.end });
  const template = inv.lines.data[0];
  inv.lines.data = lines.map((l) => ({
    ...clone(template),
    id: stripeId('il'),
    amount: l.amount,
    period: { start: l.start, end: l.end },
    discount_amounts: l.discount ? [{ amount: l.discount, discount: 'di_test' }] : [],
    pretax_credit_amounts: l.discount
      ? [{ amount: l.discount, discount: 'di_test', type: 'discount', credit_balance_transaction: null }]
      : [],
    parent: {
      ...clone(template.parent),
      subscription_item_details: { ...clone(template.parent.subscription_item_details), proration: l.proration ?? false },
    },
    pricing: { type: 'price_details', price_details: { price: l.priceId, product: 'prod_prime' }, unit_amount_decimal: String(l.amount) },
  }));
  inv.lines.total_count = lines.length;
  inv.subtotal = net;
  inv.subtotal_excluding_tax = net;
  inv.total_excluding_tax = net;
  inv.total_discount_amounts = lines.some((l) => l.discount)
    ? [{ amount: lines.reduce((a, l) => a + (l.discount ?? 0), 0), discount: 'di_test' }]
    : [];
  return inv;
}
