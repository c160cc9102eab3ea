import { describe, expect, it } from 'vitest';
import { emptyEntry, type LedgerEntry } from '#shared/domain/finance/ledger';
import { type ReportRow, reconcile } from '#shared/domain/finance/reconciliation';
import { refundAdjustedSchedule } from '#shared/domain/finance/refunds';
import { stripeEventSchema } from '#shared/stripe/events';
import { translateMoneyEvent } from '#shared/stripe/money-events';
import { stripeEvent } from '../../../local/stripe-test-events';
import { catalog, metricsOf, revenueOf } from '../../support/finance-rollup';
import { refundObject } from '../../support/money-events';

/**
 * The cases an independent revenue model found (issue 13, point 6), each worked out by hand, and the
 * policies decided for the others (docs/finance.md, "Refunds and recognition").
 */
const d = (day: string) => `${day}T00:00:00.000Z`;
const t = (day: string) => Date.parse(d(day)) / 1000;
function paid(id: string, from: string, to: string, o: Partial<LedgerEntry> = {}): LedgerEntry {
  return emptyEntry({
    entryId: id,
    kind: 'invoice_paid',
    occurredAt: d(from),
    currency: 'usd',
    amountCents: 1499,
    totalCents: 1499,
    taxCents: 0,
    invoiceId: id,
    memberId: 'm1',
    subscriptionId: 'sub_m1',
    planId: 'prime-monthly',
    interval: 'month',
    billingReason: 'subscription_cycle',
    servicePeriod: { start: d(from), end: d(to) },
    ...o,
  });
}
const link = (invoiceId: string, pi: string) =>
  emptyEntry({
    entryId: `inpay_${invoiceId}`,
    kind: 'invoice_payment',
    occurredAt: d('2019-01-01'),
    currency: 'usd',
    amountCents: 0,
    invoiceId,
    paymentIntentId: pi,
  });
const refund = (id: string, at: string, cents: number, pi: string) =>
  emptyEntry({ entryId: id, kind: 'refund', occurredAt: at, currency: 'usd', amountCents: cents, paymentIntentId: pi, refundIds: [id] });
const refundFailed = (id: string, at: string, cents: number, pi: string) =>
  emptyEntry({
    entryId: `${id}#refund_failed`,
    kind: 'refund_failed',
    occurredAt: at,
    currency: 'usd',
    amountCents: cents,
    paymentIntentId: pi,
    refundIds: [id],
  });
const usd = (month: string, entries: LedgerEntry[]) => revenueOf(month, entries, { currency: 'usd' }).currencies[0]!;

