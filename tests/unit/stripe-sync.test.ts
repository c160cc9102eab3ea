import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindingFor, needsMemberCustomers } from '#shared/domain/binding';
import { compareSubscription, fetchedSnapshotCreated, sweepToRun } from '#shared/domain/drift';
import {
  advanceCursor,
  compareEvents,
  EVENT_RETENTION_SECONDS,
  type EventCursor,
  isAfterCursor,
  nextWindowSeconds,
  type ReplayedEvent,
  startingCursor,
} from '#shared/domain/event-replay';
import {
  applyMembershipEvent,
  evaluateMembership,
  type MembershipEvent,
  type MembershipRecord,
  type SubscriptionState,
} from '#shared/domain/membership';
import { monthlySubscription, projectCatalog } from '../support/domain';

const DAY = 86_400;
const T0 = Date.parse('2026-11-01T00:00:00Z') / 1000;
const iso = (s: number) => new Date(s * 1000).toISOString();

describe('binding rules: which member a Stripe object belongs to', () => {
  const ours = { memberId: 'alice', source: 'metadata' as const };
  const typed = { memberId: 'alice', source: 'client_reference_id' as const };

  it('binds through a stored customer link, or our own metadata for a member without a customer', () => {
    expect(bindingFor({ claim: null, customerId: 'cus_a', linkedMemberId: 'alice', memberCustomerIds: [] })).toEqual({
      kind: 'member',
      memberId: 'alice',
      newLink: false,
    });
    expect(bindingFor({ claim: ours, customerId: 'cus_a', linkedMemberId: 'alice', memberCustomerIds: [] })).toMatchObject({
      kind: 'member',
      memberId: 'alice',
    });
    expect(bindingFor({ claim: ours, customerId: 'cus_new', linkedMemberId: null, memberCustomerIds: [] })).toEqual({
      kind: 'member',
      memberId: 'alice',
      newLink: true,
    });
    expect(bindingFor({ claim: null, customerId: 'cus_x', linkedMemberId: null, memberCustomerIds: [] })).toEqual({ kind: 'unattributed' });
    // An invoice may name no customer: our metadata then binds without linking anything.
    expect(bindingFor({ claim: ours, customerId: null, linkedMemberId: null, memberCustomerIds: ['cus_a'] })).toEqual({
      kind: 'member',
      memberId: 'alice',
      newLink: false,
    });
  });

  it('never binds on client_reference_id alone (a Payment Link buyer sets it), nor across a stored link or another customer', () => {
    expect(bindingFor({ claim: typed, customerId: 'cus_eve', linkedMemberId: null, memberCustomerIds: [] })).toMatchObject({
      kind: 'refused',
      claimedMemberId: 'alice',
      reason: 'claim_without_our_metadata',
    });
    expect(bindingFor({ claim: ours, customerId: 'cus_bob', linkedMemberId: 'bob', memberCustomerIds: [] })).toMatchObject({
      kind: 'refused',
      reason: 'customer_of_another_member',
      linkedMemberId: 'bob',
    });
    expect(bindingFor({ claim: ours, customerId: 'cus_eve', linkedMemberId: null, memberCustomerIds: ['cus_a'] })).toMatchObject({
      kind: 'refused',
      reason: 'member_has_another_customer',
    });
    // The buyer's claim on the member's own linked customer is just that member's checkout.
    expect(bindingFor({ claim: typed, customerId: 'cus_a', linkedMemberId: 'alice', memberCustomerIds: [] })).toMatchObject({
      kind: 'member',
    });
  });

  it('asks for the member’s stored customers only when our metadata would make a new link', () => {
    expect(needsMemberCustomers({ claim: ours, customerId: 'cus_new', linkedMemberId: null })).toBe(true);
    expect(needsMemberCustomers({ claim: ours, customerId: 'cus_a', linkedMemberId: 'alice' })).toBe(false);
    expect(needsMemberCustomers({ claim: typed, customerId: 'cus_new', linkedMemberId: null })).toBe(false);
    expect(needsMemberCustomers({ claim: null, customerId: 'cus_new', linkedMemberId: null })).toBe(false);
    expect(needsMemberCustomers({ claim: ours, customerId: null, linkedMemberId: null })).toBe(false);
  });

  it('only ever binds a member a stored link or our own metadata names (property)', () => {
    const id = fc.constantFrom('alice', 'bob', 'carol');
    fc.assert(
      fc.property(
        fc.option(fc.record({ memberId: id, source: fc.constantFrom('metadata' as const, 'client_reference_id' as const) }), { nil: null }),
        fc.option(fc.constantFrom('cus_1', 'cus_2'), { nil: null }),
        fc.option(id, { nil: null }),
        fc.array(fc.constantFrom('cus_1', 'cus_2', 'cus_3'), { maxLength: 2 }),
        (claim, customerId, linked, memberCustomerIds) => {
          const linkedMemberId = customerId ? linked : null;
          const binding = bindingFor({ claim, customerId, linkedMemberId, memberCustomerIds });
          if (binding.kind !== 'member') return;
          const byLink = linkedMemberId !== null && binding.memberId === linkedMemberId;
          const byMetadata =
            claim?.source === 'metadata' &&
            binding.memberId === claim.memberId &&
            linkedMemberId === null &&
            (customerId === null || memberCustomerIds.every((c) => c === customerId));
          expect(byLink || byMetadata).toBe(true);
        },
      ),
    );
  });
});

