import { describe, expect, it } from 'vitest';
import { signupEvents, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';

const api = useApi();
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('POST /v1/entitlements/check', () => {
  it('answers 200 entitled:false status:none for an unknown member', async () => {
    const ent = await api.entitlement(uniqueMemberId('unknown'));
    expect(ent).toMatchObject({
      entitled: false,
      status: 'none',
      planId: null,
      benefits: { freeShipping: { eligible: false, reason: 'not_entitled' }, coupons: [], shippingVouchers: [] },
    });
  });

  it('needs a checkout key: 401 without or with a bad key, 403 for another role', async () => {
    const body = { memberId: 'someone' };
    expect((await api.call('POST', '/v1/entitlements/check', { key: null, body })).status).toBe(401);
    expect((await api.call('POST', '/v1/entitlements/check', { key: 'ck_wrong_key_12345', body })).status).toBe(401);
    expect((await api.call('POST', '/v1/entitlements/check', { body, headers: { authorization: 'Basic abc' }, key: null })).status).toBe(
      401,
    );
    const forbidden = await api.call('POST', '/v1/entitlements/check', { key: KEYS.finance, body });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toBe('application/problem+json');
  });

  it('rejects unknown fields, bad member ids, floats and bad currencies with 400 and their paths', async () => {
    const res = await api.call('POST', '/v1/entitlements/check', {
      body: { memberId: 'bad id!', extra: true, order: { subtotalCents: 12.5, currency: 'USD' } },
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: Array<{ path: string }> };
    const paths = problem.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/body/memberId', '/body', '/body/order/subtotalCents', '/body/order/currency']));
    expect((await api.call('POST', '/v1/entitlements/check', { body: '{not json' })).status).toBe(400);
  });

  it('reads a canceled membership as lapsed once its paid period has ended, with no event saying so', async () => {
    const memberId = uniqueMemberId('ended');
    const start = nowSeconds() - 31 * DAY;
    const { events, customer, subscription } = signupEvents({ memberId, start });
    for (const e of events) await api.postEvent(e);
    await api.postEvent(
      stripeEvent(
        'customer.subscription.updated',
        subscriptionObject({
          id: subscription,
          customer,
          memberId,
          periodStart: start,
          periodEnd: start + 30 * DAY,
          cancelAtPeriodEnd: true,
        }),
        { created: start + 10 * DAY },
      ),
    );
    expect(await api.entitlement(memberId)).toMatchObject({ entitled: false, status: 'lapsed' });
  });

  it('reports trialing members as entitled with their trial end as period end', async () => {
    const memberId = uniqueMemberId('trial');
    const { events, periodEnd } = signupEvents({ memberId, start: nowSeconds() - DAY, trialDays: 30 });
    for (const e of events) await api.postEvent(e);
    expect(await api.entitlement(memberId)).toMatchObject({
      entitled: true,
      status: 'trialing',
      currentPeriodEnd: new Date(periodEnd * 1000).toISOString(),
    });
  });
});

describe('GET /health and /openapi.json', () => {
  it('serves health and an OpenAPI 3.1 document built from the schemas', async () => {
    expect((await api.call('GET', '/health', { key: null })).status).toBe(200);
    const doc = (await (await api.call('GET', '/openapi.json', { key: null })).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    const op = doc.paths['/v1/entitlements/check'].post;
    const request = doc.components.schemas[op.requestBody.content['application/json'].schema.$ref.replace('#/components/schemas/', '')];
    expect(request.additionalProperties).toBe(false);
    expect(request.required).toContain('memberId');
    // The first server is where the document was fetched, so a client generated from it needs no base URL.
    expect(doc.servers[0].url).toBe(api.url(''));
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await api.call('GET', '/nope', { key: null });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });
});