describe('money correctness: the cases the independent model found', () => {
  it('a refund that fails months later gives back the revenue it took, in the failure month', () => {
    // Monthly 14.99 for 10 March – 10 April; 8.00 refunded 20 April; the refund fails 3 July.
    const entries = [
      paid('in_1', '2019-03-10', '2019-04-10'),
      link('in_1', 'pi_1'),
      refund('re_1', d('2019-04-20'), 800, 'pi_1'),
      refundFailed('re_1', d('2019-07-03'), 800, 'pi_1'),
    ];
    expect(usd('2019-04', entries)).toMatchObject({ refundedCents: 800, refundedNetOfTaxCents: 800 });
    expect(usd('2019-07', entries)).toMatchObject({
      refundedCents: -800,
      recognizedCents: 800,
      refundedNetOfTaxCents: -800,
      deferredCents: 0,
    });
    // Over the months everything billed is recognized once the refund is undone.
    const total = ['2019-03', '2019-04', '2019-05', '2019-06', '2019-07'].reduce((a, m) => a + usd(m, entries).recognizedCents, 0);
    expect(total).toBe(1499);
  });

  it("dates a refund's failure by refund.failed, not by a later refund.updated about something else, whatever arrives first", () => {
    const failed = refundObject({
      id: 're_2',
      charge: 'ch_2',
      paymentIntent: 'pi_2',
      amount: 300,
      created: t('2019-05-01'),
      status: 'failed',
      failure: 'txn_f2',
    });
    // Delivered newest first: the metadata change of 2 June, then refund.failed of 30 May, then the creation.
    const events = [
      stripeEvent('refund.updated', failed, { created: t('2019-06-02'), previousAttributes: { metadata: {} } }),
      stripeEvent('refund.failed', failed, { created: t('2019-05-30') }),
      stripeEvent('refund.created', { ...failed, status: 'pending' }, { created: t('2019-05-01') }),
    ];
    // The ledger keeps the first entry written per id (its once-guard).
    const byId = new Map<string, LedgerEntry>();
    for (const e of events)
      for (const entry of translateMoneyEvent(stripeEventSchema.parse(e), catalog))
        if (!byId.has(entry.entryId)) byId.set(entry.entryId, entry);
    expect(byId.get('re_2#refund_failed')!.occurredAt).toBe(d('2019-05-30'));
    const entries = [...byId.values()];
    expect(usd('2019-05', entries).refundedCents).toBe(0);
    expect(revenueOf('2019-06', entries).currencies).toEqual([]);
    // Reconciliation finds May's refund_failure row in the ledger (no false "missing").
    const row = (id: string, category: string, gross: number, day: string): ReportRow => ({
      line: 2,
      balanceTransactionId: id,
      createdUtc: d(day),
      currency: 'usd',
      grossCents: gross,
      customerFacingCents: gross,
      customerFacingCurrency: 'usd',
      reportingCategory: category,
      sourceId: 're_2',
      chargeId: 'ch_2',
      paymentIntentId: 'pi_2',
      invoiceId: null,
    });
    return reconcile('2019-05', entries, [
      row('txn_r2', 'refund', -300, '2019-05-01'),
      row('txn_f2', 'refund_failure', 300, '2019-05-30'),
    ]).then((result) => expect(result).toMatchObject({ matched: 2, missingInLedger: [], missingInStripe: [], amountMismatches: [] }));
  });

  it('a member whose full refund failed is back in the failure month, at the same MRR, and is not new a month later', () => {
    // Annual 139.00 paid 20 April, fully refunded 2 June, the refund fails 4 July.
    const entries = [
      paid('in_3', '2019-04-20', '2020-04-20', { amountCents: 13900, totalCents: 13900, planId: 'prime-annual', interval: 'year' }),
      link('in_3', 'pi_3'),
      refund('re_3', d('2019-06-02'), 13900, 'pi_3'),
      refundFailed('re_3', d('2019-07-04'), 13900, 'pi_3'),
    ];
    expect(usd('2019-06', entries)).toMatchObject({ members: { active: 0, new: 0, churned: 1 }, mrrCents: 0 });
    expect(usd('2019-07', entries)).toMatchObject({ members: { active: 1, new: 1, churned: 0 }, mrrCents: 1158 });
    expect(usd('2019-08', entries)).toMatchObject({ members: { active: 1, new: 0, churned: 0 }, mrrCents: 1158 });
    const july = metricsOf(entries, { from: '2019-07', to: '2019-07' }).months[0]!;
    // Back, not new: the June lapse (voluntary, a refund) is undone as a reactivation.
    expect(july).toMatchObject({ members: { new: 0, reactivated: 1 }, mrr: { reactivation: 1158 } });
  });

  it('several refunds of one invoice in one month apply one at a time, in the order they were made', () => {
    // Annual 139.00 from 1 January; 40.00 refunded 5 March, 30.00 on 20 March. Each cuts the balance
    // the one before it left; booked together as one 70.00 refund the rounding of later months
    // differs by a cent (May, June, October, November), while every total is the same.
    const inv = paid('in_4', '2026-01-01', '2027-01-01', {
      amountCents: 13900,
      totalCents: 13900,
      planId: 'prime-annual',
      interval: 'year',
    });
    const ev = (id: string, at: string, cents: number) => ({
      refundId: id,
      occurredAt: d(at),
      amountCents: cents,
      failedAt: null,
      cause: 'refund' as const,
    });
    const oneByOne = refundAdjustedSchedule(
      inv,
      [ev('re_b', '2026-03-20', 3000), ev('re_a', '2026-03-05', 4000)].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt)),
    );
    const together = refundAdjustedSchedule(inv, [ev('re_ab', '2026-03-05', 7000)]);
    expect(oneByOne.map((m) => m.deferredAtEndCents)).toEqual([12719, 11653, 3472, 3094, 2703, 2324, 1932, 1541, 1162, 771, 392, 0]);
    expect(together.map((m) => m.deferredAtEndCents)).toEqual([12719, 11653, 3472, 3094, 2702, 2324, 1932, 1541, 1162, 770, 392, 0]);
    expect(oneByOne.reduce((a, m) => a + m.recognizedCents, 0)).toBe(together.reduce((a, m) => a + m.recognizedCents, 0));
  });
});

