import creditNoteFixture from '../fixtures/stripe/credit_note.json' with { type: 'json' };
import { stripeId } from '../../local/stripe-test-events';

/** A refund credit note (post-payment, issued) against an invoice, from Stripe's fixture object. */
export function creditNoteObject(spec: { invoice: string; customer: string; amount?: number }): Record<string, any> {
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
  });
}
