/**
 * The money behind docs/samples/Itemized_balance_change_from_activity_USD_2026-11.csv, as the signed
 * webhooks that would have recorded it: three paid invoices (a monthly, an annual, a monthly paid in
 * EUR on the USD account) and a partial refund. `npm run send-test-event -- --finance-sample` sends
 * them, after which the sample reconciles: every charge and refund row matched, the Stripe fee row
 * ignored, the row from 31 October UTC outside the month. Fixed ids, so sending twice changes nothing.
 */
import refundFixture from '../tests/fixtures/stripe/refund.json' with { type: 'json' };
import { invoiceObject, stripeEvent } from './stripe-test-events';

export const FINANCE_SAMPLE = {
  month: '2026-11',
  file: 'docs/samples/Itemized_balance_change_from_activity_USD_2026-11.csv',
} as const;

const at = (iso: string) => Date.parse(iso) / 1000;
const DAY = 86_400;

function paid(name: string, paidAt: string, options: { amount: number; currency?: string; annual?: boolean }) {
  const start = at(paidAt);
  const invoice = invoiceObject({
    id: `in_1Sample${name}1126`,
    customer: `cus_Sample${name}`,
    subscription: `sub_1Sample${name}`,
    memberId: `sample-${name.toLowerCase()}`,
    billingReason: 'subscription_create',
    amountPaid: options.amount,
    currency: options.currency ?? 'usd',
    periodStart: start,
    periodEnd: start + (options.annual ? 365 : 30) * DAY,
    priceId: options.annual ? 'price_prime_annual_usd' : 'price_prime_monthly_usd',
    created: start,
  });
  return stripeEvent('invoice.paid', invoice, { created: start, id: `evt_1SamplePaid${name}1126` });
}

export function financeSampleEvents() {
  const refundedAt = at('2026-11-25T10:11:12Z');
  const refund = Object.assign(structuredClone(refundFixture), {
    id: 're_3SampleAna1126',
    charge: 'ch_3SampleAna1126',
    payment_intent: 'pi_3SampleAna1126',
    amount: 500,
    currency: 'usd',
    created: refundedAt,
    status: 'succeeded',
  });
  return [
    paid('Ana', '2026-11-03T09:15:22Z', { amount: 1499 }),
    paid('Ben', '2026-11-12T14:02:47Z', { amount: 13900, annual: true }),
    paid('Eva', '2026-11-21T18:40:05Z', { amount: 1299, currency: 'eur' }),
    stripeEvent('refund.created', refund, { created: refundedAt, id: 'evt_1SampleRefundAna1126' }),
  ];
}
