import { describe, expect, it, vi } from 'vitest';
import { logger } from '#shared/observability';
import { STRIPE_BUDGETS } from '#shared/runtime/budgets';
import { STRIPE_API_VERSION } from '#shared/stripe/api-version';
import { createStripeClient } from '#shared/stripe/client';
import { STRIPE_API_SECRET_TEMPLATE } from '#shared/stripe/settings';
import { checkoutSessionObject, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { bearer, subscribedMember, useStripeDouble } from '../support/shopper';

const api = useApi();
const stripe = useStripeDouble();
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const checkoutBody = { planId: 'prime-monthly', successUrl: 'https://shop.example/welcome', cancelUrl: 'https://shop.example/membership' };

async function checkout(memberId: string, body: object = checkoutBody) {
  return api.call('POST', '/v1/me/checkout-session', { key: null, headers: await bearer(memberId), body });
}

async function admin(memberId: string) {
  return api.call('GET', `/v1/admin/members/${encodeURIComponent(memberId)}`, { key: KEYS.admin });
}

const sessionCallsFor = (memberId: string) =>
  stripe()
    .callsTo('POST', '/v1/checkout/sessions')
    .filter((c) => c.params.client_reference_id === memberId);
const customersFor = (memberId: string) =>
  stripe()
    .all('customer')
    .filter((c) => c.metadata?.memberId === memberId);

describe('POST /v1/me/checkout-session', () => {
  it('creates a subscription-mode session carrying the memberId, a new customer, the trial and the renewal terms', async () => {
    const memberId = uniqueMemberId('new');
    const res = await checkout(memberId);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.url).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    expect(body.trialDays).toBe(30);

    const [call, ...more] = sessionCallsFor(memberId);
    expect(more).toHaveLength(0);
    expect(call!.status).toBe(200);
    expect(call!.headers['stripe-version']).toBe(STRIPE_API_VERSION);
    expect(call!.idempotencyKey).toMatch(new RegExp(`^checkout-session:${memberId}:`));
    const [customer] = customersFor(memberId);
    expect(call!.params).toMatchObject({
      mode: 'subscription',
      client_reference_id: memberId,
      customer: customer!.id,
      line_items: [{ price: 'price_prime_monthly_usd', quantity: '1' }],
      success_url: checkoutBody.successUrl,
      cancel_url: checkoutBody.cancelUrl,
      metadata: { memberId, planId: 'prime-monthly' },
      subscription_data: { metadata: { memberId, planId: 'prime-monthly' }, trial_period_days: '30' },
      custom_text: { submit: { message: body.renewalTerms } },
    });
    expect(
      stripe()
        .callsTo('POST', '/v1/customers')
        .find((c) => c.params.metadata?.memberId === memberId)!.idempotencyKey,
    ).toBe(`member-customer:${memberId}`);

    // The consent record, as the operator reads it.
    const stored = (await (await admin(memberId)).json()) as any;
    expect(stored.stripeCustomerId).toBe(customer!.id);
    expect(stored.membership).toBeNull();
    expect(stored.consents).toEqual([
      {
        memberId,
        checkoutSessionId: body.checkoutSessionId,
        planId: 'prime-monthly',
        planName: 'Prime Monthly',
        priceId: 'price_prime_monthly_usd',
        amountCents: 1499,
        currency: 'usd',
        interval: 'month',
        intervalCount: 1,
        trialDays: 30,
        renewalTerms: body.renewalTerms,
        presentedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        status: 'presented',
        acceptedAt: null,
      },
    ]);
    expect(stored.completedWithoutConsent).toEqual([]);
    expect(body.renewalTerms).toContain('$14.99 every month');
  });

  it('double-click: two concurrent requests create one Stripe customer and one session', async () => {
    const memberId = uniqueMemberId('double');
    const [a, b] = await Promise.all([checkout(memberId), checkout(memberId)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [bodyA, bodyB] = (await Promise.all([a.json(), b.json()])) as any[];
    expect(customersFor(memberId)).toHaveLength(1);
    expect(bodyA.checkoutSessionId).toBe(bodyB.checkoutSessionId);
    expect(
      stripe()
        .all('checkout.session')
        .filter((s) => s.client_reference_id === memberId),
    ).toHaveLength(1);
    expect(((await (await admin(memberId)).json()) as any).consents).toHaveLength(1);
    // A later checkout reuses the stored customer without asking Stripe for one.
    const before = stripe().callsTo('POST', '/v1/customers').length;
    expect((await checkout(memberId, { ...checkoutBody, planId: 'prime-annual' })).status).toBe(200);
    expect(stripe().callsTo('POST', '/v1/customers').length).toBe(before);
    expect(sessionCallsFor(memberId).at(-1)!.params.customer).toBe(customersFor(memberId)[0]!.id);
  });

  it('gives no trial to someone who had a membership before, and reuses their Stripe customer', async () => {
    const memberId = uniqueMemberId('returning');
    const start = nowSeconds() - 90 * DAY;
    const { customer, subscription } = await subscribedMember(api, stripe(), { memberId, start, trialDays: 30 });
    const ended = subscriptionObject({
      id: subscription,
      customer,
      memberId,
      status: 'canceled',
      periodStart: start,
      periodEnd: start + 30 * DAY,
      trialStart: start,
      trialEnd: start + 30 * DAY,
      canceledAt: start + 30 * DAY,
      endedAt: start + 30 * DAY,
    });
    expect((await api.postEvent(stripeEvent('customer.subscription.deleted', ended, { created: start + 30 * DAY }))).status).toBe(200);
    stripe().put({ ...ended, latest_invoice: null });

    const res = await checkout(memberId);
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).trialDays).toBe(0);
    const call = sessionCallsFor(memberId).at(-1)!;
    expect(call.params.subscription_data.trial_period_days).toBeUndefined();
    expect(call.params.customer).toBe(customer);
    expect(customersFor(memberId)).toHaveLength(1);
  });

  it('late webhooks: a checkout completed in Stripe but not yet reported refuses a second one, with no second trial', async () => {
    const memberId = uniqueMemberId('late');
    const first = (await (await checkout(memberId)).json()) as any;
    expect(first.trialDays).toBe(30);
    stripe().completeCheckoutSession(first.checkoutSessionId);
    const sessionsBefore = sessionCallsFor(memberId).length;

    const second = await checkout(memberId, { ...checkoutBody, planId: 'prime-annual' });
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({
      reason: 'already_member',
      membershipStatus: 'trialing',
      portalSessionPath: '/v1/me/portal-session',
    });
    expect(sessionCallsFor(memberId)).toHaveLength(sessionsBefore);
    const [customer] = customersFor(memberId);
    expect(stripe().callsTo('GET', '/v1/subscriptions').at(-1)!.params).toMatchObject({ customer: customer!.id, status: 'all' });
  });

  it('gives no trial to a member Stripe shows had a membership under another plan, though no webhook told us', async () => {
    const memberId = uniqueMemberId('otherplan');
    const first = (await (await checkout(memberId)).json()) as any;
    const { subscription } = stripe().completeCheckoutSession(first.checkoutSessionId);
    Object.assign(stripe().objects.get(subscription.id)!, { status: 'canceled', ended_at: nowSeconds(), canceled_at: nowSeconds() });

    const res = await checkout(memberId, { ...checkoutBody, planId: 'prime-annual' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.trialDays).toBe(0);
    expect(body.renewalTerms).toContain('charged $139.00 today');
    expect(sessionCallsFor(memberId).at(-1)!.params.subscription_data.trial_period_days).toBeUndefined();
  });

  it('leaves one open session per member: another plan expires the earlier one; going back makes a fresh one, never the expired page', async () => {
    const memberId = uniqueMemberId('flip');
    const openOf = () =>
      stripe()
        .all('checkout.session')
        .filter((s) => s.client_reference_id === memberId && s.status === 'open')
        .map((s) => s.id);
    const monthly = (await (await checkout(memberId)).json()) as any;
    const annual = (await (await checkout(memberId, { ...checkoutBody, planId: 'prime-annual' })).json()) as any;
    expect(openOf()).toEqual([annual.checkoutSessionId]);
    expect(stripe().objects.get(monthly.checkoutSessionId)!.status).toBe('expired');
    expect(stripe().callsTo('POST', `/v1/checkout/sessions/${monthly.checkoutSessionId}/expire`)[0]!.idempotencyKey).toBe(
      `checkout-session-expire:${monthly.checkoutSessionId}`,
    );

    const again = await checkout(memberId);
    expect(again.status).toBe(200);
    const monthlyAgain = (await again.json()) as any;
    expect(monthlyAgain.checkoutSessionId).not.toBe(monthly.checkoutSessionId);
    expect(openOf()).toEqual([monthlyAgain.checkoutSessionId]);
    // A repeat of the same click reuses the open session without creating one.
    const calls = sessionCallsFor(memberId).length;
    expect(((await (await checkout(memberId)).json()) as any).checkoutSessionId).toBe(monthlyAgain.checkoutSessionId);
    expect(sessionCallsFor(memberId)).toHaveLength(calls);
    expect(((await (await admin(memberId)).json()) as any).consents).toHaveLength(3);
  });

  it('two concurrent checkouts for different plans never leave two open sessions', async () => {
    const memberId = uniqueMemberId('race');
    expect((await checkout(memberId)).status).toBe(200);
    const answers = await Promise.all([
      checkout(memberId, { ...checkoutBody, planId: 'prime-annual' }),
      checkout(memberId, { ...checkoutBody, successUrl: 'https://shop.example/other' }),
    ]);
    for (const res of answers) expect([200, 409]).toContain(res.status);
    expect(
      stripe()
        .all('checkout.session')
        .filter((s) => s.client_reference_id === memberId && s.status === 'open').length,
    ).toBeLessThanOrEqual(1);
  });

  it('an earlier session paid while a new one is being created: the new one is expired and the answer is 409', async () => {
    const memberId = uniqueMemberId('paidmeanwhile');
    const first = (await (await checkout(memberId)).json()) as any;
    stripe().before({ method: 'POST', path: '/v1/checkout/sessions' }, (d) => d.completeCheckoutSession(first.checkoutSessionId));
    const res = await checkout(memberId, { ...checkoutBody, planId: 'prime-annual' });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ reason: 'already_member', membershipStatus: 'trialing' });
    const created = sessionCallsFor(memberId).at(-1)!;
    const second = stripe()
      .all('checkout.session')
      .find((s) => s.client_reference_id === memberId && s.id !== first.checkoutSessionId)!;
    expect(created.params.metadata.planId).toBe('prime-annual');
    expect(second.status).toBe('expired');
    // Only the presented terms of the first session are on record: the second was never shown.
    expect(((await (await admin(memberId)).json()) as any).consents.map((c: any) => c.checkoutSessionId)).toEqual([
      first.checkoutSessionId,
    ]);
  });

  it('consent: completing the session marks its record accepted, in the same change as the membership', async () => {
    const memberId = uniqueMemberId('accepted');
    const body = (await (await checkout(memberId)).json()) as any;
    const { session, subscription } = stripe().completeCheckoutSession(body.checkoutSessionId);
    const completedAt = nowSeconds();
    const completed = stripeEvent(
      'checkout.session.completed',
      { ...checkoutSessionObject({ memberId, customer: session.customer, subscription: subscription.id, id: session.id }) },
      { created: completedAt },
    );
    expect((await api.postEvent(completed)).status).toBe(200);

    const stored = (await (await admin(memberId)).json()) as any;
    expect(stored.membership).toMatchObject({ checkoutSessionId: session.id });
    expect(stored.consents).toEqual([
      expect.objectContaining({
        checkoutSessionId: session.id,
        status: 'accepted',
        acceptedAt: new Date(completedAt * 1000).toISOString(),
        trialDays: 30,
      }),
    ]);
    // A redelivery, or the async-payment event later, keeps the first acceptance.
    expect(
      (
        await api.postEvent({
          ...completed,
          id: `${completed.id}_again`,
          type: 'checkout.session.async_payment_succeeded',
          created: completedAt + 60,
        })
      ).status,
    ).toBe(200);
    expect(((await (await admin(memberId)).json()) as any).consents[0].acceptedAt).toBe(new Date(completedAt * 1000).toISOString());
  });

  it('consent: a session completed that we never presented (made elsewhere) is applied, and listed as completed without consent', async () => {
    const memberId = uniqueMemberId('elsewhere');
    const event = stripeEvent(
      'checkout.session.completed',
      checkoutSessionObject({ memberId, customer: `cus_${memberId.replace(/\W/g, '')}`, subscription: 'sub_elsewhere1' }),
      { created: nowSeconds() },
    );
    expect((await api.postEvent(event)).status).toBe(200);
    const stored = (await (await admin(memberId)).json()) as any;
    expect(stored.status).toBe('pending');
    expect(stored.consents).toEqual([]);
    expect(stored.completedWithoutConsent).toEqual([
      { memberId, checkoutSessionId: event.data.object.id, acceptedAt: new Date(event.created * 1000).toISOString(), eventId: event.id },
    ]);
  });

  it('refuses an entitled member with 409 and a pointer to the portal, calling Stripe for nothing', async () => {
    const memberId = uniqueMemberId('member');
    await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - DAY });
    const calls = stripe().calls.length;
    const res = await checkout(memberId);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({
      status: 409,
      reason: 'already_member',
      membershipStatus: 'active',
      portalSessionPath: '/v1/me/portal-session',
    });
    expect(stripe().calls.length).toBe(calls);
  });

  it('rejects unknown plans, unknown fields (a memberId among them), bad URLs and query fields with 400, storing nothing', async () => {
    const memberId = uniqueMemberId('bad');
    const cases = [
      { ...checkoutBody, planId: 'gold' },
      { ...checkoutBody, memberId: 'someone-else' },
      { ...checkoutBody, successUrl: 'javascript:alert(1)' },
      { planId: 'prime-monthly' },
    ];
    for (const body of cases) {
      const res = await checkout(memberId, body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    const withQuery = await api.call('POST', '/v1/me/checkout-session?memberId=someone-else', {
      key: null,
      headers: await bearer(memberId),
      body: checkoutBody,
    });
    expect(withQuery.status).toBe(400);
    expect(sessionCallsFor(memberId)).toHaveLength(0);
    expect(customersFor(memberId)).toHaveLength(0);
    expect((await admin(memberId)).status).toBe(404);
  });

  it('answers 503 problem+json without a Stripe key, storing nothing', async () => {
    const memberId = uniqueMemberId('nokey');
    const saved = process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_SECRET_KEY;
    try {
      const res = await checkout(memberId);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('retry-after')).toBeTruthy();
    } finally {
      process.env.STRIPE_SECRET_KEY = saved;
    }
    expect((await admin(memberId)).status).toBe(404);
  });

  it('answers 503 problem+json, calling Stripe for nothing, when the key is the unset template or not a Stripe key (what CDK would generate)', async () => {
    const memberId = uniqueMemberId('badkey');
    const saved = process.env.STRIPE_SECRET_KEY;
    const calls = stripe().calls.length;
    try {
      for (const value of [JSON.stringify(STRIPE_API_SECRET_TEMPLATE), 'x;R8#pQ2v!kLm^9sT0wZ&aB3cD4eF5gH']) {
        process.env.STRIPE_SECRET_KEY = value;
        const res = await checkout(memberId);
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      }
    } finally {
      process.env.STRIPE_SECRET_KEY = saved;
    }
    expect(stripe().calls.length).toBe(calls);
    expect((await admin(memberId)).status).toBe(404);
  });

  it('a key Stripe refuses (401) is a 503 for the shopper, without Stripe’s words, and an error log line for the operator', async () => {
    const memberId = uniqueMemberId('revoked');
    const saved = process.env.STRIPE_SECRET_KEY;
    const lines: string[] = [];
    logger.setLogLevel('WARN');
    const capture = (chunk: unknown) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
    try {
      process.env.STRIPE_SECRET_KEY = 'sk_test_revoked_0000000000000000';
      const res = await checkout(memberId);
      expect(res.status).toBe(503);
      const body = JSON.stringify(await res.json());
      expect(body).not.toMatch(/Invalid API Key|sk_test|401/);
    } finally {
      process.env.STRIPE_SECRET_KEY = saved;
      vi.restoreAllMocks();
      logger.setLogLevel('SILENT');
    }
    const logged = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => String(l.message).startsWith('Stripe refused our API key'));
    expect(logged).toMatchObject({ level: 'ERROR', status: 401, stripeErrorType: 'StripeAuthenticationError' });
    expect(lines.join('\n')).not.toContain('sk_test_revoked');
  });

  it('retries Stripe 5xx and connection resets inside the SDK and succeeds', async () => {
    const memberId = uniqueMemberId('flaky');
    stripe().fail({ method: 'POST', path: '/v1/customers' }, { kind: 'status', status: 500 });
    stripe().fail({ method: 'POST', path: '/v1/checkout/sessions' }, { kind: 'reset' });
    const res = await checkout(memberId);
    expect(res.status).toBe(200);
    const attempts = stripe()
      .callsTo('POST', '/v1/customers')
      .filter((c) => c.idempotencyKey === `member-customer:${memberId}`);
    expect(attempts.map((c) => c.fault)).toEqual(['500', null]);
    expect(sessionCallsFor(memberId).map((c) => c.fault)).toEqual(['reset', null]);
    expect(new Set(sessionCallsFor(memberId).map((c) => c.idempotencyKey)).size).toBe(1);
    expect(
      stripe()
        .all('checkout.session')
        .filter((s) => s.client_reference_id === memberId),
    ).toHaveLength(1);
  });

  it('a customer created whose answer was lost is not created twice: the retry replays it', async () => {
    const memberId = uniqueMemberId('lost');
    stripe().fail({ method: 'POST', path: '/v1/customers' }, { kind: 'reset', after: true });
    expect((await checkout(memberId)).status).toBe(200);
    expect(customersFor(memberId)).toHaveLength(1);
    const attempts = stripe()
      .callsTo('POST', '/v1/customers')
      .filter((c) => c.idempotencyKey === `member-customer:${memberId}`);
    expect(attempts.map((c) => [c.fault, c.replayed])).toEqual([
      ['reset-after', false],
      [null, true],
    ]);
  });

  it('answers 502 after the SDK gives up on 5xx, 503 on a rate limit; a retry then completes with one customer', async () => {
    const memberId = uniqueMemberId('down');
    stripe().fail({ method: 'POST', path: '/v1/checkout/sessions' }, { kind: 'status', status: 500 }, 3);
    const failed = await checkout(memberId);
    expect(failed.status).toBe(502);
    expect(failed.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await failed.json()) as any;
    expect(JSON.stringify(problem)).not.toMatch(/Injected|stripe\.com|sk_test/);
    expect(((await (await admin(memberId)).json()) as any).consents).toEqual([]);

    stripe().fail({ method: 'POST', path: '/v1/checkout/sessions' }, { kind: 'status', status: 429 });
    const limited = await checkout(memberId);
    expect(limited.status).toBe(503);
    expect(limited.headers.get('retry-after')).toBeTruthy();

    expect((await checkout(memberId)).status).toBe(200);
    expect(customersFor(memberId)).toHaveLength(1);
    expect(((await (await admin(memberId)).json()) as any).consents).toHaveLength(1);
  });
});

