import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { createStripeClient } from '../../shared/stripe/client';
import { StripeDouble } from '../support/stripe-double';
import { invoiceObject, subscriptionObject } from '../../local/stripe-test-events';

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
  stripe = createStripeClient({ STRIPE_SECRET_KEY: double.apiKey, STRIPE_API_BASE: double.url })!;
});
afterAll(() => double.close());

describe('Stripe test double', () => {
  it('refuses another key, another API version and POSTs without our own idempotency key', async () => {
    const wrongKey = createStripeClient({ STRIPE_SECRET_KEY: 'sk_test_wrong', STRIPE_API_BASE: double.url })!;
    expect((await errorOf(wrongKey.customers.create({}, { idempotencyKey: 'k-1' }))).statusCode).toBe(401);
    const otherVersion = new Stripe(double.apiKey, { apiVersion: '2025-03-31.basil' as Stripe.LatestApiVersion, host: '127.0.0.1', port: Number(new URL(double.url).port), protocol: 'http', maxNetworkRetries: 0 });
    expect(await errorOf(otherVersion.customers.create({}, { idempotencyKey: 'k-2' }))).toMatchObject({ statusCode: 400, message: expect.stringMatching(/API version/) });
    expect(await errorOf(stripe.customers.create({}))).toMatchObject({ statusCode: 400, message: expect.stringMatching(/idempotency key/) });
  });

  it('refuses missing required and unknown parameters, naming them', async () => {
    expect(await errorOf(stripe.billingPortal.sessions.create({} as Stripe.BillingPortal.SessionCreateParams, { idempotencyKey: 'p-1' }))).toMatchObject({ statusCode: 400, param: 'customer' });
    expect(await errorOf(stripe.customers.create({ nonsense: 'x' } as Stripe.CustomerCreateParams, { idempotencyKey: 'p-2' }))).toMatchObject({ statusCode: 400, param: 'nonsense' });
    const customer = await stripe.customers.create({}, { idempotencyKey: 'p-3' });
    const subscriptionWithoutPrice = { mode: 'subscription', customer: customer.id, success_url: 'https://x.example/', line_items: [{ quantity: 1 }] } as Stripe.Checkout.SessionCreateParams;
    expect(await errorOf(stripe.checkout.sessions.create(subscriptionWithoutPrice, { idempotencyKey: 'p-4' }))).toMatchObject({ statusCode: 400, param: 'line_items[0][price]' });
    expect(await errorOf(stripe.checkout.sessions.create({ mode: 'subscription', customer: 'cus_missing', success_url: 'https://x.example/', line_items: [{ price: 'price_prime_monthly_usd', quantity: 1 }] }, { idempotencyKey: 'p-5' }))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('replays a keyed request with the same parameters and refuses the key with other parameters', async () => {
    const a = await stripe.customers.create({ metadata: { memberId: 'm1' } }, { idempotencyKey: 'same' });
    const b = await stripe.customers.create({ metadata: { memberId: 'm1' } }, { idempotencyKey: 'same' });
    expect(b.id).toBe(a.id);
    expect(await errorOf(stripe.customers.create({ metadata: { memberId: 'm2' } }, { idempotencyKey: 'same' }))).toMatchObject({ type: 'StripeIdempotencyError' });
  });

  it('keeps subscription and refund rules: a canceled subscription cannot be updated, a refund cannot exceed the payment', async () => {
    const sub = double.put(subscriptionObject({ memberId: 'm1', periodStart: Math.floor(Date.now() / 1000) }));
    const { paymentIntent } = double.paidInvoice(invoiceObject({ customer: sub.customer, subscription: sub.id, periodStart: 1, periodEnd: 2 }));
    await stripe.subscriptions.cancel(sub.id);
    expect((await errorOf(stripe.subscriptions.update(sub.id, { cancel_at_period_end: true }, { idempotencyKey: 'u-1' }))).statusCode).toBe(400);
    await stripe.refunds.create({ payment_intent: paymentIntent.id, amount: 1000 }, { idempotencyKey: 'r-1' });
    expect(await errorOf(stripe.refunds.create({ payment_intent: paymentIntent.id, amount: 1000 }, { idempotencyKey: 'r-2' }))).toMatchObject({ statusCode: 400, code: 'amount_too_large' });
  });

  it('injects faults and records each call', async () => {
    double.fail({ method: 'GET', path: '/v1/prices/:id' }, { kind: 'status', status: 429 });
    expect(await errorOf(stripe.prices.retrieve('price_prime_monthly_usd'))).toMatchObject({ type: 'StripeRateLimitError' });
    double.fail({ method: 'GET', path: '/v1/prices/:id' }, { kind: 'reset' }, 3);
    expect(await errorOf(stripe.prices.retrieve('price_prime_monthly_usd'))).toMatchObject({ type: 'StripeConnectionError' });
    expect(double.callsTo('GET', '/v1/prices/price_prime_monthly_usd').map((c) => c.fault)).toEqual(['429', 'reset', 'reset', 'reset']);
  });
});
