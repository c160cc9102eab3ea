import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { autoRenewalViolations } from '#shared/domain/auto-renewal-law';
import { CatalogError, parseCatalog } from '#shared/domain/catalog';
import { applyMembershipEvent, type MembershipEvent, type MembershipRecord, type SubscriptionState } from '#shared/domain/membership';
import {
  anniversaryWithin,
  newReminders,
  planReminders,
  type ReminderContext,
  reminderRelevance,
  renderReminder,
  trialEndingNow,
} from '#shared/domain/reminders';
import { logger } from '#shared/observability';
import { reminderWrites } from '#shared/usecases/schedule-reminders';
import { californiaRules, monthlySubscription, projectRules } from '../support/domain';

const rawCatalog = JSON.parse(readFileSync(new URL('../../config/plan-catalog.json', import.meta.url), 'utf8'));
const catalog = parseCatalog(rawCatalog);
const DAY = 86_400;
const T0 = Date.parse('2026-01-10T00:00:00Z') / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const at = (seconds: number) => new Date(seconds * 1000);
const optIn = { marketingOptOut: false };
// Planning reads its windows from the member's jurisdiction; these cases are California's.
const ca = californiaRules();

const sub = (overrides: Partial<SubscriptionState> = {}) => monthlySubscription(iso(T0), iso(T0 + 31 * DAY), overrides);

let seq = 0;
function apply(
  record: MembershipRecord | null,
  created: number,
  event: Partial<MembershipEvent> & Pick<MembershipEvent, 'kind'>,
): MembershipRecord {
  return applyMembershipEvent(record, { eventId: `evt_${++seq}`, created, memberId: 'm1', ...event } as MembershipEvent).record;
}
const subChanged = (record: MembershipRecord | null, created: number, overrides: Partial<SubscriptionState> = {}) =>
  apply(record, created, { kind: 'subscription-changed', subscription: sub(overrides) } as never);
const invoice = (record: MembershipRecord, created: number, kind: 'invoice-paid' | 'invoice-payment-failed', invoiceId = 'in_2') =>
  apply(record, created, { kind, customerId: 'cus_1', subscriptionId: 'sub_1', invoiceId, billingReason: 'subscription_cycle' } as never);

const kindsAndDue = (record: MembershipRecord | null) =>
  planReminders(record, catalog, ca)
    .map((r) => `${r.kind}@${r.dueAt}`)
    .sort();

describe('catalog: California automatic-renewal rules', () => {
  const annual = rawCatalog.plans[1];
  it('accepts the default catalog (annual plan notices 30 and 7 days ahead)', () => {
    expect(() => parseCatalog(rawCatalog)).not.toThrow();
    expect(autoRenewalViolations(annual)).toEqual([]);
  });

  it('rejects an annual plan without a notice 15–45 days before renewal, naming the field', () => {
    for (const days of [[7], [14, 46], [60]]) {
      const bad = { plans: [{ ...annual, reminders: { ...annual.reminders, renewalDaysBefore: days } }] };
      expect(() => parseCatalog(bad)).toThrow(CatalogError);
      expect(() => parseCatalog(bad)).toThrow(
        /plans\/0\/reminders\/renewalDaysBefore: an annual plan needs a renewal notice between 15 and 45/,
      );
    }
    for (const days of [[15], [45], [7, 30]]) {
      expect(() => parseCatalog({ plans: [{ ...annual, reminders: { ...annual.reminders, renewalDaysBefore: days } }] })).not.toThrow();
    }
  });

  it('reports a plan without reminders as a catalog error, not a crash of the law check', () => {
    const { reminders: _omitted, ...withoutReminders } = annual;
    expect(() => parseCatalog({ plans: [withoutReminders] })).toThrow(/plans\/0\/reminders: /);
  });

  it('monthly plans may notice 7 days ahead', () => {
    expect(
      autoRenewalViolations({
        interval: 'month',
        trialDays: 30,
        reminders: { renewalDaysBefore: [7], trialEndingDaysBefore: 3 },
      }),
    ).toEqual([]);
  });

  it('trials of 31 days or more need the ending notice 3–21 days ahead', () => {
    const plan = (trialDays: number, trialEndingDaysBefore: number) => ({
      interval: 'month' as const,
      trialDays,
      reminders: { renewalDaysBefore: [7], trialEndingDaysBefore, winBackDaysAfter: [] },
    });
    expect(autoRenewalViolations(plan(31, 2)).map((v) => v.path.join('/'))).toEqual(['reminders/trialEndingDaysBefore']);
    expect(autoRenewalViolations(plan(60, 22))).toHaveLength(1);
    expect(autoRenewalViolations(plan(31, 3))).toEqual([]);
    expect(autoRenewalViolations(plan(31, 21))).toEqual([]);
    expect(autoRenewalViolations(plan(30, 1))).toEqual([]);
    expect(() =>
      parseCatalog({
        plans: [{ ...rawCatalog.plans[0], trialDays: 45, reminders: { ...rawCatalog.plans[0].reminders, trialEndingDaysBefore: 1 } }],
      }),
    ).toThrow(/trialEndingDaysBefore/);
  });
});