describe('POST /v1/me/portal-session', () => {
  it('opens the portal on the member’s customer', async () => {
    const memberId = uniqueMemberId('portal');
    const { customer } = await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - DAY });
    const res = await api.call('POST', '/v1/me/portal-session', {
      key: null,
      headers: await bearer(memberId),
      body: { returnUrl: 'https://shop.example/account' },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).url).toMatch(/^https:\/\/billing\.stripe\.com\//);
    const call = stripe().callsTo('POST', '/v1/billing_portal/sessions').at(-1)!;
    expect(call.params).toEqual({ customer, return_url: 'https://shop.example/account' });
    expect(call.idempotencyKey).toMatch(new RegExp(`^portal-session:${memberId}:`));
  });

  it('opens the portal with the configured portal configuration (plan switching), when the settings name one', async () => {
    const memberId = uniqueMemberId('portalcfg');
    await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - DAY });
    const stripeApi = createStripeClient({ STRIPE_SECRET_KEY: stripe().apiKey, STRIPE_API_BASE: stripe().url }, STRIPE_BUDGETS.job)!;
    const configuration = await stripeApi.billingPortal.configurations.create(
      { features: { invoice_history: { enabled: true } } },
      { idempotencyKey: `cfg-${memberId}` },
    );
    process.env.STRIPE_PORTAL_CONFIGURATION_ID = configuration.id;
    try {
      const res = await api.call('POST', '/v1/me/portal-session', {
        key: null,
        headers: await bearer(memberId),
        body: { returnUrl: 'https://shop.example/account' },
      });
      expect(res.status).toBe(200);
    } finally {
      delete process.env.STRIPE_PORTAL_CONFIGURATION_ID;
    }
    const call = stripe().callsTo('POST', '/v1/billing_portal/sessions').at(-1)!;
    expect(call.params).toMatchObject({ configuration: configuration.id });
    expect(
      stripe()
        .all('billing_portal.session')
        .find((s) => s.customer === call.params.customer && s.configuration === configuration.id),
    ).toBeDefined();
  });

  it('answers 502 problem+json when Stripe stays unreachable after the SDK retries', async () => {
    const memberId = uniqueMemberId('unreachable');
    await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - DAY });
    // The shopper's budget: two attempts (shared/runtime/budgets.ts STRIPE_BUDGETS.shopper).
    stripe().fail({ method: 'POST', path: '/v1/billing_portal/sessions' }, { kind: 'reset' }, 2);
    const res = await api.call('POST', '/v1/me/portal-session', {
      key: null,
      headers: await bearer(memberId),
      body: { returnUrl: 'https://shop.example/account' },
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({ type: '/problems/payment-provider-failed', status: 502 });
    expect(
      stripe()
        .callsTo('POST', '/v1/billing_portal/sessions')
        .slice(-2)
        .map((c) => c.fault),
    ).toEqual(['reset', 'reset']);
  });

  it('answers 409 for a shopper without a billing account, and 400 for unknown fields', async () => {
    const memberId = uniqueMemberId('noportal');
    const calls = stripe().calls.length;
    const res = await api.call('POST', '/v1/me/portal-session', {
      key: null,
      headers: await bearer(memberId),
      body: { returnUrl: 'https://shop.example/account' },
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ reason: 'no_billing_account' });
    const extra = await api.call('POST', '/v1/me/portal-session', {
      key: null,
      headers: await bearer(memberId),
      body: { returnUrl: 'https://shop.example/account', customer: 'cus_x' },
    });
    expect(extra.status).toBe(400);
    expect(stripe().calls.length).toBe(calls);
  });
});

