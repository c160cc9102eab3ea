import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateGrantCode } from '#shared/codes';
import {
  applyReversal,
  applySavings,
  buildGrants,
  currentSavingsPeriod,
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
import { evaluateEntitlement } from '#shared/domain/entitlement';
import { CODE_ALPHABET, GRANT_CODE_BITS, GRANT_CODE_PATTERN } from '#shared/domain/grant-codes';
import type { IssuedGrant } from '#shared/domain/grants';
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
    expect(decideRedeem(coupon!, true, now, order, 'o1')).toEqual({ kind: 'redeem' });
    expect(decideRedeem(coupon!, false, now, order, 'o1')).toEqual({ kind: 'reject', reason: 'not_entitled' });
    expect(decideRedeem(coupon!, true, new Date('2026-01-31T00:00:00.000Z'), order, 'o1')).toEqual({ kind: 'reject', reason: 'expired' });
    expect(decideRedeem(coupon!, true, now, { ...order, currency: 'eur' }, 'o1')).toEqual({ kind: 'reject', reason: 'wrong_currency' });
    expect(decideRedeem(coupon!, true, now, { ...order, subtotalCents: 2499 }, 'o1')).toEqual({
      kind: 'reject',
      reason: 'below_min_subtotal',
    });
    const redeemed = { ...coupon!, state: 'redeemed' as const, redeemedOrderId: 'o1' };
    expect(decideRedeem(redeemed, true, now, order, 'o1')).toEqual({ kind: 'already-redeemed' });
    expect(decideRedeem(redeemed, true, now, order, 'o2')).toEqual({ kind: 'conflict', orderId: 'o1' });
    expect(decideRedeem(effectiveGrant(coupon!, new Set(['p1'])), true, now, order, 'o1')).toEqual({ kind: 'reject', reason: 'void' });
    expect(decideRelease(redeemed, null, 'o1')).toEqual({ kind: 'release' });
    expect(decideRelease(redeemed, null, 'o2')).toEqual({ kind: 'conflict' });
    expect(decideRelease(coupon!, 'o1', 'o1')).toEqual({ kind: 'already-released' });
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
 * Model-based property: random issue/redeem/release/expire/refund/usage/new-period sequences. The
 * membership record moves through the real `applyMembershipEvent` (so refunds go through issuance
 * tracking), decisions through `decideRedeem`/`decideRelease`/`evaluateEntitlement`, counters through
 * the storage mirrors `applySavings`/`applyReversal`. The model only keeps plain facts (who holds a
 * code, when it was issued, which periods were refunded, what was saved in which period) and checks
 * every production answer against them.
 */
describe('benefits model (property)', () => {
  const definition = plan.benefits.grants[1]!; // monthly-5: a coupon with a minimum subtotal
  if (definition.kind !== 'coupon') throw new Error('expected the monthly coupon');
  const DAY_MS = 86_400_000;
  const entitledView: MembershipView = {
    memberId: 'm',
    status: 'active',
    entitled: true,
    planId: plan.id,
    currentPeriodEnd: null,
    graceEndsAt: null,
    accessEndsAt: null,
  };

  it('never gives a code to two orders, never uses an expired or refunded code, and keeps both counters equal to the savings recorded', () => {
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
              const decision = decideRedeem(asItStands(c), true, now, { subtotalCents: cmd.subtotal, currency: 'usd' }, order(cmd.order));
              const held = holder.get(c.stored.code);
              const expected =
                held !== undefined
                  ? held === order(cmd.order)
                    ? { kind: 'already-redeemed' }
                    : { kind: 'conflict', orderId: held }
                  : refunded.has(c.periodIndex)
                    ? { kind: 'reject', reason: 'void' }
                    : expired(c)
                      ? { kind: 'reject', reason: 'expired' }
                      : cmd.subtotal < definition.minSubtotalCents!
                        ? { kind: 'reject', reason: 'below_min_subtotal' }
                        : { kind: 'redeem' };
              expect(decision).toEqual(expected);
              if (decision.kind !== 'redeem') break;
              holder.set(c.stored.code, order(cmd.order));
              c.stored = { ...c.stored, state: 'redeemed', redeemedOrderId: order(cmd.order), redeemedAt: now.toISOString() };
              c.redeemedPeriodKey = period().key;
              savings = applySavings(savings, definition.amountOffCents, period());
              log.push({ cents: definition.amountOffCents, period: period().key });
              break;
            }
            case 'release': {
              const c = codes[cmd.grant];
              if (!c) break;
              const decision = decideRelease(c.stored, c.lastReleased, order(cmd.order));
              const held = holder.get(c.stored.code);
              const expected =
                held === order(cmd.order)
                  ? 'release'
                  : held === undefined && c.lastReleased === order(cmd.order)
                    ? 'already-released'
                    : 'conflict';
              expect(decision.kind).toBe(expected);
              if (decision.kind !== 'release') break;
              holder.delete(c.stored.code);
              // The order is cancelled: its coupon saving and its reported shipping saving (once) come back off.
              const reversals: SavingReversal[] = [{ cents: definition.amountOffCents, periodKey: c.redeemedPeriodKey }];
              log.push({ cents: -definition.amountOffCents, period: c.redeemedPeriodKey! });
              const usage = usages.get(order(cmd.order));
              if (usage && !usage.reversed) {
                usage.reversed = true;
                reversals.push({ cents: usage.cents, periodKey: usage.periodKey });
                log.push({ cents: -usage.cents, period: usage.periodKey });
              }
              savings = applyReversal(savings, reversals);
              c.stored = { ...c.stored, state: 'open', redeemedOrderId: null, redeemedAt: null };
              c.lastReleased = order(cmd.order);
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
                // An expired code is listed until TTL removes it, never applicable, never redeemable.
                expect(listed.get(c.stored.code)).toBe(!expired(c));
                if (expired(c))
                  expect(decideRedeem(asItStands(c), true, at, { subtotalCents: 6000, currency: 'usd' }, 'o-late')).toEqual({
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
      { numRuns: 300 },
    );
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
