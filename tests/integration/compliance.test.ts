import { describe, expect, it } from 'vitest';
import { stripeEvent } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { partition, runCompliance, sendNotices } from '../support/compliance';
import { bearer, subscribedMember, useStripeDouble } from '../support/shopper';

const api = useApi();
const stripe = useStripeDouble();
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);

type Address = { country: string; state?: string | null } | null;

/** A member who signed up through Stripe `daysAgo` days ago (a little more), from the given billing address. */
async function member(label: string, address: Address, options: { daysAgo?: number; interval?: 'month' | 'year' } = {}) {
  const memberId = uniqueMemberId(label);
  const email = `${memberId}@example.com`;
  const start = nowSeconds() - (options.daysAgo ?? 3) * DAY - 100;
  const signup = await subscribedMember(api, stripe(), {
    memberId,
    start,
    address,
    email,
    ...(options.interval ? { interval: options.interval } : {}),
  });
  return { memberId, email, start, ...signup };
}

const asShopper = async (memberId: string) => ({ key: null, headers: await bearer(memberId) });
const withdraw = async (memberId: string, body?: object) =>
  api.call('POST', '/v1/me/membership/withdraw', { ...(await asShopper(memberId)), ...(body ? { body } : {}) });
const cancel = async (memberId: string, body?: object) =>
  api.call('POST', '/v1/me/membership/cancel', { ...(await asShopper(memberId)), ...(body ? { body } : {}) });
const admin = async (memberId: string) =>
  (await (await api.call('GET', `/v1/admin/members/${memberId}`, { key: KEYS.admin })).json()) as Record<string, any>;

/** Stripe's webhook for the subscription as the double holds it now. */
async function deliver(subscriptionId: string, created = nowSeconds()) {
  const object = structuredClone(stripe().render(stripe().objects.get(subscriptionId)!));
  const res = await api.postEvent(stripeEvent('customer.subscription.updated', object, { created }));
  expect(res.status).toBe(200);
}

describe('jurisdiction per member', () => {
  it('comes from the checkout’s billing address (the latest fact wins) and shows in the admin view', async () => {
    const m = await member('jur-de', { country: 'de' });
    expect((await admin(m.memberId)).jurisdiction).toEqual({ country: 'DE', state: null, source: 'checkout', rules: 'DE' });
    // The member moves to California; the Stripe customer's address says so later.
    const customer = { object: 'customer', id: m.customer, address: { country: 'US', state: 'California' } };
    expect((await api.postEvent(stripeEvent('customer.updated', customer, { created: nowSeconds() }))).status).toBe(200);
    expect((await admin(m.memberId)).jurisdiction).toEqual({ country: 'US', state: 'CA', source: 'customer', rules: 'US-CA' });
    // An older checkout fact delivered late changes nothing.
    const stale = { object: 'customer', id: m.customer, address: { country: 'FR' } };
    await api.postEvent(stripeEvent('customer.updated', stale, { created: m.start + 10 }));
    expect((await admin(m.memberId)).jurisdiction.rules).toBe('US-CA');
    const texan = await member('jur-tx', { country: 'US', state: 'TX' });
    expect((await admin(texan.memberId)).jurisdiction).toMatchObject({ country: 'US', state: 'TX', rules: 'US' });
  });
});

