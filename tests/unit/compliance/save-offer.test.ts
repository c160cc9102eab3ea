import { describe, expect, it } from 'vitest';
import type { MembershipRecord } from '#shared/domain/membership';
import { churnedAfter, saveOfferDecision } from '#shared/domain/save-offer';
import { monthlySubscription } from '../../support/domain';

const now = new Date('2027-05-01T00:00:00Z');
const decide = (saveOffers: 'allowed' | 'opt_in' | 'never', extra: Partial<Parameters<typeof saveOfferDecision>[0]> = {}) =>
  saveOfferDecision({ rules: { saveOffers }, channel: 'self_service', optedIn: false, previousOffers: [], resumable: true, now, ...extra });

describe('save offers', () => {
  it('one where allowed; where consent is asked only when asked for; never where forbidden, nor without login', () => {
    expect(decide('allowed')).toEqual({ offer: true });
    expect(decide('opt_in')).toEqual({ offer: false, reason: 'not_asked_for' });
    expect(decide('opt_in', { optedIn: true })).toEqual({ offer: true });
    expect(decide('never', { optedIn: true })).toEqual({ offer: false, reason: 'not_allowed_here' });
    expect(decide('allowed', { channel: 'no_login' })).toEqual({ offer: false, reason: 'not_in_this_channel' });
    expect(decide('allowed', { resumable: false })).toEqual({ offer: false, reason: 'nothing_to_save' });
  });

  it('at most one a year per member', () => {
    expect(decide('allowed', { previousOffers: [{ offeredAt: '2026-06-01T00:00:00Z' }] })).toEqual({
      offer: false,
      reason: 'offered_recently',
    });
    expect(decide('allowed', { previousOffers: [{ offeredAt: '2026-04-01T00:00:00Z' }] })).toEqual({ offer: true });
  });

  it('counts a member who accepted and cancelled (or ended) within 90 days as churned; a cancel undone does not count', () => {
    const acceptedAt = '2027-05-01T10:00:00.500Z';
    const record = (overrides = {}) => {
      const sub = monthlySubscription('2027-04-20T00:00:00Z', '2027-05-20T00:00:00Z', overrides);
      return { memberId: 'm1', subscription: sub, subscriptions: { sub_1: { state: sub, version: '1' } } } as unknown as MembershipRecord;
    };
    const later = new Date('2027-08-01T00:00:00Z');
    // Stripe's seconds: a cancel in the same second as the acceptance came after it.
    expect(churnedAfter(record({ cancelAtPeriodEnd: true, canceledAt: '2027-05-01T10:00:00.000Z' }), 'sub_1', acceptedAt, later)).toEqual({
      churned: true,
      churnedAt: '2027-05-01T10:00:00.000Z',
    });
    expect(churnedAfter(record(), 'sub_1', acceptedAt, later)).toEqual({ churned: false, churnedAt: null });
    expect(
      churnedAfter(
        record({ stripeStatus: 'canceled', canceledAt: '2027-09-01T00:00:00Z', endedAt: '2027-09-01T00:00:00Z' }),
        'sub_1',
        acceptedAt,
        new Date('2027-10-01T00:00:00Z'),
      ),
    ).toEqual({
      churned: false,
      churnedAt: null,
    });
  });
});
