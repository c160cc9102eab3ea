import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { dynamo } from '#shared/runtime/dynamo';
import { keys } from '#shared/storage/keys';
import { invoiceObject, signPayload, signupEvents, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';
import { uniqueMemberId, useApi } from '../support/api';
import { checkedFetch } from '../support/api-contract';

const api = useApi();
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function storedMembership(memberId: string) {
  const { doc, tables } = dynamo();
  const out = await doc.send(
    new GetCommand({ TableName: tables.main, Key: { PK: keys.memberPk(memberId), SK: keys.membershipSk }, ConsistentRead: true }),
  );
  return out.Item;
}

async function itemCountFor(memberId: string) {
  const { doc, tables } = dynamo();
  const out = await doc.send(
    new ScanCommand({
      TableName: tables.main,
      FilterExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.memberPk(memberId) },
    }),
  );
  return out.Items?.length ?? 0;
}

describe('POST /webhooks/stripe: verification', () => {
  it('rejects a missing, invalid or expired signature with 400 problem+json and stores nothing', async () => {
    const memberId = uniqueMemberId('sig');
    const { events } = signupEvents({ memberId, start: nowSeconds() - DAY });
    const event = events[1]!;
    const payload = JSON.stringify(event);
    const attempts = [
      await checkedFetch(api.url('/webhooks/stripe'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload }),
      await api.postEvent(event, { secret: 'whsec_someone_elses_secret' }),
      await api.postEvent(event, { timestamp: nowSeconds() - 3600 }),
      await api.postEvent(event, { signature: 't=123,v1=deadbeef' }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const body = await res.json();
      expect(body).toMatchObject({ status: 400, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts|whsec_/);
    }
    expect(await itemCountFor(memberId)).toBe(0);
  });

  it('rejects a body that was altered after signing', async () => {
    const memberId = uniqueMemberId('tamper');
    const event = signupEvents({ memberId, start: nowSeconds() }).events[1]!;
    const signature = signPayload(JSON.stringify(event), process.env.STRIPE_WEBHOOK_SECRET!);
    const res = await checkedFetch(api.url('/webhooks/stripe'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: JSON.stringify({ ...event, created: event.created + 1 }),
    });
    expect(res.status).toBe(400);
    expect(await itemCountFor(memberId)).toBe(0);
  });

  it('rejects signed malformed JSON and signed non-events with 400', async () => {
    const malformed = '{"id": "evt_1", ';
    const res1 = await checkedFetch(api.url('/webhooks/stripe'), {
      method: 'POST',
      headers: { 'stripe-signature': signPayload(malformed, process.env.STRIPE_WEBHOOK_SECRET!) },
      body: malformed,
    });
    expect(res1.status).toBe(400);
    // Told apart from a bad signature, and the parser's message (which quotes the body) is not echoed.
    expect(await res1.json()).toMatchObject({ status: 400, detail: 'The payload is not valid JSON.' });
    const res2 = await api.postEvent({ id: 'evt_x', object: 'event', type: 'customer.subscription.updated' });
    expect(res2.status).toBe(400);
    expect(((await res2.json()) as any).errors.length).toBeGreaterThan(0);
  });

  it('rejects a body over 256 KiB with 413', async () => {
    const res = await api.postEvent({ padding: 'x'.repeat(300 * 1024) });
    expect(res.status).toBe(413);
  });

  it('answers 200 for a verified event of a type it ignores', async () => {
    const res = await api.postEvent(stripeEvent('customer.created', { id: 'cus_123', object: 'customer' }, { created: nowSeconds() }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true });
  });
});

describe('POST /webhooks/stripe: membership state', () => {
  it('turns a checkout into an entitled membership', async () => {
    const memberId = uniqueMemberId('signup');
    const { events, periodEnd } = signupEvents({ memberId, start: nowSeconds() - DAY });
    for (const event of events) expect((await api.postEvent(event)).status).toBe(200);
    const ent = await api.entitlement(memberId, { subtotalCents: 4200, currency: 'usd', serviceLevel: 'two-day' });
    expect(ent).toMatchObject({
      memberId,
      entitled: true,
      status: 'active',
      planId: 'prime-monthly',
      currentPeriodEnd: new Date(periodEnd * 1000).toISOString(),
      graceEndsAt: null,
      benefits: { freeShipping: { eligible: true, serviceLevels: ['standard', 'two-day'], reason: null }, memberDiscountBps: 0 },
    });
    const next = await api.entitlement(memberId, { subtotalCents: 4200, currency: 'usd', serviceLevel: 'next-day' });
    expect(next.benefits.freeShipping).toEqual({
      eligible: false,
      serviceLevels: ['standard', 'two-day'],
      reason: 'service_level_not_covered',
    });
  });

  it('links the member through the customer when an invoice carries no memberId', async () => {
    const memberId = uniqueMemberId('link');
    const start = nowSeconds() - 40 * DAY;
    const { events, customer, subscription } = signupEvents({ memberId, start });
    for (const event of events) await api.postEvent(event);
    const failed = invoiceObject({
      customer,
      subscription,
      memberId: null,
      periodStart: start + 30 * DAY,
      periodEnd: start + 60 * DAY,
      status: 'open',
    });
    expect((await api.postEvent(stripeEvent('invoice.payment_failed', failed, { created: nowSeconds() - DAY }))).status).toBe(200);
    expect((await api.entitlement(memberId)).status).toBe('grace');
  });

  it('applies an invoice carrying our memberId before anything else arrived; ignores Stripe objects that are not memberships', async () => {
    const memberId = uniqueMemberId('attrib');
    const start = nowSeconds() - 40 * DAY;
    const { events, customer, subscription } = signupEvents({ memberId, start });
    // Subscription metadata (frozen on the invoice) names the member: no customer link needed.
    const early = stripeEvent(
      'invoice.payment_failed',
      invoiceObject({ customer, subscription, memberId, periodStart: start + 30 * DAY, periodEnd: start + 60 * DAY, status: 'open' }),
      { created: nowSeconds() - DAY },
    );
    expect((await api.postEvent(early)).status).toBe(200);
    for (const event of events) await api.postEvent(event);
    expect((await api.entitlement(memberId)).status).toBe('grace');
    const before = await storedMembership(memberId);

    // The same member's other subscription (not a catalog price, no memberId) and its invoice: another
    // product sold on the account. Neither may touch the membership (the paid invoice would otherwise
    // end the grace that the membership's failed renewal started).
    const otherSub = `sub_other_${memberId.replace(/\W/g, '')}`;
    const foreign = [
      stripeEvent(
        'customer.subscription.created',
        subscriptionObject({ id: otherSub, customer, memberId: null, periodStart: start, priceId: 'price_wine_club_usd' }),
        { created: nowSeconds() - 60 },
      ),
      stripeEvent(
        'invoice.paid',
        invoiceObject({
          customer,
          subscription: otherSub,
          memberId: null,
          priceId: 'price_wine_club_usd',
          billingReason: 'subscription_cycle',
          periodStart: nowSeconds() - 60,
          periodEnd: nowSeconds() + 30 * DAY,
        }),
        { created: nowSeconds() - 30 },
      ),
    ];
    for (const event of foreign) expect((await api.postEvent(event)).status).toBe(200);
    expect(await storedMembership(memberId)).toEqual(before);
    expect((await api.entitlement(memberId)).status).toBe('grace');

    // An invoice of a customer linked to no member, without our memberId: not a membership. 200 (no
    // retries, no alarm), nothing stored.
    const stranger = uniqueMemberId('stranger');
    const strangerInvoice = invoiceObject({
      customer: `cus_${stranger.replace(/\W/g, '')}`,
      subscription: `sub_${stranger.replace(/\W/g, '')}`,
      memberId: null,
      periodStart: start,
      periodEnd: start + 30 * DAY,
      status: 'open',
    });
    expect((await api.postEvent(stripeEvent('invoice.payment_failed', strangerInvoice, { created: nowSeconds() }))).status).toBe(200);
    expect(await itemCountFor(stranger)).toBe(0);
  });

  it('processes the same event delivered twice, or 20 times at once, with one effect', async () => {
    const memberId = uniqueMemberId('dupe');
    const { events } = signupEvents({ memberId, start: nowSeconds() - DAY });
    const created = events[1]!;
    const results = await Promise.all(Array.from({ length: 20 }, () => api.postEvent(created)));
    // Deliveries racing the first one wait for its outcome and answer like any duplicate.
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const afterBurst = await storedMembership(memberId);
    expect(afterBurst?.rev).toBe(1);
    expect((await api.postEvent(created)).status).toBe(200);
    expect((await storedMembership(memberId))?.rev).toBe(1);
  });

  it('ends in the same state whatever the delivery order', async () => {
    const start = nowSeconds() - 35 * DAY;
    const build = (memberId: string) => {
      const tag = memberId.replace(/\W/g, '');
      const customer = `cus_order_${tag}`;
      const subscription = `sub_order_${tag}`;
      const common = { id: subscription, customer, memberId, startDate: start };
      return [
        stripeEvent('customer.subscription.created', subscriptionObject({ ...common, periodStart: start }), {
          created: start,
          id: `evt_a_${tag}`,
        }),
        stripeEvent(
          'invoice.paid',
          invoiceObject({
            customer,
            subscription,
            memberId,
            billingReason: 'subscription_create',
            periodStart: start,
            periodEnd: start + 30 * DAY,
          }),
          { created: start + 1, id: `evt_b_${tag}` },
        ),
        stripeEvent('customer.subscription.updated', subscriptionObject({ ...common, periodStart: start + 30 * DAY }), {
          created: start + 30 * DAY,
          id: `evt_c_${tag}`,
        }),
        stripeEvent(
          'customer.subscription.updated',
          subscriptionObject({ ...common, periodStart: start + 30 * DAY, cancelAtPeriodEnd: true }),
          { created: start + 31 * DAY, id: `evt_d_${tag}` },
        ),
      ];
    };
    const inOrder = uniqueMemberId('ordered');
    const reversed = uniqueMemberId('reversed');
    const shuffled = uniqueMemberId('shuffled');
    for (const e of build(inOrder)) expect((await api.postEvent(e)).status).toBe(200);
    for (const e of build(reversed).reverse()) await api.postEvent(e);
    const s = build(shuffled);
    for (const e of [s[2], s[0], s[3], s[1]]) await api.postEvent(e!);
    // Grant codes are random per member; everything else, validity dates included, must not depend on the order.
    const withoutCodes = (list: Array<Record<string, unknown>>) => list.map((g) => JSON.stringify({ ...g, code: undefined })).sort();
    const strip = (ent: Record<string, any>) => ({
      ...ent,
      memberId: undefined,
      benefits: {
        ...ent.benefits,
        coupons: withoutCodes(ent.benefits.coupons),
        shippingVouchers: withoutCodes(ent.benefits.shippingVouchers),
      },
    });
    const expected = await api.entitlement(inOrder);
    expect(expected.status).toBe('canceling');
    // The signup coupon dates from the subscription's start, not from whichever snapshot came first.
    const welcome = expected.benefits.coupons.find((c: any) => c.amountOffCents === 1000);
    expect(welcome).toMatchObject({ expiresAt: new Date((start + 30 * DAY) * 1000).toISOString(), applicable: false });
    expect(strip(await api.entitlement(reversed))).toEqual(strip(expected));
    expect(strip(await api.entitlement(shuffled))).toEqual(strip(expected));
  });

  it('answers 5xx when DynamoDB fails mid-way, and the redelivery completes the work exactly once', async () => {
    const memberId = uniqueMemberId('crash');
    const { events } = signupEvents({ memberId, start: nowSeconds() - DAY });
    const { doc } = dynamo();
    const original = doc.send.bind(doc);
    const spy = vi.spyOn(doc, 'send').mockImplementation(async (command: any, ...rest: any[]) => {
      if (command?.constructor?.name === 'TransactWriteCommand') {
        throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable', $fault: 'server' });
      }
      return (original as any)(command, ...rest);
    });
    try {
      const res = await api.postEvent(events[1]!);
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await storedMembership(memberId)).toBeUndefined();
    } finally {
      spy.mockRestore();
    }
    expect((await api.postEvent(events[1]!)).status).toBe(200);
    expect((await api.postEvent(events[1]!)).status).toBe(200);
    expect(await storedMembership(memberId)).toMatchObject({ rev: 1 });
    expect((await api.entitlement(memberId)).status).toBe('active');
  });

  it('refuses, with a retryable 5xx and nothing stored, events it cannot read correctly', async () => {
    const memberId = uniqueMemberId('version');
    const { events } = signupEvents({ memberId, start: nowSeconds() });
    const oldVersion = { ...events[1]!, api_version: '2024-06-20' };
    const res1 = await api.postEvent(oldVersion);
    expect(res1.status).toBe(500);
    const sub = structuredClone(events[1]!);
    delete sub.data.object.items.data[0].current_period_end; // a pre-basil shape: period not on items
    const res2 = await api.postEvent({ ...sub, id: `evt_badshape_${memberId.replace(/\W/g, '')}` });
    expect(res2.status).toBe(500);
    expect(await storedMembership(memberId)).toBeUndefined();
    // After the fix (here: the right payload) Stripe's retry goes through.
    expect((await api.postEvent(events[1]!)).status).toBe(200);
  });
});
