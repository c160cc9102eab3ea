import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyMembershipEvent,
  evaluateMembership,
  type MembershipEvent,
  type MembershipRecord,
  type SubscriptionState,
} from '#shared/domain/membership';
import { monthlySubscription, projectCatalog } from '../support/domain';

const catalog = projectCatalog();
const DAY = 86_400;
const T0 = Date.parse('2026-11-01T00:00:00Z') / 1000;
const at = (seconds: number) => new Date(seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();

const sub = (overrides: Partial<SubscriptionState> = {}) => monthlySubscription(iso(T0), iso(T0 + 30 * DAY), overrides);

let seq = 0;
const subEvent = (created: number, overrides: Partial<SubscriptionState> = {}): MembershipEvent => ({
  kind: 'subscription-changed',
  eventId: `evt_${++seq}`,
  created,
  memberId: 'm1',
  subscription: sub(overrides),
});
const invoiceEvent = (
  kind: 'invoice-paid' | 'invoice-payment-failed',
  created: number,
  billingReason = 'subscription_cycle',
  periodEnd?: number,
): MembershipEvent => ({
  kind,
  eventId: `evt_${++seq}`,
  created,
  memberId: 'm1',
  customerId: 'cus_1',
  subscriptionId: 'sub_1',
  invoiceId: `in_${created}`,
  billingReason,
  ...(periodEnd === undefined ? {} : { periodEnd: iso(periodEnd) }),
});

const applyAll = (events: MembershipEvent[]) =>
  events.reduce<MembershipRecord | null>((record, event) => applyMembershipEvent(record, event).record, null);
const statusAt = (events: MembershipEvent[], now: number) => evaluateMembership(applyAll(events), catalog, at(now));

describe('membership status', () => {
  it('is none for an unknown member and pending after checkout before the subscription arrives', () => {
    expect(evaluateMembership(null, catalog, at(T0)).status).toBe('none');
    const checkout: MembershipEvent = {
      kind: 'checkout-completed',
      eventId: 'evt_c',
      created: T0,
      memberId: 'm1',
      customerId: 'cus_1',
      subscriptionId: 'sub_1',
      checkoutSessionId: 'cs_1',
    };
    expect(statusAt([checkout], T0).status).toBe('pending');
    expect(statusAt([subEvent(T0, { stripeStatus: 'incomplete' })], T0).status).toBe('pending');
  });

  it('is trialing during a trial, then active once paid', () => {
    const trial = subEvent(T0, {
      stripeStatus: 'trialing',
      trialStart: iso(T0),
      trialEnd: iso(T0 + 30 * DAY),
      currentPeriodEnd: iso(T0 + 30 * DAY),
    });
    expect(statusAt([trial], T0 + DAY)).toMatchObject({ status: 'trialing', entitled: true });
    const converted = subEvent(T0 + 30 * DAY, {
      currentPeriodStart: iso(T0 + 30 * DAY),
      currentPeriodEnd: iso(T0 + 60 * DAY),
      trialStart: iso(T0),
      trialEnd: iso(T0 + 30 * DAY),
    });
    expect(statusAt([trial, converted], T0 + 31 * DAY)).toMatchObject({ status: 'active', entitled: true });
  });

  it('reads canceling until the paid period ends and lapsed afterwards, without any further event', () => {
    const events = [subEvent(T0), subEvent(T0 + 5 * DAY, { cancelAtPeriodEnd: true })];
    expect(statusAt(events, T0 + 29 * DAY)).toMatchObject({ status: 'canceling', entitled: true, accessEndsAt: iso(T0 + 30 * DAY) });
    expect(statusAt(events, T0 + 30 * DAY)).toMatchObject({ status: 'lapsed', entitled: false });
  });

  it('honours cancel_at as a pending cancellation', () => {
    const events = [subEvent(T0, { cancelAt: iso(T0 + 10 * DAY) })];
    expect(statusAt(events, T0 + 9 * DAY).status).toBe('canceling');
    expect(statusAt(events, T0 + 10 * DAY).status).toBe('lapsed');
  });

  it('gives graceDays after a failed renewal, then lapses; a later payment clears it', () => {
    const renewal = T0 + 30 * DAY;
    const events = [
      subEvent(T0),
      subEvent(renewal, { currentPeriodStart: iso(renewal), currentPeriodEnd: iso(renewal + 30 * DAY) }),
      invoiceEvent('invoice-payment-failed', renewal + 3600),
    ];
    const graceEndsAt = iso(renewal + 3600 + 7 * DAY);
    expect(statusAt(events, renewal + 2 * DAY)).toMatchObject({ status: 'grace', entitled: true, graceEndsAt });
    expect(statusAt(events, renewal + 3600 + 7 * DAY)).toMatchObject({ status: 'lapsed', entitled: false, graceEndsAt: null });
    expect(statusAt([...events, invoiceEvent('invoice-paid', renewal + 3 * DAY)], renewal + 10 * DAY).status).toBe('active');
  });

  it('treats past_due without the invoice event as grace from the period start', () => {
    const renewal = T0 + 30 * DAY;
    const events = [
      subEvent(renewal, { stripeStatus: 'past_due', currentPeriodStart: iso(renewal), currentPeriodEnd: iso(renewal + 30 * DAY) }),
    ];
    expect(statusAt(events, renewal + DAY)).toMatchObject({ status: 'grace', graceEndsAt: iso(renewal + 7 * DAY) });
    expect(statusAt(events, renewal + 8 * DAY).status).toBe('lapsed');
  });

  it('does not treat a failed first payment as grace', () => {
    const events = [subEvent(T0, { stripeStatus: 'incomplete' }), invoiceEvent('invoice-payment-failed', T0 + 1, 'subscription_create')];
    expect(statusAt(events, T0 + 60).status).toBe('pending');
  });

  it('covers the wait for renewal news with grace, then lapses', () => {
    const events = [subEvent(T0)];
    expect(statusAt(events, T0 + 30 * DAY + 3600).status).toBe('grace');
    expect(statusAt(events, T0 + 38 * DAY).status).toBe('lapsed');
  });

  it('counts the service period of a paid invoice as access while the subscription snapshot that moves it is late', () => {
    // Renewal failed, Stripe marked the subscription past_due, then a retry was paid; the
    // customer.subscription.updated that clears past_due (and moves the period) has not arrived.
    const pastDue = subEvent(T0 + 30 * DAY + 3600, { stripeStatus: 'past_due' });
    const failed = invoiceEvent('invoice-payment-failed', T0 + 30 * DAY + 3600);
    const paid = invoiceEvent('invoice-paid', T0 + 38 * DAY, 'subscription_cycle', T0 + 60 * DAY);
    expect(statusAt([subEvent(T0), failed, pastDue], T0 + 39 * DAY).status).toBe('lapsed');
    expect(statusAt([subEvent(T0), failed, pastDue, paid], T0 + 39 * DAY)).toMatchObject({
      status: 'active',
      currentPeriodEnd: iso(T0 + 60 * DAY),
    });
    expect(statusAt([subEvent(T0), failed, pastDue, paid], T0 + 61 * DAY).status).not.toBe('active');
    // A payment older than the past_due snapshot does not override it.
    const olderPaid = invoiceEvent('invoice-paid', T0 + 30 * DAY, 'subscription_cycle', T0 + 60 * DAY);
    expect(statusAt([subEvent(T0), olderPaid, subEvent(T0 + 31 * DAY, { stripeStatus: 'past_due' })], T0 + 39 * DAY).status).toBe('lapsed');
    // An active subscription whose period ran out: the paid renewal keeps it active, not in grace.
    const renewed = invoiceEvent('invoice-paid', T0 + 30 * DAY + 3600, 'subscription_cycle', T0 + 60 * DAY);
    expect(statusAt([subEvent(T0), renewed], T0 + 40 * DAY)).toMatchObject({ status: 'active', currentPeriodEnd: iso(T0 + 60 * DAY) });
  });

  it('maps paused, canceled, expired and unknown Stripe statuses to no benefits', () => {
    expect(statusAt([subEvent(T0, { stripeStatus: 'paused' })], T0 + DAY)).toMatchObject({ status: 'paused', entitled: false });
    expect(statusAt([subEvent(T0, { stripeStatus: 'canceled' })], T0 + DAY)).toMatchObject({ status: 'lapsed', entitled: false });
    expect(statusAt([subEvent(T0, { stripeStatus: 'incomplete_expired' })], T0 + DAY).status).toBe('lapsed');
    expect(statusAt([subEvent(T0, { stripeStatus: 'some_future_status' })], T0 + DAY).entitled).toBe(false);
  });
});

describe('event application', () => {
  it('never lets an older subscription snapshot roll back a newer one', () => {
    const newer = subEvent(T0 + 10, { cancelAtPeriodEnd: true });
    const older = subEvent(T0, { cancelAtPeriodEnd: false });
    const record = applyAll([newer, older]);
    expect(record?.subscription?.cancelAtPeriodEnd).toBe(true);
  });

  it('is idempotent: applying an event twice changes nothing the second time', () => {
    const event = subEvent(T0);
    const once = applyMembershipEvent(null, event).record;
    const twice = applyMembershipEvent(once, event);
    expect(twice.changed).toBe(false);
    expect(twice.record).toEqual(once);
  });

  it('keeps a live subscription when a late terminal event of an older subscription arrives', () => {
    const newSub = subEvent(T0 + 100, { subscriptionId: 'sub_2' });
    const oldEnded = subEvent(T0 + 200, { subscriptionId: 'sub_1', stripeStatus: 'canceled' });
    expect(applyAll([newSub, oldEnded])?.subscription?.subscriptionId).toBe('sub_2');
    expect(applyAll([oldEnded, newSub])?.subscription?.subscriptionId).toBe('sub_2');
  });

  it('remembers trials and the first subscription start for life', () => {
    const record = applyAll([
      subEvent(T0, { stripeStatus: 'trialing', trialStart: iso(T0), trialEnd: iso(T0 + 7 * DAY) }),
      subEvent(T0 + 100 * DAY, { stripeStatus: 'canceled', currentPeriodStart: iso(T0 + 60 * DAY) }),
    ]);
    expect(record).toMatchObject({ hadTrial: true, firstSubscribedAt: iso(T0) });
  });

  it('converges to one state whatever the delivery order, with duplicates (property)', () => {
    const lifecycle: MembershipEvent[] = [
      {
        kind: 'checkout-completed',
        eventId: 'evt_cs',
        created: T0,
        memberId: 'm1',
        customerId: 'cus_1',
        subscriptionId: 'sub_1',
        checkoutSessionId: 'cs_1',
        email: 'first@example.com',
      },
      // A second checkout (a double purchase, later refunded): its session and email are the latest.
      {
        kind: 'checkout-completed',
        eventId: 'evt_cs2',
        created: T0 + 60,
        memberId: 'm1',
        customerId: 'cus_1',
        subscriptionId: 'sub_2',
        checkoutSessionId: 'cs_2',
        email: 'second@example.com',
      },
      {
        kind: 'checkout-completed',
        eventId: 'evt_cs3',
        created: T0 + 120,
        memberId: 'm1',
        customerId: 'cus_1',
        subscriptionId: 'sub_3',
        checkoutSessionId: 'cs_3',
        email: null,
      },
      subEvent(T0, { stripeStatus: 'trialing', trialStart: iso(T0), trialEnd: iso(T0 + 30 * DAY), currentPeriodEnd: iso(T0 + 30 * DAY) }),
      // Same second as the creation: the tie is broken by lifecycle, not arrival.
      subEvent(T0, { stripeStatus: 'incomplete' }),
      invoiceEvent('invoice-paid', T0 + 1, 'subscription_create'),
      subEvent(T0 + 30 * DAY, {
        currentPeriodStart: iso(T0 + 30 * DAY),
        currentPeriodEnd: iso(T0 + 60 * DAY),
        trialStart: iso(T0),
        trialEnd: iso(T0 + 30 * DAY),
      }),
      invoiceEvent('invoice-payment-failed', T0 + 30 * DAY + 3600),
      invoiceEvent('invoice-paid', T0 + 32 * DAY),
      subEvent(T0 + 40 * DAY, {
        cancelAtPeriodEnd: true,
        currentPeriodStart: iso(T0 + 30 * DAY),
        currentPeriodEnd: iso(T0 + 60 * DAY),
        trialStart: iso(T0),
        trialEnd: iso(T0 + 30 * DAY),
      }),
    ];
    const expected = applyAll(lifecycle);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(lifecycle, { minLength: lifecycle.length, maxLength: lifecycle.length }),
        fc.array(fc.nat(lifecycle.length - 1), { maxLength: 5 }),
        (order, dupes) => {
          const delivered = [...order, ...dupes.map((i) => lifecycle[i]!)];
          const result = applyAll(delivered);
          expect(result).toEqual(expected);
          expect(result).toMatchObject({ checkoutSessionId: 'cs_3', email: 'second@example.com', checkoutCompletedAt: iso(T0) });
          expect(evaluateMembership(result, catalog, at(T0 + 45 * DAY)).status).toBe('canceling');
        },
      ),
      { numRuns: 300 },
    );
  });
});
