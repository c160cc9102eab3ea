import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, ledgerRepository } from '../../shared/runtime/dynamo';
import { emptyEntry } from '../../shared/domain/finance/ledger';
import { feeFor, generateMonth } from '../support/finance-month';
import { startBalanceDouble, type BalanceTransactionFixture } from '../support/stripe-balance-double';

const MONTH = '2032-09';
const generated = generateMonth({ month: MONTH, invoices: 230, refundEvery: 9, currencies: ['usd', 'eur'], seed: 11 });
let double: Awaited<ReturnType<typeof startBalanceDouble>>;

beforeAll(async () => {
  const ledger = ledgerRepository();
  // The webhook path learns charge → invoice from invoice_payment.paid; record those links too.
  const links = generated.rows
    .filter((r) => r.reportingCategory === 'charge')
    .map((r) => emptyEntry({ entryId: `inpay_${r.invoiceId!.slice(3)}`, kind: 'invoice_payment', occurredAt: r.createdUtc!, currency: r.currency, amountCents: r.grossCents, invoiceId: r.invoiceId, paymentIntentId: r.paymentIntentId }));
  const all = [...generated.entries, ...links];
  for (let i = 0; i < all.length; i += 50) await Promise.all(all.slice(i, i + 50).map((e) => ledger.record(e)));

  const txns: BalanceTransactionFixture[] = generated.rows.map((r) => ({
    id: r.balanceTransactionId,
    amount: r.grossCents,
    fee: feeFor(r),
    currency: r.currency,
    created: Math.floor(Date.parse(r.createdUtc!) / 1000),
    reporting_category: r.reportingCategory,
    source: r.reportingCategory === 'charge' ? { id: r.chargeId, object: 'charge', payment_intent: r.paymentIntentId } : { id: r.sourceId, object: 'refund', charge: r.chargeId },
  }));
  txns.find((x) => x.id === 'txn_ch00000005')!.amount += 7; // changed amount
  txns.push({ id: 'txn_lost', amount: 1499, fee: 73, currency: 'usd', created: Date.parse('2032-09-10T00:00:00Z') / 1000, reporting_category: 'charge', source: { id: 'ch_lost', object: 'charge', payment_intent: 'pi_lost' } });
  txns.push({ id: 'txn_payout', amount: -50000, fee: 0, currency: 'usd', created: Date.parse('2032-09-11T00:00:00Z') / 1000, reporting_category: 'payout', source: 'po_1' });
  txns.push({ id: 'txn_next_month', amount: 1499, fee: 0, currency: 'usd', created: Date.parse('2032-10-01T00:00:00Z') / 1000, reporting_category: 'charge', source: 'ch_next' });
  double = await startBalanceDouble(txns);
  process.env.STRIPE_API_BASE = double.url;
  process.env.STRIPE_SECRET_KEY = 'sk_test_reconcilejob';
}, 120_000);

afterAll(async () => {
  delete process.env.STRIPE_API_BASE;
  delete process.env.STRIPE_SECRET_KEY;
  await double?.close();
});

describe('npm run job -- reconcile', () => {
  it("pulls the month's balance transactions page by page and stores what it found", async () => {
    const { handler } = await import('../../functions/jobs/reconcile');
    const result = await handler({ month: MONTH, asOf: '2032-10-02T06:00:00Z' });
    expect(result).toMatchObject({ month: MONTH, missingInLedger: 1, missingInStripe: 0, amountMismatches: 1, ignored: { payout: 1 } });
    expect(result.matched).toBe(generated.rows.length - 1);

    const listCalls = double.requests.filter((r) => r.path === '/v1/balance_transactions');
    expect(listCalls.length).toBe(Math.ceil((generated.rows.length + 2) / 100));
    expect(listCalls.every((r) => r.problems.length === 0)).toBe(true);
    expect(listCalls[0]!.query.get('created[gte]')).toBe(String(Date.parse('2032-09-01T00:00:00Z') / 1000));
    expect(listCalls[0]!.query.get('created[lt]')).toBe(String(Date.parse('2032-10-01T00:00:00Z') / 1000));
    expect(listCalls.slice(1).every((r) => r.query.has('starting_after'))).toBe(true);

    const { doc, tables } = dynamo();
    const stored = await doc.send(new QueryCommand({ TableName: tables.main, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `RECON#${MONTH}` }, ConsistentRead: true }));
    expect(stored.Items).toHaveLength(1);
    expect(stored.Items![0]).toMatchObject({ source: 'stripe-api', ranAt: '2032-10-02T06:00:00.000Z', missingInLedger: [{ balanceTransactionId: 'txn_lost' }], amountMismatches: [{ entryId: 'in_gen00000005' }] });
  });

  it('fails clearly without a Stripe key', async () => {
    const key = process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_SECRET_KEY;
    try {
      const { handler } = await import('../../functions/jobs/reconcile');
      await expect(handler({ month: MONTH })).rejects.toThrow(/STRIPE_SECRET_KEY/);
      await expect(handler({ month: '2032-13' })).rejects.toThrow(/YYYY-MM/);
    } finally {
      process.env.STRIPE_SECRET_KEY = key;
    }
  });
});
