import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideInvite,
  decideJoin,
  decideLeave,
  entitlementSource,
  type Household,
  type HouseholdLink,
  memberEntitlement,
  ownerSnapshot,
  poolAccess,
  seatsTaken,
} from '#shared/domain/household';
import { emptyMembership, evaluateMembership, type MembershipRecord, type SubscriptionState } from '#shared/domain/membership';
import { monthlySubscription, projectCatalog } from '../support/domain';

const catalog = projectCatalog();
const monthly = catalog.plan('prime-monthly')!;
const NOW = new Date('2026-12-10T12:00:00.000Z');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

function ownerRecord(memberId: string, sub: Partial<SubscriptionState> = {}): MembershipRecord {
  const subscription = monthlySubscription('2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', sub);
  return {
    ...emptyMembership(memberId),
    customerId: 'cus_1',
    subscriptionId: subscription.subscriptionId,
    subscription,
    subscriptions: { [subscription.subscriptionId]: { state: subscription, version: '000001764547200#x#3#evt_1' } },
    email: 'owner@example.com',
  };
}

const ownerView = (record: MembershipRecord | null, at = NOW) => evaluateMembership(record, catalog, at);

const household = (overrides: Partial<Household> = {}): Household => ({
  ownerMemberId: 'owner',
  createdAt: iso(NOW.getTime() - 30 * DAY),
  members: [],
  invites: [],
  ...overrides,
});

const joiner = (overrides: Partial<Parameters<typeof decideJoin>[0]['joiner']> = {}) => ({
  ownView: ownerView(null),
  link: null,
  ownsHouseholdWithMembers: false,
  lockedUntil: null,
  ...overrides,
});

describe('household invites', () => {
  const invite = (hh: Household | null, role: 'adult' | 'teen' | 'child', at = NOW) =>
    decideInvite({
      ownerView: ownerView(ownerRecord('owner'), at),
      plan: monthly,
      ownerLink: null,
      household: hh,
      ownerMemberId: 'owner',
      role,
      code: `HH-${role}`,
      now: at,
    });

  it('counts the owner as an adult: one more adult, four teens, four children', () => {
    let hh: Household | null = null;
    for (const role of ['adult', 'teen', 'teen', 'teen', 'teen', 'child', 'child', 'child', 'child'] as const) {
      const d = invite(hh, role);
      expect(d.kind).toBe('invite');
      if (d.kind === 'invite') hh = { ...d.household, invites: d.household.invites.map((i, n) => ({ ...i, code: `C${n}` })) };
    }
    for (const role of ['adult', 'teen', 'child'] as const) expect(invite(hh, role)).toEqual({ kind: 'refuse', reason: 'household_full' });
    expect(seatsTaken(hh!, 'adult', NOW)).toBe(2);
  });

  it('frees an expired invite’s seat, and the invite expires after inviteValidDays', () => {
    const first = invite(null, 'adult');
    if (first.kind !== 'invite') throw new Error('refused');
    expect(first.invite.expiresAt).toBe(iso(NOW.getTime() + 14 * DAY));
    expect(invite(first.household, 'adult')).toEqual({ kind: 'refuse', reason: 'household_full' });
    const later = new Date(NOW.getTime() + 14 * DAY);
    expect(invite(first.household, 'adult', later).kind).toBe('invite');
  });

  it('refuses an owner who is not entitled, on a plan without households, or in another household', () => {
    const lapsed = ownerRecord('owner', { stripeStatus: 'canceled' });
    const base = { plan: monthly, household: null, ownerMemberId: 'owner', role: 'teen' as const, code: 'HH-1', now: NOW };
    expect(decideInvite({ ...base, ownerView: ownerView(lapsed), ownerLink: null })).toEqual({ kind: 'refuse', reason: 'no_membership' });
    const { household: _, ...noHousehold } = monthly;
    expect(decideInvite({ ...base, plan: noHousehold, ownerView: ownerView(ownerRecord('owner')), ownerLink: null })).toEqual({
      kind: 'refuse',
      reason: 'no_household_plan',
    });
    const link: HouseholdLink = { ownerMemberId: 'other', role: 'adult', joinedAt: NOW.toISOString(), owner: ownerRecord('other') };
    expect(decideInvite({ ...base, ownerView: ownerView(ownerRecord('owner')), ownerLink: link })).toEqual({
      kind: 'refuse',
      reason: 'in_another_household',
    });
  });
});

