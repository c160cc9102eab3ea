import { describe, expect, it } from 'vitest';
import { emptyEntry, type LedgerEntry } from '#shared/domain/finance/ledger';
import { baseSchedule } from '#shared/domain/finance/refunds';
import { revenueOf } from '../../support/finance-rollup';

const invoice = (id: string, o: Partial<LedgerEntry> & { paidAt: string; start: string; end: string; total: number }): LedgerEntry =>
  emptyEntry({
    entryId: id,
    kind: 'invoice_paid',
    occurredAt: o.paidAt,
    currency: o.currency ?? 'usd',
    amountCents: o.total,
    totalCents: o.total,
    taxCents: o.taxCents ?? 0,
    discountCents: 0,
    invoiceId: id,
    memberId: o.memberId ?? id,
    planId: o.planId ?? 'prime-monthly',
    interval: o.interval ?? 'month',
    servicePeriod: { start: o.start, end: o.end },
  });

describe('monthly revenue', () => {
  const jan = invoice('in_a', {
    paidAt: '2026-01-10T00:00:00Z',
    start: '2026-01-10T00:00:00Z',
    end: '2026-02-10T00:00:00Z',
    total: 1599,
    taxCents: 100,
    memberId: 'm1',
  });
  const annual = invoice('in_b', {
    paidAt: '2026-01-01T00:00:00Z',
    start: '2026-01-01T00:00:00Z',
    end: '2027-01-01T00:00:00Z',
    total: 13900,
    memberId: 'm2',
    planId: 'prime-annual',
    interval: 'year',
  });
  const feb = invoice('in_c', {
    paidAt: '2026-02-10T00:00:00Z',
    start: '2026-02-10T00:00:00Z',
    end: '2026-03-10T00:00:00Z',
    total: 1599,
    taxCents: 100,
    memberId: 'm1',
  });
  const eur = invoice('in_d', {
    paidAt: '2026-02-03T00:00:00Z',
    start: '2026-02-03T00:00:00Z',
    end: '2026-03-03T00:00:00Z',
    total: 1299,
    memberId: 'm3',
    currency: 'eur',
  });
  const refund = emptyEntry({ entryId: 're_1', kind: 'refund', occurredAt: '2026-02-11T00:00:00Z', currency: 'usd', amountCents: 500 });
  const dispute = emptyEntry({
    entryId: 'dp_1#dispute_funds_withdrawn',
    kind: 'dispute_funds_withdrawn',
    occurredAt: '2026-02-12T00:00:00Z',
    currency: 'usd',
    amountCents: 1599,
  });
  // What each invoice recognizes per month, from its own schedule.
  const share = (invoice: LedgerEntry, month: string) => baseSchedule(invoice).find((m) => m.month === month)?.recognizedCents ?? 0;
  const all = [jan, annual, feb, eur, refund, dispute];
  const febRevenue = revenueOf('2026-02', all);

  it('keeps currencies apart', () => {
    expect(febRevenue.currencies.map((c) => c.currency)).toEqual(['eur', 'usd']);
    const eurRev = febRevenue.currencies[0]!;
    expect(eurRev).toMatchObject({ billedCents: 1299, refundedCents: 0, members: { active: 1, new: 1, churned: 0 }, mrrCents: 1299 });
  });

  it('computes billed, refunded, disputed, net, recognized and deferred', () => {
    const usd = febRevenue.currencies[1]!;
    expect(usd).toMatchObject({
      invoices: 1,
      billedCents: 1599,
      taxCents: 100,
      refundedCents: 500,
      disputedCents: 1599,
      netCents: 1599 - 500 - 1599,
    });
    // January's invoice: 9 of its 31 days fall in February; February's: 19 of 28; the annual one: 28 of 365.
    const janShare = share(jan, '2026-02');
    const febShare = share(feb, '2026-02');
    expect(usd.recognizedCents).toBe(janShare + febShare + share(annual, '2026-02'));
    expect(Math.abs(janShare - (1499 * 9) / 31)).toBeLessThan(1);
    expect(Math.abs(febShare - (1499 * 19) / 28)).toBeLessThan(1);
    // Deferred at the end of February = everything billed net of tax so far − everything recognized so far.
    const recognizedSoFar = [jan, annual, feb].reduce((a, i) => a + share(i, '2026-01') + share(i, '2026-02'), 0);
    expect(usd.deferredCents).toBe(1499 + 13900 + 1499 - recognizedSoFar);
    expect(usd.deferredCents).toBe(1499 - febShare + (13900 - share(annual, '2026-01') - share(annual, '2026-02')));
  });

  it('counts members and MRR at the month end, annual plans at 1/12; churn lands in the month the paid service (and its grace) ends', () => {
    const usd = febRevenue.currencies[1]!;
    expect(usd.members).toEqual({ active: 2, new: 0, churned: 0 });
    expect(usd.mrrCents).toBe(1499 + Math.round(13900 / 12));
    expect(usd.byPlan.map((p) => [p.planId, p.activeMembers, p.mrrCents])).toEqual([
      ['prime-annual', 1, Math.round(13900 / 12)],
      ['prime-monthly', 1, 1499],
    ]);
    // m1's last month ends on 10 March and nothing renews it: the 7 days of grace run out on 17 March,
    // so March (not April, a month late) shows the churn, and April is quiet.
    const march = revenueOf('2026-03', all);
    expect(march.currencies.find((c) => c.currency === 'usd')!.members).toEqual({ active: 1, new: 0, churned: 1 });
    expect(march.currencies.find((c) => c.currency === 'eur')!.members).toEqual({ active: 0, new: 0, churned: 1 });
    const april = revenueOf('2026-04', all);
    expect(april.currencies.find((c) => c.currency === 'usd')!.members).toEqual({ active: 1, new: 0, churned: 0 });
    expect(april.currencies.find((c) => c.currency === 'eur')).toBeUndefined();
  });

  it('filters to one currency and answers zeros for a currency without activity', () => {
    const only = revenueOf('2026-02', [feb, eur], { currency: 'gbp' });
    expect(only.currencies).toHaveLength(1);
    expect(only.currencies[0]).toMatchObject({ currency: 'gbp', billedCents: 0, mrrCents: 0 });
  });
});