describe('withdrawal (EU, UK)', () => {
  it('DE: within 14 days ends the membership at once, refunds the fee less the days served, and acknowledges with content, date and time', async () => {
    const m = await member('wd-de', { country: 'DE' });
    const res = await withdraw(m.memberId, { name: 'Erika Mustermann' });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    // 1499 paid for 30 days, 4 days begun (3 days and 100 s): 199 kept (rounded down), 1300 back.
    expect(body).toMatchObject({
      outcome: 'withdrawn',
      refund: { amountCents: 1300, currency: 'usd' },
      chargeForDaysServed: { amountCents: 199, currency: 'usd', daysServed: 4, daysInPeriod: 30 },
    });
    const refunds = stripe()
      .all('refund')
      .filter((r) => r.payment_intent === m.paymentIntent.id);
    expect(refunds.map((r) => [r.amount, r.metadata.policy])).toEqual([[1300, 'withdrawal']]);
    expect(stripe().objects.get(m.subscription)!.status).toBe('canceled');

    // A retry (a lost answer) answers the same and pays nothing twice.
    const again = await withdraw(m.memberId, { name: 'Erika Mustermann' });
    expect(await again.json()).toEqual(body);
    expect(
      stripe()
        .all('refund')
        .filter((r) => r.payment_intent === m.paymentIntent.id),
    ).toHaveLength(1);

    const [ack, ...others] = await sendNotices([m.memberId], new Date());
    expect(others).toEqual([]);
    expect(ack).toMatchObject({ kind: 'withdrawal_ack', to: m.email });
    expect(ack!.text).toContain('Erika Mustermann');
    expect(ack!.text).toContain(body.reference);
    expect(ack!.text).toMatch(/We received your withdrawal on \d{1,2} \w+ \d{4}, \d{2}:\d{2}:\d{2} UTC/);
    expect(ack!.text).toContain('$13.00');
    const items = await partition(m.memberId);
    const proof = items.find((i) => i.type === 'notification' && i.kind === 'withdrawal_ack')!;
    // Kept four years in Germany (§§ 195, 199 BGB), from the send.
    expect(proof.ttl - Math.floor(Date.parse(proof.sentAt) / 1000)).toBe((4 * 366 + 31) * DAY);
    expect(items.find((i) => i.type === 'declaration')).toMatchObject({
      kind: 'withdrawal',
      status: 'processed',
      name: 'Erika Mustermann',
    });
  });

  it('FR: an annual plan, 11 days begun of 365: the refund keeps 11/365 of the fee, rounded in the member’s favour', async () => {
    const m = await member('wd-fr', { country: 'FR' }, { daysAgo: 10, interval: 'year' });
    const paid = m.invoice.amount_paid as number;
    const kept = Math.floor((paid * 11) / 365);
    const res = await withdraw(m.memberId);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      refund: { amountCents: paid - kept, currency: 'usd' },
      chargeForDaysServed: { amountCents: kept, daysServed: 11, daysInPeriod: 365 },
    });
  });

  it('answers 409 outside the period (DE, day 20) and where the law has none (California), changing nothing', async () => {
    const late = await member('wd-late', { country: 'DE' }, { daysAgo: 20 });
    const res = await withdraw(late.memberId);
    expect(res.status).toBe(409);
    const problem = (await res.json()) as Record<string, any>;
    expect(problem.reason).toBe('withdrawal_period_over');
    expect(Date.parse(problem.withdrawalEndsAt)).toBeLessThan(Date.now());
    const ca = await member('wd-ca', { country: 'US', state: 'CA' });
    const refused = await withdraw(ca.memberId);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ reason: 'no_withdrawal_right', jurisdiction: 'US-CA' });
    for (const m of [late, ca]) {
      expect(stripe().objects.get(m.subscription)!.status).toBe('active');
      expect((await partition(m.memberId)).some((i) => i.type === 'declaration')).toBe(false);
    }
  });
});