describe('joining a household', () => {
  const hh = household({ invites: [{ code: 'HH-A', role: 'teen', createdAt: NOW.toISOString(), expiresAt: iso(NOW.getTime() + DAY) }] });
  const join = (overrides: Partial<Parameters<typeof decideJoin>[0]> = {}) =>
    decideJoin({
      memberId: 'kid',
      code: 'HH-A',
      household: hh,
      ownerRecord: ownerRecord('owner'),
      catalog,
      joiner: joiner(),
      now: NOW,
      ...overrides,
    });

  it('takes the invite’s role and seat, and copies the owner’s membership without personal data', () => {
    const d = join();
    if (d.kind !== 'join') throw new Error(d.reason);
    expect(d.member).toEqual({ memberId: 'kid', role: 'teen', joinedAt: NOW.toISOString() });
    expect(d.household.invites).toEqual([]);
    expect(d.link.owner.email).toBeUndefined();
    expect(d.link.owner.customerId).toBeNull();
  });

  it('refuses what the contract refuses', () => {
    expect(join({ code: 'HH-NOPE' })).toEqual({ kind: 'refuse', reason: 'unknown_invite' });
    expect(join({ now: new Date(NOW.getTime() + DAY) })).toEqual({ kind: 'refuse', reason: 'invite_expired' });
    const link: HouseholdLink = { ownerMemberId: 'x', role: 'adult', joinedAt: NOW.toISOString(), owner: ownerRecord('x') };
    expect(join({ joiner: joiner({ link }) })).toEqual({ kind: 'refuse', reason: 'already_in_household' });
    expect(join({ memberId: 'owner' })).toEqual({ kind: 'refuse', reason: 'already_in_household' });
    const lockedUntil = iso(NOW.getTime() + 3 * DAY);
    expect(join({ joiner: joiner({ lockedUntil }) })).toEqual({ kind: 'refuse', reason: 'rejoin_locked', lockedUntil });
    expect(join({ joiner: joiner({ lockedUntil: iso(NOW.getTime() - 1) }) }).kind).toBe('join');
    expect(join({ joiner: joiner({ ownView: ownerView(ownerRecord('kid')) }) })).toEqual({ kind: 'refuse', reason: 'own_membership' });
    expect(join({ ownerRecord: ownerRecord('owner', { stripeStatus: 'canceled' }) })).toEqual({
      kind: 'refuse',
      reason: 'household_inactive',
    });
  });
});

describe('leaving a household', () => {
  const hh = household({ members: [{ memberId: 'kid', role: 'child', joinedAt: NOW.toISOString() }] });
  const leave = (actor: string, target: string, current: string | null = null) =>
    decideLeave({
      actorMemberId: actor,
      targetMemberId: target,
      household: hh,
      ownerPlan: monthly,
      ownerEntitled: true,
      catalog,
      currentLockedUntil: current,
      now: NOW,
    });

  it('lets the owner remove and the member leave, and starts the rejoin lock', () => {
    for (const actor of ['owner', 'kid']) {
      const d = leave(actor, 'kid');
      expect(d).toMatchObject({ kind: 'leave', lockedUntil: iso(NOW.getTime() + 180 * DAY) });
      if (d.kind === 'leave') expect(d.household.members).toEqual([]);
    }
    const longer = iso(NOW.getTime() + 400 * DAY);
    expect(leave('kid', 'kid', longer)).toMatchObject({ lockedUntil: longer });
  });

  it('starts no lock when the owner’s membership has ended: nothing was left to share', () => {
    const base = {
      actorMemberId: 'kid',
      targetMemberId: 'kid',
      household: hh,
      ownerPlan: monthly,
      ownerEntitled: false,
      catalog,
      now: NOW,
    };
    expect(decideLeave({ ...base, currentLockedUntil: null })).toMatchObject({ kind: 'leave', lockedUntil: null });
    const running = iso(NOW.getTime() + DAY);
    expect(decideLeave({ ...base, currentLockedUntil: running })).toMatchObject({ lockedUntil: running });
  });

  it('refuses strangers, the owner leaving, and members of no household', () => {
    expect(leave('stranger', 'kid')).toEqual({ kind: 'refuse', reason: 'forbidden' });
    expect(leave('owner', 'owner')).toEqual({ kind: 'refuse', reason: 'household_owner' });
    expect(leave('owner', 'nobody')).toEqual({ kind: 'refuse', reason: 'not_in_household' });
  });
});