describe('replay cursor', () => {
  const ev = (created: number, id: string): ReplayedEvent => ({ id, created });
  const cursor = (created: number, after: string | null = null): EventCursor => ({ created, after, windowSeconds: 3600 });

  it('starts 30 days back, and says how much was lost when the stored cursor is older than Stripe keeps', () => {
    const now = T0 + 100 * DAY;
    expect(startingCursor(null, now)).toEqual({ cursor: cursor(now - EVENT_RETENTION_SECONDS), gapSeconds: 0 });
    expect(startingCursor(cursor(now - 3600, 'evt_b'), now)).toEqual({ cursor: cursor(now - 3600, 'evt_b'), gapSeconds: 0 });
    expect(startingCursor(cursor(now - EVENT_RETENTION_SECONDS - 50, 'evt_b'), now)).toEqual({
      cursor: cursor(now - EVENT_RETENTION_SECONDS),
      gapSeconds: 50,
    });
  });

  it('orders events by time then id, and tells events of the cursor’s own second apart by id', () => {
    expect([ev(2, 'evt_a'), ev(1, 'evt_z'), ev(1, 'evt_b')].sort(compareEvents)).toEqual([ev(1, 'evt_b'), ev(1, 'evt_z'), ev(2, 'evt_a')]);
    expect(isAfterCursor(ev(10, 'evt_a'), cursor(10))).toBe(true);
    expect(isAfterCursor(ev(10, 'evt_a'), cursor(10, 'evt_a'))).toBe(false);
    expect(isAfterCursor(ev(10, 'evt_b'), cursor(10, 'evt_a'))).toBe(true);
    expect(isAfterCursor(ev(9, 'evt_z'), cursor(10))).toBe(false);
  });

  it('moves past a window only when all of it was applied, else to the end of the applied prefix', () => {
    const events = [ev(10, 'evt_a'), ev(10, 'evt_b'), ev(11, 'evt_c')];
    expect(advanceCursor(cursor(5), events, new Set(['evt_a', 'evt_b', 'evt_c']), 20)).toEqual(cursor(20));
    expect(advanceCursor(cursor(5), events, new Set(['evt_a', 'evt_c']), 20)).toEqual(cursor(10, 'evt_a'));
    expect(advanceCursor(cursor(5), events, new Set(['evt_b', 'evt_c']), 20)).toEqual(cursor(5));
    expect(advanceCursor(cursor(5), [], new Set(), 20)).toEqual(cursor(20));
  });

  it('never skips an event that was not applied, and never goes backwards (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ created: fc.integer({ min: 100, max: 110 }), id: fc.stringMatching(/^evt_[a-f]{1,3}$/) }), {
          selector: (e) => e.id,
          maxLength: 30,
        }),
        fc.func(fc.boolean()),
        (raw, appliedFn) => {
          const start = cursor(100);
          const events = raw.filter((e) => isAfterCursor(e, start)).sort(compareEvents);
          const applied = new Set(events.filter((e) => appliedFn(e.id)).map((e) => e.id));
          const next = advanceCursor(start, events, applied, 111);
          for (const e of events) if (!applied.has(e.id)) expect(isAfterCursor(e, next)).toBe(true);
          expect(next.created >= start.created).toBe(true);
        },
      ),
    );
  });

  it('narrows a window that overflowed and widens sparse ones', () => {
    expect(nextWindowSeconds(3600, 5000, true)).toBe(1800);
    expect(nextWindowSeconds(1, 5000, true)).toBe(1);
    expect(nextWindowSeconds(3600, 10, false)).toBe(7200);
    expect(nextWindowSeconds(3600, 1000, false)).toBe(3600);
    expect(nextWindowSeconds(EVENT_RETENTION_SECONDS, 0, false)).toBe(EVENT_RETENTION_SECONDS);
  });
});