describe('California renewal window when the catalog does not declare the interval', () => {
  // The contract's catalog example has no `interval`: the plan below is sold through a yearly price.
  const { interval: _none, ...undeclared } = rawCatalog.plans[1];
  const loose = parseCatalog({ plans: [{ ...undeclared, reminders: { ...undeclared.reminders, renewalDaysBefore: [7] } }] });
  const yearly = {
    priceId: 'price_prime_annual_usd',
    planId: 'prime-annual',
    interval: 'year',
    amountCents: 13900,
    currentPeriodEnd: iso(T0 + 365 * DAY),
  };

  it('the catalog still accepts a plan without interval, and still rejects a declared annual plan without the window', () => {
    expect(loose.plan('prime-annual')!.interval).toBeUndefined();
    expect(() =>
      parseCatalog({ plans: [{ ...rawCatalog.plans[1], reminders: { ...rawCatalog.plans[1].reminders, renewalDaysBefore: [7] } }] }),
    ).toThrow(/renewalDaysBefore/);
  });

  it('an annual subscription (Stripe interval year) always gets a renewal notice 15–45 days ahead, sent at send time', () => {
    const record = subChanged(null, T0, yearly);
    const renewals = planReminders(record, loose, ca).filter((r) => r.kind === 'renewal_upcoming');
    expect(renewals.map((r) => r.dueAt).sort()).toEqual([iso(T0 + 335 * DAY), iso(T0 + 358 * DAY)]);
    const fallback = renewals.find((r) => r.offsetDays === 30)!;
    expect(reminderRelevance(fallback, record, loose, at(T0 + 335 * DAY), optIn, ca)).toEqual({ send: true });
    // The yearly summary follows the annual rule too (mid-term), not the monthly one.
    expect(planReminders(record, loose, ca).find((r) => r.kind === 'annual_notice')!.dueAt).toBe(iso(T0 + 182.5 * DAY));
  });

  it('a monthly subscription on the same plan gets only the catalog’s notice; a catalog with the window gets no extra one', () => {
    const monthly = subChanged(null, T0, { ...yearly, interval: 'month', currentPeriodEnd: iso(T0 + 31 * DAY) });
    expect(
      planReminders(monthly, loose, ca)
        .filter((r) => r.kind === 'renewal_upcoming')
        .map((r) => r.offsetDays),
    ).toEqual([7]);
    const record = subChanged(null, T0, yearly);
    expect(
      planReminders(record, catalog, ca)
        .filter((r) => r.kind === 'renewal_upcoming')
        .map((r) => r.offsetDays)
        .sort(),
    ).toEqual([30, 7]);
  });

  it('scheduling warns once the fallback is written, so the catalog gets fixed', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      const record = subChanged(null, T0, yearly);
      const writes = reminderWrites(
        { before: null, after: record, event: { kind: 'subscription-changed' } as never, now: at(T0), catalog: loose },
        loose,
        'table',
        ca,
      );
      expect(
        writes.some((w) => String(w.Update!.Key!.SK).includes('renewal_upcoming#sub_1#') && String(w.Update!.Key!.SK).endsWith('#30')),
      ).toBe(true);
      // The line waits for the member's log pseudonym (shared/member-ref.ts).
      await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(1));
      expect(warn.mock.calls[0]![1]).toMatchObject({ planId: 'prime-annual', fallbackDaysBefore: 30, memberRef: expect.any(String) });
      reminderWrites(
        { before: record, after: record, event: { kind: 'subscription-changed' } as never, now: at(T0), catalog: loose },
        loose,
        'table',
        ca,
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('planReminders', () => {
  it('plans nothing without a subscription', () => {
    expect(planReminders(null, catalog, ca)).toEqual([]);
  });

  it('a trial plans its ending notice trialEndingDaysBefore ahead, and no renewal notice yet', () => {
    const trialEnd = T0 + 30 * DAY;
    const record = subChanged(null, T0, {
      stripeStatus: 'trialing',
      trialStart: iso(T0),
      trialEnd: iso(trialEnd),
      currentPeriodEnd: iso(trialEnd),
    });
    const planned = planReminders(record, catalog, ca);
    const trial = planned.find((r) => r.kind === 'trial_ending')!;
    expect(trial).toMatchObject({ id: `trial_ending#sub_1#${iso(trialEnd)}#3`, dueAt: iso(trialEnd - 3 * DAY) });
    expect(planned.some((r) => r.kind === 'renewal_upcoming')).toBe(false);
  });

  it('an active monthly membership plans the renewal notice; no yearly notice before the period holding the anniversary', () => {
    const record = subChanged(null, T0);
    expect(kindsAndDue(record)).toEqual([`renewal_upcoming@${iso(T0 + 24 * DAY)}`]);
  });

  it('a monthly membership without a trial: the renewal on the anniversary plans that year’s notice mid-period, once', () => {
    // 2026-01-10 → 2027-01-10: the anniversary is a renewal day.
    const anniversary = T0 + 365 * DAY;
    const before = subChanged(subChanged(null, T0), anniversary - 31 * DAY, {
      currentPeriodStart: iso(anniversary - 31 * DAY),
      currentPeriodEnd: iso(anniversary),
    });
    expect(planReminders(before, catalog, ca).some((r) => r.kind === 'annual_notice')).toBe(false);
    const renewed = subChanged(before, anniversary, {
      currentPeriodStart: iso(anniversary),
      currentPeriodEnd: iso(anniversary + 31 * DAY),
    });
    const notice = planReminders(renewed, catalog, ca).find((r) => r.kind === 'annual_notice')!;
    expect(notice).toMatchObject({ id: `annual_notice#sub_1#${iso(anniversary)}#0`, dueAt: iso(anniversary + 15.5 * DAY) });
    // Still planned when the job runs at its due time: it is not re-planned away before it is sent.
    expect(reminderRelevance(notice, renewed, catalog, at(anniversary + 15.5 * DAY), optIn, ca)).toEqual({ send: true });
    const next = subChanged(renewed, anniversary + 31 * DAY, {
      currentPeriodStart: iso(anniversary + 31 * DAY),
      currentPeriodEnd: iso(anniversary + 59 * DAY),
    });
    expect(planReminders(next, catalog, ca).some((r) => r.kind === 'annual_notice')).toBe(false);
  });

  it('a monthly membership after a trial: the notice falls in the period holding the anniversary, not on its renewal day', () => {
    const trialEnd = T0 + 30 * DAY;
    const trialing = subChanged(null, T0, {
      stripeStatus: 'trialing',
      trialStart: iso(T0),
      trialEnd: iso(trialEnd),
      currentPeriodEnd: iso(trialEnd),
    });
    const start = T0 + 350 * DAY;
    const record = subChanged(trialing, start, {
      trialStart: iso(T0),
      trialEnd: iso(trialEnd),
      currentPeriodStart: iso(start),
      currentPeriodEnd: iso(start + 30 * DAY),
    });
    expect(planReminders(record, catalog, ca).find((r) => r.kind === 'annual_notice')).toMatchObject({
      anchor: iso(T0 + 365 * DAY),
      dueAt: iso(start + 15 * DAY),
    });
  });

  it('an annual plan gets notices 30 and 7 days before renewal and the yearly notice at mid-term', () => {
    const end = T0 + 365 * DAY;
    const record = subChanged(null, T0, {
      priceId: 'price_prime_annual_usd',
      planId: 'prime-annual',
      interval: 'year',
      amountCents: 13900,
      currentPeriodEnd: iso(end),
    });
    const midTerm = T0 + 182.5 * DAY;
    expect(kindsAndDue(record)).toEqual([
      `annual_notice@${iso(midTerm)}`,
      `renewal_upcoming@${iso(end - 30 * DAY)}`,
      `renewal_upcoming@${iso(end - 7 * DAY)}`,
    ]);
    expect(planReminders(record, catalog, ca).find((r) => r.kind === 'annual_notice')!.id).toBe(`annual_notice#sub_1#${iso(midTerm)}#0`);
  });

  it('an annual plan plans one yearly notice per paid year, none while trialing or cancelled', () => {
    const annual = { priceId: 'price_prime_annual_usd', planId: 'prime-annual', interval: 'year', amountCents: 13900 };
    const trialing = subChanged(null, T0, {
      ...annual,
      stripeStatus: 'trialing',
      trialStart: iso(T0),
      trialEnd: iso(T0 + 14 * DAY),
      currentPeriodEnd: iso(T0 + 14 * DAY),
    });
    expect(planReminders(trialing, catalog, ca).some((r) => r.kind === 'annual_notice')).toBe(false);
    const start2 = T0 + 365 * DAY;
    const year2 = subChanged(null, start2, { ...annual, currentPeriodStart: iso(start2), currentPeriodEnd: iso(start2 + 366 * DAY) });
    expect(
      planReminders(year2, catalog, ca)
        .filter((r) => r.kind === 'annual_notice')
        .map((r) => r.dueAt),
    ).toEqual([iso(start2 + 183 * DAY)]);
    const cancelled = subChanged(null, T0, { ...annual, currentPeriodEnd: iso(T0 + 365 * DAY), cancelAtPeriodEnd: true });
    expect(planReminders(cancelled, catalog, ca).some((r) => r.kind === 'annual_notice')).toBe(false);
  });

  it('cancel at period end plans the lapse at period end and the win-backs after it', () => {
    const end = T0 + 31 * DAY;
    const record = subChanged(null, T0, { cancelAtPeriodEnd: true, canceledAt: iso(T0 + DAY) });
    expect(kindsAndDue(record)).toEqual([
      `membership_lapsed@${iso(end)}`,
      `win_back@${iso(end + 7 * DAY)}`,
      `win_back@${iso(end + 30 * DAY)}`,
    ]);
  });

  it('a failed renewal plans payment_failed now and grace_ending two days before grace ends', () => {
    const failedAt = T0 + 31 * DAY + 3600;
    const record = invoice(subChanged(null, T0), failedAt, 'invoice-payment-failed');
    const planned = planReminders(record, catalog, ca);
    expect(planned.find((r) => r.kind === 'payment_failed')).toMatchObject({ id: 'payment_failed#sub_1#in_2#0', dueAt: iso(failedAt) });
    expect(planned.find((r) => r.kind === 'grace_ending')).toMatchObject({ dueAt: iso(failedAt + 5 * DAY) });
    expect(planned.find((r) => r.kind === 'membership_lapsed')).toMatchObject({ dueAt: iso(failedAt + 7 * DAY) });
  });

  it('finds the anniversary inside a half-open period, so each year falls in exactly one period', () => {
    const start = '2026-01-10T00:00:00.000Z';
    expect(anniversaryWithin(start, '2026-12-10T00:00:00.000Z', '2027-01-10T00:00:00.000Z')).toBeNull();
    expect(anniversaryWithin(start, '2027-01-10T00:00:00.000Z', '2027-02-10T00:00:00.000Z')).toBe('2027-01-10T00:00:00.000Z');
    expect(anniversaryWithin(start, '2028-01-01T00:00:00.000Z', '2028-02-01T00:00:00.000Z')).toBe('2028-01-10T00:00:00.000Z');
    expect(anniversaryWithin(start, '2026-01-10T00:00:00.000Z', '2026-02-10T00:00:00.000Z')).toBeNull();
  });
});

describe('newReminders: what a change schedules', () => {
  it('schedules nothing again for a repeated or unchanged record', () => {
    const record = subChanged(null, T0);
    expect(newReminders(null, record, catalog, ca)).toHaveLength(1);
    expect(newReminders(record, record, catalog, ca)).toEqual([]);
    expect(newReminders(record, structuredClone(record), catalog, ca)).toEqual([]);
  });

  it('a renewal schedules the next period’s notice, a cancel the lapse, a resume the renewal again', () => {
    const first = subChanged(null, T0);
    const renewed = subChanged(first, T0 + 31 * DAY, { currentPeriodStart: iso(T0 + 31 * DAY), currentPeriodEnd: iso(T0 + 59 * DAY) });
    expect(newReminders(first, renewed, catalog, ca).map((r) => r.kind)).toEqual(['renewal_upcoming']);
    const cancelled = subChanged(renewed, T0 + 40 * DAY, {
      currentPeriodStart: iso(T0 + 31 * DAY),
      currentPeriodEnd: iso(T0 + 59 * DAY),
      cancelAtPeriodEnd: true,
    });
    expect(
      newReminders(renewed, cancelled, catalog, ca)
        .map((r) => r.kind)
        .sort(),
    ).toEqual(['membership_lapsed', 'win_back', 'win_back']);
    const resumed = subChanged(cancelled, T0 + 41 * DAY, { currentPeriodStart: iso(T0 + 31 * DAY), currentPeriodEnd: iso(T0 + 59 * DAY) });
    const again = newReminders(cancelled, resumed, catalog, ca);
    expect(again.map((r) => r.kind).sort()).toEqual(['renewal_upcoming']);
    // Same ids as before the cancel: the sent-proof check keeps an already sent one from going out twice.
    expect(again.find((r) => r.kind === 'renewal_upcoming')!.id).toBe(
      planReminders(renewed, catalog, ca).find((r) => r.kind === 'renewal_upcoming')!.id,
    );
  });

  it('the lapse notice keeps one id per subscription when its date becomes better known', () => {
    const failed = invoice(subChanged(null, T0), T0 + 31 * DAY, 'invoice-payment-failed');
    const deleted = subChanged(failed, T0 + 45 * DAY, {
      stripeStatus: 'canceled',
      endedAt: iso(T0 + 45 * DAY),
      canceledAt: iso(T0 + 45 * DAY),
    });
    const moved = newReminders(failed, deleted, catalog, ca).filter((r) => r.kind === 'membership_lapsed');
    expect(moved).toHaveLength(1);
    expect(moved[0]!.id).toBe(planReminders(failed, catalog, ca).find((r) => r.kind === 'membership_lapsed')!.id);
    expect(moved[0]!.dueAt).toBe(iso(T0 + 45 * DAY));
  });

  it('trial_will_end moves the trial notice to now, with the same id as the scheduled one', () => {
    const trialEnd = T0 + 30 * DAY;
    const trialing = { stripeStatus: 'trialing', trialStart: iso(T0), trialEnd: iso(trialEnd), currentPeriodEnd: iso(trialEnd) };
    const record = subChanged(null, T0, trialing);
    const scheduled = planReminders(record, catalog, ca).find((r) => r.kind === 'trial_ending')!;
    const early = trialEndingNow(record, catalog, at(trialEnd - 5 * DAY), ca)!;
    expect(early).toMatchObject({ id: scheduled.id, dueAt: iso(trialEnd - 5 * DAY) });
    expect(trialEndingNow(record, catalog, at(trialEnd - 2 * DAY), ca)!.dueAt).toBe(scheduled.dueAt);
    const writes = reminderWrites(
      {
        before: record,
        after: record,
        event: {
          kind: 'subscription-changed',
          eventId: 'evt_x',
          created: trialEnd - 5 * DAY,
          memberId: 'm1',
          subscription: sub(trialing),
          trialWillEnd: true,
        },
        now: at(trialEnd - 5 * DAY),
        catalog,
      },
      catalog,
      'table',
      ca,
    );
    expect(writes).toHaveLength(1);
    const update = writes[0]!.Update!;
    expect(update.Key).toEqual({ PK: 'MEMBER#m1', SK: `NOTE#R#${scheduled.id}` });
    const set = Object.fromEntries(
      Object.entries(update.ExpressionAttributeNames!).map(([ref, name]) => [
        name,
        update.ExpressionAttributeValues![ref.replace('#f', ':v')],
      ]),
    );
    expect(set).toMatchObject({
      reminderId: scheduled.id,
      scheduledFor: iso(trialEnd - 5 * DAY),
      status: 'due',
      dueShard: expect.stringMatching(/^DUE#[0-7]$/),
    });
    expect(set).not.toHaveProperty('leaseUntil');
  });
});

describe('reminderRelevance at send time', () => {
  const active = subChanged(null, T0);
  const renewal = planReminders(active, catalog, ca).find((r) => r.kind === 'renewal_upcoming')!;

  it('sends a renewal notice to a renewing member and drops it after a cancel', () => {
    expect(reminderRelevance(renewal, active, catalog, at(T0 + 24 * DAY), optIn, ca)).toEqual({ send: true });
    const cancelled = subChanged(active, T0 + 2 * DAY, { cancelAtPeriodEnd: true });
    expect(reminderRelevance(renewal, cancelled, catalog, at(T0 + 24 * DAY), optIn, ca)).toEqual({ send: false, reason: 'not_renewing' });
    expect(reminderRelevance(renewal, active, catalog, at(T0 + 32 * DAY), optIn, ca)).toMatchObject({ send: false });
  });

  it('drops payment notices once paid', () => {
    const failed = invoice(active, T0 + 31 * DAY, 'invoice-payment-failed');
    const notice = planReminders(failed, catalog, ca).find((r) => r.kind === 'payment_failed')!;
    expect(reminderRelevance(notice, failed, catalog, at(T0 + 31 * DAY), optIn, ca)).toEqual({ send: true });
    const paid = invoice(failed, T0 + 32 * DAY, 'invoice-paid');
    expect(reminderRelevance(notice, paid, catalog, at(T0 + 32 * DAY), optIn, ca)).toEqual({ send: false, reason: 'paid' });
  });

  it('win-back: sent to a lapsed member, dropped after opt-out or a return', () => {
    const cancelled = subChanged(active, T0 + 2 * DAY, { cancelAtPeriodEnd: true });
    const winBack = planReminders(cancelled, catalog, ca).find((r) => r.kind === 'win_back')!;
    const later = at(T0 + 40 * DAY);
    expect(reminderRelevance(winBack, cancelled, catalog, later, optIn, ca)).toEqual({ send: true });
    expect(reminderRelevance(winBack, cancelled, catalog, later, { marketingOptOut: true }, ca)).toEqual({
      send: false,
      reason: 'marketing_opt_out',
    });
    const back = subChanged(cancelled, T0 + 35 * DAY, {
      subscriptionId: 'sub_2',
      currentPeriodStart: iso(T0 + 35 * DAY),
      currentPeriodEnd: iso(T0 + 66 * DAY),
    });
    expect(reminderRelevance(winBack, back, catalog, later, optIn, ca)).toEqual({ send: false, reason: 'member_came_back' });
  });

  it('opt-out does not stop transactional notices', () => {
    expect(reminderRelevance(renewal, active, catalog, at(T0 + 24 * DAY), { marketingOptOut: true }, ca)).toEqual({ send: true });
  });
});

describe('renderReminder', () => {
  const ctx: ReminderContext = {
    planName: 'Prime Annual',
    interval: 'year',
    amountCents: 13900,
    currency: 'usd',
    nextChargeAt: '2027-01-10T00:00:00.000Z',
    graceEndsAt: null,
    accessEndsAt: null,
    portalUrl: 'https://shop.example/account',
    preferencesUrl: 'https://shop.example/account/email',
    periodSavedCents: 8400,
    lifetimeSavedCents: 12000,
    coupon: null,
  };

  it('a renewal notice carries plan, amount, date, frequency, savings and how to cancel', () => {
    const { subject, text } = renderReminder('renewal_upcoming', ctx);
    expect(subject).toContain('January 10, 2027');
    for (const part of [
      'Prime Annual',
      '$139.00',
      'every year',
      'January 10, 2027',
      'https://shop.example/account',
      'You saved $84.00 this year',
      'cancel',
    ]) {
      expect(text).toContain(part);
    }
  });

  it('a win-back names the recall coupon and lifetime savings', () => {
    const { text } = renderReminder('win_back', {
      ...ctx,
      coupon: { code: 'ABCD-EFGH-JKMN-PQRST', amountOffCents: 1000, currency: 'usd', expiresAt: '2027-02-01T00:00:00Z' },
    });
    expect(text).toContain('ABCD-EFGH-JKMN-PQRST');
    expect(text).toContain('$10.00 off');
    expect(text).toContain('$120.00');
  });

  it('says amounts in the currency’s own decimals: ¥1,500 for a yen plan, KWD with three', () => {
    const yen = { ...ctx, interval: 'month', amountCents: 1500, currency: 'jpy', periodSavedCents: 300, lifetimeSavedCents: 4500 };
    const renewal = renderReminder('renewal_upcoming', yen).text;
    expect(renewal).toContain('Prime Annual: ¥1,500, charged every month. Next charge: ¥1,500 on January 10, 2027.');
    expect(renewal).toContain('You saved ¥300 this month');
    const winBack = renderReminder('win_back', {
      ...yen,
      coupon: { code: 'ABCD-EFGH-JKMN-PQRST', amountOffCents: 500, currency: 'jpy', expiresAt: '2027-02-01T00:00:00Z' },
    }).text;
    expect(winBack).toContain('take ¥500 off');
    expect(winBack).toContain('you saved ¥4,500 in all');
    const dinar = renderReminder('payment_failed', { ...ctx, amountCents: 4500, currency: 'kwd' }).text;
    expect(dinar).toContain('Your renewal payment of KWD\u00a04.500 did not go through');
  });

  it('only marketing notices carry the email preferences link', () => {
    expect(renderReminder('win_back', ctx).text).toContain(
      'To stop these emails, change your email preferences at https://shop.example/account/email',
    );
    for (const kind of [
      'renewal_upcoming',
      'annual_notice',
      'trial_ending',
      'payment_failed',
      'grace_ending',
      'membership_lapsed',
    ] as const) {
      expect(renderReminder(kind, ctx).text).not.toContain('https://shop.example/account/email');
    }
  });
});

describe('planning reads the member’s jurisdiction', () => {
  const table = projectRules();
  const inJurisdiction = (record: MembershipRecord, country: string, state: string | null = null): MembershipRecord => ({
    ...record,
    jurisdiction: { country, state, source: 'checkout', version: '000000000001#cs_1' },
  });
  const active = subChanged(null, T0);
  const renewalDays = (record: MembershipRecord) =>
    planReminders(record, catalog, table)
      .filter((r) => r.kind === 'renewal_upcoming')
      .map((r) => r.offsetDays)
      .sort((a, b) => a - b);

  it('China adds a notice five days before every renewal; California and Germany keep the plan’s days', () => {
    expect(renewalDays(inJurisdiction(active, 'CN'))).toEqual([5, 7]);
    expect(renewalDays(inJurisdiction(active, 'US', 'CA'))).toEqual([7]);
    expect(renewalDays(inJurisdiction(active, 'DE'))).toEqual([7]);
  });

  it('a member whose jurisdiction is unknown gets every window: the strictest combination', () => {
    expect(renewalDays(active)).toEqual([5, 7]);
  });

  it('the yearly reminder only where the law asks for it', () => {
    const renewed = subChanged(active, T0 + 365 * DAY, { currentPeriodStart: iso(T0 + 365 * DAY), currentPeriodEnd: iso(T0 + 396 * DAY) });
    const annual = (record: MembershipRecord) => planReminders(record, catalog, table).some((r) => r.kind === 'annual_notice');
    expect(annual(inJurisdiction(renewed, 'US', 'CA'))).toBe(true);
    expect(annual(inJurisdiction(renewed, 'US', 'TX'))).toBe(true);
    expect(annual(inJurisdiction(renewed, 'FR'))).toBe(false);
  });
});
