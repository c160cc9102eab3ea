/**
 * stripe-sync, side by side in one run (docs/stripe-sync.md):
 * 1. the same 2,000 signed events (500 members × checkout, subscription created, first invoice
 *    paid, subscription updated) through the webhook (HTTP → handler → DynamoDB Local, 16 at a
 *    time) and through the job's replay (Stripe double's GET /v1/events → the same ingestion, 16
 *    lanes), each on tables of its own;
 * 2. the webhook's ingestion vs a bare DynamoDB transaction writing the same items: every write the
 *    use case makes for each event (transactions, puts, updates, conditions included) is recorded
 *    once, then replayed alone on a fresh table, at the same concurrency, member by member;
 * 3. the drift sweep over BENCH_SYNC_SUBSCRIPTIONS (default 10,000) subscriptions in step with the
 *    stored memberships, 1% of them canceled in Stripe: time, Stripe requests and DynamoDB reads,
 *    per 100,000 subscriptions.
 */
import { fileURLToPath } from 'node:url';
import {
  type DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { applyMembershipEvent } from '#shared/domain/membership';
import { STRIPE_BUDGETS } from '#shared/runtime/budgets';
import { planCatalog } from '#shared/runtime/catalog';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { stripeEventIngestion } from '#shared/runtime/stripe-ingestion';
import { documentClient, type TableNames } from '#shared/storage/dynamodb';
import { LedgerRepository } from '#shared/storage/ledger-repository';
import { DynamoMembershipRepository } from '#shared/storage/membership-repository';
import { StripeSyncStore } from '#shared/storage/stripe-sync-store';
import { ensureTables } from '#shared/storage/tables';
import { createStripeClient } from '#shared/stripe/client';
import { type StripeEvent, stripeEventSchema, translateStripeEvent } from '#shared/stripe/events';
import { stripeSyncSource } from '#shared/stripe/sync-source';
import { ingestStripeEvent } from '#shared/usecases/ingest-stripe-event';
import { membershipReactions } from '#shared/usecases/reactions';
import { runStripeSync } from '#shared/usecases/stripe-sync';
import { httpFunctions } from '../functions/manifest';
import { startLocalHttpServer } from '../local/http-adapter';
import { StripeDouble } from '../local/stripe-api/double';
import { stripeEvent, subscriptionObject } from '../local/stripe-test-events';
import type { BenchContext } from './context';
import { benchMemberEvents, postSignedEvents } from './webhook';

const MEMBERS = 500;
const CONCURRENCY = 16;
const DAY = 86_400;

const freshTables = async (client: DynamoDBClient, name: string): Promise<TableNames> => {
  const tables = { main: `bench-${name}-${Date.now()}`, idempotency: `bench-${name}-idem-${Date.now()}` };
  await ensureTables(client, tables);
  return tables;
};

/** Runs `work` over `items` with `lanes` workers, each lane's items in order. */
async function inLanes<T>(groups: T[][], lanes: number, work: (item: T) => Promise<void>) {
  const queue = [...groups];
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let group = queue.shift(); group; group = queue.shift()) for (const item of group) await work(item);
    }),
  );
}

