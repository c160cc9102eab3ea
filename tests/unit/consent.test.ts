import { describe, expect, it } from 'vitest';
import { emptyMembership, type MembershipEvent } from '#shared/domain/membership';
import { type ConsentRecord, consentHistory } from '#shared/domain/shopper';
import { consentAcceptanceReaction } from '#shared/usecases/consent-acceptance';
import { projectCatalog } from '../support/domain';

const catalog = projectCatalog();
const react = consentAcceptanceReaction('main-table');
const completed: MembershipEvent = {
  kind: 'checkout-completed',
  eventId: 'evt_1',
  created: 1_790_000_000,
  memberId: 'm-1',
  customerId: 'cus_1',
  subscriptionId: 'sub_1',
  checkoutSessionId: 'cs_1',
};
const change = (event: MembershipEvent, before = emptyMembership('m-1')) => ({
  before,
  after: { ...before, checkoutSessionId: 'cs_1' },
  event,
  now: new Date(),
  catalog,
});

describe('consentAcceptanceReaction', () => {
  it('writes the acceptance of a completed session with no condition, so it can never fail the membership change', () => {
    const [write, ...more] = react(change(completed));
    expect(more).toEqual([]);
    expect(write!.Update).toMatchObject({
      TableName: 'main-table',
      Key: { PK: 'MEMBER#m-1', SK: 'CONSENT_ACCEPTED#cs_1' },
      ExpressionAttributeValues: { ':at': new Date(1_790_000_000_000).toISOString(), ':s': 'cs_1', ':e': 'evt_1' },
    });
    expect(write!.Update!.ConditionExpression).toBeUndefined();
    // A repeat keeps the first acceptance time.
    expect(write!.Update!.UpdateExpression).toContain('acceptedAt = if_not_exists(acceptedAt, :at)');
  });

  it('writes nothing for other events, nor for a completion the record already holds (a redelivery)', () => {
    const paid: MembershipEvent = {
      kind: 'invoice-paid',
      eventId: 'e',
      created: 1,
      memberId: 'm-1',
      customerId: 'cus_1',
      subscriptionId: 'sub_1',
      invoiceId: 'in_1',
      billingReason: null,
    };
    expect(react(change(paid))).toEqual([]);
    expect(react(change(completed, { ...emptyMembership('m-1'), checkoutSessionId: 'cs_1' }))).toEqual([]);
    // A later checkout (re-subscribing) is another session: recorded.
    expect(
      react(change({ ...completed, checkoutSessionId: 'cs_2' }, { ...emptyMembership('m-1'), checkoutSessionId: 'cs_1' })),
    ).toHaveLength(1);
  });
});

describe('consentHistory', () => {
  const presented = (id: string) => ({ memberId: 'm-1', checkoutSessionId: id, presentedAt: '2026-11-01T00:00:00.000Z' }) as ConsentRecord;
  it('marks each presentation accepted or only presented, and lists completions we never presented', () => {
    const accepted = [
      { memberId: 'm-1', checkoutSessionId: 'cs_a', acceptedAt: '2026-11-01T00:05:00.000Z', eventId: 'evt_a' },
      { memberId: 'm-1', checkoutSessionId: 'cs_elsewhere', acceptedAt: '2026-11-02T00:00:00.000Z', eventId: 'evt_b' },
    ];
    const history = consentHistory([presented('cs_a'), presented('cs_b')], accepted);
    expect(history.consents.map((c) => [c.checkoutSessionId, c.status, c.acceptedAt])).toEqual([
      ['cs_a', 'accepted', '2026-11-01T00:05:00.000Z'],
      ['cs_b', 'presented', null],
    ]);
    expect(history.completedWithoutConsent).toEqual([accepted[1]]);
  });
});