describe('money correctness: policies decided', () => {
  it("a credit note to the customer's balance reduces revenue once; the balance later pays part of an invoice", () => {
    // 14.99 paid 1 March; 5.00 credited to the balance 15 March (no refund); the 1 April invoice of
    // 14.99 is paid 9.99 by card and 5.00 from the balance.
    const credit = emptyEntry({
      entryId: 'cn_5',
      kind: 'credit_note',
      occurredAt: d('2019-03-15'),
      currency: 'usd',
      amountCents: 500,
      totalCents: 500,
      taxCents: 0,
      refundedCents: 0,
      invoiceId: 'in_5a',
    });
    const entries = [paid('in_5a', '2019-03-01', '2019-04-01'), credit, paid('in_5b', '2019-04-01', '2019-05-01', { amountCents: 999 })];
    const march = usd('2019-03', entries);
    const april = usd('2019-04', entries);
    expect(march).toMatchObject({
      billedCents: 1499,
      collectedCents: 1499,
      creditedCents: 500,
      refundedCents: 0,
      netCents: 1499,
      recognizedCents: 999,
    });
    expect(april).toMatchObject({ billedCents: 1499, collectedCents: 999, netCents: 999, recognizedCents: 1499 });
    // 24.98 recognized and 24.98 collected in all, not 29.98.
    expect(march.recognizedCents + april.recognizedCents).toBe(2498);
    expect(march.netCents + april.netCents).toBe(2498);
  });

  it('a lost dispute takes the payment back like a full refund: revenue, deferred balance and the member, from the loss', () => {
    const dispute = (kind: 'dispute_funds_withdrawn' | 'dispute_lost', at: string) =>
      emptyEntry({
        entryId: `dp_6#${kind}`,
        kind,
        occurredAt: d(at),
        currency: 'usd',
        amountCents: 13900,
        paymentIntentId: 'pi_6',
        disputeId: 'dp_6',
      });
    const inv = paid('in_6', '2019-01-01', '2020-01-01', {
      amountCents: 13900,
      totalCents: 13900,
      planId: 'prime-annual',
      interval: 'year',
    });
    const entries = [inv, link('in_6', 'pi_6'), dispute('dispute_funds_withdrawn', '2019-03-10'), dispute('dispute_lost', '2019-04-20')];
    // March: the funds leave (cash); revenue and the member stay while the dispute is open.
    expect(usd('2019-03', entries)).toMatchObject({ disputedCents: 13900, netCents: -13900, members: { active: 1 }, mrrCents: 1158 });
    const april = usd('2019-04', entries);
    const recognizedBefore = ['2019-01', '2019-02', '2019-03'].reduce((a, m) => a + usd(m, entries).recognizedCents, 0);
    expect(april).toMatchObject({
      refundedNetOfTaxCents: 13900,
      deferredCents: 0,
      recognizedCents: -recognizedBefore,
      members: { active: 0, churned: 1 },
      mrrCents: 0,
    });
    expect(metricsOf(entries, { from: '2019-04', to: '2019-04' }).months[0]!.churned).toEqual({ voluntary: 0, involuntary: 1 });
    expect(usd('2019-05', entries)).toMatchObject({ recognizedCents: 0, deferredCents: 0, members: { active: 0 } });
  });

  it('a won dispute changes no revenue: funds withdrawn and reinstated are cash only', () => {
    const inv = paid('in_7', '2019-01-01', '2020-01-01', {
      amountCents: 13900,
      totalCents: 13900,
      planId: 'prime-annual',
      interval: 'year',
    });
    const funds = (kind: 'dispute_funds_withdrawn' | 'dispute_funds_reinstated', at: string) =>
      emptyEntry({
        entryId: `dp_7#${kind}`,
        kind,
        occurredAt: d(at),
        currency: 'usd',
        amountCents: 13900,
        paymentIntentId: 'pi_7',
        disputeId: 'dp_7',
      });
    const entries = [
      inv,
      link('in_7', 'pi_7'),
      funds('dispute_funds_withdrawn', '2019-03-10'),
      funds('dispute_funds_reinstated', '2019-05-02'),
    ];
    const plain = [inv];
    for (const m of ['2019-03', '2019-04', '2019-05']) {
      expect(usd(m, entries).recognizedCents, m).toBe(usd(m, plain).recognizedCents);
      expect(usd(m, entries).members.active, m).toBe(1);
    }
    expect(usd('2019-05', entries).disputedCents).toBe(-13900);
  });
});