describe('redirect URLs', () => {
  it('sends shoppers back only to the shop: another host, plain http or credentials in the URL are 400, with no Stripe call', async () => {
    const memberId = uniqueMemberId('redirect');
    const calls = stripe().calls.length;
    for (const [field, value] of [
      ['successUrl', 'http://evil.example/welcome'],
      ['successUrl', 'https://evil.example/welcome'],
      ['cancelUrl', 'https://user:pw@evil.example/'],
      ['cancelUrl', 'https://user:pw@shop.example/membership'],
      ['successUrl', 'http://shop.example/welcome'],
      ['successUrl', 'https://shop.example.evil.example/welcome'],
    ] as const) {
      const res = await checkout(memberId, { ...checkoutBody, [field]: value });
      expect(res.status, value).toBe(400);
      expect(((await res.json()) as any).errors).toEqual([{ path: `/body/${field}`, message: expect.any(String) }]);
    }
    const portal = await api.call('POST', '/v1/me/portal-session', {
      key: null,
      headers: await bearer(memberId),
      body: { returnUrl: 'https://evil.example/account' },
    });
    expect(portal.status).toBe(400);
    expect(((await portal.json()) as any).errors).toEqual([
      { path: '/body/returnUrl', message: expect.stringMatching(/page of the shop/) },
    ]);
    expect(stripe().calls.length).toBe(calls);
    // Refused input changes nothing, the shopper's rate counter included: ten more requests still get through.
    for (let i = 0; i < 10; i++)
      expect((await checkout(memberId, { ...checkoutBody, successUrl: 'https://evil.example/' })).status).toBe(400);
    expect((await checkout(memberId)).status).toBe(200);
  });
});

