import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckoutApiError, type CheckoutClientOptions, type ClientEvent, createCheckoutClient } from '../../clients/checkout/client';

/**
 * The client's policies against a scripted fetch, with `Date` (the cache's and the breaker's clock)
 * held by the test: no network, no waiting on real time but the tiny attempt timeouts and backoffs.
 * tests/integration/checkout-client.test.ts runs it against the real local service.
 */
type Script = (request: Request, n: number) => Response | Promise<Response> | 'hang' | 'refuse';

const entitlement = (memberId: string, entitled = true) => ({
  memberId,
  entitled,
  status: entitled ? 'active' : 'none',
  planId: entitled ? 'prime-monthly' : null,
  currentPeriodEnd: null,
  graceEndsAt: null,
  benefits: {
    freeShipping: { eligible: entitled, serviceLevels: ['standard'], reason: entitled ? null : 'not_entitled' },
    memberDiscountBps: 0,
    coupons: [],
    shippingVouchers: [],
  },
});
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const problem = (status: number, extra: object = {}) =>
  new Response(JSON.stringify({ type: '/problems/x', title: 'X', status, detail: 'd', ...extra }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2030-01-01T00:00:00.000Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

function harness(script: Script, over: Partial<CheckoutClientOptions> = {}) {
  const calls: string[] = [];
  const events: ClientEvent[] = [];
  const fetch = async (request: Request) => {
    calls.push(new URL(request.url).pathname);
    const out = await script(request, calls.length);
    if (out === 'refuse') throw new TypeError('fetch failed');
    if (out === 'hang')
      return new Promise<Response>((_resolve, reject) =>
        request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true }),
      );
    return out;
  };
  const client = createCheckoutClient({
    baseUrl: 'http://membership.test',
    apiKey: 'ck_test',
    fetch,
    policies: { check: { attemptTimeoutMs: 20 }, quote: { attemptTimeoutMs: 20 }, write: { attemptTimeoutMs: 20 } },
    onEvent: (e) => events.push(e),
    ...over,
  });
  return { client, calls, events, advance: (ms: number) => vi.setSystemTime(Date.now() + ms) };
}

describe('checkout client', () => {
  it('answers from the service, retrying a 5xx or a refused connection once, never a 4xx', async () => {
    const h = harness((_req, n) => (n === 1 ? problem(503, { reason: 'x' }) : json(200, entitlement('m1'))));
    expect(await h.client.checkEntitlement('m1')).toEqual({ source: 'service', entitlement: entitlement('m1') });
    expect(h.calls).toHaveLength(2);

    const refused = harness((_req, n) => (n === 1 ? 'refuse' : json(200, entitlement('m1'))));
    expect((await refused.client.checkEntitlement('m1')).source).toBe('service');

    const conflict = harness(() => problem(409, { reason: 'held_by_another_order' }));
    const held = await conflict.client.hold('CODE', { memberId: 'm1', orderId: 'o1', subtotalCents: 100, currency: 'usd' });
    expect(held).toMatchObject({ ok: false, status: 409, problem: { reason: 'held_by_another_order' } });
    expect(conflict.calls).toHaveLength(1);
  });

  it('degrades the check to the last known entitlement, then to unknown, and flags the order for later', async () => {
    let down = false;
    const h = harness(() => (down ? 'hang' : json(200, entitlement('m1'))), { cache: { ttlMs: 60_000 } });
    await h.client.checkEntitlement('m1');
    down = true;
    h.advance(30_000);
    expect(await h.client.checkEntitlement('m1')).toMatchObject({
      source: 'cache',
      entitlement: { entitled: true },
      ageMs: 30_000,
      adjustLater: true,
      failure: { cause: 'timeout', attempts: 2 },
    });
    expect(await h.client.checkEntitlement('m2')).toMatchObject({ source: 'unknown', entitlement: null, adjustLater: true });
    h.advance(31_000); // past the cache's trust
    expect((await h.client.checkEntitlement('m1')).source).toBe('unknown');
    expect(h.events.filter((e) => e.type === 'degraded').map((e) => (e as { source: string }).source)).toEqual([
      'cache',
      'unknown',
      'unknown',
    ]);
  });

  it('opens the breaker after 5 failed attempts, answers without calling, probes once after openMs, closes on success', async () => {
    let up = false;
    const h = harness(() => (up ? json(200, entitlement('m1')) : problem(500)), { breaker: { failureThreshold: 5, openMs: 5000 } });
    for (let i = 0; i < 3; i++) await h.client.checkEntitlement('m1'); // 2 attempts each: open after the 5th
    expect(h.client.breakerState).toBe('open');
    const before = h.calls.length;
    expect(await h.client.checkEntitlement('m1')).toMatchObject({ source: 'unknown', failure: { cause: 'circuit_open', attempts: 0 } });
    expect(await h.client.redeem('C', { memberId: 'm1', orderId: 'o', subtotalCents: 1, currency: 'usd' })).toMatchObject({
      ok: false,
      status: 'unavailable',
      failure: { cause: 'circuit_open' },
    });
    expect(h.calls.length).toBe(before);

    h.advance(5000);
    await h.client.checkEntitlement('m1'); // the first call after openMs probes; it fails: open again, one request made
    expect([h.client.breakerState, h.calls.length]).toEqual(['open', before + 1]);
    h.advance(5000);
    up = true;
    expect((await h.client.checkEntitlement('m1')).source).toBe('service');
    expect(h.client.breakerState).toBe('closed');
    expect(h.events.filter((e) => e.type === 'breaker').map((e) => (e as { state: string }).state)).toEqual([
      'open',
      'half-open',
      'open',
      'half-open',
      'closed',
    ]);
  });

  it('gives up within the budget and reports an unavailable write instead of throwing', async () => {
    const h = harness(() => new Response(null, { status: 503, headers: { 'retry-after': '5' } }));
    expect(await h.client.commit('C', 'o1')).toMatchObject({
      ok: false,
      status: 'unavailable',
      failure: { cause: 'server_error', status: 503, attempts: 3 },
    });
    const slow = harness(() => 'hang', { policies: { write: { attemptTimeoutMs: 1000, budgetMs: 30 } } });
    expect(await slow.client.release('C', 'o1')).toMatchObject({
      ok: false,
      status: 'unavailable',
      failure: { cause: 'timeout', attempts: 1 },
    });
  });

  it('throws on a refused check (a wrong key is a configuration error, not an outage)', async () => {
    const h = harness(() => problem(401));
    await expect(h.client.checkEntitlement('m1')).rejects.toBeInstanceOf(CheckoutApiError);
    expect(h.client.breakerState).toBe('closed');
  });
});
