import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateGrantCode } from '#shared/codes';
import {
  applyReversal,
  applySavings,
  buildGrants,
  currentSavingsPeriod,
  decideCommit,
  decideHold,
  decideRedeem,
  decideRelease,
  effectiveGrant,
  effectiveGrants,
  refundedPeriods,
  type SavingReversal,
  type StoredSavings,
  savingsMove,
  savingsView,
} from '#shared/domain/benefits';
import { parseCatalog } from '#shared/domain/catalog';
import { evaluateEntitlement, grantRejection } from '#shared/domain/entitlement';
import { CODE_ALPHABET, GRANT_CODE_BITS, GRANT_CODE_PATTERN } from '#shared/domain/grant-codes';
import type { IssuedGrant, OrderSlot } from '#shared/domain/grants';
import type { BenefitIssuanceState } from '#shared/domain/issuance';
import {
  applyMembershipEvent,
  type MembershipEvent,
  type MembershipRecord,
  type MembershipView,
  type SubscriptionState,
} from '#shared/domain/membership';
import { periodKey } from '#shared/domain/savings';
import { stripeEventSchema, translateStripeEvent } from '#shared/stripe/events';
import { benefitIssuanceReaction } from '#shared/usecases/benefits';
import catalogJson from '../../config/plan-catalog.json' with { type: 'json' };
import { invoiceObject, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';
import { commandArb, creditNoteObject } from '../support/benefits';
import { monthlySubscription } from '../support/domain';

const catalog = parseCatalog(catalogJson);
const HOLD_MS = 15 * 60_000;
const plan = catalog.plan('prime-monthly')!;

describe('grant codes', () => {
  it('carry at least 80 bits from an alphabet without look-alike characters', () => {
    expect(GRANT_CODE_BITS).toBeGreaterThanOrEqual(80);
    expect(new Set(CODE_ALPHABET).size).toBe(CODE_ALPHABET.length);
    for (const ambiguous of ['0', 'O', '1', 'I', 'L', 'U']) expect(CODE_ALPHABET).not.toContain(ambiguous);
  });

  it('are well-formed, unique and use every symbol about equally often', () => {
    const counts = new Map<string, number>();
    const codes = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const code = generateGrantCode();
      expect(code).toMatch(GRANT_CODE_PATTERN);
      codes.add(code);
      for (const ch of code.replaceAll('-', '')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(codes.size).toBe(10_000);
    expect([...counts.keys()].sort().join('')).toBe([...CODE_ALPHABET].sort().join(''));
    // 170,000 symbols over 30: each ≈ 5,667; a biased generator (e.g. modulo of a byte) shows up far outside ±10 %.
    const expected = (10_000 * 17) / CODE_ALPHABET.length;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.1);
  });
});

const sub = (over: Partial<SubscriptionState> = {}) => monthlySubscription('2026-01-01T00:00:00.000Z', '2026-01-31T00:00:00.000Z', over);
const base = { memberId: 'm1', created: 1_767_225_600 };
const subEvent = (id: string, over: Partial<SubscriptionState> = {}): MembershipEvent => ({
  kind: 'subscription-changed',
  eventId: id,
  ...base,
  subscription: sub(over),
});
const paid = (
  id: string,
  invoiceId: string,
  periodStart: string,
  over: { billingReason?: string; amountPaidCents?: number; totalCents?: number } = {},
): MembershipEvent => ({
  kind: 'invoice-paid',
  eventId: id,
  ...base,
  customerId: 'cus_1',
  subscriptionId: 'sub_1',
  invoiceId,
  billingReason: 'subscription_cycle',
  periodStart,
  periodEnd: null,
  amountPaidCents: 1499,
  currency: 'usd',
  priceId: 'price_prime_monthly_usd',
  ...over,
});
const refund = (id: string, invoiceId: string, creditNoteId = `cn_${id}`): MembershipEvent => ({
  kind: 'invoice-refunded',
  eventId: id,
  ...base,
  customerId: 'cus_1',
  invoiceId,
  creditNoteId,
  amountCents: 1499,
  currency: 'usd',
});

function replay(events: MembershipEvent[]): MembershipRecord | null {
  let record: MembershipRecord | null = null;
  for (const e of events) record = applyMembershipEvent(record, e).record;
  return record;
}
/** What decides outcomes: a period issued and then refunded is as unusable as one never issued. */
const canonical = (record: MembershipRecord | null) => {
  const s: BenefitIssuanceState | null | undefined = record?.benefits;
  const refunded = refundedPeriods(record);
  return (
    s && {
      signupPlanId: s.signupPlanId,
      usablePeriods: s.periods.filter((p) => !refunded.has(p)).sort(),
      invoices: Object.fromEntries(
        Object.entries(s.invoices)
          .sort()
          .map(([k, v]) => [k, { ...v, refunds: Object.fromEntries(Object.entries(v.refunds ?? {}).sort()) }]),
      ),
    }
  );
};

describe('issuance tracking on the membership record', () => {
  const events = [
    subEvent('e1'),
    paid('e2', 'in_1', '2026-01-01T00:00:00.000Z', { billingReason: 'subscription_create' }),
    paid('e3', 'in_2', '2026-01-31T00:00:00.000Z'),
    paid('e4', 'in_3', '2026-01-15T00:00:00.000Z', { billingReason: 'subscription_update' }),
    refund('e5', 'in_2'),
    paid('e6', 'in_4', '2026-03-02T00:00:00.000Z'),
  ];

  it('records signup once, one period per opening invoice, no period for prorations or refunded invoices', () => {
    const record = replay(events)!;
    const s = record.benefits!;
    expect(s.signupPlanId).toBe('prime-monthly');
    expect(s.periods.sort()).toEqual([
      'sub_1@2026-01-01T00:00:00.000Z',
      'sub_1@2026-01-31T00:00:00.000Z',
      'sub_1@2026-03-02T00:00:00.000Z',
    ]);
    expect([...refundedPeriods(record)]).toEqual(['sub_1@2026-01-31T00:00:00.000Z']);
    // The refund arriving first: that period is never issued at all.
    const early = replay([refund('x1', 'in_2'), ...events])!.benefits!;
    expect(early.periods.sort()).toEqual(['sub_1@2026-01-01T00:00:00.000Z', 'sub_1@2026-03-02T00:00:00.000Z']);
  });

  it('ends in the same state for every order and any duplicates of the events', () => {
    const expected = canonical(replay(events));
    fc.assert(
      fc.property(
        fc.shuffledSubarray(events, { minLength: events.length }),
        fc.array(fc.nat(events.length - 1), { maxLength: 6 }),
        (order, dupes) => {
          const delivered = [...order, ...dupes.map((i) => events[i]!)];
          expect(canonical(replay(delivered))).toEqual(expected);
        },
      ),
    );
  });

  it('gives a $0 trial invoice no period grants and keeps records without benefit events unchanged', () => {
    const trial = replay([
      subEvent('t1', { stripeStatus: 'trialing' }),
      paid('t2', 'in_t', '2026-01-01T00:00:00.000Z', { amountPaidCents: 0, billingReason: 'subscription_create' }),
    ]);
    expect(trial!.benefits).toMatchObject({ signupPlanId: 'prime-monthly', periods: [] });
    expect(replay([subEvent('p1', { stripeStatus: 'incomplete' })])!.benefits).toBeUndefined();
  });

  it('issues a period that billed its total, even when the credit balance paid it (amount_paid 0)', () => {
    const fromBalance = replay([subEvent('b1'), paid('b2', 'in_b', '2026-01-31T00:00:00.000Z', { amountPaidCents: 0, totalCents: 1499 })]);
    expect(fromBalance!.benefits!.periods).toEqual(['sub_1@2026-01-31T00:00:00.000Z']);
    const trial = replay([
      subEvent('b3', { stripeStatus: 'trialing' }),
      paid('b4', 'in_t', '2026-01-01T00:00:00.000Z', { billingReason: 'subscription_create', amountPaidCents: 0, totalCents: 0 }),
    ]);
    expect(trial!.benefits!.periods).toEqual([]);
  });
});

describe('issuance reaction', () => {
  let n = 0;
  const react = benefitIssuanceReaction('tbl', () => `CODE-${++n}`);
  const run = (before: MembershipRecord | null, event: MembershipEvent) => {
    const after = applyMembershipEvent(before, event).record;
    return { after, writes: react({ before, after, event, now: new Date(), catalog }) };
  };

  it('issues the plan grants with their markers in the same writes, and nothing for a repeat', () => {
    const first = run(null, subEvent('r1'));
    expect(first.writes.map((w) => w.Put?.Item?.SK)).toEqual(['ENT#GRANT#CODE-1', 'ISSUED#signup#welcome-10']);
    const second = run(first.after, paid('r2', 'in_1', '2026-01-01T00:00:00.000Z'));
    const puts = second.writes.filter((w) => w.Put).map((w) => w.Put!.Item!);
    expect(puts.filter((i) => i.type === 'grant').map((i) => i.grant.grantId)).toEqual(['monthly-5', 'express-2', 'express-2']);
    expect(puts.filter((i) => i.type === 'grant-issuance').map((i) => i.SK)).toEqual([
      'ISSUED#sub_1@2026-01-01T00:00:00.000Z#monthly-5',
      'ISSUED#sub_1@2026-01-01T00:00:00.000Z#express-2',
    ]);
    expect(second.writes.filter((w) => w.Update).map((w) => w.Update!.ExpressionAttributeValues![':amount'])).toEqual([1499]);
    expect(second.writes.every((w) => !w.Put || w.Put.ConditionExpression === 'attribute_not_exists(PK)')).toBe(true);
    expect(run(second.after, paid('r3', 'in_1', '2026-01-01T00:00:00.000Z')).writes).toEqual([]);
    expect(run(second.after, subEvent('r4')).writes).toEqual([]);
  });

  it('counts what an invoice billed as fees paid, also when the credit balance settled it', () => {
    const fromBalance = run(
      run(null, subEvent('f1')).after,
      paid('f2', 'in_f', '2026-01-31T00:00:00.000Z', { amountPaidCents: 0, totalCents: 1499 }),
    );
    expect(fromBalance.writes.filter((w) => w.Update).map((w) => w.Update!.ExpressionAttributeValues![':amount'])).toEqual([1499]);
    expect(fromBalance.writes.filter((w) => w.Put?.Item?.type === 'grant').map((w) => w.Put!.Item!.grant.grantId)).toEqual([
      'monthly-5',
      'express-2',
      'express-2',
    ]);
    // A downgrade's credit invoice (negative total, put on the balance) gives that money back.
    const credit = run(
      fromBalance.after,
      paid('f3', 'in_c', '2026-02-10T00:00:00.000Z', { billingReason: 'subscription_update', amountPaidCents: 0, totalCents: -600 }),
    );
    expect(credit.writes.map((w) => w.Update?.ExpressionAttributeValues?.[':amount'])).toEqual([-600]);
  });

  it('dates signup grants from the subscription start, whichever snapshot arrives first', () => {
    const startDate = '2026-01-01T00:00:00.000Z';
    const grantDates = (writes: ReturnType<typeof run>['writes']) =>
      writes.filter((w) => w.Put?.Item?.type === 'grant').map((w) => [w.Put!.Item!.grant.issuedAt, w.Put!.Item!.grant.expiresAt]);
    const fromCreated = run(null, subEvent('d1', { startDate }));
    // A renewal snapshot, sent a month later, delivered before the `created` one.
    const renewed = subEvent('d2', {
      startDate,
      currentPeriodStart: '2026-01-31T00:00:00.000Z',
      currentPeriodEnd: '2026-03-02T00:00:00.000Z',
    });
    const fromLater = run(null, { ...renewed, created: base.created + 30 * 86_400 });
    expect(grantDates(fromCreated.writes)).toEqual([[startDate, '2026-01-31T00:00:00.000Z']]);
    expect(grantDates(fromLater.writes)).toEqual(grantDates(fromCreated.writes));
  });
});

describe('grants and redeem rules', () => {
  const now = new Date('2026-01-10T00:00:00.000Z');
  const [coupon] = buildGrants(plan.benefits.grants[1]!, {
    memberId: 'm1',
    periodKey: 'p1',
    issuedAt: '2026-01-01T00:00:00.000Z',
    code: () => 'C1',
  });
  const vouchers = buildGrants(plan.benefits.grants[2]!, {
    memberId: 'm1',
    periodKey: 'p1',
    issuedAt: '2026-01-01T00:00:00.000Z',
    code: generateGrantCode,
  });
  const order = { subtotalCents: 3000, currency: 'usd' };

  it('issues count vouchers and expires validDays after issue', () => {
    expect(vouchers).toHaveLength(2);
    expect(coupon!.expiresAt).toBe('2026-01-31T00:00:00.000Z');
  });

  it('decides redeem with the same rule as the checkout listing', () => {
    const claim = { ...order, orderId: 'o1' };
    expect(decideRedeem(coupon!, true, now, claim, null)).toEqual({ kind: 'redeem' });
    expect(decideRedeem(coupon!, false, now, claim, null)).toEqual({ kind: 'reject', reason: 'not_entitled' });
    expect(decideRedeem(coupon!, true, new Date('2026-01-31T00:00:00.000Z'), claim, null)).toEqual({ kind: 'reject', reason: 'expired' });
    expect(decideRedeem(coupon!, true, now, { ...claim, currency: 'eur' }, null)).toEqual({ kind: 'reject', reason: 'wrong_currency' });
    expect(decideRedeem(coupon!, true, now, { ...claim, subtotalCents: 2499 }, null)).toEqual({
      kind: 'reject',
      reason: 'below_min_subtotal',
    });
    const redeemed = { ...coupon!, state: 'redeemed' as const, redeemedOrderId: 'o1' };
    expect(decideRedeem(redeemed, true, now, claim, null)).toEqual({ kind: 'already-redeemed' });
    expect(decideRedeem(redeemed, true, now, { ...claim, orderId: 'o2' }, null)).toEqual({
      kind: 'conflict',
      reason: 'redeemed_by_another_order',
    });
    expect(decideRedeem(effectiveGrant(coupon!, new Set(['p1'])), true, now, claim, null)).toEqual({ kind: 'reject', reason: 'void' });
    expect(decideRelease(redeemed, null, 'o1', now)).toEqual({ kind: 'release' });
    expect(decideRelease(redeemed, null, 'o2', now)).toEqual({ kind: 'conflict', reason: 'not_redeemed_by_this_order' });
    expect(decideRelease(coupon!, 'o1', 'o1', now)).toEqual({ kind: 'already-released' });
  });

  it('allows one coupon and one shipping voucher per order, a voucher only for its own service level', () => {
    const [voucher] = vouchers;
    const claim = { ...order, orderId: 'o1' };
    const slot = (code: string, state: 'held' | 'redeemed', holdExpiresAt: string | null = null) => ({
      orderId: 'o1',
      kind: 'coupon' as const,
      code,
      state,
      holdExpiresAt,
    });
    // Another coupon redeemed, or held and still standing, by the same order: refused; lapsed: free.
    expect(decideRedeem(coupon!, true, now, claim, slot('C9', 'redeemed'))).toEqual({ kind: 'reject', reason: 'one_coupon_per_order' });
    expect(decideHold(coupon!, true, now, claim, slot('C9', 'held', '2026-01-10T00:10:00.000Z'), HOLD_MS)).toEqual({
      kind: 'reject',
      reason: 'one_coupon_per_order',
    });
    expect(decideRedeem(coupon!, true, now, claim, slot('C9', 'held', '2026-01-10T00:00:00.000Z'))).toEqual({ kind: 'redeem' });
    expect(decideRedeem(coupon!, true, now, claim, slot('C1', 'held', '2026-01-10T00:10:00.000Z'))).toEqual({ kind: 'redeem' });
    // The voucher's own slot; its service level is required and must be its own.
    const voucherSlot = { ...slot('V9', 'redeemed'), kind: 'shipping-voucher' as const };
    expect(decideRedeem(voucher!, true, now, claim, null)).toEqual({ kind: 'reject', reason: 'service_level_required' });
    expect(decideRedeem(voucher!, true, now, { ...claim, serviceLevel: 'standard' }, null)).toEqual({
      kind: 'reject',
      reason: 'service_level_mismatch',
    });
    expect(decideRedeem(voucher!, true, now, { ...claim, serviceLevel: 'next-day' }, null)).toEqual({ kind: 'redeem' });
    expect(decideRedeem(voucher!, true, now, { ...claim, serviceLevel: 'next-day' }, voucherSlot)).toEqual({
      kind: 'reject',
      reason: 'one_voucher_per_order',
    });
  });

  it('holds for 15 minutes (never past the code), lapses by itself, and commits only a standing hold', () => {
    const claim = { ...order, orderId: 'o1' };
    const decided = decideHold(coupon!, true, now, claim, null, HOLD_MS);
    expect(decided).toEqual({ kind: 'hold', expiresAt: '2026-01-10T00:15:00.000Z' });
    expect(decideHold(coupon!, true, new Date('2026-01-30T23:55:00.000Z'), claim, null, HOLD_MS)).toEqual({
      kind: 'hold',
      expiresAt: coupon!.expiresAt,
    });
    const held = { ...coupon!, hold: { orderId: 'o1', expiresAt: '2026-01-10T00:15:00.000Z' } };
    const slot = { orderId: 'o1', kind: 'coupon' as const, code: 'C1', state: 'held' as const, holdExpiresAt: '2026-01-10T00:15:00.000Z' };
    const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
    expect(decideHold(held, true, at(5), claim, slot, HOLD_MS)).toEqual({ kind: 'already-held', expiresAt: '2026-01-10T00:15:00.000Z' });
    // Another order: refused while the hold stands, free from the instant it lapses; no order in the check sees it applicable.
    expect(decideHold(held, true, at(5), { ...claim, orderId: 'o2' }, null, HOLD_MS)).toEqual({
      kind: 'conflict',
      reason: 'held_by_another_order',
    });
    expect(decideRedeem(held, true, at(15), { ...claim, orderId: 'o2' }, null)).toEqual({ kind: 'redeem' });
    expect(grantRejection(held, true, at(5), order)).toBe('held');
    expect(grantRejection(held, true, at(5), { ...order, orderId: 'o1' })).toBeNull();
    expect(grantRejection(held, true, at(15), order)).toBeNull();
    // Commit: before the lapse, once; after it 409 hold_lapsed, even if nobody took the code.
    expect(decideCommit(held, 'o1', at(14), slot)).toEqual({ kind: 'commit' });
    expect(decideCommit(held, 'o1', at(15), slot)).toEqual({ kind: 'conflict', reason: 'hold_lapsed' });
    expect(decideCommit(held, 'o2', at(5), null)).toEqual({ kind: 'conflict', reason: 'not_held_by_this_order' });
    expect(decideCommit({ ...held, state: 'redeemed', redeemedOrderId: 'o1', hold: null }, 'o1', at(20), slot)).toEqual({
      kind: 'already-redeemed',
    });
    // Release of a standing hold drops it; of a lapsed one is already done.
    expect(decideRelease(held, null, 'o1', at(5))).toEqual({ kind: 'release-hold' });
    expect(decideRelease(held, null, 'o1', at(16))).toEqual({ kind: 'already-released' });
    expect(decideRelease(held, null, 'o2', at(5))).toEqual({ kind: 'conflict', reason: 'not_redeemed_by_this_order' });
  });

  it('moves savings between periods without ever rolling back to an older one', () => {
    const p1 = { key: 's@1', start: '2026-01-01' };
    const p2 = { key: 's@2', start: '2026-02-01' };
    expect(savingsMove(null, p1)).toBe('new-period');
    expect(savingsMove({ periodKey: 's@1', periodStart: '2026-01-01' }, p1)).toBe('same-period');
    expect(savingsMove({ periodKey: 's@1', periodStart: '2026-01-01' }, p2)).toBe('new-period');
    expect(savingsMove({ periodKey: 's@2', periodStart: '2026-02-01' }, p1)).toBe('older-period');
    expect(savingsMove({ periodKey: 's@2', periodStart: '2026-02-01' }, null)).toBe('lifetime-only');
  });
});

/**
 * Model-based property: random issue/hold/commit/redeem/release/wait/expire/refund/usage/new-period
 * sequences. The membership record moves through the real `applyMembershipEvent` (so refunds go
 * through issuance tracking), decisions through `decideHold`/`decideCommit`/`decideRedeem`/
 * `decideRelease`/`evaluateEntitlement`, counters through the storage mirrors `applySavings`/
 * `applyReversal`. The model only keeps plain facts (who redeemed a code, who holds it until when,
 * which code each order's coupon slot names, which periods were refunded, what was saved in which
 * period) and checks every production answer against them.
 */
describe('benefits model (property)', () => {
  const definition = plan.benefits.grants[1]!; // monthly-5: a coupon with a minimum subtotal
  if (definition.kind !== 'coupon') throw new Error('expected the monthly coupon');
  const DAY_MS = 86_400_000;
  const MINUTE_MS = 60_000;
  const entitledView: MembershipView = {
    memberId: 'm',
    status: 'active',
    entitled: true,
    planId: plan.id,
    currentPeriodEnd: null,
    graceEndsAt: null,
    accessEndsAt: null,
  };

  it('never gives a code to two orders nor two coupons to one order, never uses an expired or refunded code, counts a code once at commit, and keeps both counters equal to the savings recorded', () => {
    const seen = { held: 0, committed: 0, lapsedCommit: 0, heldByOther: 0, oneCouponPerOrder: 0, holdReleased: 0, redeemed: 0 };
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 60, size: 'max' }), (commands) => {
        let clock = Date.parse('2026-01-01T00:00:00.000Z');
        let periodIndex = 0;
        const periodStart = (i = periodIndex) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * 30 * DAY_MS).toISOString();
        const period = () => ({ key: periodKey('sub_1', periodStart()), start: periodStart() });
        let record: MembershipRecord | null = null;
        let eventNo = 0;
        const apply = (event: Omit<MembershipEvent, 'eventId' | 'created' | 'memberId'>) => {
          record = applyMembershipEvent(record, {
            ...event,
            eventId: `e${++eventNo}`,
            created: Math.floor(clock / 1000),
            memberId: 'm',
          } as MembershipEvent).record;
        };
        const openPeriod = () => {
          apply({ kind: 'subscription-changed', subscription: monthlySubscription(periodStart(), periodStart(periodIndex + 1)) } as never);
          apply({
            kind: 'invoice-paid',
            customerId: 'cus_1',
            subscriptionId: 'sub_1',
            invoiceId: `in_${periodIndex}`,
            billingReason: 'subscription_cycle',
            periodStart: periodStart(),
            amountPaidCents: 1499,
            totalCents: 1499,
            currency: 'usd',
          } as never);
        };
        openPeriod();

        // Plain facts about each code, kept apart from the grant as production stores it.
        const codes: Array<{
          stored: IssuedGrant;
          issuedAt: number;
          periodIndex: number;
          redeemedPeriodKey: string | null;
          lastReleased: string | null;
        }> = [];
        const holder = new Map<string, string>();
        const holds = new Map<string, { order: string; until: number }>();
        // Each order's coupon slot as storage keeps it (every code here is a coupon).
        const slots = new Map<string, OrderSlot>();
        const refunded = new Set<number>();
        const usages = new Map<string, { cents: number; periodKey: string; reversed: boolean }>();
        const log: Array<{ cents: number; period: string }> = [];
        let savings: StoredSavings = {
          memberId: 'm',
          periodKey: null,
          periodStart: null,
          periodSavedCents: 0,
          lifetimeSavedCents: 0,
          feesPaidCents: 0,
          currency: 'usd',
        };
        const asItStands = (c: (typeof codes)[number]) => effectiveGrants(record, [c.stored])[0]!;
        const expired = (c: (typeof codes)[number]) => clock >= c.issuedAt + definition.validDays * DAY_MS;
        const order = (n: number) => `o${n}`;
        const standing = (code: string) => {
          const h = holds.get(code);
          return h && clock < h.until ? h : undefined;
        };
        /** Another code in this order's coupon slot: redeemed, or held by a hold still standing. */
        const slotTaken = (o: string, code: string) => {
          const slot = slots.get(o);
          if (!slot || slot.code === code) return false;
          return slot.state === 'redeemed' || clock < Date.parse(slot.holdExpiresAt!);
        };
        const count = (c: (typeof codes)[number], o: string) => {
          holder.set(c.stored.code, o);
          holds.delete(c.stored.code);
          slots.set(o, { orderId: o, kind: 'coupon', code: c.stored.code, state: 'redeemed', holdExpiresAt: null });
          c.stored = { ...c.stored, state: 'redeemed', redeemedOrderId: o, redeemedAt: new Date(clock).toISOString(), hold: null };
          c.redeemedPeriodKey = period().key;
          savings = applySavings(savings, definition.amountOffCents, period());
          log.push({ cents: definition.amountOffCents, period: period().key });
        };
        const freeSlot = (o: string, code: string) => {
          if (slots.get(o)?.code === code) slots.delete(o);
        };
        /** What a hold or redeem must answer, before the write. */
        const claimExpectation = (c: (typeof codes)[number], o: string, subtotal: number, how: 'hold' | 'redeem') => {
          const redeemedBy = holder.get(c.stored.code);
          if (redeemedBy !== undefined) {
            if (redeemedBy !== o) return { kind: 'conflict', reason: 'redeemed_by_another_order' };
            return how === 'redeem' ? { kind: 'already-redeemed' } : { kind: 'conflict', reason: 'redeemed_by_this_order' };
          }
          if (refunded.has(c.periodIndex)) return { kind: 'reject', reason: 'void' };
          const h = standing(c.stored.code);
          if (h && h.order !== o) return { kind: 'conflict', reason: 'held_by_another_order' };
          if (h && how === 'hold') return { kind: 'already-held', expiresAt: new Date(h.until).toISOString() };
          if (expired(c)) return { kind: 'reject', reason: 'expired' };
          if (subtotal < definition.minSubtotalCents!) return { kind: 'reject', reason: 'below_min_subtotal' };
          if (slotTaken(o, c.stored.code)) return { kind: 'reject', reason: 'one_coupon_per_order' };
          if (how === 'redeem') return { kind: 'redeem' };
          const until = Math.min(clock + 15 * MINUTE_MS, c.issuedAt + definition.validDays * DAY_MS);
          return { kind: 'hold', expiresAt: new Date(until).toISOString() };
        };

        for (const cmd of commands) {
          const now = new Date(clock);
          switch (cmd.op) {
            case 'issue':
              for (const stored of buildGrants(definition, {
                memberId: 'm',
                periodKey: period().key,
                issuedAt: now.toISOString(),
                code: generateGrantCode,
              })) {
                codes.push({ stored, issuedAt: clock, periodIndex, redeemedPeriodKey: null, lastReleased: null });
              }
              break;
            case 'redeem': {
              const c = codes[cmd.grant];
              if (!c) break;
              const o = order(cmd.order);
              const decision = decideRedeem(
                asItStands(c),
                true,
                now,
                { subtotalCents: cmd.subtotal, currency: 'usd', orderId: o },
                slots.get(o) ?? null,
              );
              expect(decision).toEqual(claimExpectation(c, o, cmd.subtotal, 'redeem'));
              if (decision.kind === 'reject' && decision.reason === 'one_coupon_per_order') seen.oneCouponPerOrder++;
              if (decision.kind === 'conflict' && decision.reason === 'held_by_another_order') seen.heldByOther++;
              if (decision.kind === 'redeem') {
                seen.redeemed++;
                count(c, o);
              }
              break;
            }
            case 'hold': {
              const c = codes[cmd.grant];
              if (!c) break;
              const o = order(cmd.order);
              const decision = decideHold(
                asItStands(c),
                true,
                now,
                { subtotalCents: cmd.subtotal, currency: 'usd', orderId: o },
                slots.get(o) ?? null,
                HOLD_MS,
              );
              expect(decision).toEqual(claimExpectation(c, o, cmd.subtotal, 'hold'));
              if (decision.kind === 'reject' && decision.reason === 'one_coupon_per_order') seen.oneCouponPerOrder++;
              if (decision.kind !== 'hold') break;
              seen.held++;
              // A hold counts nothing: the savings move only at its commit.
              holds.set(c.stored.code, { order: o, until: Date.parse(decision.expiresAt) });
              slots.set(o, { orderId: o, kind: 'coupon', code: c.stored.code, state: 'held', holdExpiresAt: decision.expiresAt });
              c.stored = { ...c.stored, hold: { orderId: o, expiresAt: decision.expiresAt } };
              break;
            }
            case 'commit': {
              const c = codes[cmd.grant];
              if (!c) break;
              const o = order(cmd.order);
              const decision = decideCommit(asItStands(c), o, now, slots.get(o) ?? null);
              const h = standing(c.stored.code);
              const slot = slots.get(o);
              const expected =
                holder.get(c.stored.code) === o
                  ? { kind: 'already-redeemed' }
                  : h?.order === o
                    ? refunded.has(c.periodIndex)
                      ? { kind: 'reject', reason: 'void' }
                      : { kind: 'commit' }
                    : holds.get(c.stored.code)?.order === o || (slot?.code === c.stored.code && slot.state === 'held')
                      ? { kind: 'conflict', reason: 'hold_lapsed' }
                      : { kind: 'conflict', reason: 'not_held_by_this_order' };
              expect(decision).toEqual(expected);
              if (decision.kind === 'conflict' && decision.reason === 'hold_lapsed') seen.lapsedCommit++;
              if (decision.kind === 'commit') {
                seen.committed++;
                count(c, o);
              }
              break;
            }
            case 'wait':
              clock += cmd.minutes * MINUTE_MS;
              break;
            case 'release': {
              const c = codes[cmd.grant];
              if (!c) break;
              const o = order(cmd.order);
              const decision = decideRelease(c.stored, c.lastReleased, o, now);
              const redeemedBy = holder.get(c.stored.code);
              const hold = holds.get(c.stored.code);
              const expected =
                redeemedBy !== undefined
                  ? redeemedBy === o
                    ? 'release'
                    : 'conflict'
                  : hold?.order === o
                    ? clock < hold.until
                      ? 'release-hold'
                      : 'already-released'
                    : c.lastReleased === o
                      ? 'already-released'
                      : 'conflict';
              expect(decision.kind).toBe(expected);
              if (decision.kind === 'release-hold') {
                seen.holdReleased++;
                holds.delete(c.stored.code);
                freeSlot(o, c.stored.code);
                c.stored = { ...c.stored, hold: null };
                c.lastReleased = o;
              }
              if (decision.kind !== 'release') break;
              holder.delete(c.stored.code);
              freeSlot(o, c.stored.code);
              // The order is cancelled: its coupon saving and its reported shipping saving (once) come back off.
              const reversals: SavingReversal[] = [{ cents: definition.amountOffCents, periodKey: c.redeemedPeriodKey }];
              log.push({ cents: -definition.amountOffCents, period: c.redeemedPeriodKey! });
              const usage = usages.get(o);
              if (usage && !usage.reversed) {
                usage.reversed = true;
                reversals.push({ cents: usage.cents, periodKey: usage.periodKey });
                log.push({ cents: -usage.cents, period: usage.periodKey });
              }
              savings = applyReversal(savings, reversals);
              c.stored = { ...c.stored, state: 'open', redeemedOrderId: null, redeemedAt: null };
              c.lastReleased = o;
              c.redeemedPeriodKey = null;
              break;
            }
            case 'expire': {
              clock += cmd.days * DAY_MS;
              const at = new Date(clock);
              const listed = new Map(
                evaluateEntitlement(
                  entitledView,
                  plan,
                  effectiveGrants(
                    record,
                    codes.map((c) => c.stored),
                  ),
                  at,
                  { subtotalCents: 6000, currency: 'usd' },
                ).benefits.coupons.map((c) => [c.code, c.applicable]),
              );
              for (const c of codes) {
                if (holder.has(c.stored.code) || refunded.has(c.periodIndex)) {
                  expect(listed.has(c.stored.code)).toBe(false);
                  continue;
                }
                // An expired code is listed until TTL removes it, never applicable, never redeemable; a held one is listed, not applicable.
                expect(listed.get(c.stored.code)).toBe(!expired(c) && !standing(c.stored.code));
                if (expired(c))
                  expect(decideRedeem(asItStands(c), true, at, { subtotalCents: 6000, currency: 'usd', orderId: 'o-late' }, null)).toEqual({
                    kind: 'reject',
                    reason: 'expired',
                  });
              }
              break;
            }
            case 'refund':
              apply({
                kind: 'invoice-refunded',
                customerId: 'cus_1',
                invoiceId: `in_${periodIndex}`,
                creditNoteId: `cn_${eventNo}`,
                amountCents: 1499,
                currency: 'usd',
              } as never);
              refunded.add(periodIndex);
              // The period's unredeemed codes read void from now on; redeemed ones stay redeemed, other periods untouched.
              for (const c of codes) {
                const expectedState = holder.has(c.stored.code) ? 'redeemed' : refunded.has(c.periodIndex) ? 'void' : 'open';
                expect(asItStands(c).state).toBe(expectedState);
              }
              break;
            case 'usage':
              if (usages.has(order(cmd.order))) break;
              usages.set(order(cmd.order), { cents: cmd.cents, periodKey: period().key, reversed: false });
              savings = applySavings(savings, cmd.cents, period());
              log.push({ cents: cmd.cents, period: period().key });
              break;
            case 'new-period':
              periodIndex++;
              clock = Math.max(clock, Date.parse(periodStart()));
              openPeriod();
              break;
          }
          // No order ever has two coupons redeemed.
          const redeemedPerOrder = [...holder.values()];
          expect(new Set(redeemedPerOrder).size).toBe(redeemedPerOrder.length);
          const savedIn = (key: string) => log.filter((e) => e.period === key).reduce((sum, e) => sum + e.cents, 0);
          expect(savings.lifetimeSavedCents).toBe(log.reduce((sum, e) => sum + e.cents, 0));
          if (savings.periodKey !== null) expect(savings.periodSavedCents).toBe(savedIn(savings.periodKey));
          // What the member is shown: the current period's savings only, never a finished period's.
          const shown = savingsView(savings, 'm', currentSavingsPeriod(record), 'usd');
          expect(shown).toMatchObject({
            periodKey: period().key,
            periodSavedCents: savedIn(period().key),
            lifetimeSavedCents: savings.lifetimeSavedCents,
          });
        }
      }),
      {
        numRuns: 300,
        // Every path at least once, whatever the random runs find: hold, a second order refused, a second
        // coupon for one order refused, commit, release, a hold released, a commit after the lapse.
        examples: [
          [
            [
              { op: 'issue' },
              { op: 'issue' },
              { op: 'hold', grant: 0, order: 0, subtotal: 6000 },
              { op: 'hold', grant: 0, order: 1, subtotal: 6000 },
              { op: 'redeem', grant: 1, order: 0, subtotal: 6000 },
              { op: 'commit', grant: 0, order: 0 },
              { op: 'release', grant: 0, order: 0 },
              { op: 'hold', grant: 1, order: 1, subtotal: 6000 },
              { op: 'release', grant: 1, order: 1 },
              { op: 'hold', grant: 1, order: 1, subtotal: 6000 },
              { op: 'wait', minutes: 20 },
              { op: 'commit', grant: 1, order: 1 },
              { op: 'redeem', grant: 1, order: 0, subtotal: 6000 },
            ],
          ],
        ],
      },
    );
    // The runs went through the paths they claim to, not only refusals.
    for (const [path, n] of Object.entries(seen)) expect(n, path).toBeGreaterThan(0);
  });
});

