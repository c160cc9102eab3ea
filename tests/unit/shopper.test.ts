import { describe, expect, it } from 'vitest';
import {
  emptyMembership,
  evaluateMembership,
  type MembershipRecord,
  type MembershipView,
  type SubscriptionState,
} from '#shared/domain/membership';
import {
  accessEndsAfterCancel,
  type BenefitRedemption,
  type BenefitUsage,
  type BillingSubscription,
  checkoutOffer,
  nextCharge,
  type RefundFacts,
  refundDecision,
  renewalTermsText,
  resumeAction,
  sweepOpenSessions,
} from '#shared/domain/shopper';
import { monthlySubscription, projectCatalog } from '../support/domain';

const catalog = projectCatalog();
const monthly = catalog.plan('prime-monthly')!;

const sub = (overrides: Partial<SubscriptionState> = {}) =>
  monthlySubscription('2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z', overrides);

const withSub = (state: SubscriptionState, extra: Partial<MembershipRecord> = {}): MembershipRecord => ({
  ...emptyMembership('m-1'),
  customerId: state.customerId,
  subscriptionId: state.subscriptionId,
  subscription: state,
  subscriptions: { [state.subscriptionId]: { state, version: 'v1' } },
  firstSubscribedAt: state.trialStart ?? state.currentPeriodStart,
  hadTrial: state.trialStart !== null,
  ...extra,
});

const NOW = new Date('2026-11-15T12:00:00.000Z');

describe('checkoutOffer', () => {
  const none = evaluateMembership(null, catalog, NOW);
  const offer = (record: MembershipRecord | null, stripeSubscriptions: BillingSubscription[] = [], plan = monthly) =>
    checkoutOffer({ view: evaluateMembership(record, catalog, NOW), record, plan, stripeSubscriptions });
  const billing = (status: string, pendingCancellation = false): BillingSubscription => ({
    id: `sub_${status}`,
    status,
    pendingCancellation,
  });

  it('offers the plan trial to someone never seen, or seen only without a membership, in neither source', () => {
    expect(offer(null)).toEqual({ allowed: true, trialDays: 30 });
    expect(offer(emptyMembership('m-1'))).toEqual({ allowed: true, trialDays: 30 });
    expect(checkoutOffer({ view: none, record: null, plan: { ...monthly, trialDays: 0 }, stripeSubscriptions: [] })).toEqual({
      allowed: true,
      trialDays: 0,
    });
  });

  it('refuses a trial to anyone the record shows had a trial or any membership before', () => {
    expect(offer({ ...emptyMembership('m'), hadTrial: true })).toEqual({ allowed: true, trialDays: 0 });
    expect(offer({ ...emptyMembership('m'), firstSubscribedAt: '2025-01-01T00:00:00.000Z' })).toEqual({ allowed: true, trialDays: 0 });
    const lapsed = withSub(sub({ stripeStatus: 'canceled', endedAt: '2026-01-01T00:00:00.000Z' }), {
      firstSubscribedAt: null,
      hadTrial: false,
    });
    expect(offer(lapsed)).toEqual({ allowed: true, trialDays: 0 });
  });

  it('refuses a trial when Stripe lists any subscription of the customer, ended ones and other plans included', () => {
    for (const status of ['canceled', 'incomplete_expired'])
      expect(offer(null, [billing(status)], catalog.plan('prime-annual')!)).toEqual({ allowed: true, trialDays: 0 });
  });

  it('refuses while a subscription is alive in the record, before any Stripe look', () => {
    const view = (status: MembershipView['status']) => ({ status }) as MembershipView;
    for (const status of ['pending', 'trialing', 'active', 'canceling', 'grace', 'paused'] as const) {
      expect(checkoutOffer({ view: view(status), record: null, plan: monthly, stripeSubscriptions: [] })).toEqual({
        allowed: false,
        reason: 'already_member',
        membershipStatus: status,
      });
    }
  });

  it('refuses while Stripe has a subscription that has not ended, though the webhooks have not said so', () => {
    expect(offer(null, [billing('canceled'), billing('trialing')])).toEqual({
      allowed: false,
      reason: 'already_member',
      membershipStatus: 'trialing',
    });
    expect(offer(emptyMembership('m'), [billing('active', true)])).toMatchObject({ allowed: false, membershipStatus: 'canceling' });
    expect(offer(null, [billing('past_due')])).toMatchObject({ allowed: false, membershipStatus: 'grace' });
    expect(offer(null, [billing('incomplete')])).toMatchObject({ allowed: false, membershipStatus: 'pending' });
    const lapsed = withSub(sub({ stripeStatus: 'canceled' }));
    expect(offer(lapsed, [billing('unpaid')])).toMatchObject({ allowed: false, membershipStatus: 'grace' });
  });
});

