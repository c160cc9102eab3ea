/**
 * `npm run bench`: performance figures as ratios measured side by side in one run (never timed unit
 * tests: shared machines are noisy). Starts its own DynamoDB Local on a free port.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LOCAL_DEFAULTS } from '../local/defaults';
import { freePort, startEmbeddedDynamo } from '../local/dynamodb-local';
import type { BenchContext } from './context';

const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

async function main() {
  console.log(`bench on Node ${process.version}`);
  const dynamo = await startEmbeddedDynamo({ port: await freePort() });
  Object.assign(process.env, {
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    TABLE_NAME: 'bench-membership',
    IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
    SERVICE_API_KEYS: LOCAL_DEFAULTS.SERVICE_API_KEYS,
    STRIPE_WEBHOOK_SECRET: LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const ctx: BenchContext = { dynamodbEndpoint: dynamo.endpoint, log: (line) => console.log(line) };
  try {
    const { createDynamoClient, tableNamesFromEnv } = await import('#shared/runtime/dynamo');
    const { ensureTables } = await import('#shared/storage/tables');
    const client = createDynamoClient();
    await ensureTables(client, tableNamesFromEnv());

    const webhook = await import('./webhook');
    if (wanted('webhook')) await section('webhook', () => webhook.run(ctx));
    if (wanted('entitlement')) {
      const seeded = await seedMember();
      const householdMemberId = await seedHouseholdMember(seeded);
      await section('entitlement', async () => (await import('./entitlement')).run({ ...ctx, memberId: seeded, householdMemberId }));
    }
    if (wanted('cold-start')) await section('cold-start', async () => (await import('./cold-start')).run(ctx));
    // Feature benchmarks register themselves as bench/<area>.ts exporting run(ctx).
    for (const area of ['benefits', 'reminders', 'finance', 'sync']) {
      const file = fileURLToPath(new URL(`./${area}.ts`, import.meta.url));
      if (existsSync(file) && wanted(area)) await section(area, async () => (await import(file)).run(ctx));
    }
    client.destroy();
  } finally {
    await dynamo.stop();
  }
}

async function seedMember(): Promise<string> {
  const { ingestStripeEvent } = await import('#shared/usecases/ingest-stripe-event');
  const { planCatalog } = await import('#shared/runtime/catalog');
  const { benefitsRepository, ledgerRepository, membershipRepository } = await import('#shared/runtime/dynamo');
  const { membershipReactions } = await import('#shared/usecases/reactions');
  const { jurisdictionRules } = await import('#shared/runtime/jurisdictions');
  const { signupEvents } = await import('../local/stripe-test-events');
  const { stripeEventSchema } = await import('#shared/stripe/events');
  const memberId = `bench-entitlement-${Date.now()}`;
  // With the plan's grants (a welcome and a monthly coupon, two next-day vouchers), as a member has them:
  // the check lists them and the quote prices them.
  const deps = {
    catalog: planCatalog(),
    memberships: membershipRepository(),
    ledger: ledgerRepository(),
    reactions: membershipReactions(benefitsRepository().tableName, jurisdictionRules()),
  };
  for (const event of signupEvents({ memberId, start: Math.floor(Date.now() / 1000) - 3600 }).events) {
    await ingestStripeEvent(deps, stripeEventSchema.parse(event));
  }
  return memberId;
}

/** A shopper who joined the member's household as an adult: their check answers from the owner's copy. */
async function seedHouseholdMember(ownerMemberId: string): Promise<string> {
  const { planCatalog } = await import('#shared/runtime/catalog');
  const { householdStore, membershipRepository } = await import('#shared/runtime/dynamo');
  const { inviteToHousehold, joinHousehold } = await import('#shared/usecases/household');
  const { generateReference } = await import('#shared/codes');
  const deps = {
    catalog: planCatalog(),
    memberships: membershipRepository(),
    households: householdStore(),
    inviteCode: () => generateReference('HH'),
  };
  const memberId = `${ownerMemberId}-household`;
  const { code } = await inviteToHousehold(deps, ownerMemberId, 'adult', new Date());
  await joinHousehold(deps, memberId, { code }, new Date());
  return memberId;
}

async function section(name: string, fn: () => Promise<void>) {
  console.log(`\n== ${name}`);
  const t0 = Date.now();
  await fn();
  console.log(`   (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
