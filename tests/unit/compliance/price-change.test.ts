import { describe, expect, it } from 'vitest';
import type { MembershipRecord } from '#shared/domain/membership';
import {
  calendarDaysBefore,
  nextRenewalAfter,
  plannedPriceChange,
  priceChangeRelevance,
  priceMoveDecision,
} from '#shared/domain/price-change';
import { monthlySubscription, projectCatalog, projectRules } from '../../support/domain';

const table = projectRules();
const plan = {
  ...projectCatalog().plan('prime-monthly')!,
  priceChange: { priceId: 'price_new', amountCents: 1699, currency: 'usd', from: '2027-01-01T00:00:00Z' },
};
const record = (start: string, end: string, overrides = {}): MembershipRecord => {
  const sub = monthlySubscription(start, end, { startDate: start, ...overrides });
  return {
    memberId: 'm1',
    customerId: 'cus_1',
    subscriptionId: 'sub_1',
    checkoutSessionId: null,
    checkoutCompletedAt: null,
    subscription: sub,
    subscriptions: { sub_1: { state: sub, version: '1' } },
    payment: null,
    paymentVersion: null,
    firstSubscribedAt: start,
    hadTrial: false,
  };
};
const rules = (key: string) => table.entry(key)!;

describe('price change: which charge a notice announces', () => {
  const rec = record('2027-01-10T08:00:00.000Z', '2027-02-10T08:00:00.000Z');

  it('California (7–30 days): the coming renewal, noticed from 30 days before its day', () => {
    expect(plannedPriceChange(rec, plan, rules('US-CA'))).toEqual({
      prev: '2027-01-10T08:00:00.000Z',
      target: '2027-02-10T08:00:00.000Z',
      toPriceId: 'price_new',
      dueAt: '2027-01-11T00:00:00.000Z',
    });
  });

  it('UK (30–90 days): too little time left in a month, so the renewal after, named by the one before it', () => {
    expect(plannedPriceChange(rec, plan, rules('GB'))).toMatchObject({
      prev: '2027-02-10T08:00:00.000Z',
      target: '2027-03-10T08:00:00.000Z',
    });
  });

  it('none where consent is needed, for a member on the new price, not renewing, or before the change’s date', () => {
    expect(plannedPriceChange(rec, plan, rules('DE'))).toBeNull();
    expect(
      plannedPriceChange(record('2027-01-10T08:00:00.000Z', '2027-02-10T08:00:00.000Z', { priceId: 'price_new' }), plan, rules('US-CA')),
    ).toBeNull();
    expect(
      plannedPriceChange(record('2027-01-10T08:00:00.000Z', '2027-02-10T08:00:00.000Z', { cancelAtPeriodEnd: true }), plan, rules('US-CA')),
    ).toBeNull();
    expect(
      plannedPriceChange(rec, { ...plan, priceChange: { ...plan.priceChange, from: '2027-04-01T00:00:00Z' } }, rules('US-CA')),
    ).toBeNull();
  });

  it('is sent only inside the window, for the plan’s current change', () => {
    const notice = { prev: '2027-01-10T08:00:00.000Z', toPriceId: 'price_new' };
    const at = (iso: string) => new Date(iso);
    expect(priceChangeRelevance(notice, rec, plan, rules('US-CA'), at('2027-01-11T09:00:00Z'))).toEqual({
      send: true,
      target: '2027-02-10T08:00:00.000Z',
    });
    expect(priceChangeRelevance(notice, rec, plan, rules('US-CA'), at('2027-02-04T09:00:00Z'))).toEqual({
      send: false,
      reason: 'too_late',
    });
    expect(
      priceChangeRelevance({ ...notice, toPriceId: 'price_old' }, rec, plan, rules('US-CA'), at('2027-01-11T09:00:00Z')),
    ).toMatchObject({
      reason: 'price_change_withdrawn',
    });
    expect(calendarDaysBefore('2027-01-11T23:59:00Z', '2027-02-10T00:01:00Z')).toBe(30);
  });
});

describe('price change: the move', () => {
  const move = { subscriptionId: 'sub_1', toPriceId: 'price_new', prev: '2027-02-10T08:00:00.000Z', target: '2027-03-10T08:00:00.000Z' };
  const live = {
    id: 'sub_1',
    status: 'active',
    priceId: 'price_old',
    currentPeriodStart: '2027-01-10T08:00:00.000Z',
    cancelAtPeriodEnd: false,
    cancelAt: null,
  };
  it('waits until the renewal before the target has started, then moves, never at or after the target', () => {
    expect(priceMoveDecision(move, live, new Date('2027-01-11T00:00:00Z'))).toEqual({ action: 'wait', until: '2027-02-10T09:00:00.000Z' });
    const renewed = { ...live, currentPeriodStart: '2027-02-10T08:00:00.000Z' };
    expect(priceMoveDecision(move, renewed, new Date('2027-02-10T09:05:00Z'))).toEqual({ action: 'move' });
    expect(priceMoveDecision(move, renewed, new Date('2027-03-10T07:30:00Z'))).toEqual({ action: 'drop', reason: 'missed_renewal' });
    expect(priceMoveDecision(move, { ...renewed, priceId: 'price_new' }, new Date('2027-02-11T00:00:00Z'))).toEqual({ action: 'done' });
    expect(priceMoveDecision(move, { ...renewed, cancelAtPeriodEnd: true }, new Date('2027-02-11T00:00:00Z'))).toMatchObject({
      action: 'drop',
    });
  });

  it('estimates the next renewal as Stripe bills it: the anchor’s day, clamped to the month', () => {
    const sub = { interval: 'month', trialEnd: null, startDate: '2027-01-31T10:00:00.000Z' };
    expect(nextRenewalAfter('2027-02-28T10:00:00.000Z', sub)).toBe('2027-03-31T10:00:00.000Z');
    expect(nextRenewalAfter('2027-03-31T10:00:00.000Z', sub)).toBe('2027-04-30T10:00:00.000Z');
    expect(nextRenewalAfter('2028-02-29T10:00:00.000Z', { ...sub, interval: 'year' })).toBe('2029-02-28T10:00:00.000Z');
  });
});
