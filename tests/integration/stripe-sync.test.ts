import { randomBytes } from 'node:crypto';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dynamo, ledgerRepository, membershipRepository } from '#shared/runtime/dynamo';
import { STRIPE_API_VERSION } from '#shared/stripe/api-version';
import { handler as reconcileJob } from '../../functions/jobs/reconcile';
import { handler as syncJob } from '../../functions/jobs/stripe-sync';
import { checkoutSessionObject, invoiceObject, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { asFunction } from '../support/iam-recorder';
import { captureOutput } from '../support/output';
import { bearer, subscribedMember } from '../support/shopper';
import { StripeDouble } from '../support/stripe-double';

const api = useApi();
const lines = captureOutput('INFO');
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);
let double: StripeDouble;

// A double per test (its own key, so the job's Stripe client follows it) and a sync state from scratch.
beforeEach(async () => {
  double = await StripeDouble.start(`sk_test_double_${randomBytes(8).toString('hex')}`);
  double.price({ id: 'price_prime_monthly_usd', unitAmount: 1499, interval: 'month' });
  double.price({ id: 'price_prime_annual_usd', unitAmount: 13900, interval: 'year' });
  double.webhook.url = api.url('/webhooks/stripe');
  process.env.STRIPE_SECRET_KEY = double.apiKey;
  process.env.STRIPE_API_BASE = double.url;
  const { doc, tables } = dynamo();
  for (const SK of ['EVENT_CURSOR', 'SWEEP', 'LEASE'])
    await doc.send(new DeleteCommand({ TableName: tables.main, Key: { PK: 'STRIPE_SYNC', SK } }));
});
afterEach(async () => {
  delete process.env.STRIPE_SECRET_KEY;
  delete process.env.STRIPE_API_BASE;
  await double.close();
});

/** The job as EventBridge runs it, a few minutes ahead so that the events just made are settled. */
const runSync = (sweep: 'skip' | 'now' | 'due' = 'skip') =>
  asFunction('stripe-sync', () => syncJob({ asOf: new Date(Date.now() + 10 * 60_000).toISOString(), sweep }));

