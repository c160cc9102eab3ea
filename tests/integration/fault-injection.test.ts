/**
 * Dependency failures, injected for real: DynamoDB stopped (its process killed) or black-holed
 * (a proxy that accepts and never answers), and the Stripe API black-holed. Each answers a fast
 * problem+json with Retry-After (503 for the table, 502 for Stripe) within the budget the function
 * runs with in AWS (shared/runtime/budgets.ts; the checkout's: about 2 s), never a 500 after a
 * timeout, and the service recovers by itself once the dependency is back.
 *
 * This file has DynamoDB Locals of its own (the run’s shared one must stay up for the other files),
 * reached through a proxy, and the handlers run with the checkout's DynamoDB budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMO_BUDGETS, dynamoBudgetEnvironment, dynamoWorstCaseMs, STRIPE_BUDGETS, stripeWorstCaseMs } from '#shared/runtime/budgets';
import { type EmbeddedDynamo, freePort, startEmbeddedDynamo } from '../../local/dynamodb-local';
import { signupEvents } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { blackHole, type Fault, type FaultyProxy, faultyProxy } from '../support/faults';
import { bearer } from '../support/shopper';
import { StripeDouble } from '../support/stripe-double';
import { TEST_TABLES } from '../support/tables';

/**
 * Two DynamoDB Locals started together: the first is stopped for real (its process killed) during the
 * test, and "DynamoDB is back" is the proxy in front of them reaching the second, already warm one;
 * restarting a JVM on a busy machine would cost the suite 10 to 20 s.
 */
const state: { first?: EmbeddedDynamo; second?: EmbeddedDynamo; proxy?: FaultyProxy; hole?: Fault } = {};

async function startDynamo(): Promise<EmbeddedDynamo> {
  const dynamo = await startEmbeddedDynamo({ port: await freePort() });
  const { createDynamoClient } = await import('#shared/runtime/dynamo');
  const { ensureTables } = await import('#shared/storage/tables');
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: dynamo.endpoint });
  await ensureTables(client, TEST_TABLES);
  client.destroy();
  return dynamo;
}

const portOf = (dynamo: EmbeddedDynamo) => ({ host: '127.0.0.1', port: Number(new URL(dynamo.endpoint).port) });
/** The DynamoDB Local the proxy reaches now. */
const current = () => (state.proxy!.target.port === portOf(state.first!).port ? state.first! : state.second!);

/**
 * Retries `check` until it passes: with the checkout's tight budget, DynamoDB Local on a busy machine
 * (or just restarted, before its JIT warms up) can miss a 600 ms deadline that DynamoDB itself never
 * comes near. Recovery means "answers again without anything restarted on our side", not "at once".
 */
async function eventually(check: () => Promise<void>, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

beforeAll(async () => {
  [state.first, state.second] = await Promise.all([startDynamo(), startDynamo()]);
  state.proxy = await faultyProxy(portOf(state.first));
  state.hole = await blackHole();
  // The handlers load after this (useApi's beforeAll): they reach DynamoDB through the proxy, with the checkout's budget.
  process.env.DYNAMODB_ENDPOINT = state.proxy.url;
  Object.assign(process.env, dynamoBudgetEnvironment(DYNAMO_BUDGETS.checkout));
}, 120_000);

afterAll(async () => {
  await state.proxy?.close();
  await state.hole?.close();
  await Promise.all([state.first?.stop(), state.second?.stop()]);
});

const api = useApi();

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

async function expectUnavailable(res: Response, status: 502 | 503) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body.type).toBe(status === 503 ? '/problems/unavailable' : '/problems/payment-provider-failed');
  expect(JSON.stringify(body)).not.toMatch(/ECONN|Timeout|stack|dynamodb/i);
}

/**
 * A signed-up member, stored by the webhook's own use case straight into DynamoDB Local with the
 * local budget: the seed is not what is under test, and a transaction of DynamoDB Local can take
 * longer than the checkout's 600 ms on a busy machine.
 */
async function signUp(memberId: string) {
  const signup = signupEvents({ memberId, start: Math.floor(Date.now() / 1000) - 3600 });
  const [{ createDynamoClient }, { documentClient }, { DynamoMembershipRepository }, { LedgerRepository }, { planCatalog }] =
    await Promise.all([
      import('#shared/runtime/dynamo'),
      import('#shared/storage/dynamodb'),
      import('#shared/storage/membership-repository'),
      import('#shared/storage/ledger-repository'),
      import('#shared/runtime/catalog'),
    ]);
  const { ingestStripeEvent } = await import('#shared/usecases/ingest-stripe-event');
  const { membershipReactions } = await import('#shared/usecases/reactions');
  const { jurisdictionRules } = await import('#shared/runtime/jurisdictions');
  const { stripeEventSchema } = await import('#shared/stripe/events');
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: current().endpoint });
  const doc = documentClient(client);
  const deps = {
    catalog: planCatalog(),
    memberships: new DynamoMembershipRepository(doc, client, TEST_TABLES.main),
    ledger: new LedgerRepository(doc, TEST_TABLES.main),
    reactions: membershipReactions(TEST_TABLES.main, jurisdictionRules()),
  };
  for (const event of signup.events) await ingestStripeEvent(deps, stripeEventSchema.parse(event));
  client.destroy();
  return signup;
}

