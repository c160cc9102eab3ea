import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamo } from '#shared/runtime/dynamo';
import { feeFor, generateMonth } from '../support/finance-month';
import { asFunction } from '../support/iam-recorder';
import { seedLedger } from '../support/ledger-seed';
import { type BalanceTransactionFixture, startBalanceDouble } from '../support/stripe-balance-double';

const MONTH = '2032-09';
// A USD account: EUR charges, refunds and disputes settle in USD (balance transactions in USD).
const generated = generateMonth({
  month: MONTH,
  invoices: 230,
  refundEvery: 9,
  disputeEvery: 17,
  currencies: ['usd', 'eur'],
  settlement: { eur: { currency: 'usd', rate: 1.0834 } },
  seed: 11,
  tag: 'job',
});
let double: Awaited<ReturnType<typeof startBalanceDouble>>;

beforeAll(async () => {
  // As the webhook path records them: the API has no invoice column, so charges match through the
  // invoice_payment link entries among them.
  const all = generated.entries;
  expect(all.some((e) => e.kind === 'invoice_payment')).toBe(true);
  await seedLedger(all);

  const txns: BalanceTransactionFixture[] = generated.rows.map((r) => ({
    id: r.balanceTransactionId,
    amount: r.grossCents,
    fee: feeFor(r),
    currency: r.currency,
    created: Math.floor(Date.parse(r.createdUtc!) / 1000),
    reporting_category: r.reportingCategory,
    // Sources as Stripe expands them: a charge or refund in the customer's currency; a dispute in its own.
    source:
      r.reportingCategory === 'charge'
        ? {
            id: r.chargeId,
            object: 'charge',
            amount: r.customerFacingCents,
            currency: r.customerFacingCurrency,
            payment_intent: r.paymentIntentId,
          }
        : r.reportingCategory === 'refund'
          ? { id: r.sourceId, object: 'refund', amount: -r.customerFacingCents!, currency: r.customerFacingCurrency, charge: r.chargeId }
          : {
              id: r.sourceId,
              object: 'dispute',
              amount: generated.entries.find((e) => e.disputeId === r.sourceId)!.amountCents,
              currency: generated.entries.find((e) => e.disputeId === r.sourceId)!.currency,
              charge: r.chargeId,
            },
  }));
  expect(
    txns.some((x) => x.currency === 'usd' && (x.source as { currency: string }).currency === 'eur' && x.reporting_category === 'dispute'),
  ).toBe(true);
  // A changed amount: the customer paid 7 cents more than the ledger says (a EUR charge settled in USD).
  const changed = txns.find((x) => x.id === 'txn_ch00000005')!;
  expect(changed.currency === 'usd' && (changed.source as { currency: string }).currency === 'eur').toBe(true);
  (changed.source as { amount: number }).amount += 7;
  txns.push({
    id: 'txn_lost',
    amount: 1499,
    fee: 73,
    currency: 'usd',
    created: Date.parse('2032-09-10T00:00:00Z') / 1000,
    reporting_category: 'charge',
    source: { id: 'ch_lost', object: 'charge', amount: 1499, currency: 'usd', payment_intent: 'pi_lost' },
  });
  txns.push({
    id: 'txn_payout',
    amount: -50000,
    fee: 0,
    currency: 'usd',
    created: Date.parse('2032-09-11T00:00:00Z') / 1000,
    reporting_category: 'payout',
    source: 'po_1',
  });
  txns.push({
    id: 'txn_next_month',
    amount: 1499,
    fee: 0,
    currency: 'usd',
    created: Date.parse('2032-10-01T00:00:00Z') / 1000,
    reporting_category: 'charge',
    source: 'ch_next',
  });
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
    const result = await asFunction('reconcile', () => handler({ month: MONTH, asOf: '2032-10-02T06:00:00Z' }));
    expect(result).toMatchObject({
      month: MONTH,
      transactions: generated.rows.length + 1,
      missingInLedger: 1,
      missingInStripe: 0,
      amountMismatches: 1,
      ignored: { payout: 1 },
    });
    expect(result.matched).toBe(generated.rows.length - 1);
    // Totals per customer-facing currency balance except for the changed charge; the settlement view is all USD.
    expect(result.totals.map((t) => [t.currency, t.differenceCents])).toEqual([
      ['eur', 7],
      ['usd', 1499],
    ]);
    expect(result.settlement).toEqual([
      { currency: 'usd', rows: generated.rows.length + 1, grossCents: generated.rows.reduce((a, r) => a + r.grossCents, 0) + 1499 },
    ]);

    const listCalls = double.requests.filter((r) => r.path === '/v1/balance_transactions');
    expect(listCalls.length).toBe(Math.ceil((generated.rows.length + 2) / 100));
    expect(listCalls.every((r) => r.problems.length === 0)).toBe(true);
    expect(listCalls[0]!.query.get('created[gte]')).toBe(String(Date.parse('2032-09-01T00:00:00Z') / 1000));
    expect(listCalls[0]!.query.get('created[lt]')).toBe(String(Date.parse('2032-10-01T00:00:00Z') / 1000));
    expect(listCalls.slice(1).every((r) => r.query.has('starting_after'))).toBe(true);

    const { doc, tables } = dynamo();
    const stored = await doc.send(
      new QueryCommand({
        TableName: tables.main,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': `RECON#${MONTH}` },
        ConsistentRead: true,
      }),
    );
    expect(stored.Items).toHaveLength(1);
    expect(stored.Items![0]).toMatchObject({
      source: 'stripe-api',
      ranAt: '2032-10-02T06:00:00.000Z',
      missingInLedger: [{ balanceTransactionId: 'txn_lost' }],
      amountMismatches: [{ entryId: 'in_job00000005' }],
    });
  });

  it('on a terminal, shows the days of the month done, ending with all of them', async () => {
    const writes: string[] = [];
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const { handler } = await import('../../functions/jobs/reconcile');
      await asFunction('reconcile', () => handler({ month: MONTH, asOf: '2032-10-03T06:00:00Z' }));
    } finally {
      spy.mockRestore();
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    const drawn = writes.filter((w) => w.startsWith('\r'));
    expect(drawn.at(-1)).toMatch(/^\rreconcile 2032-09: days done \[#{30}\] 100% 30\/30$/);
    expect(writes.at(-1)).toBe('\n');
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
