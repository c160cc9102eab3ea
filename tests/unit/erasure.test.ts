import { describe, expect, it } from 'vitest';
import { applyMembershipEvent, eraseMembership, type MembershipEvent } from '#shared/domain/membership';

const T0 = Date.parse('2026-11-01T00:00:00Z') / 1000;
const checkout = (eventId: string, email: string | null): MembershipEvent => ({
  kind: 'checkout-completed',
  eventId,
  created: T0,
  memberId: 'm1',
  customerId: 'cus_1',
  subscriptionId: 'sub_1',
  checkoutSessionId: 'cs_1',
  email,
});
const now = new Date('2026-12-01T00:00:00Z');

describe('eraseMembership', () => {
  it('removes the email and marks the record erased, once', () => {
    const stored = applyMembershipEvent(null, checkout('evt_1', 'a@example.com')).record;
    expect(stored.email).toBe('a@example.com');
    const erased = eraseMembership(stored, now);
    expect(erased).toMatchObject({
      changed: true,
      record: { email: null, erasedAt: now.toISOString(), customerId: 'cus_1', checkoutSessionId: 'cs_1' },
    });
    const again = eraseMembership(erased.record, new Date('2027-01-01T00:00:00Z'));
    expect(again).toEqual({ changed: false, record: erased.record });
  });

  it('a checkout delivered after erasure cannot bring the email back', () => {
    const erased = eraseMembership(applyMembershipEvent(null, checkout('evt_1', 'a@example.com')).record, now).record;
    for (const event of [checkout('evt_1', 'a@example.com'), checkout('evt_2', 'b@example.com')]) {
      const next = applyMembershipEvent(erased, event);
      expect(next.record.email).toBeNull();
      expect(next.changed).toBe(false);
    }
  });

  it('a record erased before any checkout arrives never takes an email', () => {
    const erased = eraseMembership(applyMembershipEvent(null, checkout('evt_0', null)).record, now).record;
    expect(applyMembershipEvent(erased, checkout('evt_1', 'a@example.com')).record.email).toBeNull();
  });
});
