import { beforeAll, describe, expect, it } from 'vitest';
import { emptyEntry, type LedgerEntry } from '#shared/domain/finance/ledger';
import { computeMonthRevenue, type MonthRevenue, slicesForInvoice } from '#shared/domain/finance/revenue';

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
  const slices = [jan, annual, feb, eur].flatMap(slicesForInvoice);
  const of = (m: string) => slices.filter((s) => s.month === m);

  let febRevenue: MonthRevenue;
  beforeAll(async () => {
    febRevenue = await computeMonthRevenue({
      month: '2026-02',
      entries: [feb, eur, refund, dispute],
      slices: of('2026-02'),
      previousSlices: of('2026-01'),
    });
  });

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
    const expectedRecognized = of('2026-02')
      .filter((s) => s.currency === 'usd')
      .reduce((a, s) => a + s.recognizedCents, 0);
    expect(usd.recognizedCents).toBe(expectedRecognized);
    // January's invoice: 9 of its 31 days fall in February; February's: 19 of 28; the annual one: 28 of 365.
    const janShare = of('2026-02').find((s) => s.invoiceId === 'in_a')!.recognizedCents;
    const febShare = of('2026-02').find((s) => s.invoiceId === 'in_c')!.recognizedCents;
    expect(Math.abs(janShare - (1499 * 9) / 31)).toBeLessThan(1);
    expect(Math.abs(febShare - (1499 * 19) / 28)).toBeLessThan(1);
    // Deferred at the end of February = everything billed net of tax so far − everything recognized so far.
    const recognizedSoFar = [...of('2026-01'), ...of('2026-02')]
      .filter((s) => s.currency === 'usd')
      .reduce((a, s) => a + s.recognizedCents, 0);
    expect(usd.deferredCents).toBe(1499 + 13900 + 1499 - recognizedSoFar);
    expect(usd.deferredCents).toBe(
      1499 -
        febShare +
        (13900 -
          of('2026-01').find((s) => s.invoiceId === 'in_b')!.recognizedCents -
          of('2026-02').find((s) => s.invoiceId === 'in_b')!.recognizedCents),
    );
  });

  it('counts members and MRR with annual plans at 1/12', async () => {
    const usd = febRevenue.currencies[1]!;
    expect(usd.members).toEqual({ active: 2, new: 0, churned: 0 });
    expect(usd.mrrCents).toBe(1499 + Math.round(13900 / 12));
    expect(usd.byPlan.map((p) => [p.planId, p.activeMembers, p.mrrCents])).toEqual([
      ['prime-annual', 1, Math.round(13900 / 12)],
      ['prime-monthly', 1, 1499],
    ]);
    const april = await computeMonthRevenue({ month: '2026-04', entries: [], slices: of('2026-04'), previousSlices: of('2026-03') });
    expect(april.currencies.find((c) => c.currency === 'usd')!.members).toEqual({ active: 1, new: 0, churned: 1 });
    expect(april.currencies.find((c) => c.currency === 'eur')!.members).toEqual({ active: 0, new: 0, churned: 1 });
  });

  it('filters to one currency and answers zeros for a currency without activity', async () => {
    const only = await computeMonthRevenue({
      month: '2026-02',
      entries: [feb, eur],
      slices: of('2026-02'),
      previousSlices: of('2026-01'),
      currency: 'gbp',
    });
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

  it('reverses recognized revenue of an ended invoice in the refund month, under its plan; an untied refund is unattributed', async () => {
    // The invoice_payment link pi_j → in_j, as the store reads it.
    const reversals = { entries: [late, stray], links: new Map([['pi_j', 'in_j']]), invoices: new Map([['in_j', jan]]) };
    const march = await computeMonthRevenue({ month: '2026-03', entries: [late, stray], slices: [], previousSlices: [], reversals });
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
    // Without the context every refund is unattributed cash and recognition is untouched.
    const bare = await computeMonthRevenue({ month: '2026-03', entries: [late, stray], slices: [], previousSlices: [] });
    expect(bare.currencies[0]).toMatchObject({
      refundedCents: 1849,
      recognizedCents: 0,
      unattributed: { refunds: 2, refundedCents: 1849 },
    });
  });
});