describe('the per-shopper limit of the routes that call Stripe', () => {
  it('answers the 11th request in ten minutes 429 with Retry-After, before any Stripe call, for that shopper only', async () => {
    const memberId = uniqueMemberId('hammer');
    const portal = async (who: string) =>
      api.call('POST', '/v1/me/portal-session', {
        key: null,
        headers: await bearer(who),
        body: { returnUrl: 'https://shop.example/account' },
      });
    for (let i = 0; i < 10; i++) expect((await portal(memberId)).status).toBe(409);
    const calls = stripe().calls.length;
    const refused = await checkout(memberId);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(await refused.json()).toMatchObject({ type: '/problems/too-many-requests', status: 429 });
    expect((await portal(memberId)).status).toBe(429);
    expect(stripe().calls.length).toBe(calls);
    // Another shopper is not affected.
    expect((await portal(uniqueMemberId('bystander'))).status).toBe(409);
  });
});

describe('GET /v1/admin/members/{memberId}', () => {
  it('needs the admin role and validates the id', async () => {
    expect((await api.call('GET', '/v1/admin/members/x', { key: null })).status).toBe(401);
    expect((await api.call('GET', '/v1/admin/members/x', { key: KEYS.checkout })).status).toBe(403);
    expect((await api.call('GET', `/v1/admin/members/${encodeURIComponent('bad id!')}`, { key: KEYS.admin })).status).toBe(400);
    expect((await api.call('GET', `/v1/admin/members/${uniqueMemberId('nobody')}`, { key: KEYS.admin })).status).toBe(404);
  });
});
