import { describe, expect, it } from 'vitest';
import { generateReference } from '#shared/codes';
import { type NotificationSender, OutboxSender, type OutgoingMessage } from '#shared/notifications/senders';
import { planCatalog } from '#shared/runtime/catalog';
import { workQueue } from '#shared/runtime/compliance';
import { dynamo, householdStore, membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { ReminderStore } from '#shared/storage/reminder-store';
import { checkEntitlement } from '#shared/usecases/check-entitlement';
import { inviteToHousehold, joinHousehold } from '#shared/usecases/household';
import { type ReminderJobDeps, sendDueReminders } from '#shared/usecases/send-reminders';
import { signupEvents, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';
import { uniqueMemberId, useApi } from '../support/api';
import { bearer } from '../support/shopper';

const api = useApi();
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const catalog = planCatalog();
const deps = { catalog, memberships: membershipRepository(), households: householdStore(), inviteCode: () => generateReference('HH') };

/** A member who bought the monthly plan `daysAgo` days ago (checkout, subscription, first invoice). */
async function subscribe(memberId: string, daysAgo = 1) {
  const signup = signupEvents({ memberId, start: nowSeconds() - daysAgo * DAY });
  for (const event of signup.events) expect((await api.postEvent(event)).status).toBe(200);
  return signup;
}

/** Stripe's news of the owner's subscription: the signup's subscription, cancelling at period end or not. */
function ownerSubscription(
  signup: { subscription: string; customer: string; periodEnd: number },
  ownerId: string,
  periodStart: number,
  cancelAtPeriodEnd: boolean,
) {
  return subscriptionObject({
    id: signup.subscription,
    customer: signup.customer,
    memberId: ownerId,
    periodStart,
    periodEnd: signup.periodEnd,
    cancelAtPeriodEnd,
  });
}

async function asShopper(memberId: string, method: string, path: string, body?: object) {
  return api.call(method, path, { key: null, headers: await bearer(memberId), ...(body ? { body } : {}) });
}
async function invite(ownerId: string, role: 'adult' | 'teen' | 'child') {
  return asShopper(ownerId, 'POST', '/v1/me/household/invites', { role });
}
async function inviteCode(ownerId: string, role: 'adult' | 'teen' | 'child'): Promise<string> {
  const res = await invite(ownerId, role);
  expect(res.status).toBe(200);
  return ((await res.json()) as { code: string }).code;
}
async function join(memberId: string, code: string) {
  return asShopper(memberId, 'POST', '/v1/me/household/join', { code });
}
async function joined(ownerId: string, memberId: string, role: 'adult' | 'teen' | 'child') {
  const res = await join(memberId, await inviteCode(ownerId, role));
  expect(res.status).toBe(200);
}
const reason = async (res: Response) => ((await res.json()) as { reason: string }).reason;

describe('household invites and caps', () => {
  it('lets the owner invite within each role’s cap (the owner is an adult); standing invites hold their seat', async () => {
    const owner = uniqueMemberId('hh-owner');
    await subscribe(owner);
    expect((await invite(owner, 'adult')).status).toBe(200);
    const full = await invite(owner, 'adult');
    expect(full.status).toBe(409);
    expect(await reason(full)).toBe('household_full');
    // Five teen invites at once for four seats: the household's revision lets exactly four through.
    const teens = await Promise.all([1, 2, 3, 4, 5].map(() => invite(owner, 'teen')));
    expect(teens.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 409]);
    const view = (await (await asShopper(owner, 'GET', '/v1/me/household')).json()) as {
      invites: Array<{ role: string }>;
      members: unknown[];
    };
    expect(view.invites.filter((i) => i.role === 'teen')).toHaveLength(4);
    expect(view.members).toEqual([expect.objectContaining({ memberId: owner, role: 'adult' })]);
  });

  it('refuses invites from a shopper without a running membership, and answers 404 for a household they lack', async () => {
    const stranger = uniqueMemberId('hh-stranger');
    const res = await invite(stranger, 'teen');
    expect(res.status).toBe(409);
    expect(await reason(res)).toBe('no_membership');
    const none = await asShopper(stranger, 'GET', '/v1/me/household');
    expect(none.status).toBe(404);
    expect(await reason(none)).toBe('no_household');
  });

  it('answers an expired invite 410, and an unknown or used one 404', async () => {
    const owner = uniqueMemberId('hh-owner');
    await subscribe(owner, 20);
    // Issued 15 days ago: the plan's invites are valid 14 days.
    const old = await inviteToHousehold(deps, owner, 'teen', new Date(Date.now() - 15 * DAY * 1000));
    const expired = await join(uniqueMemberId('hh-late'), old.code);
    expect(expired.status).toBe(410);
    expect(await reason(expired)).toBe('invite_expired');
    const unknown = await join(uniqueMemberId('hh-late'), 'HH-2222-3333-4444');
    expect(unknown.status).toBe(404);
    const code = await inviteCode(owner, 'teen');
    expect((await join(uniqueMemberId('hh-teen'), code.toLowerCase())).status).toBe(200);
    const used = await join(uniqueMemberId('hh-teen'), code);
    expect(used.status).toBe(404);
    expect(await reason(used)).toBe('unknown_invite');
  });
});

describe('joining and leaving', () => {
  it('refuses a shopper with their own paid membership: they would pay twice', async () => {
    const owner = uniqueMemberId('hh-owner');
    const payer = uniqueMemberId('hh-payer');
    await subscribe(owner);
    await subscribe(payer);
    const res = await join(payer, await inviteCode(owner, 'adult'));
    expect(res.status).toBe(409);
    expect(await reason(res)).toBe('own_membership');
    expect((await api.entitlement(payer)).via).toBeUndefined();
  });

  it('one household at a time, and a rejoin lock after leaving or removal', async () => {
    const [a, b, member] = [uniqueMemberId('hh-a'), uniqueMemberId('hh-b'), uniqueMemberId('hh-m')];
    await subscribe(a);
    await subscribe(b);
    await joined(a, member, 'adult');
    const second = await join(member, await inviteCode(b, 'adult'));
    expect(second.status).toBe(409);
    expect(await reason(second)).toBe('already_in_household');

    // The member leaves: the check stops answering from a's membership at once, and the lock starts.
    const left = await asShopper(member, 'DELETE', `/v1/me/household/members/${member}`);
    expect(left.status).toBe(200);
    const { rejoinLockedUntil } = (await left.json()) as { rejoinLockedUntil: string };
    expect(Date.parse(rejoinLockedUntil) - Date.now()).toBeGreaterThan(179 * DAY * 1000);
    expect(await api.entitlement(member)).toMatchObject({ entitled: false, status: 'none' });
    const locked = await join(member, await inviteCode(b, 'teen'));
    expect(locked.status).toBe(409);
    expect(await locked.json()).toMatchObject({ reason: 'rejoin_locked', lockedUntil: rejoinLockedUntil });

    // Removal by the owner locks too; a stranger may not remove anyone; the owner may not leave.
    const kid = uniqueMemberId('hh-kid');
    await joined(b, kid, 'child');
    expect((await asShopper(a, 'DELETE', `/v1/me/household/members/${kid}`)).status).toBe(404);
    const ownerLeaves = await asShopper(b, 'DELETE', `/v1/me/household/members/${b}`);
    expect(ownerLeaves.status).toBe(409);
    expect(await reason(ownerLeaves)).toBe('household_owner');
    expect((await asShopper(b, 'DELETE', `/v1/me/household/members/${kid}`)).status).toBe(200);
    const relock = await join(kid, await inviteCode(a, 'child'));
    expect(await reason(relock)).toBe('rejoin_locked');
  });
});

describe('a household member’s entitlement check', () => {
  it('answers from the owner’s membership with via and the role’s benefits, in step with the owner’s changes', async () => {
    const owner = uniqueMemberId('hh-owner');
    const [adult, child] = [uniqueMemberId('hh-adult'), uniqueMemberId('hh-child')];
    const signup = await subscribe(owner);
    await joined(owner, adult, 'adult');
    await joined(owner, child, 'child');
    const order = { subtotalCents: 4200, currency: 'usd', serviceLevel: 'two-day' };
    expect(await api.entitlement(adult, order)).toMatchObject({
      memberId: adult,
      entitled: true,
      status: 'active',
      planId: 'prime-monthly',
      currentPeriodEnd: new Date(signup.periodEnd * 1000).toISOString(),
      via: { ownerMemberId: owner, role: 'adult' },
      benefits: { freeShipping: { eligible: true } },
    });
    expect(await api.entitlement(child, order)).toMatchObject({
      entitled: true,
      via: { ownerMemberId: owner, role: 'child' },
      benefits: { freeShipping: { eligible: false, reason: 'household_role' } },
    });
    // The quote prices the order from the same read, with the role's benefits.
    const quote = async (memberId: string) => {
      const res = await api.call('POST', '/v1/orders/quote', {
        body: { memberId, currency: 'usd', subtotalCents: 4200, shippingOptions: [{ serviceLevel: 'two-day', priceCents: 899 }] },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { shippingOptions: Array<{ shippingWaived: boolean }> }).shippingOptions[0]!.shippingWaived;
    };
    expect([await quote(adult), await quote(child)]).toEqual([true, false]);
    const household = (await (await asShopper(child, 'GET', '/v1/me/household')).json()) as {
      members: Array<{ memberId: string }>;
      invites: unknown[];
    };
    expect(household.members.map((m) => m.memberId)).toEqual([owner, adult, child]);
    expect(household.invites).toEqual([]);

    // The owner cancels at period end: every member reads canceling with the owner's next event.
    const canceled = ownerSubscription(signup, owner, nowSeconds() - DAY, true);
    expect((await api.postEvent(stripeEvent('customer.subscription.updated', canceled, { created: nowSeconds() }))).status).toBe(200);
    for (const member of [adult, child]) expect(await api.entitlement(member)).toMatchObject({ status: 'canceling', entitled: true });

    // At the period end every member reads lapsed at the same instant as the owner, with no event.
    const end = new Date(signup.periodEnd * 1000);
    const before = new Date(end.getTime() - 1);
    for (const id of [owner, adult, child]) {
      expect(await checkEntitlement(deps, id, before)).toMatchObject({ entitled: true, status: 'canceling' });
      expect(await checkEntitlement(deps, id, end)).toMatchObject({ entitled: false, status: 'lapsed' });
    }

    // Stripe ends the subscription now: the members lapse with the owner.
    const ended = { ...canceled, status: 'canceled', ended_at: nowSeconds(), canceled_at: nowSeconds() };
    expect((await api.postEvent(stripeEvent('customer.subscription.deleted', ended, { created: nowSeconds() + 1 }))).status).toBe(200);
    for (const member of [adult, child])
      expect(await api.entitlement(member)).toMatchObject({ status: 'lapsed', entitled: false, via: { ownerMemberId: owner } });
    // Leaving a household whose membership has ended starts no rejoin lock.
    const left = await asShopper(child, 'DELETE', `/v1/me/household/members/${child}`);
    expect(await left.json()).toMatchObject({ memberId: child, rejoinLockedUntil: null });
  });
});

describe('copies in step under concurrency', () => {
  it('a join racing the owner’s change never leaves a stale copy: every member reads what the owner reads', async () => {
    const owner = uniqueMemberId('hh-owner');
    const signup = await subscribe(owner);
    const codes = await Promise.all([inviteCode(owner, 'teen'), inviteCode(owner, 'teen'), inviteCode(owner, 'child')]);
    const members = codes.map(() => uniqueMemberId('hh-racer'));
    const canceled = ownerSubscription(signup, owner, nowSeconds() - DAY, true);
    const [event, ...joins] = await Promise.all([
      api.postEvent(stripeEvent('customer.subscription.updated', canceled, { created: nowSeconds() })),
      ...members.map((m, i) => join(m, codes[i]!)),
    ]);
    expect([event!.status, ...joins.map((r) => r.status)]).toEqual([200, 200, 200, 200]);
    for (const m of members) expect(await api.entitlement(m)).toMatchObject({ status: 'canceling', via: { ownerMemberId: owner } });
  });
});

describe('the owner’s coupons and vouchers', () => {
  it('are one pool: redeemed by adults and teens, each code once across the household; not by children', async () => {
    const owner = uniqueMemberId('hh-owner');
    const [adult, teen, child] = [uniqueMemberId('hh-adult'), uniqueMemberId('hh-teen'), uniqueMemberId('hh-child')];
    await subscribe(owner);
    await joined(owner, adult, 'adult');
    await joined(owner, teen, 'teen');
    await joined(owner, child, 'child');
    const coupon = ((await api.entitlement(owner)).benefits.coupons as Array<{ code: string; minSubtotalCents: number }>).find(
      (c) => c.minSubtotalCents === 2500,
    )!;
    const redeem = (memberId: string, orderId: string) =>
      api.call('POST', `/v1/coupons/${coupon.code}/redeem`, { body: { memberId, orderId, subtotalCents: 6000, currency: 'usd' } });

    const byChild = await redeem(child, 'o-child');
    expect(byChild.status).toBe(422);
    expect(await reason(byChild)).toBe('household_role');
    const [first, second] = await Promise.all([redeem(adult, 'o-adult'), redeem(teen, 'o-teen')]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([200, 409]);
    // The same order again is the same answer; a stranger's redeem is refused as another member's code.
    const winner = first.status === 200 ? { id: adult, order: 'o-adult' } : { id: teen, order: 'o-teen' };
    expect((await redeem(winner.id, winner.order)).status).toBe(200);
    const stranger = uniqueMemberId('hh-stranger');
    await subscribe(stranger);
    expect(await reason(await redeem(stranger, 'o-stranger'))).toBe('not_member_code');

    // The shipping a teen's order saved is reported with the teen's id: it counts for the household too.
    const usage = await api.call('POST', '/v1/benefit-usage', {
      body: { memberId: teen, orderId: 'o-teen-ship', shippingSavedCents: 699, currency: 'usd' },
    });
    expect(await usage.json()).toMatchObject({ memberId: teen, shippingSavedCents: 699 });
    // Counted once, in the household's (the owner's) savings.
    const mine = (await (await asShopper(owner, 'GET', '/v1/me/membership')).json()) as { savings: { periodCents: number } };
    expect(mine.savings.periodCents).toBe(500 + 699);
    expect((await api.entitlement(owner)).benefits.coupons.map((c: { code: string }) => c.code)).not.toContain(coupon.code);
  });
});

describe('household notices', () => {
  // Far from the wall clock and from other files' reminders (finance owns 2031–2034, reminders 2037).
  const BASE = Date.parse('2039-05-01T00:00:00Z') / 1000;
  const at = (seconds: number) => new Date(seconds * 1000);

  it('tells every member, at their own address, when the owner’s membership will end; not once it renews again', async () => {
    const owner = uniqueMemberId('hh-owner');
    const [adult, teen] = [uniqueMemberId('hh-adult'), uniqueMemberId('hh-teen')];
    const signup = signupEvents({ memberId: owner, start: BASE });
    for (const event of signup.events) expect((await api.postEvent(event)).status).toBe(200);
    const joinAt = at(BASE + DAY);
    for (const [member, role] of [
      [adult, 'adult'],
      [teen, 'teen'],
    ] as const) {
      const { code } = await inviteToHousehold(deps, owner, role, joinAt);
      await joinHousehold(deps, member, { code, email: `${member}@example.com` }, joinAt);
    }

    const updated = (sub: object, created: number) => api.postEvent(stripeEvent('customer.subscription.updated', sub, { created }));
    expect((await updated(ownerSubscription(signup, owner, BASE, true), BASE + 2 * DAY)).status).toBe(200);
    const job = reminderJob();
    const sent = await job.run(signup.periodEnd - 2 * DAY);
    const mine = sent.filter((m) => m.kind === 'household_ending');
    expect(mine.map((m) => [m.memberId, m.to]).sort()).toEqual(
      [
        [adult, `${adult}@example.com`],
        [teen, `${teen}@example.com`],
      ].sort(),
    );
    expect(mine[0]!.subject).toContain('ends on');

    // A second owner cancellation and a resume before the notice is due: nothing is sent to anyone.
    const other = uniqueMemberId('hh-owner2');
    const member = uniqueMemberId('hh-m2');
    const second = signupEvents({ memberId: other, start: BASE + 100 * DAY });
    for (const event of second.events) expect((await api.postEvent(event)).status).toBe(200);
    const { code } = await inviteToHousehold(deps, other, 'adult', at(BASE + 101 * DAY));
    await joinHousehold(deps, member, { code, email: `${member}@example.com` }, at(BASE + 101 * DAY));
    expect((await updated(ownerSubscription(second, other, BASE + 100 * DAY, true), BASE + 102 * DAY)).status).toBe(200);
    expect((await updated(ownerSubscription(second, other, BASE + 100 * DAY, false), BASE + 103 * DAY)).status).toBe(200);
    const later = await job.run(second.periodEnd - 2 * DAY);
    expect(later.filter((m) => m.memberId === member)).toEqual([]);
  });
});

/** The reminders job over the shared test table, recording what it sends. */
function reminderJob() {
  const { doc, tables } = dynamo();
  const store = new ReminderStore(doc, tables.main);
  const sent: OutgoingMessage[] = [];
  const outbox = new OutboxSender(store);
  const sender: NotificationSender = {
    channel: 'outbox',
    needsAddress: false,
    async send(message) {
      sent.push(message);
      return outbox.send(message);
    },
  };
  const jobDeps: ReminderJobDeps = {
    catalog,
    rules: jurisdictionRules(),
    work: workQueue(),
    memberships: membershipRepository(),
    households: householdStore(),
    store,
    sender,
    portalUrl: 'https://shop.example/account',
    preferencesUrl: 'https://shop.example/account/email',
    recallCoupon: { amountOffCents: 1500, validDays: 30 },
  };
  return {
    async run(seconds: number) {
      const before = sent.length;
      const result = await sendDueReminders(jobDeps, new Date(seconds * 1000));
      expect(result.failed).toBe(0);
      return sent.slice(before);
    },
  };
}