describe('Stripe translation for benefits', () => {
  const parse = (e: object) => stripeEventSchema.parse(e);
  it('carries the invoice line period, price and amount paid into invoice-paid', () => {
    const invoice = invoiceObject({
      customer: 'cus_t',
      subscription: 'sub_t',
      memberId: 'm-t',
      amountPaid: 1499,
      periodStart: 1_767_225_600,
      periodEnd: 1_769_817_600,
    });
    const t = translateStripeEvent(parse(stripeEvent('invoice.paid', invoice, { created: 1_767_225_700 })), catalog);
    expect(t.kind).toBe('membership');
    const event = (t as Extract<typeof t, { kind: 'membership' }>).build('m-t');
    expect(event).toMatchObject({
      kind: 'invoice-paid',
      periodStart: '2026-01-01T00:00:00.000Z',
      periodEnd: '2026-01-31T00:00:00.000Z',
      amountPaidCents: 1499,
      totalCents: 1499,
      currency: 'usd',
      priceId: 'price_prime_monthly_usd',
    });
  });

  it("keeps the subscription's start_date, the same on every snapshot", () => {
    const sub = subscriptionObject({
      id: 'sub_t',
      customer: 'cus_t',
      memberId: 'm-t',
      periodStart: 1_769_817_600,
      startDate: 1_767_225_600,
    });
    const t = translateStripeEvent(parse(stripeEvent('customer.subscription.updated', sub, { created: 1_769_817_700 })), catalog);
    const event = (t as Extract<typeof t, { kind: 'membership' }>).build('m-t');
    expect(event).toMatchObject({
      kind: 'subscription-changed',
      subscription: { startDate: '2026-01-01T00:00:00.000Z', currentPeriodStart: '2026-01-31T00:00:00.000Z' },
    });
  });

  it('reads a refund credit note as invoice-refunded and ignores pre-payment notes', () => {
    const note = creditNoteObject({ invoice: 'in_t1', customer: 'cus_t', amount: 700 });
    const t = translateStripeEvent(parse(stripeEvent('credit_note.created', note, { created: 1 })), catalog);
    expect(t).toMatchObject({ kind: 'membership', claim: null, customerId: 'cus_t' });
    expect((t as Extract<typeof t, { kind: 'membership' }>).build('m-t')).toMatchObject({
      kind: 'invoice-refunded',
      invoiceId: 'in_t1',
      creditNoteId: note.id,
      amountCents: 700,
    });
    const pre = translateStripeEvent(parse(stripeEvent('credit_note.created', { ...note, type: 'pre_payment' }, { created: 1 })), catalog);
    expect(pre.kind).toBe('ignored');
  });
});