const entitled = (memberId: string) =>
  eventually(async () => {
    const res = await api.call('POST', '/v1/entitlements/check', { body: { memberId } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { entitled: boolean }).entitled).toBe(true);
  });

// Generous upper bounds, to tell "answered within its budget" from "held until a timeout" on a busy
// machine: the checkout's worst case is about 2.8 s, a shopper's Stripe call about 6.5 s.
const CHECKOUT_BOUND_MS = dynamoWorstCaseMs(DYNAMO_BUDGETS.checkout) + 2000;
const STRIPE_BOUND_MS = stripeWorstCaseMs(STRIPE_BUDGETS.shopper) + 3000;

describe('DynamoDB stopped', () => {
  it('answers 503 with Retry-After on every kind of route within the checkout’s budget, and recovers when it is back', async () => {
    const memberId = uniqueMemberId('outage');
    await signUp(memberId);
    await entitled(memberId);

    const [first] = signupEvents({ memberId: uniqueMemberId('during'), start: Math.floor(Date.now() / 1000) }).events;
    await state.first!.stop();
    try {
      const check = await timed(() => api.call('POST', '/v1/entitlements/check', { body: { memberId } }));
      await expectUnavailable(check.value, 503);
      expect(check.ms).toBeLessThan(CHECKOUT_BOUND_MS);

      // The webhook too (inside Powertools idempotency), so Stripe retries; and the other route groups.
      await expectUnavailable(await api.postEvent(first!), 503);
      await expectUnavailable(
        await api.call('POST', '/v1/coupons/ABCD-EFGH-JKMN-PQRST/redeem', {
          body: { memberId, orderId: 'o-1', subtotalCents: 5000, currency: 'usd' },
        }),
        503,
      );
      await expectUnavailable(await api.call('GET', '/v1/me/membership', { key: null, headers: await bearer(memberId) }), 503);
      await expectUnavailable(await api.call('GET', '/v1/finance/ledger?month=2030-01', { key: KEYS.finance }), 503);
      await expectUnavailable(await api.call('GET', `/v1/admin/members/${memberId}`, { key: KEYS.admin }), 503);
    } finally {
      state.proxy!.target = portOf(state.second!);
    }
    // Nothing restarted on our side: the same warm handlers and clients answer again.
    await signUp(memberId);
    await entitled(memberId);
  }, 120_000);
});

describe('DynamoDB black-holed (accepts, never answers)', () => {
  it('answers the checkout 503 with Retry-After within its budget, and recovers', async () => {
    const memberId = uniqueMemberId('hole');
    await signUp(memberId);
    state.proxy!.mode = 'blackhole';
    try {
      const check = await timed(() => api.call('POST', '/v1/entitlements/check', { body: { memberId } }));
      await expectUnavailable(check.value, 503);
      expect(check.ms).toBeLessThan(CHECKOUT_BOUND_MS);
    } finally {
      state.proxy!.mode = 'pass';
    }
    await entitled(memberId);
  }, 60_000);
});

describe('Stripe black-holed (accepts, never answers)', () => {
  it('answers a shopper 502 with Retry-After within the Stripe budget, not after the Lambda timeout, and recovers', async () => {
    const memberId = uniqueMemberId('stripe-hole');
    const { customer } = await signUp(memberId);
    const portal = async () =>
      api.call('POST', '/v1/me/portal-session', {
        key: null,
        headers: await bearer(memberId),
        body: { returnUrl: 'https://shop.example/account' },
      });
    process.env.STRIPE_SECRET_KEY = 'sk_test_fault_injection_0000000000';
    process.env.STRIPE_API_BASE = state.hole!.url;
    const double = await StripeDouble.start(process.env.STRIPE_SECRET_KEY);
    double.customer(customer, memberId);
    try {
      const held = await timed(portal);
      await expectUnavailable(held.value, 502);
      expect(held.ms).toBeLessThan(STRIPE_BOUND_MS);

      process.env.STRIPE_API_BASE = double.url;
      expect((await portal()).status).toBe(200);
    } finally {
      delete process.env.STRIPE_SECRET_KEY;
      delete process.env.STRIPE_API_BASE;
      await double.close();
    }
  }, 60_000);
});