describe('a household member’s check', () => {
  const link = (role: 'adult' | 'teen' | 'child', owner = ownerRecord('owner')): HouseholdLink => ({
    ownerMemberId: 'owner',
    role,
    joinedAt: NOW.toISOString(),
    owner: ownerSnapshot(owner),
  });
  const check = (role: 'adult' | 'teen' | 'child', at = NOW, record: MembershipRecord | null = null, owner = ownerRecord('owner')) =>
    memberEntitlement(entitlementSource({ record, grants: [], household: link(role, owner) }, 'kid', catalog, at), at, {
      subtotalCents: 4200,
      currency: 'usd',
      serviceLevel: 'two-day',
    });

  it('answers from the owner’s membership with via, and the role’s benefits', () => {
    expect(check('adult')).toMatchObject({
      memberId: 'kid',
      entitled: true,
      status: 'active',
      via: { ownerMemberId: 'owner', role: 'adult' },
    });
    expect(check('adult').benefits.freeShipping.eligible).toBe(true);
    expect(check('child')).toMatchObject({ entitled: true, benefits: { freeShipping: { eligible: false, reason: 'household_role' } } });
    expect(poolAccess(link('child'), catalog, NOW)).toBe('role_excluded');
    expect(poolAccess(link('teen'), catalog, NOW)).toBe('allowed');
  });

  it('answers from the member’s own membership while that is entitled', () => {
    const own = check('child', NOW, ownerRecord('kid'));
    expect(own.via).toBeUndefined();
    expect(own.entitled).toBe(true);
  });

  it('reads lapsed at the instant the owner does', () => {
    const canceling = ownerRecord('owner', { cancelAtPeriodEnd: true });
    const end = Date.parse('2027-01-01T00:00:00.000Z');
    expect(check('adult', new Date(end - 1), null, canceling)).toMatchObject({ entitled: true, status: 'canceling' });
    expect(check('adult', new Date(end), null, canceling)).toMatchObject({ entitled: false, status: 'lapsed' });
  });

  const STATUSES = ['trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'paused'] as const;
  const t0 = Date.parse('2026-11-01T00:00:00.000Z');
  const at = (days: number) => iso(t0 + days * DAY);
  const record = fc
    .record({
      status: fc.constantFrom(...STATUSES),
      plan: fc.constantFrom('prime-monthly', 'prime-annual'),
      start: fc.integer({ min: 0, max: 60 }),
      length: fc.integer({ min: 1, max: 400 }),
      cancel: fc.constantFrom('none', 'periodEnd', 'at'),
      cancelAt: fc.integer({ min: 0, max: 400 }),
      trialEnd: fc.option(fc.integer({ min: 0, max: 90 }), { nil: null }),
      payment: fc.option(
        fc.record({
          outcome: fc.constantFrom('paid', 'failed'),
          at: fc.integer({ min: 0, max: 400 }),
          periodEnd: fc.integer({ min: 0, max: 500 }),
          create: fc.boolean(),
        }),
        { nil: null },
      ),
      older: fc.boolean(),
    })
    .map((g): MembershipRecord => {
      const planId = g.plan;
      const sub = monthlySubscription(at(g.start), at(g.start + g.length), {
        stripeStatus: g.status,
        planId,
        priceId: planId === 'prime-monthly' ? 'price_prime_monthly_usd' : 'price_prime_annual_usd',
        cancelAtPeriodEnd: g.cancel === 'periodEnd',
        cancelAt: g.cancel === 'at' ? at(g.cancelAt) : null,
        trialEnd: g.trialEnd === null ? null : at(g.trialEnd),
      });
      const subscriptions: MembershipRecord['subscriptions'] = {
        [sub.subscriptionId]: { state: sub, version: `${String(Math.floor((t0 + g.start * DAY) / 1000)).padStart(12, '0')}#x#3#evt` },
      };
      if (g.older) {
        const old = { ...sub, subscriptionId: 'sub_0', stripeStatus: 'canceled' };
        subscriptions.sub_0 = { state: old, version: '000000000001#x#8#evt0' };
      }
      return {
        ...emptyMembership('owner'),
        subscription: sub,
        subscriptionId: sub.subscriptionId,
        subscriptions,
        payment: g.payment && {
          invoiceId: 'in_1',
          subscriptionId: sub.subscriptionId,
          outcome: g.payment.outcome,
          billingReason: g.payment.create ? 'subscription_create' : 'subscription_cycle',
          at: at(g.payment.at),
          periodEnd: at(g.payment.periodEnd),
        },
        email: 'owner@example.com',
      };
    });

  it('is the owner’s view at every instant (property)', () => {
    fc.assert(
      fc.property(record, fc.integer({ min: -10, max: 600 }), (owner, day) => {
        const now = new Date(t0 + day * DAY);
        const ownerAnswer = evaluateMembership(owner, catalog, now);
        const memberAnswer = memberEntitlement(
          entitlementSource({ record: null, grants: [], household: link('adult', owner) }, 'kid', catalog, now),
          now,
        );
        expect(evaluateMembership(ownerSnapshot(owner), catalog, now)).toEqual(ownerAnswer);
        expect(memberAnswer).toMatchObject({
          memberId: 'kid',
          entitled: ownerAnswer.entitled,
          status: ownerAnswer.status,
          planId: ownerAnswer.planId,
          currentPeriodEnd: ownerAnswer.currentPeriodEnd,
          graceEndsAt: ownerAnswer.graceEndsAt,
        });
      }),
      { numRuns: 500 },
    );
  });
});