describe('cancellation without login', () => {
  it('answers the same for a member’s address and an unknown one; the match is cancelled at period end and confirmed to its address', async () => {
    const m = await member('nl-de', { country: 'DE' });
    const post = (email: string) =>
      api.call('POST', '/v1/cancellations', {
        key: null,
        headers: { 'accept-language': 'de-DE,de;q=0.9' },
        body: { name: 'Erika Mustermann', email, memberId: undefined, type: 'extraordinary', reason: 'Umzug ins Ausland' },
      });
    const known = await post(` ${m.email.toUpperCase()} `);
    const unknown = await post(`nobody-${m.email}`);
    expect([known.status, unknown.status]).toEqual([202, 202]);
    const [a, b] = [(await known.json()) as Record<string, string>, (await unknown.json()) as Record<string, string>];
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    expect([a.status, b.status]).toEqual(['received', 'received']);
    // Nothing happened yet: the request path never touches a membership.
    expect(stripe().objects.get(m.subscription)!.cancel_at_period_end).toBe(false);

    const run = await runCompliance({ references: [a.reference!, b.reference!] }, new Date());
    expect(run.done).toEqual({ cancellation_request: 2 });
    const sub = stripe().objects.get(m.subscription)!;
    expect(sub.cancel_at_period_end).toBe(true);
    const declaration = (await partition(m.memberId)).find((i) => i.type === 'declaration')!;
    expect(declaration).toMatchObject({
      kind: 'cancellation',
      channel: 'no_login',
      cancellationType: 'extraordinary',
      reason: 'Umzug ins Ausland',
      receivedAt: a.receivedAt,
      status: 'processed',
    });
    const [confirmation] = await sendNotices([m.memberId], new Date());
    expect(confirmation).toMatchObject({ kind: 'cancellation_confirmation', to: m.email });
    expect(confirmation!.text).toContain('außerordentliche Kündigung');
    expect(confirmation!.text).toContain(a.reference);
    expect(confirmation!.text).toMatch(/endet am \d{1,2}\. \S+ \d{4}/);
    // The request items keep no name or address once matched (or not).
    const { dynamo } = await import('#shared/runtime/dynamo');
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    for (const ref of [a.reference, b.reference]) {
      const { Item } = await dynamo().doc.send(
        new GetCommand({ TableName: dynamo().tables.main, Key: { PK: `CANCELLATION#${ref}`, SK: `WORK#cancellation_request#${ref}` } }),
      );
      expect(Item).toMatchObject({ status: 'done' });
      expect(Item!.email).toBeUndefined();
      expect(Item!.name).toBeUndefined();
    }
  });

  it('rate-limits per address with 429 and Retry-After, and validates what it is given', async () => {
    const email = `limited-${uniqueMemberId('x')}@example.com`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await api.call('POST', '/v1/cancellations', { key: null, body: { name: 'Max', email } });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    const bad = await api.call('POST', '/v1/cancellations', { key: null, body: { name: ' ', email: 'not-an-address', extra: 1 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).errors.map((e: any) => e.path).sort()).toEqual(['/body', '/body/email', '/body/name']);
  });
});

describe('save offers', () => {
  it('California: the cancel is done and carries one offer; taking it resumes with the coupon; cancelling again works; churn is recorded after 90 days', async () => {
    const m = await member('so-ca', { country: 'US', state: 'CA' });
    const res = await cancel(m.memberId);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.outcome).toBe('cancel_at_period_end');
    expect(body.saveOffer).toMatchObject({ percentOff: 50, durationInMonths: 1 });
    // Finance finds a month's offers without a Scan.
    const { saveOfferStore } = await import('#shared/runtime/compliance');
    const month = new Date().toISOString().slice(0, 7);
    expect((await saveOfferStore().offersOfMonth(month)).map((o) => o.offerId)).toContain(body.saveOffer.offerId);
    expect(stripe().objects.get(m.subscription)!.cancel_at_period_end).toBe(true);

    const accepted = await api.call('POST', body.saveOffer.acceptPath, await asShopper(m.memberId));
    expect(accepted.status).toBe(200);
    const acceptance = (await accepted.json()) as Record<string, any>;
    expect(acceptance).toMatchObject({ outcome: 'accepted', discount: { percentOff: 50, durationInMonths: 1 } });
    const sub = stripe().objects.get(m.subscription)!;
    expect(sub.cancel_at_period_end).toBe(false);
    expect(sub._coupons).toEqual(['membership-save-50pct-1m']);
    expect(stripe().objects.get('membership-save-50pct-1m')).toMatchObject({
      percent_off: 50,
      duration: 'repeating',
      duration_in_months: 1,
    });
    // Taking it again answers the same, and asks Stripe for nothing new.
    expect(await (await api.call('POST', body.saveOffer.acceptPath, await asShopper(m.memberId))).json()).toEqual(acceptance);

    // A later cancel is never blocked; no second offer within a year.
    const again = await cancel(m.memberId);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ outcome: 'cancel_at_period_end', saveOffer: null });
    await deliver(m.subscription);
    const acceptedAt = Date.parse(acceptance.acceptedAt);
    expect((await runCompliance({ members: [m.memberId] }, new Date(acceptedAt + 30 * DAY * 1000))).read).toBe(0);
    const followUp = await runCompliance({ members: [m.memberId] }, new Date(acceptedAt + 91 * DAY * 1000));
    expect(followUp.done).toEqual({ save_offer_followup: 1 });
    const items = await partition(m.memberId);
    expect(
      items
        .filter((i) => i.type.startsWith('save-offer'))
        .map((i) => i.type)
        .sort(),
    ).toEqual(['save-offer', 'save-offer-acceptance', 'save-offer-outcome']);
    expect(items.find((i) => i.type === 'save-offer-outcome')).toMatchObject({ churned: true });
  });

  it('Minnesota: only when the member asked to hear one; Germany: never; Texas (US baseline): yes', async () => {
    const mn = await member('so-mn', { country: 'US', state: 'MN' });
    expect(await (await cancel(mn.memberId)).json()).toMatchObject({ outcome: 'cancel_at_period_end', saveOffer: null });
    expect((await api.call('POST', '/v1/me/membership/resume', await asShopper(mn.memberId))).status).toBe(200);
    expect(((await (await cancel(mn.memberId, { hearOffers: true })).json()) as any).saveOffer).not.toBeNull();

    const de = await member('so-de', { country: 'DE' });
    expect(await (await cancel(de.memberId, { hearOffers: true })).json()).toMatchObject({ saveOffer: null });
    const tx = await member('so-tx', { country: 'US', state: 'TX' });
    expect(((await (await cancel(tx.memberId)).json()) as any).saveOffer).toMatchObject({ percentOff: 50 });
    expect((await partition(de.memberId)).some((i) => i.type === 'save-offer')).toBe(false);
  });

  it('an unknown offer is a 404, an expired one a 409', async () => {
    const m = await member('so-exp', { country: 'US', state: 'CA' });
    const offer = ((await (await cancel(m.memberId)).json()) as any).saveOffer;
    const unknown = await api.call('POST', '/v1/me/membership/save-offers/OFR-AAAA-BBBB-CCCC/accept', await asShopper(m.memberId));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ reason: 'unknown_offer' });
    const { dynamo } = await import('#shared/runtime/dynamo');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await dynamo().doc.send(
      new UpdateCommand({
        TableName: dynamo().tables.main,
        Key: { PK: `MEMBER#${m.memberId}`, SK: `SAVEOFFER#${offer.offerId}` },
        UpdateExpression: 'SET expiresAt = :past',
        ExpressionAttributeValues: { ':past': new Date(Date.now() - 1000).toISOString() },
      }),
    );
    const expired = await api.call('POST', offer.acceptPath, await asShopper(m.memberId));
    expect(expired.status).toBe(409);
    expect(await expired.json()).toMatchObject({ reason: 'offer_expired' });
    expect(stripe().objects.get(m.subscription)!.cancel_at_period_end).toBe(true);
  });
});
