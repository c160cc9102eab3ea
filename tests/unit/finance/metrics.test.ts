import { describe, expect, it } from 'vitest';
import { emptyEntry, type LedgerEntry } from '#shared/domain/finance/ledger';
import { metricsFromRollups } from '#shared/domain/finance/metrics';
import { metricsOf, revenueOf } from '../../support/finance-rollup';

/**
 * A small membership, 2019–2020, every figure worked out by hand (see the comments). Monthly 14.99
 * (grace 7 days), annual 139.00 = 11.58 a month (grace 14 days).
 */
const d = (day: string) => `${day}T00:00:00.000Z`;
const invoice = (member: string, id: string, from: string, to: string, o: Partial<LedgerEntry> = {}): LedgerEntry =>
  emptyEntry({
    entryId: id,
    kind: 'invoice_paid',
    occurredAt: d(o.occurredAt ?? from),
    currency: 'usd',
    amountCents: 1499,
    totalCents: 1499,
    taxCents: 0,
    invoiceId: id,
    memberId: member,
    subscriptionId: `sub_${member}`,
    planId: 'prime-monthly',
    interval: 'month',
    billingReason: 'subscription_cycle',
    servicePeriod: { start: d(from), end: d(to) },
    ...o,
    ...(o.occurredAt ? { occurredAt: d(o.occurredAt) } : {}),
  });
const annual = (member: string, id: string, from: string, to: string) =>
  invoice(member, id, from, to, { amountCents: 13900, totalCents: 13900, planId: 'prime-annual', interval: 'year' });
const trial = (member: string, id: string, from: string, to: string) =>
  invoice(member, id, from, to, { amountCents: 0, totalCents: 0, billingReason: 'subscription_create' });
const failed = (member: string, invoiceId: string, from: string, to: string) =>
  emptyEntry({
    entryId: `${invoiceId}#payment_failed`,
    kind: 'invoice_payment_failed',
    occurredAt: d(from),
    currency: 'usd',
    amountCents: 1499,
    invoiceId,
    memberId: member,
    subscriptionId: `sub_${member}`,
    planId: 'prime-monthly',
    billingReason: 'subscription_cycle',
    servicePeriod: { start: d(from), end: d(to) },
  });
const ended = (member: string, at: string, reason: string) =>
  emptyEntry({
    entryId: `sub_${member}#ended`,
    kind: 'subscription_ended',
    occurredAt: d(at),
    currency: 'usd',
    amountCents: 0,
    memberId: member,
    subscriptionId: `sub_${member}`,
    reason,
  });

const story: LedgerEntry[] = [
  // A: monthly from 5 January, cancels at the end of the period that ends 5 May.
  invoice('A', 'in_a1', '2019-01-05', '2019-02-05'),
  invoice('A', 'in_a2', '2019-02-05', '2019-03-05'),
  invoice('A', 'in_a3', '2019-03-05', '2019-04-05'),
  invoice('A', 'in_a4', '2019-04-05', '2019-05-05'),
  ended('A', '2019-05-05', 'cancellation_requested'),
  // B: annual from 10 January, renews a year later.
  annual('B', 'in_b1', '2019-01-10', '2020-01-10'),
  annual('B', 'in_b2', '2020-01-10', '2021-01-10'),
  // C: a trial in January, converts on 31 January; the 28 March renewal fails and is collected on
  // 2 April (inside the grace); the 28 April one fails for good and Stripe ends it on 20 May.
  trial('C', 'in_c0', '2019-01-01', '2019-01-31'),
  invoice('C', 'in_c1', '2019-01-31', '2019-02-28'),
  invoice('C', 'in_c2', '2019-02-28', '2019-03-28'),
  failed('C', 'in_c3', '2019-03-28', '2019-04-28'),
  invoice('C', 'in_c3', '2019-03-28', '2019-04-28', { occurredAt: '2019-04-02' }),
  failed('C', 'in_c4', '2019-04-28', '2019-05-28'),
  ended('C', '2019-05-20', 'payment_failed'),
  // D: a trial in February that does not convert.
  trial('D', 'in_d0', '2019-02-01', '2019-03-03'),
  ended('D', '2019-03-03', 'cancellation_requested'),
  // E: monthly from 15 January; the period ending 15 March is not renewed and nothing says why, so
  // the 7 days of grace run out on 22 March; back on 1 June for one month.
  invoice('E', 'in_e1', '2019-01-15', '2019-02-15'),
  invoice('E', 'in_e2', '2019-02-15', '2019-03-15'),
  invoice('E', 'in_e3', '2019-06-01', '2019-07-01', { subscriptionId: 'sub_E2' }),
  // F: annual from 1 February 2019, cancelled at the end of its year.
  annual('F', 'in_f1', '2019-02-01', '2020-02-01'),
  ended('F', '2020-02-01', 'cancellation_requested'),
];
const savings = [
  { accountKey: 'A', month: '2019-01', currency: 'usd', cents: 2000 },
  { accountKey: 'A', month: '2019-02', currency: 'usd', cents: 500 },
  { accountKey: 'B', month: '2019-01', currency: 'usd', cents: 300 },
];

