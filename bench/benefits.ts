/**
 * Benefits figures for `npm run bench`:
 * - entitlement check (the `checkEntitlement` use case on real DynamoDB Local) for a member holding
 *   20 open grants vs one holding none: p50/p99 ratio, goal ≤ 1.2 (grants come with the membership in
 *   one Query of one item collection, no extra round trip);
 * - 50 concurrent redeems of one code by different orders: latency and the exactly-one-winner check.
 */
import { randomBytes } from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { generateGrantCode } from '#shared/codes';
import { buildGrants } from '#shared/domain/benefits';
import { parseCatalog } from '#shared/domain/catalog';
import { applyMembershipEvent, type SubscriptionState } from '#shared/domain/membership';
import { ConflictError } from '#shared/errors';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { DynamoBenefitsRepository } from '#shared/storage/benefits-repository';
import { documentClient } from '#shared/storage/dynamodb';
import { grantPut } from '#shared/storage/grants';
import { DynamoMembershipRepository } from '#shared/storage/membership-repository';
import { ensureTables } from '#shared/storage/tables';
import { redeemGrant } from '#shared/usecases/benefits';
import { checkEntitlement } from '#shared/usecases/check-entitlement';
import catalogJson from '../config/plan-catalog.json' with { type: 'json' };
import { monthlySubscription } from '../tests/support/domain';

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

export async function run(ctx: { dynamodbEndpoint: string; log: (line: string) => void }): Promise<void> {
  const suffix = randomBytes(4).toString('hex');
  const tables = { main: `bench-benefits-${suffix}`, idempotency: `bench-benefits-idem-${suffix}` };
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint } as NodeJS.ProcessEnv, { maxAttempts: 10 });
  await ensureTables(client, tables);
  const doc = documentClient(client);
  const catalog = parseCatalog(catalogJson);
  const memberships = new DynamoMembershipRepository(doc, client, tables.main);
  const benefits = new DynamoBenefitsRepository(doc, tables.main);
  const now = new Date();
  const sub = (memberId: string): SubscriptionState =>
    monthlySubscription(new Date(now.getTime() - 86_400_000).toISOString(), new Date(now.getTime() + 29 * 86_400_000).toISOString(), {
      subscriptionId: `sub_${memberId}`,
      customerId: `cus_${memberId}`,
    });
  const seedMember = async (memberId: string, grantCount: number) => {
    const { record } = applyMembershipEvent(null, {
      kind: 'subscription-changed',
      eventId: `evt_${memberId}`,
      created: Math.floor(now.getTime() / 1000) - 60,
      memberId,
      subscription: sub(memberId),
    });
    await memberships.saveMembership(record, 0);
    const definition = catalog.plan('prime-monthly')!.benefits.grants[1]!;
    const grants = Array.from(
      { length: grantCount },
      () => buildGrants(definition, { memberId, periodKey: `sub_${memberId}@p`, issuedAt: now.toISOString(), code: generateGrantCode })[0]!,
    );
    for (let i = 0; i < grants.length; i += 25) {
      await doc.send(new TransactWriteCommand({ TransactItems: grants.slice(i, i + 25).map((g) => grantPut(tables.main, g)) }));
    }
    return grants;
  };

  const withGrants = `bench-20-${suffix}`;
  const without = `bench-0-${suffix}`;
  await seedMember(withGrants, 20);
  await seedMember(without, 0);
  const deps = { catalog, memberships };
  const order = { subtotalCents: 4000, currency: 'usd', serviceLevel: 'two-day' };

  // Interleaved, same process, same table: both sides see the same machine state.
  const rounds = 1500;
  const times: Record<'grants' | 'none', number[]> = { grants: [], none: [] };
  for (let i = 0; i < 200; i++) {
    await checkEntitlement(deps, withGrants, now, order);
    await checkEntitlement(deps, without, now, order);
  }
  for (let i = 0; i < rounds; i++) {
    const pair: Array<['grants' | 'none', string]> =
      i % 2 === 0
        ? [
            ['grants', withGrants],
            ['none', without],
          ]
        : [
            ['none', without],
            ['grants', withGrants],
          ];
    for (const [label, memberId] of pair) {
      const t0 = performance.now();
      const ent = await checkEntitlement(deps, memberId, now, order);
      times[label].push(performance.now() - t0);
      if (label === 'grants' && ent.benefits.coupons.length !== 20)
        throw new Error(`expected 20 coupons, got ${ent.benefits.coupons.length}`);
    }
  }
  const g = times.grants.sort((a, b) => a - b);
  const n = times.none.sort((a, b) => a - b);
  ctx.log(
    `benefits: entitlement check with 20 open grants vs none (${rounds} each): p50 ${quantile(g, 0.5).toFixed(3)} ms vs ${quantile(n, 0.5).toFixed(3)} ms → ratio ${(quantile(g, 0.5) / quantile(n, 0.5)).toFixed(3)} (goal ≤ 1.2); p99 ratio ${(quantile(g, 0.99) / quantile(n, 0.99)).toFixed(3)}`,
  );

  // Contention: 50 orders race for one code, several times.
  const rivals = 50;
  const latencies: number[] = [];
  const trials = 5;
  for (let t = 0; t < trials; t++) {
    const memberId = `bench-race-${t}-${suffix}`;
    const [grant] = await seedMember(memberId, 1);
    const bdeps = { catalog, memberships, benefits };
    const outcomes = await Promise.all(
      Array.from({ length: rivals }, async (_, i) => {
        const t0 = performance.now();
        try {
          await redeemGrant(
            bdeps,
            { code: grant!.code, memberId, orderId: `order-${i}`, subtotalCents: 4000, currency: 'usd' },
            new Date(),
          );
          return { ok: true, ms: performance.now() - t0 };
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
          return { ok: false, ms: performance.now() - t0 };
        }
      }),
    );
    const winners = outcomes.filter((o) => o.ok).length;
    if (winners !== 1) throw new Error(`redeem race ${t}: ${winners} winners, expected exactly 1`);
    latencies.push(...outcomes.map((o) => o.ms));
  }
  const l = latencies.sort((a, b) => a - b);
  ctx.log(
    `benefits: ${trials} × ${rivals} concurrent redeems of one code: exactly one winner each time (409 for the rest); latency p50 ${quantile(l, 0.5).toFixed(1)} ms, p99 ${quantile(l, 0.99).toFixed(1)} ms, max ${l[l.length - 1]!.toFixed(1)} ms`,
  );
  client.destroy();
}
