import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CheckoutClient, type ClientEvent, createCheckoutClient } from '../../clients/checkout/client';
import { httpFunctions } from '../../functions/manifest';
import { LOCAL_DEFAULTS } from '../../local/defaults';
import { type EmbeddedDynamo, freePort, startEmbeddedDynamo } from '../../local/dynamodb-local';
import { type LocalHttpServer, startLocalHttpServer } from '../../local/http-adapter';
import { signPayload, signupEvents } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId } from '../support/api';
import { checkResponse } from '../support/api-contract';
import { TEST_TABLES } from '../support/tables';
import { startTcpProxy } from '../support/tcp-proxy';

/**
 * The checkout client against the real local service (HTTP adapter → Lambda handlers), whose DynamoDB
 * is a DynamoDB Local of this file's own, reached through a TCP proxy: so the test can make DynamoDB
 * hang (the proxy stalls), kill it (the JVM stops), and stop the service itself. Each stage has its
 * own client, primed while all was well, so one stage's breaker does not decide the next one's answer.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const state: {
  dynamo?: EmbeddedDynamo;
  proxy?: Awaited<ReturnType<typeof startTcpProxy>>;
  server?: LocalHttpServer;
} = {};
const events: ClientEvent[] = [];
const violations: string[] = [];
let requests = 0;

function client(): CheckoutClient {
  return createCheckoutClient({
    baseUrl: state.server!.url,
    apiKey: KEYS.checkout,
    // Generous attempt timeouts: on a loaded machine the healthy service must never read as down (the
    // 300 ms default and the budgets are the unit tests' business). A hang times out whatever the limit.
    policies: {
      check: { attemptTimeoutMs: 2500, budgetMs: 6000 },
      quote: { attemptTimeoutMs: 2500, budgetMs: 6000 },
      write: { attemptTimeoutMs: 2500, budgetMs: 8000 },
    },
    breaker: { failureThreshold: 3 },
    // Counted, so the test can see the open breaker make no request at all; and every answer the
    // client gets is held to the route's documentation, like every other integration test's.
    fetch: async (request) => {
      requests++;
      const response = await fetch(request);
      // The client would read a thrown violation as an outage: keep it to fail the test instead.
      return checkResponse(request.method, request.url, response).catch((violation: Error) => {
        violations.push(violation.message);
        throw violation;
      });
    },
    onEvent: (e) => events.push(e),
  });
}

async function signUp(memberId: string) {
  for (const event of signupEvents({ memberId, start: Math.floor(Date.now() / 1000) - 86_400 }).events) {
    const payload = JSON.stringify(event);
    const res = await fetch(`${state.server!.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET) },
      body: payload,
    });
    expect(res.status).toBe(200);
  }
}

const member = uniqueMemberId('client');
const stranger = uniqueMemberId('client-unknown');
const clients: Record<'healthy' | 'stalled' | 'killed' | 'stopped', CheckoutClient> = {} as never;

beforeAll(async () => {
  state.dynamo = await startEmbeddedDynamo({ port: await freePort() });
  state.proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(state.dynamo.endpoint).port) });
  // Read by the handlers when they load (below), and by the tables' creation: this file's service talks to the proxy.
  process.env.DYNAMODB_ENDPOINT = state.proxy.endpoint;
  const { createDynamoClient } = await import('#shared/runtime/dynamo');
  const { ensureTables } = await import('#shared/storage/tables');
  const tables = createDynamoClient();
  await ensureTables(tables, TEST_TABLES);
  tables.destroy();
  state.server = await startLocalHttpServer({ functions: httpFunctions, projectRoot: root, port: 0 });
  await signUp(member);
  for (const name of ['healthy', 'stalled', 'killed', 'stopped'] as const) {
    clients[name] = client();
    expect((await clients[name].checkEntitlement(member)).source).toBe('service');
  }
}, 120_000);

afterEach(() => {
  expect(violations).toEqual([]);
});

afterAll(async () => {
  await state.server?.close();
  await state.proxy?.close();
  await state.dynamo?.stop();
});

describe('the checkout client against the local service', () => {
  it('checks, quotes, holds and commits through the typed calls while all is well', async () => {
    const c = clients.healthy;
    const checked = await c.checkEntitlement(member, { subtotalCents: 4000, currency: 'usd', serviceLevel: 'next-day' });
    expect(checked).toMatchObject({ source: 'service', entitlement: { entitled: true, status: 'active' } });
    const quote = await c.quote({
      memberId: member,
      currency: 'usd',
      subtotalCents: 4000,
      shippingOptions: [{ serviceLevel: 'next-day', priceCents: 1999 }],
    });
    expect(quote.ok && quote.data.totalSavingsCents).toBe(1000 + 1999);
    const coupon = quote.ok ? quote.data.coupon!.code : '';
    const claim = { memberId: member, orderId: 'client-o1', subtotalCents: 4000, currency: 'usd' };
    expect(await c.hold(coupon, claim)).toMatchObject({ ok: true, data: { status: 'held', orderId: 'client-o1' } });
    const other = checked.entitlement!.benefits.coupons.find((x) => x.code !== coupon)!.code;
    // A refusal is an answer, with the route's documented problem, typed.
    const second = await c.hold(other, claim);
    expect(second).toMatchObject({ ok: false, status: 422, problem: { reason: 'one_coupon_per_order' } });
    expect(await c.commit(coupon, 'client-o1')).toMatchObject({ ok: true, data: { status: 'redeemed', amountOffCents: 1000 } });
    expect(await c.commit(coupon, 'client-o1')).toMatchObject({ ok: true });
  });

  it('DynamoDB hangs: the check answers from its cache (or as unknown) within its budget, writes report unavailable, the breaker stops calling', async () => {
    const c = clients.stalled;
    state.proxy!.stall();
    // The breaker reads Date: held still, it stays open however slow this machine is; moved, it half-opens.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const cached = await c.checkEntitlement(member);
      expect(cached).toMatchObject({ source: 'cache', entitlement: { memberId: member, entitled: true }, adjustLater: true });
      expect(cached.source !== 'service' && cached.failure.cause).toBe('timeout');
      expect(await c.checkEntitlement(stranger)).toMatchObject({ source: 'unknown', entitlement: null, adjustLater: true });
      const hold = await c.hold('ABCD-EFGH-JKMN-PQRST', { memberId: member, orderId: 'o-stall', subtotalCents: 4000, currency: 'usd' });
      expect(hold).toMatchObject({ ok: false, status: 'unavailable' });
      expect(c.breakerState).toBe('open');
      const made = requests;
      expect(await c.checkEntitlement(member)).toMatchObject({ source: 'cache', failure: { cause: 'circuit_open', attempts: 0 } });
      expect(requests).toBe(made);
      await expect(c.quote({ memberId: member, currency: 'usd', subtotalCents: 100, shippingOptions: [] })).rejects.toMatchObject({
        name: 'ServiceUnavailableError',
        failure: { cause: 'circuit_open' },
      });
      state.proxy!.resume();
      // Once DynamoDB answers again, the first call after the open period probes and closes the breaker.
      vi.setSystemTime(Date.now() + 5_000);
      expect((await c.checkEntitlement(member)).source).toBe('service');
      expect(c.breakerState).toBe('closed');
    } finally {
      state.proxy!.resume();
      vi.useRealTimers();
    }
  });

  it('DynamoDB killed: the service fails, the check answers from its cache', async () => {
    await state.dynamo!.stop();
    const result = await clients.killed.checkEntitlement(member);
    expect(result).toMatchObject({ source: 'cache', entitlement: { entitled: true }, adjustLater: true });
    // Either the service answered a 5xx (the SDK gave up), or it was still retrying when the attempt timed out.
    expect(['server_error', 'timeout']).toContain(result.source === 'cache' ? result.failure.cause : null);
    expect(await clients.killed.checkEntitlement(stranger)).toMatchObject({ source: 'unknown', adjustLater: true });
  });

  it('the service stopped: the check answers from its cache, the writes report unavailable', async () => {
    await state.server!.close();
    const result = await clients.stopped.checkEntitlement(member);
    expect(result).toMatchObject({ source: 'cache', failure: { cause: 'network' }, adjustLater: true });
    expect(
      await clients.stopped.reportBenefitUsage({ memberId: member, orderId: 'o-x', shippingSavedCents: 1, currency: 'usd' }),
    ).toMatchObject({ ok: false, status: 'unavailable', failure: { cause: 'network' } });
    expect(events.some((e) => e.type === 'degraded' && e.source === 'cache')).toBe(true);
  });
});