export async function run(ctx: BenchContext) {
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint });
  const doc = documentClient(client);
  const byMember = benchMemberEvents('bench-sync', MEMBERS);
  const all = byMember.flat();

  // ---- 1. webhook
  const server = await startLocalHttpServer({
    functions: httpFunctions.filter((f) => f.name === 'stripe-webhook'),
    projectRoot: fileURLToPath(new URL('..', import.meta.url)),
    port: 0,
  });
  const { seconds: webhookSeconds, failures } = await postSignedEvents(
    server.url,
    all.map((e) => JSON.stringify(e)),
    CONCURRENCY,
  );
  await server.close();

  // ---- 1. replay of the same events from the double's event list, on tables of its own
  const double = await StripeDouble.start();
  for (const event of all) double.put(structuredClone(event));
  const replayTables = await freshTables(client, 'sync-replay');
  const ingestion = stripeEventIngestion({ source: 'replay', dynamo: { client, doc, tables: replayTables } });
  ingestion.registerContext({ getRemainingTimeInMillis: () => 15 * 60_000 });
  const stripe = createStripeClient({ STRIPE_SECRET_KEY: double.apiKey, STRIPE_API_BASE: double.url }, STRIPE_BUDGETS.job)!;
  const syncDeps = {
    source: stripeSyncSource(stripe),
    store: new StripeSyncStore(doc, replayTables.main),
    ingest: (e: StripeEvent) => ingestion.ingest(e),
    ingestDeps: ingestion.deps,
    catalog: planCatalog(),
    memberships: new DynamoMembershipRepository(doc, client, replayTables.main),
    ledger: new LedgerRepository(doc, replayTables.main),
    concurrency: CONCURRENCY,
  };
  let t0 = performance.now();
  const replay = await runStripeSync(syncDeps, { now: new Date(), sweep: 'skip', runId: 'bench' });
  const replaySeconds = (performance.now() - t0) / 1000;

  ctx.log(`the same ${all.length} signed events (${MEMBERS} members), ${CONCURRENCY} at a time, DynamoDB Local:`);
  ctx.log(`  webhook  ${(all.length / webhookSeconds).toFixed(0)} events/s (${webhookSeconds.toFixed(2)} s, ${failures} non-200)`);
  ctx.log(
    `  replay   ${(all.length / replaySeconds).toFixed(0)} events/s (${replaySeconds.toFixed(2)} s, ${replay.replay?.replayed} replayed in ${replay.replay?.windows} windows, ${double.callsTo('GET', '/v1/events').length} list requests)`,
  );
  ctx.log(`  replay / webhook ${(webhookSeconds / replaySeconds).toFixed(2)}`);

  // ---- 2. the same writes, alone: record each event's writes once, then replay them on a fresh table
  const recordTables = await freshTables(client, 'sync-record');
  const recorder = createDynamoClient({ DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint });
  let current: Array<{ command: string; input: unknown }> = [];
  recorder.middlewareStack.add(
    (nextHandler, context) => async (args) => {
      if (['TransactWriteItemsCommand', 'PutItemCommand', 'UpdateItemCommand'].includes(context.commandName ?? ''))
        current.push({ command: context.commandName!, input: structuredClone(args.input) });
      return nextHandler(args);
    },
    // After serialization: the input as the wire carries it (the document client marshals first).
    { step: 'build', name: 'recordWrites' },
  );
  const recordDoc = documentClient(recorder);
  const deps = {
    catalog: planCatalog(),
    memberships: new DynamoMembershipRepository(recordDoc, recorder, recordTables.main),
    reactions: membershipReactions(recordTables.main, jurisdictionRules()),
    ledger: new LedgerRepository(recordDoc, recordTables.main),
  };
  const writes: Array<Array<Array<{ command: string; input: unknown }>>> = [];
  for (const events of byMember) {
    const perEvent = [];
    for (const event of events) {
      current = [];
      await ingestStripeEvent(deps, stripeEventSchema.parse(event));
      perEvent.push(current);
    }
    writes.push(perEvent);
  }
  recorder.destroy();
  const bare = await freshTables(client, 'sync-bare');
  const retable = (input: unknown) => JSON.parse(JSON.stringify(input).replaceAll(`"${recordTables.main}"`, `"${bare.main}"`));
  const items = writes.flat(2).reduce((n, w) => n + ((w.input as TransactWriteItemsCommandInput).TransactItems?.length ?? 1), 0);
  t0 = performance.now();
  await inLanes(writes, CONCURRENCY, async (eventWrites) => {
    for (const w of eventWrites) {
      const input = retable(w.input);
      if (w.command === 'TransactWriteItemsCommand')
        await client.send(new TransactWriteItemsCommand(input as TransactWriteItemsCommandInput));
      else if (w.command === 'PutItemCommand') await client.send(new PutItemCommand(input as PutItemCommandInput));
      else await client.send(new UpdateItemCommand(input as UpdateItemCommandInput));
    }
  });
  const bareSeconds = (performance.now() - t0) / 1000;
  ctx.log(`ingestion vs a bare DynamoDB write of the same items (${writes.flat(2).length} requests, ${items} items, conditions included):`);
  ctx.log(`  bare writes ${(all.length / bareSeconds).toFixed(0)} events/s (${bareSeconds.toFixed(2)} s)`);
  ctx.log(`  webhook / bare ${(bareSeconds / webhookSeconds).toFixed(2)} of the bare throughput`);

  // ---- 3. the drift sweep
  await sweepBench(ctx, client, double);
  await double.close();
  client.destroy();
}