describe('drift comparison', () => {
  const catalog = projectCatalog();
  const base = (overrides = {}) => monthlySubscription(iso(T0), iso(T0 + 30 * DAY), { startDate: iso(T0), ...overrides });
  const recordWith = (events: MembershipEvent[]) =>
    events.reduce<MembershipRecord | null>((r, e) => applyMembershipEvent(r, e).record, null)!;
  const fetchedEvent = (created: number, subscription: SubscriptionState, id: string): MembershipEvent => ({
    kind: 'subscription-changed',
    eventId: id,
    created,
    memberId: 'm1',
    subscription,
  });
  const subEvent = (created: number, overrides = {}, id = `evt_${created}`) => fetchedEvent(created, base(overrides), id);

  it('dates a fetched snapshot by its latest own transition, or an hour before the fetch', () => {
    const fetchedAt = T0 + 10 * DAY;
    expect(fetchedSnapshotCreated(base(), fetchedAt)).toBe(fetchedAt - 3600);
    const justCanceled = base({ stripeStatus: 'canceled', canceledAt: iso(fetchedAt - 60), endedAt: iso(fetchedAt - 60) });
    expect(fetchedSnapshotCreated(justCanceled, fetchedAt)).toBe(fetchedAt - 60);
  });

  it('repairs a subscription canceled in Stripe whose events never came, and the member then reads lapsed', () => {
    const record = recordWith([subEvent(T0)]);
    const fetchedAt = T0 + 40 * DAY;
    const fetched = base({ stripeStatus: 'canceled', canceledAt: iso(T0 + 20 * DAY), endedAt: iso(T0 + 20 * DAY) });
    const created = fetchedSnapshotCreated(fetched, fetchedAt);
    const comparison = compareSubscription(record, fetched, { created, eventId: 'evt_sync_1' });
    expect(comparison).toEqual({ kind: 'repair', finding: 'subscription_state', differences: ['status'] });
    const repaired = applyMembershipEvent(record, fetchedEvent(created, fetched, 'evt_sync_1')).record;
    expect(evaluateMembership(repaired, catalog, new Date(fetchedAt * 1000)).status).toBe('lapsed');
  });

  it('never rolls back a stored snapshot newer than the fetched one', () => {
    const fetchedAt = T0 + 10 * DAY;
    // The member cancelled a minute ago; the page listed the subscription just before.
    const record = recordWith([subEvent(T0), subEvent(fetchedAt - 60, { cancelAtPeriodEnd: true, cancelAt: iso(T0 + 30 * DAY) })]);
    const fetched = base();
    const created = fetchedSnapshotCreated(fetched, fetchedAt);
    expect(compareSubscription(record, fetched, { created, eventId: 'evt_sync_2' })).toMatchObject({ kind: 'stored_newer' });
    expect(applyMembershipEvent(record, fetchedEvent(created, fetched, 'evt_sync_2')).changed).toBe(false);
  });

  it('leaves a difference for review when the member has another live subscription', () => {
    const record = recordWith([subEvent(T0)]);
    const other = base({ subscriptionId: 'sub_2' });
    expect(compareSubscription(record, other, { created: T0 + DAY, eventId: 'evt_sync_3' })).toMatchObject({
      kind: 'review',
      finding: 'multiple_live_subscriptions',
      otherSubscriptionId: 'sub_1',
    });
    expect(compareSubscription(record, base(), { created: T0 + DAY, eventId: 'evt_sync_4' })).toEqual({ kind: 'in_step' });
    expect(compareSubscription(record, base(), { created: T0 + DAY, eventId: 'evt_sync_4' }, true)).toMatchObject({
      kind: 'repair',
      differences: ['customerLink'],
    });
  });

  it('starts a sweep a day after the last, continues one in progress, and starts one on request', () => {
    const now = new Date((T0 + DAY) * 1000);
    const fresh = sweepToRun(null, now, 'due')!;
    expect(fresh).toMatchObject({ sweepId: now.toISOString(), phase: 'subscriptions', priceIndex: 0 });
    const inProgress = { ...fresh, phase: 'invoices' as const };
    expect(sweepToRun(inProgress, new Date(now.getTime() + 60_000), 'due')).toBe(inProgress);
    const done = { ...fresh, phase: 'done' as const, completedAt: now.toISOString() };
    expect(sweepToRun(done, new Date(now.getTime() + 3600_000), 'due')).toBeNull();
    expect(sweepToRun(done, new Date(now.getTime() + 3600_000), 'now')).toMatchObject({ phase: 'subscriptions' });
    expect(sweepToRun(done, new Date(now.getTime() + DAY * 1000), 'due')).toMatchObject({ phase: 'subscriptions' });
    expect(sweepToRun(null, now, 'skip')).toBeNull();
  });
});

describe('which subscription decides', () => {
  const catalog = projectCatalog();
  it('a newer incomplete subscription does not hide an older paid one', () => {
    const paid = monthlySubscription(iso(T0), iso(T0 + 30 * DAY));
    const pending = monthlySubscription(iso(T0 + DAY), iso(T0 + 31 * DAY), { subscriptionId: 'sub_2', stripeStatus: 'incomplete' });
    const events: MembershipEvent[] = [
      { kind: 'subscription-changed', eventId: 'evt_1', created: T0, memberId: 'm1', subscription: paid },
      { kind: 'subscription-changed', eventId: 'evt_2', created: T0 + DAY, memberId: 'm1', subscription: pending },
    ];
    for (const order of [events, [...events].reverse()]) {
      const record = order.reduce<MembershipRecord | null>((r, e) => applyMembershipEvent(r, e).record, null);
      expect(record!.subscriptionId).toBe('sub_1');
      expect(evaluateMembership(record, catalog, new Date((T0 + 2 * DAY) * 1000))).toMatchObject({ status: 'active', entitled: true });
    }
    // Alone, or beside an ended one, it still reads pending.
    const alone = applyMembershipEvent(null, events[1]!).record;
    expect(evaluateMembership(alone, catalog, new Date((T0 + 2 * DAY) * 1000)).status).toBe('pending');
  });
});
