import { describe, expect, it } from 'vitest';
import { emptyAccount, projectAccount } from '#shared/domain/finance/account';
import { giftSchedule } from '#shared/domain/finance/gift-revenue';
import { emptyEntry, type LedgerEntry } from '#shared/domain/finance/ledger';
import {
  addCalendarMonths,
  claimDecision,
  claimedGift,
  type Gift,
  giftEndingNoticeAt,
  giftStatus,
  newGift,
  paidGift,
  refundDecision,
} from '#shared/domain/gifts';
import { emptyMembership, evaluateMembership, type MembershipRecord } from '#shared/domain/membership';
import { monthlySubscription, projectCatalog } from '../support/domain';

const catalog = projectCatalog();
const { plan, gift: offer } = catalog.gift('gift-3m')!;
const now = new Date('2026-12-10T12:00:00.000Z');

function paid(overrides: Partial<Gift> = {}): Gift {
  const g = newGift({
    purchaseId: 'gp_1',
    offer,
    plan,
    buyerMemberId: 'buyer',
    recipientEmail: 'r@example.com',
    message: null,
    deliverAt: null,
    now: new Date('2026-12-01T00:00:00Z'),
  });
  return {
    ...paidGift(g, {
      code: 'CODE',
      paidAt: '2026-12-01T00:00:00.000Z',
      amountCents: 4497,
      currency: 'usd',
      paymentIntentId: 'pi_1',
      checkoutSessionId: 'cs_1',
    }),
    ...overrides,
  };
}

const withSubscription = (overrides: Parameters<typeof monthlySubscription>[2]): MembershipRecord => {
  const subscription = monthlySubscription('2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', overrides);
  return {
    ...emptyMembership('m1'),
    subscription,
    subscriptionId: subscription.subscriptionId,
    subscriptions: { [subscription.subscriptionId]: { state: subscription, version: '000000000001#x' } },
  };
};

describe('gift dates', () => {
  it('adds calendar months, a missing day becoming the month’s last', () => {
    expect(addCalendarMonths('2026-01-31T10:00:00.000Z', 1)).toBe('2026-02-28T10:00:00.000Z');
    expect(addCalendarMonths('2027-11-30T00:00:00.000Z', 3)).toBe('2028-02-29T00:00:00.000Z');
    expect(addCalendarMonths('2026-12-10T12:00:00.000Z', 3)).toBe('2027-03-10T12:00:00.000Z');
  });

  it('expires by the clock at claimBy (payment + claimValidDays)', () => {
    const g = paid();
    expect(g.claimBy).toBe('2027-12-01T00:00:00.000Z');
    expect(giftStatus(g, new Date('2027-11-30T23:59:59Z'))).toBe('unclaimed');
    expect(giftStatus(g, new Date('2027-12-01T00:00:00Z'))).toBe('expired');
  });
});

describe('claiming a gift', () => {
  it('starts a non-renewing membership now for a never-member: active until its end, then lapsed', () => {
    const d = claimDecision(paid(), 'm1', null, catalog, now);
    expect(d.kind).toBe('claim');
    if (d.kind !== 'claim') return;
    expect(d.term).toMatchObject({ start: now.toISOString(), end: '2027-03-10T12:00:00.000Z', planId: 'prime-monthly' });
    const during = evaluateMembership(d.record, catalog, new Date('2027-03-10T11:59:59.999Z'));
    expect(during).toMatchObject({ status: 'active', entitled: true, planId: 'prime-monthly', accessEndsAt: d.term.end });
    expect(evaluateMembership(d.record, catalog, new Date(d.term.end))).toMatchObject({ status: 'lapsed', entitled: false });
  });

  it('refuses a renewing membership (409), follows a cancelled one from its end', () => {
    expect(claimDecision(paid(), 'm1', withSubscription({}), catalog, now)).toEqual({ kind: 'renewing', membershipStatus: 'active' });
    const canceling = withSubscription({ cancelAtPeriodEnd: true });
    const d = claimDecision(paid(), 'm1', canceling, catalog, now);
    if (d.kind !== 'claim') throw new Error(d.kind);
    expect(d.term.start).toBe('2027-01-01T00:00:00.000Z');
    expect(evaluateMembership(d.record, catalog, now).status).toBe('canceling');
    expect(evaluateMembership(d.record, catalog, new Date('2027-01-01T00:00:00Z'))).toMatchObject({
      status: 'active',
      accessEndsAt: '2027-04-01T00:00:00.000Z',
    });
  });

  it('a second gift extends the first, back to back', () => {
    const first = claimDecision(paid(), 'm1', null, catalog, now);
    if (first.kind !== 'claim') throw new Error(first.kind);
    const second = claimDecision(paid({ purchaseId: 'gp_2', code: 'CODE2' }), 'm1', first.record, catalog, now);
    if (second.kind !== 'claim') throw new Error(second.kind);
    expect(second.term.start).toBe(first.term.end);
    expect(evaluateMembership(second.record, catalog, now).accessEndsAt).toBe('2027-06-10T12:00:00.000Z');
  });

  it('is claimed once, is gone once expired or refunded, and unknown before payment', () => {
    const claimed = claimedGift(paid(), 'm1', now);
    expect(claimDecision(claimed, 'm1', null, catalog, now).kind).toBe('claimed_by_you');
    expect(claimDecision(claimed, 'm2', null, catalog, now).kind).toBe('claimed_by_other');
    expect(claimDecision(paid(), 'm1', null, catalog, new Date('2027-12-01T00:00:00Z')).kind).toBe('expired');
    expect(claimDecision(paid({ state: 'refunded' }), 'm1', null, catalog, now).kind).toBe('refunded');
    expect(claimDecision(paid({ state: 'pending' }), 'm1', null, catalog, now).kind).toBe('unknown');
  });

  it('refunds only an unclaimed gift', () => {
    expect(refundDecision(paid(), now).kind).toBe('refund');
    expect(refundDecision(claimedGift(paid(), 'm1', now), now)).toEqual({ kind: 'not_refundable', status: 'claimed' });
  });

  it('tells the holder a week before the gift ends', () => {
    const d = claimDecision(paid(), 'm1', null, catalog, now);
    if (d.kind !== 'claim') throw new Error(d.kind);
    expect(giftEndingNoticeAt(d.term)).toBe('2027-03-03T12:00:00.000Z');
  });
});