describe('metrics, worked out by hand', () => {
  const metrics = metricsOf(story, { from: '2019-01', to: '2020-02', savings });
  const month = (m: string) => metrics.months.find((x) => x.month === m)!;

  it('MRR movements and members at each month end', () => {
    // January: A, B, C (converted 31 January) and E pay at the month end: 14.99 × 3 + 11.58.
    expect(month('2019-01')).toMatchObject({
      status: 'closed',
      members: { start: 0, end: 4, new: 4, reactivated: 0, churned: 0 },
      mrr: { start: 0, new: 5655, expansion: 0, contraction: 0, churned: 0, reactivation: 0, net: 5655, end: 5655 },
      arpuCents: 1414,
    });
    expect(month('2019-02')).toMatchObject({ members: { start: 4, end: 5, new: 1 }, mrr: { new: 1158, net: 1158, end: 6813 } });
    // March: E's grace ran out on 22 March (voluntary: no failed payment); C is in dunning at the
    // month end (renewal failed on 28 March, 7 days of grace) and still counts.
    expect(month('2019-03')).toMatchObject({
      members: { start: 5, end: 4, churned: 1 },
      churned: { voluntary: 1, involuntary: 0 },
      churnRate: { voluntary: 0.2, involuntary: 0 },
      mrr: { churned: 1499, net: -1499, end: 5314 },
    });
    // April: C's renewal was collected inside the grace: no movement.
    expect(month('2019-04')).toMatchObject({ members: { start: 4, end: 4, churned: 0 }, mrr: { net: 0, end: 5314 } });
    // May: A leaves at the end of its paid period (5 May, asked for); C when its grace ends (5 May,
    // before Stripe gave up on 20 May), involuntarily.
    expect(month('2019-05')).toMatchObject({
      members: { start: 4, end: 2, churned: 2 },
      churned: { voluntary: 1, involuntary: 1 },
      churnRate: { voluntary: 0.25, involuntary: 0.25 },
      mrr: { churned: 2998, end: 2316 },
      arpuCents: 1158,
    });
    // June: E comes back (not new: it was a member before); July: gone again when its grace ends.
    expect(month('2019-06')).toMatchObject({
      members: { start: 2, end: 3, new: 0, reactivated: 1 },
      mrr: { reactivation: 1499, end: 3815 },
    });
    expect(month('2019-07')).toMatchObject({ members: { start: 3, end: 2, churned: 1 }, mrr: { churned: 1499 } });
    // Every month: start + movements = end.
    for (const m of metrics.months) {
      expect(m.mrr.start + m.mrr.net, m.month).toBe(m.mrr.end);
      expect(m.members.start + m.members.new + m.members.reactivated - m.members.churned, m.month).toBe(m.members.end);
    }
  });

  it('LTV from ARPU and the pooled churn of the closed months so far', () => {
    // May: 3 lapses over 0 + 4 + 5 + 4 + 4 = 17 member-months at risk; ARPU 11.58 → 11.58 × 17 / 3.
    expect(month('2019-05').ltvCents).toBe(6562);
    expect(month('2019-01').ltvCents).toBeNull();
  });

  it('LTV at a million members is exact to the cent: neither the rounded churn rate nor the rounded ARPU goes into it', () => {
    // 2,345,678 members at the start of a closed month, 9,876 lapse; MRR 14.99 each, plus 123.45 of add-ons at the end.
    const end = 2_345_678 - 9_876;
    const figures = {
      membersStart: 2_345_678,
      membersEnd: end,
      mrrStartCents: 1499 * 2_345_678,
      mrrEndCents: 1499 * end + 12_345,
      lapsed_10_v: 9_876,
      lapsedMrr_10: 1499 * 9_876,
    };
    const m = metricsFromRollups({
      currency: 'usd',
      from: '2030-01',
      to: '2030-01',
      asOf: new Date('2030-03-01T00:00:00Z'),
      rowsOf: (month) => (month === '2030-01' ? [{ currency: 'usd', plan: 'prime-monthly', figures }] : []),
    }).months[0]!;
    expect(m.arpuCents).toBe(1499);
    expect(m.churnRate.voluntary).toBe(0.00421); // shown rounded to 6 decimals
    // (1499 × 2,335,802 + 12,345) / 2,335,802 × 2,345,678 / 9,876, rounded once. From the rounded
    // figures it was 1499 / 0.00421 = 356,057: $0.25 more per member.
    expect(m.ltvCents).toBe(Math.round(((1499 * end + 12_345) * 2_345_678) / (end * 9_876)));
    expect(m.ltvCents).toBe(356_033);
  });

  it('trial conversion, failed-payment recovery and annual renewals', () => {
    expect(month('2019-01')).toMatchObject({ trials: { ended: 1, converted: 1 }, trialConversionRate: 1 });
    expect(month('2019-03')).toMatchObject({ trials: { ended: 1, converted: 0 }, trialConversionRate: 0 });
    expect(month('2019-03').paymentRecovery).toEqual({ failed: 1, recovered: 1, rate: 1 });
    expect(month('2019-04').paymentRecovery).toEqual({ failed: 1, recovered: 0, rate: 0 });
    expect(month('2019-02').paymentRecovery).toEqual({ failed: 0, recovered: 0, rate: null });
    // B's year ends 10 January 2020 and renews; F's ends 1 February 2020 and does not.
    expect(month('2020-01')).toMatchObject({ renewals: { due: 1, renewed: 1 }, renewalRate: 1 });
    expect(month('2020-02')).toMatchObject({ renewals: { due: 1, renewed: 0 }, renewalRate: 0, members: { churned: 1 } });
  });

  it('member value and benefit cost against fee revenue per plan', () => {
    // January: A saved 20.00 against a 14.99 fee, B 3.00 against 11.58: one of four members.
    expect(month('2019-01').memberValue).toEqual({
      savingsCents: 2300,
      feesCents: 5655,
      members: 4,
      atLeastFee: 1,
      shareSavingsAtLeastFee: 0.25,
    });
    expect(month('2019-01').benefitCostCents).toBe(2300);
    const jan = month('2019-01');
    const monthly = jan.byPlan.find((p) => p.planId === 'prime-monthly')!;
    expect(monthly).toMatchObject({ members: 3, mrrCents: 4497, benefitCostCents: 2000 });
    expect(monthly.marginCents).toBe(monthly.recognizedCents - 2000);
    expect(jan.byPlan.find((p) => p.planId === 'prime-annual')).toMatchObject({ members: 1, mrrCents: 1158, benefitCostCents: 300 });
    expect(month('2019-02').memberValue).toMatchObject({ savingsCents: 500, atLeastFee: 0, shareSavingsAtLeastFee: 0 });
  });

  it('cohort retention by first paying month, for the months that are over', () => {
    expect(metrics.cohorts.find((c) => c.cohort === '2019-01')).toEqual({
      cohort: '2019-01',
      size: 4,
      // Feb: all four; Mar, Apr: E gone; May: B only; Jun: B and E; Jul–Jan: B.
      retention: [1, 0.75, 0.75, 0.25, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25],
    });
    expect(metrics.cohorts.find((c) => c.cohort === '2019-02')).toEqual({
      cohort: '2019-02',
      size: 1,
      retention: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
    });
    // Only the months that are over: on 15 April 2019 the January cohort has two.
    const early = metricsOf(story, { from: '2019-01', to: '2019-04', savings, asOf: new Date('2019-04-15T00:00:00Z') });
    expect(early.cohorts[0]!.retention).toEqual([1, 0.75]);
  });

  it('a month in progress counts the lapses already past; a month not started is a projection', () => {
    // 10 March: E's lapse (22 March) has not happened: still a member, no churn yet.
    const on10 = metricsOf(story, { from: '2019-03', to: '2019-03', asOf: new Date('2019-03-10T12:00:00Z') }).months[0]!;
    expect(on10).toMatchObject({ status: 'in_progress', members: { start: 5, end: 5, churned: 0 }, mrr: { churned: 0, end: 6813 } });
    const on25 = metricsOf(story, { from: '2019-03', to: '2019-03', asOf: new Date('2019-03-25T12:00:00Z') }).months[0]!;
    expect(on25).toMatchObject({ status: 'in_progress', members: { end: 4, churned: 1 }, mrr: { churned: 1499, end: 5314 } });
    const before = metricsOf(story, { from: '2019-03', to: '2019-03', asOf: new Date('2019-02-15T00:00:00Z') }).months[0]!;
    expect(before).toMatchObject({ status: 'not_started', members: { end: 4, churned: 1 } });
    const revenue = revenueOf('2019-03', story, { asOf: new Date('2019-03-10T12:00:00Z') });
    expect(revenue).toMatchObject({ status: 'in_progress', currencies: [{ members: { active: 5, churned: 0 }, mrrCents: 6813 }] });
  });
});