describe('sweepOpenSessions', () => {
  const s = (id: string, created: number) => ({ id, created });
  it('expires every session that was open before ours was made, whatever its time or id', () => {
    expect(sweepOpenSessions(s('cs_a', 10), [s('cs_a', 10), s('cs_z', 10), s('cs_c', 5)], ['cs_z', 'cs_c'])).toEqual({
      keep: true,
      expire: ['cs_z', 'cs_c'],
    });
    expect(sweepOpenSessions(s('cs_b', 10), [], [])).toEqual({ keep: true, expire: [] });
  });
  it('orders sessions made concurrently by (time, id): ours gives way to a later one and expires an earlier one', () => {
    expect(sweepOpenSessions(s('cs_a', 9), [s('cs_b', 10), s('cs_a', 9)], [])).toEqual({ keep: false });
    expect(sweepOpenSessions(s('cs_b', 10), [s('cs_b', 10), s('cs_a', 9)], [])).toEqual({ keep: true, expire: ['cs_a'] });
    // Two racing checkouts in the same second that each see the other: exactly one keeps its session.
    const [x, y] = [s('cs_x', 10), s('cs_y', 10)];
    expect([sweepOpenSessions(x, [x, y], []), sweepOpenSessions(y, [x, y], [])]).toEqual([
      { keep: false },
      { keep: true, expire: ['cs_x'] },
    ]);
  });
});

describe('renewalTermsText', () => {
  const price = { priceId: 'price_x', amountCents: 1499, currency: 'usd', interval: 'month', intervalCount: 1 };
  it('states the amount, the frequency, the trial and how to cancel', () => {
    const text = renewalTermsText(monthly, price, 30);
    expect(text).toContain('charged $14.99 when it ends and then $14.99 every month');
    expect(text).toContain('every month');
    expect(text).toContain('30-day free trial');
    expect(text).toMatch(/Cancel anytime/);
    expect(text.length).toBeLessThanOrEqual(1200);
  });
  it('says the first charge is today without a trial', () => {
    expect(renewalTermsText(monthly, { ...price, interval: 'year', amountCents: 13900 }, 0)).toMatch(/charged \$139\.00 today.*every year/);
  });
  it('states a yen price in whole yen and a dinar price with three decimals', () => {
    const yen = { ...price, amountCents: 1500, currency: 'jpy' };
    expect(renewalTermsText(monthly, yen, 0)).toContain('you will be charged ¥1,500 today and then ¥1,500 every month');
    const dinar = { ...price, amountCents: 4500, currency: 'kwd' };
    expect(renewalTermsText(monthly, dinar, 0)).toContain('you will be charged KWD\u00a04.500 today');
  });
});

describe('nextCharge', () => {
  it('is the plan amount at period end while active, at trial end while trialing', () => {
    const active = sub();
    expect(nextCharge(evaluateMembership(withSub(active), catalog, NOW), active)).toEqual({
      amountCents: 1499,
      currency: 'usd',
      date: '2026-12-01T00:00:00.000Z',
    });
    const trial = sub({ stripeStatus: 'trialing', trialStart: '2026-11-01T00:00:00.000Z', trialEnd: '2026-12-01T00:00:00.000Z' });
    expect(nextCharge(evaluateMembership(withSub(trial), catalog, NOW), trial)?.date).toBe('2026-12-01T00:00:00.000Z');
  });
  it('is none when canceling, lapsed or in grace', () => {
    const canceling = sub({ cancelAtPeriodEnd: true });
    expect(evaluateMembership(withSub(canceling), catalog, NOW).status).toBe('canceling');
    expect(nextCharge(evaluateMembership(withSub(canceling), catalog, NOW), canceling)).toBeNull();
    const ended = sub({ stripeStatus: 'canceled' });
    expect(nextCharge(evaluateMembership(withSub(ended), catalog, NOW), ended)).toBeNull();
    const pastDue = sub({ stripeStatus: 'past_due' });
    expect(nextCharge(evaluateMembership(withSub(pastDue), catalog, NOW), pastDue)).toBeNull();
    expect(nextCharge(evaluateMembership(null, catalog, NOW), null)).toBeNull();
  });
});

describe('resumeAction', () => {
  it('undoes whatever cancellation Stripe has pending, and nothing for an ended subscription', () => {
    expect(resumeAction({ status: 'active', cancelAtPeriodEnd: true, cancelAt: 1_800_000_000 })).toBe('clear_cancel_at_period_end');
    expect(resumeAction({ status: 'past_due', cancelAtPeriodEnd: false, cancelAt: 1_800_000_000 })).toBe('clear_cancel_at');
    expect(resumeAction({ status: 'trialing', cancelAtPeriodEnd: false, cancelAt: null })).toBe('nothing_pending');
    for (const status of ['canceled', 'incomplete_expired'])
      expect(resumeAction({ status, cancelAtPeriodEnd: true, cancelAt: 1 })).toBe('ended');
  });
});