// Money, hand-computed (docs/finance.md, "Gifts"): a 3-month gift of 44.97 paid 1 Dec 2026.
const sale = emptyEntry({
  entryId: 'cs_1',
  kind: 'gift_paid',
  occurredAt: '2026-12-01T00:00:00.000Z',
  currency: 'usd',
  amountCents: 4497,
  totalCents: 4497,
  taxCents: 0,
  paymentIntentId: 'pi_1',
  planId: 'prime-monthly',
  gift: { purchaseId: 'gp_1', giftId: 'gift-3m', months: 3, claimBy: '2027-12-01T00:00:00.000Z' },
});
const claimAt = (start: string, end: string): LedgerEntry =>
  emptyEntry({
    entryId: 'gp_1#claimed',
    kind: 'gift_claimed',
    occurredAt: start,
    currency: 'usd',
    amountCents: 0,
    planId: 'prime-monthly',
    servicePeriod: { start, end },
    gift: sale.gift!,
  });

describe('gift revenue', () => {
  it('defers until claimed, then recognizes over the gifted days, to the cent', () => {
    // Claimed 15 Jan 2027 → 15 Apr 2027: 90 days. Jan 17 days, Feb 28, Mar 31, Apr 14.
    // 4497 × 17/90 = 849.43 → 849; × 28/90 = 1399.07 → 1399; × 31/90 = 1548.97 → 1549 (largest remainder); × 14/90 = 699.53 → 700.
    const schedule = giftSchedule(sale, claimAt('2027-01-15T00:00:00.000Z', '2027-04-15T00:00:00.000Z'), []);
    expect(schedule.map((m) => [m.month, m.recognizedCents, m.deferredAtEndCents])).toEqual([
      ['2026-12', 0, 4497],
      ['2027-01', 849, 3648],
      ['2027-02', 1399, 2249],
      ['2027-03', 1549, 700],
      ['2027-04', 700, 0],
    ]);
  });

  it('recognizes an unclaimed gift as breakage in the month its claim deadline falls in', () => {
    const schedule = giftSchedule(sale, null, []);
    expect(schedule.at(-1)).toEqual({
      month: '2027-12',
      recognizedCents: 4497,
      deferredAtEndCents: 0,
      refundedNetCents: 0,
      breakageCents: 4497,
    });
    expect(schedule.filter((m) => m.month < '2027-12').every((m) => m.recognizedCents === 0 && m.deferredAtEndCents === 4497)).toBe(true);
  });

  it('a refund before the claim takes it all back from deferred: nothing is ever recognized', () => {
    const refund = emptyEntry({
      entryId: 're_1',
      kind: 'refund',
      occurredAt: '2027-02-03T00:00:00.000Z',
      currency: 'usd',
      amountCents: 4497,
      paymentIntentId: 'pi_1',
      refundIds: ['re_1'],
    });
    const facts = { ...emptyAccount(), gifts: [sale], tied: [{ entry: refund, invoiceId: 'cs_1' }] };
    const out = projectAccount(facts, { graceDays: () => 0 });
    const fig = (month: string) => out.get(`${month}|usd|prime-monthly`) ?? {};
    expect(fig('2026-12')).toMatchObject({ giftsSold: 1, billedCents: 4497, deferredCents: 4497, giftDeferredCents: 4497 });
    expect(fig('2027-02')).toMatchObject({ refundedCents: 4497, refundedNetOfTaxCents: 4497, refunds: 1 });
    expect(fig('2027-02').deferredCents ?? 0).toBe(0);
    expect([...out.values()].reduce((a, f) => a + (f.recognizedCents ?? 0), 0)).toBe(0);
    expect(fig('2027-12').giftsExpired ?? 0).toBe(0);
  });
});