async function checkout(memberId: string) {
  const res = await api.call('POST', '/v1/me/checkout-session', {
    key: null,
    headers: await bearer(memberId),
    body: { planId: 'prime-monthly', successUrl: 'https://shop.example/welcome', cancelUrl: 'https://shop.example/membership' },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { checkoutSessionId: string; trialDays: number };
}

/**
 * A returning member (an ended subscription in Stripe, so no second trial) with an open Checkout
 * Session: paying it makes a real first payment.
 */
async function returningMemberCheckout(memberId: string) {
  const first = await checkout(memberId);
  const customer = double.get('checkout.session', first.checkoutSessionId).customer as string;
  const start = nowSeconds() - 90 * DAY;
  const ended = subscriptionObject({
    customer,
    memberId,
    status: 'canceled',
    periodStart: start,
    canceledAt: start + 30 * DAY,
    endedAt: start + 30 * DAY,
  });
  double.put<Record<string, any>>({ ...ended, created: start });
  const second = await checkout(memberId);
  expect(second.trialDays).toBe(0);
  return { customer, checkoutSessionId: second.checkoutSessionId };
}

async function paidCheckout(memberId: string) {
  const { customer, checkoutSessionId } = await returningMemberCheckout(memberId);
  return { customer, ...double.completeCheckoutSession(checkoutSessionId) };
}

const stored = async (memberId: string) => (await membershipRepository().getMembership(memberId))?.record ?? null;
const processedLogs = () =>
  lines.flatMap((l) => {
    const parsed = JSON.parse(l) as Record<string, unknown>;
    return parsed.message === 'stripe event processed' ? [parsed] : [];
  });
async function findings(memberId?: string) {
  const res = await api.call('GET', '/v1/admin/drift?limit=500', { key: KEYS.admin });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { checkedAt: string | null; items: Array<Record<string, any>> };
  return { ...body, items: memberId === undefined ? body.items : body.items.filter((i) => i.memberId === memberId) };
}

describe('stripe-sync: event replay', () => {
  it('with webhooks down, makes the member entitled and the ledger complete; a second run applies nothing; the late webhook is a duplicate', async () => {
    const memberId = uniqueMemberId('replay');
    double.webhook.mode = 'hold';
    const { subscription, invoice } = await paidCheckout(memberId);
    expect(double.heldEvents.map((e) => e.type)).toEqual([
      'customer.subscription.created',
      'invoice.paid',
      'invoice_payment.paid',
      'checkout.session.completed',
    ]);
    expect((await api.entitlement(memberId)).entitled).toBe(false);

    const first = await runSync();
    expect(first.replay).toMatchObject({ replayed: 4, duplicates: 0, stoppedBy: null, caughtUp: true });
    expect(await api.entitlement(memberId)).toMatchObject({ entitled: true, status: 'active', planId: 'prime-monthly' });
    expect((await stored(memberId))!.subscriptionId).toBe(subscription.id);
    const ledger = ledgerRepository();
    expect((await ledger.invoices([invoice.id])).get(invoice.id)).toMatchObject({ kind: 'invoice_paid', amountCents: 1499 });
    const paymentIntent = (double.get('invoice', invoice.id)._payments as any[])[0].payment.payment_intent;
    expect((await ledger.paymentLinks([paymentIntent])).get(paymentIntent)).toBe(invoice.id);

    const second = await runSync();
    expect(second.replay).toMatchObject({ listed: 0, replayed: 0, stoppedBy: null });

    // Stripe's retries arrive after all: each is answered 200 from the shared idempotency record.
    lines.length = 0;
    expect(await double.releaseHeldEvents()).toBe(4);
    expect(double.deliveries.map((d) => d.status)).toEqual([200, 200, 200, 200]);
    expect(processedLogs().map((l) => l.duplicate)).toEqual([true, true, true, true]);
    expect((await ledger.invoices([invoice.id])).size).toBe(1);
  });

  it('an event the webhook applied is a duplicate for the replay', async () => {
    const memberId = uniqueMemberId('webhook-first');
    await paidCheckout(memberId);
    await double.deliveriesSettled();
    expect(double.deliveries.map((d) => d.status)).toEqual([200, 200, 200, 200]);
    expect((await api.entitlement(memberId)).entitled).toBe(true);
    const result = await runSync();
    expect(result.replay).toMatchObject({ listed: 4, replayed: 0, duplicates: 4 });
  });

  it('backs off on a Stripe rate limit without moving the cursor, and the next run catches up', async () => {
    const memberId = uniqueMemberId('busy');
    double.webhook.mode = 'hold';
    await paidCheckout(memberId);
    double.fail({ method: 'GET', path: '/v1/events' }, { kind: 'status', status: 429 });
    const busy = await runSync();
    expect(busy.replay).toMatchObject({ stoppedBy: 'stripe_busy', replayed: 0, caughtUp: false });
    expect((await api.entitlement(memberId)).entitled).toBe(false);
    const next = await runSync();
    expect(next.replay).toMatchObject({ stoppedBy: null, replayed: 4, caughtUp: true });
    expect((await api.entitlement(memberId)).entitled).toBe(true);
  });

  it('stops before its deadline, leaving the cursor and the sweep where they were, and the next run carries on', async () => {
    const memberId = uniqueMemberId('deadline');
    double.webhook.mode = 'hold';
    await paidCheckout(memberId);
    // The Lambda's clock: plenty of time for the first few looks, then under a minute left.
    let looks = 0;
    const almostOut = { getRemainingTimeInMillis: () => (looks++ < 4 ? 600_000 : 30_000) };
    const asOf = new Date(Date.now() + 10 * 60_000).toISOString();
    const cut = await syncJob({ asOf, sweep: 'now' }, almostOut);
    expect(cut.replay).toMatchObject({ stoppedBy: 'deadline', caughtUp: false });
    expect(cut.sweep).toMatchObject({ stoppedBy: 'deadline' });
    const rest = await syncJob({ asOf, sweep: 'due' });
    expect(rest.replay).toMatchObject({ stoppedBy: null, caughtUp: true });
    expect(cut.replay!.replayed + rest.replay!.replayed).toBe(4);
    expect(rest.sweep).toMatchObject({ phase: 'done', stoppedBy: null });
    expect((await api.entitlement(memberId)).entitled).toBe(true);
  });

  it('stops at an event it cannot apply, fails the run, and resumes there once the cause is gone', async () => {
    const memberId = uniqueMemberId('stuck');
    double.webhook.mode = 'hold';
    await paidCheckout(memberId);
    const created = double.all('event').find((e) => e.type === 'customer.subscription.created')!;
    created.api_version = '2024-06-20';
    await expect(runSync()).rejects.toThrow(/could not apply.*customer\.subscription\.created/);
    // The endpoint's version fixed (the event as Stripe renders it now): the next run applies it.
    created.api_version = STRIPE_API_VERSION;
    const resumed = await runSync();
    expect(resumed.replay).toMatchObject({ stoppedBy: null, caughtUp: true });
    expect(resumed.replay!.replayed + resumed.replay!.duplicates).toBeGreaterThanOrEqual(1);
    expect((await api.entitlement(memberId)).entitled).toBe(true);
  });
});

describe('stripe-sync: drift sweep', () => {
  it('finds a subscription canceled in Stripe whose events are gone: the member reads lapsed, the repair is listed', async () => {
    const memberId = uniqueMemberId('gone');
    const { subscription } = await subscribedMember(api, double, { memberId, start: nowSeconds() - 10 * DAY });
    expect((await api.entitlement(memberId)).status).toBe('active');
    const ended = nowSeconds() - 2 * DAY;
    Object.assign(double.get('subscription', subscription), { status: 'canceled', canceled_at: ended, ended_at: ended });

    const result = await runSync('now');
    expect(result.sweep).toMatchObject({ phase: 'done', repairedNow: 1, needsReviewNow: 0 });
    expect(await api.entitlement(memberId)).toMatchObject({ entitled: false, status: 'lapsed' });
    const { checkedAt, items } = await findings(memberId);
    expect(checkedAt).not.toBeNull();
    expect(items).toEqual([
      expect.objectContaining({
        memberId,
        kind: 'subscription_state',
        action: 'repaired',
        subject: subscription,
        source: 'sweep',
        stripe: expect.objectContaining({ status: 'canceled' }),
        stored: expect.objectContaining({ status: 'active' }),
      }),
    ]);
    // In step now: the next sweep finds nothing.
    expect((await runSync('now')).sweep).toMatchObject({ repairedNow: 0, needsReviewNow: 0 });
  });

  it('never rolls a newer stored state back to an older fetched object', async () => {
    const memberId = uniqueMemberId('newer');
    const start = nowSeconds() - 10 * DAY;
    const { subscription, customer } = await subscribedMember(api, double, { memberId, start });
    // The member cancelled a minute ago; Stripe's list (the double) still shows the state before.
    const canceling = subscriptionObject({ id: subscription, customer, memberId, periodStart: start, cancelAtPeriodEnd: true });
    expect((await api.postEvent(stripeEvent('customer.subscription.updated', canceling, { created: nowSeconds() - 60 }))).status).toBe(200);
    expect((await api.entitlement(memberId)).status).toBe('canceling');
    const before = await stored(memberId);

    const result = await runSync('now');
    expect(result.sweep).toMatchObject({ repairedNow: 0 });
    expect((await api.entitlement(memberId)).status).toBe('canceling');
    expect(await stored(memberId)).toEqual(before);
    expect((await findings(memberId)).items).toEqual([]);
  });

  it('lists ambiguous cases as needs_review and changes nothing: a paying subscription of no member, a second live one', async () => {
    const memberId = uniqueMemberId('ambiguous');
    const { customer } = await subscribedMember(api, double, { memberId, start: nowSeconds() - 10 * DAY });
    const second = double.put<Record<string, any>>({
      ...subscriptionObject({ customer, memberId, periodStart: nowSeconds() - DAY }),
      created: nowSeconds() - DAY,
    });
    const orphan = double.put(
      subscriptionObject({ customer: `cus_nobody_${randomBytes(4).toString('hex')}`, memberId: null, periodStart: nowSeconds() - DAY }),
    );
    const before = await stored(memberId);

    const result = await runSync('now');
    expect(result.sweep).toMatchObject({ repairedNow: 0, needsReviewNow: 2 });
    expect(await stored(memberId)).toEqual(before);
    expect(await membershipRepository().findMemberIdByCustomer(orphan.customer)).toBeNull();
    const { items } = await findings();
    expect(items.filter((i) => i.subject === second.id)).toEqual([
      expect.objectContaining({ memberId, kind: 'multiple_live_subscriptions', action: 'needs_review' }),
    ]);
    expect(items.filter((i) => i.subject === orphan.id)).toEqual([
      expect.objectContaining({ memberId: null, kind: 'unknown_member', action: 'needs_review' }),
    ]);
  });

  it('records a paid invoice the ledger and the membership never saw, through the same ingestion', async () => {
    const memberId = uniqueMemberId('invoice');
    // The renewal was paid yesterday: within the days of paid invoices the sweep lists.
    const start = nowSeconds() - 31 * DAY;
    const { customer, subscription, periodEnd } = await subscribedMember(api, double, { memberId, start });
    const renewal = invoiceObject({
      customer,
      subscription,
      memberId,
      periodStart: periodEnd,
      periodEnd: periodEnd + 30 * DAY,
      created: periodEnd,
    });
    double.paidInvoice(renewal);
    Object.assign(double.get('subscription', subscription), {
      items: {
        ...double.get('subscription', subscription).items,
        data: [
          {
            ...double.get('subscription', subscription).items.data[0],
            current_period_start: periodEnd,
            current_period_end: periodEnd + 30 * DAY,
          },
        ],
      },
    });

    const result = await runSync('now');
    expect(result.sweep!.repairedNow).toBeGreaterThanOrEqual(2);
    expect((await ledgerRepository().invoices([renewal.id])).has(renewal.id)).toBe(true);
    expect(await api.entitlement(memberId)).toMatchObject({
      entitled: true,
      currentPeriodEnd: new Date((periodEnd + 30 * DAY) * 1000).toISOString(),
    });
    expect((await findings(memberId)).items.map((i) => i.kind).sort()).toEqual(['invoice_not_recorded', 'subscription_state']);
  });
});

describe('binding rules at the webhook', () => {
  it('a Payment Link checkout naming alice leaves her email, customer and entitlement alone, and is listed', async () => {
    const alice = uniqueMemberId('alice');
    await subscribedMember(api, double, { memberId: alice, start: nowSeconds() - 5 * DAY });
    const session = checkoutSessionObject({ memberId: alice, customer: 'cus_x', subscription: 'sub_x' });
    // Payment Links take client_reference_id from their URL; the buyer cannot set metadata.
    const eve = { customer: `cus_eve${randomBytes(4).toString('hex')}`, subscription: `sub_eve${randomBytes(4).toString('hex')}` };
    const events = [
      stripeEvent(
        'checkout.session.completed',
        { ...session, ...eve, metadata: {}, client_reference_id: alice, customer_details: { email: 'eve@example.com' } },
        { created: nowSeconds() },
      ),
      stripeEvent(
        'customer.subscription.created',
        subscriptionObject({ id: eve.subscription, customer: eve.customer, memberId: null, periodStart: nowSeconds() }),
        {
          created: nowSeconds(),
        },
      ),
      stripeEvent(
        'invoice.paid',
        invoiceObject({
          customer: eve.customer,
          subscription: eve.subscription,
          memberId: null,
          periodStart: nowSeconds(),
          periodEnd: nowSeconds() + 30 * DAY,
        }),
        { created: nowSeconds() },
      ),
    ];
    const before = await stored(alice);
    const entitlementBefore = await api.entitlement(alice);
    for (const event of events) expect((await api.postEvent(event)).status).toBe(200);
    expect(await stored(alice)).toEqual(before);
    expect(await api.entitlement(alice)).toEqual(entitlementBefore);
    expect(await membershipRepository().findMemberIdByCustomer(eve.customer)).toBeNull();
    expect((await findings(alice)).items).toEqual([
      expect.objectContaining({
        kind: 'binding_refused',
        action: 'needs_review',
        source: 'webhook',
        subject: session.id,
        stripe: expect.objectContaining({ claimedBy: 'client_reference_id', customerId: eve.customer }),
      }),
    ]);
    expect(JSON.stringify(await findings(alice))).not.toContain('eve@example.com');
  });

  it('a member without a membership is not given the buyer’s customer, and its later subscription grants nothing', async () => {
    const bob = uniqueMemberId('bob');
    const customer = `cus_eve${randomBytes(4).toString('hex')}`;
    const subscription = `sub_eve${randomBytes(4).toString('hex')}`;
    const session = { ...checkoutSessionObject({ memberId: bob, customer, subscription }), metadata: {} };
    expect((await api.postEvent(stripeEvent('checkout.session.completed', session, { created: nowSeconds() }))).status).toBe(200);
    const sub = subscriptionObject({ id: subscription, customer, memberId: null, periodStart: nowSeconds() });
    expect((await api.postEvent(stripeEvent('customer.subscription.created', sub, { created: nowSeconds() }))).status).toBe(200);
    expect(await stored(bob)).toBeNull();
    expect(await api.entitlement(bob)).toMatchObject({ entitled: false, status: 'none' });
  });
});

describe('GET /v1/admin/drift', () => {
  it('pages the findings newest first with Link: rel="next", refuses a cursor it did not give, and is for admins only', async () => {
    for (const memberId of [uniqueMemberId('page-a'), uniqueMemberId('page-b')]) {
      const session = {
        ...checkoutSessionObject({ memberId, customer: `cus_pl${randomBytes(4).toString('hex')}`, subscription: 'sub_x' }),
        metadata: {},
      };
      expect((await api.postEvent(stripeEvent('checkout.session.completed', session, { created: nowSeconds() }))).status).toBe(200);
    }
    const first = await api.call('GET', '/v1/admin/drift?limit=1', { key: KEYS.admin });
    const page = (await first.json()) as { items: Array<{ subject: string }>; nextCursor: string };
    expect(page.items).toHaveLength(1);
    expect(first.headers.get('link')).toBe(`</v1/admin/drift?limit=1&cursor=${page.nextCursor}>; rel="next"`);
    const second = await api.call('GET', `/v1/admin/drift?limit=1&cursor=${page.nextCursor}`, { key: KEYS.admin });
    const next = (await second.json()) as { items: Array<{ subject: string }> };
    expect(next.items).toHaveLength(1);
    expect(next.items[0]!.subject).not.toBe(page.items[0]!.subject);
    expect((await api.call('GET', '/v1/admin/drift?cursor=bm90LW91cnM', { key: KEYS.admin })).status).toBe(400);
    expect((await api.call('GET', '/v1/admin/drift', { key: KEYS.finance })).status).toBe(403);
  });
});

describe('webhook edges', () => {
  it('refuses a signature dated more than five minutes ahead; answers 200 without applying events of another mode or account', async () => {
    const memberId = uniqueMemberId('edges');
    const sub = subscriptionObject({ memberId, periodStart: nowSeconds() - DAY });
    const event = stripeEvent('customer.subscription.created', sub, { created: nowSeconds() });
    expect((await api.postEvent(event, { timestamp: nowSeconds() + 600 })).status).toBe(400);
    expect((await api.postEvent({ ...event, id: `${event.id}_acct`, account: 'acct_connected' })).status).toBe(200);
    process.env.STRIPE_SECRET_KEY = 'sk_live_someone_real_0000';
    try {
      expect((await api.postEvent({ ...event, id: `${event.id}_mode` })).status).toBe(200);
    } finally {
      process.env.STRIPE_SECRET_KEY = double.apiKey;
    }
    expect(await stored(memberId)).toBeNull();
    expect((await api.postEvent(event)).status).toBe(200);
    expect((await stored(memberId))?.subscriptionId).toBe(sub.id);
  });

  it('answers 200 for an ignored type in another API version, and applies an invoice whose customer is null', async () => {
    expect(
      (
        await api.postEvent(
          stripeEvent('customer.source.updated', { id: 'card_1', object: 'card' }, { created: nowSeconds(), apiVersion: '2020-08-27' }),
        )
      ).status,
    ).toBe(200);
    const memberId = uniqueMemberId('nullcus');
    const start = nowSeconds() - DAY;
    const { subscription, periodEnd } = await subscribedMember(api, double, { memberId, start });
    const invoice: Record<string, any> = {
      ...invoiceObject({ customer: 'cus_x', subscription, memberId, periodStart: periodEnd, periodEnd: periodEnd + 30 * DAY }),
      customer: null,
    };
    expect((await api.postEvent(stripeEvent('invoice.paid', invoice, { created: nowSeconds() }))).status).toBe(200);
    expect((await stored(memberId))!.payment?.invoiceId).toBe(invoice.id);
  });
});

describe('the local Stripe double plays the shopper flows end to end', () => {
  it('checkout completed over HTTP, cancel, resume, cancel with a refund, and the reconcile job against its balance transactions', async () => {
    const memberId = uniqueMemberId('local');
    const { checkoutSessionId } = await returningMemberCheckout(memberId);
    const complete = await fetch(`${double.url}/_double/checkout/sessions/${checkoutSessionId}/complete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${double.apiKey}` },
    });
    expect(complete.status).toBe(200);
    await double.deliveriesSettled();
    expect((await api.entitlement(memberId)).status).toBe('active');

    const me = { key: null, headers: await bearer(memberId) };
    expect((await api.call('POST', '/v1/me/membership/cancel', me)).status).toBe(200);
    await double.deliveriesSettled();
    expect((await api.entitlement(memberId)).status).toBe('canceling');
    expect((await api.call('POST', '/v1/me/membership/resume', me)).status).toBe(200);
    await double.deliveriesSettled();
    expect((await api.entitlement(memberId)).status).toBe('active');
    const refunded = await api.call('POST', '/v1/me/membership/cancel', { ...me, body: { refundIfUnused: true } });
    expect(await refunded.json()).toMatchObject({ outcome: 'canceled_and_refunded', refund: { amountCents: 1499 } });
    await double.deliveriesSettled();
    expect((await api.entitlement(memberId)).status).toBe('lapsed');
    expect(double.deliveries.every((d) => d.status === 200)).toBe(true);

    const month = new Date().toISOString().slice(0, 7);
    const reconciled = (await reconcileJob({ month })) as { matched: number; missingInLedger: number };
    expect(reconciled).toMatchObject({ missingInLedger: 0 });
    expect(reconciled.matched).toBeGreaterThanOrEqual(2);
  });
});