describe('accessEndsAfterCancel', () => {
  it('is Stripe’s date, or the end of grace when a renewal is unpaid and grace ends sooner', () => {
    const view = (status: MembershipView['status'], graceEndsAt: string | null = null) => ({ status, graceEndsAt }) as MembershipView;
    expect(accessEndsAfterCancel(view('active'), '2026-12-01T00:00:00.000Z')).toBe('2026-12-01T00:00:00.000Z');
    expect(accessEndsAfterCancel(view('grace', '2026-11-08T00:00:00.000Z'), '2026-12-01T00:00:00.000Z')).toBe('2026-11-08T00:00:00.000Z');
    expect(accessEndsAfterCancel(view('grace', '2026-12-08T00:00:00.000Z'), '2026-12-01T00:00:00.000Z')).toBe('2026-12-01T00:00:00.000Z');
  });
});

const redemption = (overrides: Partial<BenefitRedemption> = {}): BenefitRedemption => ({
  code: 'CODE1',
  orderId: 'o1',
  action: 'redeem',
  at: '2026-11-03T10:00:00.000Z',
  ...overrides,
});
const usage = (overrides: Partial<BenefitUsage> = {}): BenefitUsage => ({
  orderId: 'o2',
  shippingSavedCents: 699,
  at: '2026-11-04T10:00:00.000Z',
  ...overrides,
});

describe('refundDecision', () => {
  const facts = (overrides: Partial<RefundFacts> = {}): RefundFacts => ({
    subscriptionId: 'sub_1',
    currentPeriodStart: '2026-11-01T00:00:00.000Z',
    stripeStatus: 'active',
    redemptions: [],
    usages: [],
    latestInvoicePaidCents: 1499,
    ...overrides,
  });

  it('is eligible when nothing was used since the period Stripe reports started', () => {
    expect(refundDecision(facts())).toEqual({ eligible: true, periodKey: 'sub_1@2026-11-01T00:00:00.000Z' });
    const before = '2026-10-31T23:59:59.999Z';
    expect(refundDecision(facts({ redemptions: [redemption({ at: before })], usages: [usage({ at: before })] })).eligible).toBe(true);
  });

  it('refuses when a shipping saving was recorded since the period started, by its time, whatever period our record names', () => {
    expect(refundDecision(facts({ usages: [usage({ at: '2026-11-01T00:00:00.000Z' })] }))).toMatchObject({
      eligible: false,
      reason: 'benefit_used',
    });
    // A renewal Stripe made and has not reported yet: the period starts now, the usage is newer.
    expect(
      refundDecision(facts({ currentPeriodStart: '2026-12-01T00:00:00.000Z', usages: [usage({ at: '2026-12-01T08:00:00.000Z' })] })),
    ).toMatchObject({ reason: 'benefit_used' });
    expect(refundDecision(facts({ usages: [usage({ shippingSavedCents: 0 })] })).eligible).toBe(true);
  });

  it('refuses when a coupon or voucher redeemed since the period started was kept; a release for that order undoes it', () => {
    expect(refundDecision(facts({ redemptions: [redemption()] }))).toMatchObject({ eligible: false, reason: 'grant_redeemed' });
    const released = [redemption(), redemption({ action: 'release', at: '2026-11-03T11:00:00.000Z' })];
    expect(refundDecision(facts({ redemptions: released })).eligible).toBe(true);
    // Released, then redeemed again by the same order: used.
    expect(refundDecision(facts({ redemptions: [...released, redemption({ at: '2026-11-03T12:00:00.000Z' })] }))).toMatchObject({
      reason: 'grant_redeemed',
    });
    // A release for another order or code does not undo this one.
    expect(
      refundDecision(
        facts({ redemptions: [redemption(), redemption({ action: 'release', orderId: 'o9', at: '2026-11-04T00:00:00.000Z' })] }),
      ),
    ).toMatchObject({ reason: 'grant_redeemed' });
    expect(
      refundDecision(
        facts({ redemptions: [redemption(), redemption({ action: 'release', code: 'OTHER', at: '2026-11-04T00:00:00.000Z' })] }),
      ),
    ).toMatchObject({ reason: 'grant_redeemed' });
  });

  it('refuses when nothing was paid: a trial or a free invoice', () => {
    expect(refundDecision(facts({ stripeStatus: 'trialing' }))).toMatchObject({ eligible: false, reason: 'nothing_paid' });
    expect(refundDecision(facts({ latestInvoicePaidCents: 0 }))).toMatchObject({ eligible: false, reason: 'nothing_paid' });
  });

  it('refuses without a current period', () => {
    expect(refundDecision(facts({ currentPeriodStart: null }))).toMatchObject({ eligible: false, reason: 'no_current_period' });
    expect(refundDecision(facts({ stripeStatus: 'canceled' }))).toMatchObject({ eligible: false, reason: 'no_current_period' });
  });
});