describe('monthly revenue with refunds tied to invoices', () => {
  const jan = invoice('in_j', {
    paidAt: '2026-01-10T00:00:00Z',
    start: '2026-01-10T00:00:00Z',
    end: '2026-02-10T00:00:00Z',
    total: 1599,
    taxCents: 100,
    memberId: 'm1',
  });
  // Refunded in March, after the service ended: the refund reverses revenue recognized before.
  const late = emptyEntry({
    entryId: 're_late',
    kind: 'refund',
    occurredAt: '2026-03-05T00:00:00Z',
    currency: 'usd',
    amountCents: 1599,
    paymentIntentId: 'pi_j',
    refundIds: ['re_late'],
  });
  const stray = emptyEntry({
    entryId: 're_stray',
    kind: 'refund',
    occurredAt: '2026-03-06T00:00:00Z',
    currency: 'usd',
    amountCents: 250,
    chargeId: 'ch_unknown',
    refundIds: ['re_stray'],
  });

  it('reverses recognized revenue of an ended invoice in the refund month, under its plan; an untied refund is unattributed', () => {
    // The invoice_payment link pi_j → in_j, as the webhook records it.
    const link = emptyEntry({
      entryId: 'inpay_j',
      kind: 'invoice_payment',
      occurredAt: '2026-01-10T00:00:00Z',
      currency: 'usd',
      amountCents: 1599,
      invoiceId: 'in_j',
      paymentIntentId: 'pi_j',
    });
    const march = revenueOf('2026-03', [jan, link, late, stray]);
    const usd = march.currencies[0]!;
    expect(usd).toMatchObject({
      refunds: 2,
      refundedCents: 1849,
      refundedNetOfTaxCents: 1499,
      recognizedCents: -1499,
      deferredCents: 0,
      netCents: -1849,
      members: { active: 0, new: 0, churned: 0 },
    });
    expect(usd.byPlan).toEqual([
      expect.objectContaining({
        planId: 'prime-monthly',
        refunds: 1,
        refundedCents: 1599,
        refundedNetOfTaxCents: 1499,
        recognizedCents: -1499,
        netCents: -1599,
      }),
    ]);
    expect(usd.unattributed).toEqual({ refunds: 1, refundedCents: 250, disputedCents: 0 });
    // Without the link the refund is unattributed cash and recognition is untouched.
    expect(revenueOf('2026-03', [jan, late, stray]).currencies[0]).toMatchObject({
      refundedCents: 1849,
      recognizedCents: 0,
      unattributed: { refunds: 2, refundedCents: 1849 },
    });
  });
});