describe('MRR expansion and contraction, by hand', () => {
  it('counts a price rise as expansion and a price cut as contraction of a member paying at both month ends', () => {
    // 14.99 in January, 19.99 from February (+5.00), 9.99 from March (−10.00), then gone in April.
    const entries = [
      invoice('G', 'in_g1', '2019-01-01', '2019-02-01'),
      invoice('G', 'in_g2', '2019-02-01', '2019-03-01', { amountCents: 1999, totalCents: 1999 }),
      invoice('G', 'in_g3', '2019-03-01', '2019-04-01', { amountCents: 999, totalCents: 999 }),
      ended('G', '2019-04-01', 'cancellation_requested'),
    ];
    const m = metricsOf(entries, { from: '2019-01', to: '2019-04' }).months;
    expect(m.map((x) => x.mrr)).toEqual([
      { start: 0, new: 1499, expansion: 0, contraction: 0, churned: 0, reactivation: 0, net: 1499, end: 1499 },
      { start: 1499, new: 0, expansion: 500, contraction: 0, churned: 0, reactivation: 0, net: 500, end: 1999 },
      { start: 1999, new: 0, expansion: 0, contraction: 1000, churned: 0, reactivation: 0, net: -1000, end: 999 },
      { start: 999, new: 0, expansion: 0, contraction: 0, churned: 999, reactivation: 0, net: -999, end: 0 },
    ]);
    expect(m.map((x) => x.arpuCents)).toEqual([1499, 1999, 999, null]);
  });
});