async function sweepBench(ctx: BenchContext, client: DynamoDBClient, double: StripeDouble) {
  const count = Number(process.env.BENCH_SYNC_SUBSCRIPTIONS ?? 10_000);
  const doc = documentClient(client);
  const tables = await freshTables(client, 'sync-sweep');
  const catalog = planCatalog();
  const memberships = new DynamoMembershipRepository(doc, client, tables.main);
  const now = Math.floor(Date.now() / 1000);
  const start = now - 10 * DAY;
  // In step: Stripe's subscriptions and the stored memberships (written by the one membership writer).
  let t0 = performance.now();
  const seeds = Array.from({ length: count }, (_, i) => i);
  await inLanes(
    seeds.map((i) => [i]),
    32,
    async (i) => {
      const memberId = `bench-sweep-${i}-${now}`;
      const sub = double.put({ ...subscriptionObject({ memberId, periodStart: start }), created: start - i });
      const event = stripeEventSchema.parse(stripeEvent('customer.subscription.created', sub, { created: start }));
      const translated = translateStripeEvent(event, catalog);
      if (translated.kind !== 'membership') throw new Error('not a membership event');
      const { record } = applyMembershipEvent(null, translated.build(memberId));
      await memberships.saveMembership(record, 0);
    },
  );
  const drifted = Math.floor(count / 100);
  for (const sub of double.all('subscription').slice(0, drifted))
    Object.assign(sub, { status: 'canceled', canceled_at: now - DAY, ended_at: now - DAY });
  const seedSeconds = (performance.now() - t0) / 1000;

  let reads = 0;
  const counting = createDynamoClient({ DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint });
  counting.middlewareStack.add(
    (nextHandler, context) => async (args) => {
      const input = args.input as { RequestItems?: Record<string, { Keys?: unknown[] }> };
      if (context.commandName === 'BatchGetItemCommand')
        reads += Object.values(input.RequestItems ?? {}).reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
      else if (context.commandName === 'GetItemCommand' || context.commandName === 'QueryCommand') reads++;
      return nextHandler(args);
    },
    { step: 'initialize', name: 'countReads' },
  );
  const countingDoc = documentClient(counting);
  const ingestion = stripeEventIngestion({ source: 'sweep', dynamo: { client: counting, doc: countingDoc, tables } });
  ingestion.registerContext({ getRemainingTimeInMillis: () => 15 * 60_000 });
  const stripe = createStripeClient({ STRIPE_SECRET_KEY: double.apiKey, STRIPE_API_BASE: double.url }, STRIPE_BUDGETS.job)!;
  const before = double.calls.length;
  const store = new StripeSyncStore(countingDoc, tables.main);
  // The replay has nothing to do here: a cursor at the present.
  await store.saveCursor({ created: now, after: null, windowSeconds: 3600 }, new Date());
  t0 = performance.now();
  const result = await runStripeSync(
    {
      source: stripeSyncSource(stripe),
      store,
      ingest: (e) => ingestion.ingest(e),
      ingestDeps: ingestion.deps,
      catalog,
      memberships: new DynamoMembershipRepository(countingDoc, counting, tables.main),
      ledger: new LedgerRepository(countingDoc, tables.main),
    },
    { now: new Date(now * 1000), sweep: 'now', runId: 'bench-sweep' },
  );
  const seconds = (performance.now() - t0) / 1000;
  const requests = double.calls.length - before;
  const per100k = 100_000 / count;
  counting.destroy();
  ctx.log(`drift sweep over ${count} subscriptions in step, ${drifted} canceled in Stripe (seeded in ${seedSeconds.toFixed(1)} s):`);
  ctx.log(
    `  ${seconds.toFixed(2)} s, ${requests} Stripe requests, ${reads} DynamoDB items read; checked ${result.sweep?.checked}, repaired ${result.sweep?.repaired}, needs review ${result.sweep?.needsReview}`,
  );
  ctx.log(
    `  per 100,000 subscriptions: ${(seconds * per100k).toFixed(0)} s here, ${Math.ceil(requests * per100k)} Stripe list requests, ${(reads * per100k).toFixed(0)} DynamoDB items read; pages are read one after another, so if Stripe answers a page in ~0.4 s (assumed, not measured) that is ~${((requests * per100k * 0.4) / 60).toFixed(0)} min of Stripe time, ~2.5 read requests/s`,
  );
}
