import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient } from '#shared/stripe/client';

/** The double is checked against the SDK's own retry behaviour (two retries), not one of our budgets. */
const SDK_DEFAULTS = { timeoutMs: 10_000, maxNetworkRetries: 2 };

import { invoiceObject, subscriptionObject } from '../../local/stripe-test-events';
import { StripeDouble } from '../support/stripe-double';

// The double is only worth something if a wrong call fails: these tests keep it honest.
let double: StripeDouble;
let stripe: Stripe;
const errorOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as { type: string; statusCode: number; param?: string; message: string; code?: string };
  }
  throw new Error('expected the call to fail');
};

beforeAll(async () => {
  double = await StripeDouble.start();
  double.price({ id: 'price_prime_monthly_usd', unitAmount: 1499, interval: 'month' });
  stripe = createStripeClient({ STRIPE_SECRET_KEY: double.apiKey, STRIPE_API_BASE: double.url }, SDK_DEFAULTS)!;
});
afterAll(() => double.close());

describe('Stripe test double', () => {
  it('refuses another key, another API version and POSTs without our own idempotency key', async () => {
    const wrongKey = createStripeClient({ STRIPE_SECRET_KEY: 'sk_test_wrong', STRIPE_API_BASE: double.url }, SDK_DEFAULTS)!;
    expect((await errorOf(wrongKey.customers.create({}, { idempotencyKey: 'k-1' }))).statusCode).toBe(401);
    const otherVersion = new Stripe(double.apiKey, {
      apiVersion: '2025-03-31.basil' as Stripe.LatestApiVersion,
      host: '127.0.0.1',
      port: Number(new URL(double.url).port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    expect(await errorOf(otherVersion.customers.create({}, { idempotencyKey: 'k-2' }))).toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/API version/),
    });
    expect(await errorOf(stripe.customers.create({}))).toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/idempotency key/),
    });
  });

  it('refuses missing required and unknown parameters, naming them', async () => {
    expect(
      await errorOf(stripe.billingPortal.sessions.create({} as Stripe.BillingPortal.SessionCreateParams, { idempotencyKey: 'p-1' })),
    ).toMatchObject({ statusCode: 400, param: 'customer' });
    expect(
      await errorOf(stripe.customers.create({ nonsense: 'x' } as Stripe.CustomerCreateParams, { idempotencyKey: 'p-2' })),
    ).toMatchObject({ statusCode: 400, param: 'nonsense' });
    const customer = await stripe.customers.create({}, { idempotencyKey: 'p-3' });
    const subscriptionWithoutPrice = {
      mode: 'subscription',
      customer: customer.id,
      success_url: 'https://x.example/',
      line_items: [{ quantity: 1 }],
    } as Stripe.Checkout.SessionCreateParams;
    expect(await errorOf(stripe.checkout.sessions.create(subscriptionWithoutPrice, { idempotencyKey: 'p-4' }))).toMatchObject({
      statusCode: 400,
      param: 'line_items[0][price]',
    });
    expect(
      await errorOf(
        stripe.checkout.sessions.create(
          {
            mode: 'subscription',
            customer: 'cus_missing',
            success_url: 'https://x.example/',
            line_items: [{ price: 'price_prime_monthly_usd', quantity: 1 }],
          },
          { idempotencyKey: 'p-5' },
        ),
      ),
    ).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('replays a keyed request with the same parameters and refuses the key with other parameters', async () => {
    const a = await stripe.customers.create({ metadata: { memberId: 'm1' } }, { idempotencyKey: 'same' });
    const b = await stripe.customers.create({ metadata: { memberId: 'm1' } }, { idempotencyKey: 'same' });
    expect(b.id).toBe(a.id);
    expect(await errorOf(stripe.customers.create({ metadata: { memberId: 'm2' } }, { idempotencyKey: 'same' }))).toMatchObject({
      type: 'StripeIdempotencyError',
    });
  });

  it('keeps subscription and refund rules: a canceled subscription cannot be updated, a refund cannot exceed the payment', async () => {
    const sub = double.put(subscriptionObject({ memberId: 'm1', periodStart: Math.floor(Date.now() / 1000) }));
    const { paymentIntent } = double.paidInvoice(
      invoiceObject({ customer: sub.customer, subscription: sub.id, periodStart: 1, periodEnd: 2 }),
    );
    await stripe.subscriptions.cancel(sub.id);
    expect((await errorOf(stripe.subscriptions.update(sub.id, { cancel_at_period_end: true }, { idempotencyKey: 'u-1' }))).statusCode).toBe(
      400,
    );
    await stripe.refunds.create({ payment_intent: paymentIntent.id, amount: 1000 }, { idempotencyKey: 'r-1' });
    expect(
      await errorOf(stripe.refunds.create({ payment_intent: paymentIntent.id, amount: 1000 }, { idempotencyKey: 'r-2' })),
    ).toMatchObject({ statusCode: 400, code: 'amount_too_large' });
  });

  it('injects faults and records each call', async () => {
    double.fail({ method: 'GET', path: '/v1/prices/:id' }, { kind: 'status', status: 429 });
    expect(await errorOf(stripe.prices.retrieve('price_prime_monthly_usd'))).toMatchObject({ type: 'StripeRateLimitError' });
    double.fail({ method: 'GET', path: '/v1/prices/:id' }, { kind: 'reset' }, 3);
    expect(await errorOf(stripe.prices.retrieve('price_prime_monthly_usd'))).toMatchObject({ type: 'StripeConnectionError' });
    expect(double.callsTo('GET', '/v1/prices/price_prime_monthly_usd').map((c) => c.fault)).toEqual(['429', 'reset', 'reset', 'reset']);
  });

  it('lists like Stripe: newest first, limit and starting_after, subscriptions without canceled unless status=all', async () => {
    const customer = double.customer().id;
    const now = Math.floor(Date.now() / 1000);
    const [older, newer, ended] = [0, 1, 2].map((i) =>
      double.put<Record<string, any>>({ ...subscriptionObject({ customer, memberId: 'm-list', periodStart: now }), created: now - 10 + i }),
    );
    ended!.status = 'canceled';
    expect((await stripe.subscriptions.list({ customer })).data.map((s) => s.id)).toEqual([newer!.id, older!.id]);
    const all = await stripe.subscriptions.list({ customer, status: 'all', limit: 2 });
    expect([all.data.map((s) => s.id), all.has_more]).toEqual([[ended!.id, newer!.id], true]);
    expect(
      (await stripe.subscriptions.list({ customer, status: 'all', limit: 2, starting_after: newer!.id })).data.map((s) => s.id),
    ).toEqual([older!.id]);
    const paged: string[] = [];
    for await (const s of stripe.subscriptions.list({ customer, status: 'all', limit: 1 })) paged.push(s.id);
    expect(paged).toEqual([ended!.id, newer!.id, older!.id]);
    expect(await errorOf(stripe.subscriptions.list({ customer, limit: 101 }))).toMatchObject({ statusCode: 400, param: 'limit' });
    expect(await errorOf(stripe.subscriptions.list({ customer, status: 'gone' as 'all' }))).toMatchObject({
      statusCode: 400,
      param: 'status',
    });
  });

  it('expires only open checkout sessions; a completed one created its subscription', async () => {
    const customer = await stripe.customers.create({}, { idempotencyKey: 'e-1' });
    const params = {
      mode: 'subscription' as const,
      customer: customer.id,
      success_url: 'https://x.example/',
      line_items: [{ price: 'price_prime_monthly_usd', quantity: 1 }],
    };
    const a = await stripe.checkout.sessions.create(params, { idempotencyKey: 'e-2' });
    const b = await stripe.checkout.sessions.create({ ...params, subscription_data: { trial_period_days: 30 } }, { idempotencyKey: 'e-3' });
    expect((await stripe.checkout.sessions.list({ customer: customer.id, status: 'open' })).data.map((s) => s.id).sort()).toEqual(
      [a.id, b.id].sort(),
    );
    expect((await stripe.checkout.sessions.expire(a.id, {}, { idempotencyKey: 'e-4' })).status).toBe('expired');
    expect(await errorOf(stripe.checkout.sessions.expire(a.id, {}, { idempotencyKey: 'e-5' }))).toMatchObject({ statusCode: 400 });
    const { subscription } = double.completeCheckoutSession(b.id);
    expect(subscription).toMatchObject({ customer: customer.id, status: 'trialing' });
    expect(await stripe.checkout.sessions.retrieve(b.id)).toMatchObject({ status: 'complete', subscription: subscription.id, url: null });
    expect(await errorOf(stripe.checkout.sessions.expire(b.id, {}, { idempotencyKey: 'e-6' }))).toMatchObject({ statusCode: 400 });
    expect((await stripe.checkout.sessions.list({ customer: customer.id, status: 'open' })).data).toEqual([]);
  });

  it('checks portal configurations: required features and enabled flags, enums, prices of the named product', async () => {
    double.price({ id: 'price_other_product', unitAmount: 500, interval: 'month', product: 'prod_other' });
    const product = double.objects.get('price_prime_monthly_usd')!.product as string;
    const features = {
      subscription_update: {
        enabled: true,
        default_allowed_updates: ['price' as const],
        products: [{ product, prices: ['price_prime_monthly_usd'] }],
      },
    };
    expect(
      await errorOf(
        stripe.billingPortal.configurations.create({} as Stripe.BillingPortal.ConfigurationCreateParams, { idempotencyKey: 'c-1' }),
      ),
    ).toMatchObject({ param: 'features' });
    expect(
      await errorOf(
        stripe.billingPortal.configurations.create(
          {
            features: {
              invoice_history: { enabled: true },
              customer_update: { allowed_updates: ['email'] } as unknown as { enabled: boolean },
            },
          },
          { idempotencyKey: 'c-2' },
        ),
      ),
    ).toMatchObject({ param: 'features[customer_update][enabled]' });
    expect(
      await errorOf(
        stripe.billingPortal.configurations.create(
          {
            features: {
              subscription_update: { ...features.subscription_update, products: [{ product, prices: ['price_other_product'] }] },
            },
          },
          { idempotencyKey: 'c-3' },
        ),
      ),
    ).toMatchObject({ statusCode: 400, param: 'features[subscription_update][products][0][prices][0]' });
    expect(
      await errorOf(
        stripe.billingPortal.configurations.create(
          { features: { subscription_cancel: { enabled: true, mode: 'at_period_end', proration_behavior: 'create_prorations' } } },
          { idempotencyKey: 'c-4' },
        ),
      ),
    ).toMatchObject({ statusCode: 400 });
    const created = await stripe.billingPortal.configurations.create(
      { features, metadata: { managedBy: 'test' } },
      { idempotencyKey: 'c-5' },
    );
    expect(created.features.subscription_update).toMatchObject({
      enabled: true,
      default_allowed_updates: ['price'],
      products: [{ product, prices: ['price_prime_monthly_usd'] }],
    });
    const updated = await stripe.billingPortal.configurations.update(
      created.id,
      { features: { subscription_update: { products: [{ product, prices: ['price_prime_monthly_usd', 'price_prime_monthly_usd'] }] } } },
      { idempotencyKey: 'c-6' },
    );
    expect(updated.features.subscription_update.enabled).toBe(true);
    expect((await stripe.billingPortal.configurations.list({ active: true })).data.map((c) => c.id)).toContain(created.id);
    await stripe.billingPortal.configurations.update(created.id, { active: false }, { idempotencyKey: 'c-7' });
    const customer = await stripe.customers.create({}, { idempotencyKey: 'c-8' });
    expect(
      await errorOf(stripe.billingPortal.sessions.create({ customer: customer.id, configuration: created.id }, { idempotencyKey: 'c-9' })),
    ).toMatchObject({ statusCode: 400, param: 'configuration' });
    expect(
      await errorOf(
        stripe.billingPortal.sessions.create({ customer: customer.id, configuration: 'bpc_missing' }, { idempotencyKey: 'c-10' }),
      ),
    ).toMatchObject({ statusCode: 404 });
  });
  it('refuses unknown nested parameters and enum values Stripe does not know, naming the path', async () => {
    const customer = await stripe.customers.create({}, { idempotencyKey: 'n-1' });
    const session = {
      mode: 'subscription' as const,
      customer: customer.id,
      success_url: 'https://x.example/',
      line_items: [{ price: 'price_prime_monthly_usd', quantity: 1 }],
    };
    const nested = { ...session, subscription_data: { trial_period_days: 3, trial_length: 3 } } as Stripe.Checkout.SessionCreateParams;
    expect(await errorOf(stripe.checkout.sessions.create(nested, { idempotencyKey: 'n-2' }))).toMatchObject({
      statusCode: 400,
      param: 'subscription_data[trial_length]',
      message: 'Received unknown parameter: subscription_data[trial_length]',
    });
    const badEnum = { ...session, billing_address_collection: 'sometimes' } as unknown as Stripe.Checkout.SessionCreateParams;
    expect(await errorOf(stripe.checkout.sessions.create(badEnum, { idempotencyKey: 'n-3' }))).toMatchObject({
      statusCode: 400,
      param: 'billing_address_collection',
      message: expect.stringMatching(/^Invalid billing_address_collection: must be one of auto, required/),
    });
    const sub = double.put(subscriptionObject({ memberId: 'm-n', periodStart: Math.floor(Date.now() / 1000) }));
    const badFeedback = { cancellation_details: { feedback: 'bored' } } as unknown as Stripe.SubscriptionUpdateParams;
    expect(await errorOf(stripe.subscriptions.update(sub.id, badFeedback, { idempotencyKey: 'n-4' }))).toMatchObject({
      param: 'cancellation_details[feedback]',
    });
  });

  it('lists its events like Stripe: by created range and types (20 at most), newest first, paged', async () => {
    // Its own stretch of the double's clock, apart from the events the other tests made.
    double.clockOffsetSeconds = 3600;
    const t0 = double.now();
    const sub = double.put(subscriptionObject({ memberId: 'm-ev', periodStart: t0 }));
    double.emit('customer.subscription.created', sub);
    await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true }, { idempotencyKey: 'ev-1' });
    await stripe.subscriptions.cancel(sub.id);
    const types = ['customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted'];
    const listed = await stripe.events.list({ types, created: { gte: t0 }, limit: 2 });
    expect(listed.data.map((e) => e.type)).toEqual(['customer.subscription.deleted', 'customer.subscription.updated']);
    expect(listed.has_more).toBe(true);
    const rest = await stripe.events.list({ types, created: { gte: t0 }, limit: 2, starting_after: listed.data[1]!.id });
    expect(rest.data.map((e) => e.type)).toEqual(['customer.subscription.created']);
    const updated = listed.data[1]!;
    expect(updated.data.previous_attributes).toMatchObject({ cancel_at_period_end: false });
    expect((await stripe.events.list({ type: 'customer.subscription.*', created: { gte: t0 } })).data).toHaveLength(3);
    expect((await stripe.events.list({ types, created: { gt: t0 + 60 } })).data).toEqual([]);
    const tooMany = Array.from({ length: 21 }, (_, i) => `type.${i}`);
    expect(await errorOf(stripe.events.list({ types: tooMany }))).toMatchObject({ statusCode: 400, param: 'types' });
    expect(await errorOf(stripe.events.list({ types, type: 'x' }))).toMatchObject({ statusCode: 400 });
    double.clockOffsetSeconds = 0;
  });
});
