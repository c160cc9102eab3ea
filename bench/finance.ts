/**
 * Finance at a million members, beside a thousand, in one run:
 * - Two tables, each with one month (2030-01) of a generated membership: 1,000,000 members (one
 *   monthly invoice each, its invoice_payment link, a refund every 10th, a dispute every 97th: over
 *   2.1M ledger entries) and 1,000 members shaped the same. The ledger's month partition is written
 *   straight into DynamoDB Local (BatchWrite of the items `LedgerRepository.record` builds); the
 *   month rollups are what the projection leaves: each member's contributions, computed in-process
 *   with the same projection (`recomputeRollup`, one member at a time), added into one of the 16
 *   shards of each row. The first 2,000 members of each also get their finance account (facts and
 *   state), so renewals can be projected for real.
 * - Reads: `/v1/finance/revenue` and `/v1/finance/metrics` (their use cases, on a store that counts
 *   the items DynamoDB returns), each month table: items read and time, and the ratio 1M / 1k.
 * - Writes: renewals of 200 existing members recorded through the webhook's projecting ledger in
 *   each table: time per event, ratio 1M / 1k (a projection touches one account and a few rows).
 * - Reconciliation of the 1M month against its 1.1M balance transactions (in time order, as Stripe
 *   lists them; rows without invoice ids, so charges match through the links), the ledger read a
 *   UTC day at a time from DynamoDB Local, in a child process with the reconcile Lambda's heap flags:
 *   peak RSS and the time of each 100k rows (linear when the last is no slower than the first).
 */

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { accountKeyOf, type Contributions } from '#shared/domain/finance/account';
import type { LedgerEntry } from '#shared/domain/finance/ledger';
import { addMonths } from '#shared/domain/finance/months';
import { addContributions, recomputeRollup } from '#shared/domain/finance/rollup';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { documentClient } from '#shared/storage/dynamodb';
import { DynamoRollupStore, ROLLUP_SHARDS, rollupFactItems, rollupKeys, toObject } from '#shared/storage/finance-rollups';
import { LedgerRepository, ledgerItems } from '#shared/storage/ledger-repository';
import { ensureTables } from '#shared/storage/tables';
import { financeMetrics, monthRevenue } from '#shared/usecases/finance';
import { ProjectingLedger, RollupProjector } from '#shared/usecases/finance-rollups';
import { generateMonthLazily, type MonthOptions } from '../tests/support/finance-month';
import { settings } from '../tests/support/finance-rollup';
import { percentile } from './context';

const MiB = 1024 * 1024;
const execFileAsync = promisify(execFile);
const MONTH = '2030-01';
const ACCOUNTS = 2_000;
const RENEWALS = 200;
const READS = 31;

const monthOptions = (invoices: number, tag: string): MonthOptions => ({
  month: MONTH,
  invoices,
  refundEvery: 10,
  disputeEvery: 97,
  currencies: ['usd', 'eur'],
  settlement: { eur: { currency: 'usd', rate: 1.0834 } },
  invoiceColumn: false,
  ordered: true,
  seed: 5,
  tag,
});

/** BatchWrite with a few writers and a bounded queue, so a generator of millions of items never runs ahead of them. */
function batchWriter(doc: DynamoDBDocumentClient, table: string, workers = 16) {
  const queue: Array<Array<Record<string, unknown>>> = [];
  let current: Array<Record<string, unknown>> = [];
  let closed = false;
  let written = 0;
  const wake: Array<() => void> = [];
  const worker = async () => {
    for (;;) {
      const batch = queue.shift();
      if (!batch) {
        if (closed) return;
        await new Promise<void>((resolve) => wake.push(resolve));
        continue;
      }
      let items = batch.map((Item) => ({ PutRequest: { Item } }));
      while (items.length) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: items } }));
        items = (out.UnprocessedItems?.[table] ?? []) as typeof items;
      }
      written += batch.length;
      wake.shift()?.();
    }
  };
  const running = Array.from({ length: workers }, worker);
  return {
    async put(item: Record<string, unknown>) {
      current.push(item);
      if (current.length < 25) return;
      queue.push(current);
      current = [];
      wake.shift()?.();
      while (queue.length > workers * 8) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    async close() {
      if (current.length) queue.push(current);
      closed = true;
      for (const w of wake.splice(0)) w();
      while (queue.length) {
        wake.shift()?.();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await Promise.all(running);
      return written;
    },
  };
}

/** Seeds a month: the ledger partition, the rollup rows (per shard), the first members' accounts. */
async function seedMonth(doc: DynamoDBDocumentClient, table: string, options: MonthOptions) {
  const writer = batchWriter(doc, table);
  const byShard = Array.from({ length: ROLLUP_SHARDS }, (): Contributions => new Map());
  let entries = 0;
  let member = 0;
  const now = new Date();
  for (const item of generateMonthLazily(options)) {
    for (const e of item.entries) {
      entries++;
      for (const { item: put } of ledgerItems(e, now)) if (String(put.PK).startsWith('LEDGER#')) await writer.put(put);
    }
    // Each generated member is one account: its contributions as the projection would add them.
    const own = recomputeRollup(item.entries, [], settings);
    const invoice = item.entries.find((e) => e.kind === 'invoice_paid')!;
    const account = accountKeyOf(invoice);
    // The projection picks a shard at random; so does the seed. (Member index modulo 16 put the
    // alternating currencies on eight shards each, so a month read half the rows it reads in AWS.)
    addContributions(byShard[Math.floor(Math.random() * ROLLUP_SHARDS)]!, own);
    if (member++ < ACCOUNTS) {
      for (const fact of rollupFactItems(invoice, now)) if (fact.type === 'finance-fact') await writer.put(fact);
      await writer.put({ PK: `INVOICE#${invoice.entryId}`, SK: 'PAID', type: 'invoice-facts', ...invoice });
      const years = new Set([...own.keys()].map((k) => k.slice(0, 4)));
      for (const year of years)
        await writer.put({
          PK: rollupKeys.accountPk(account),
          SK: rollupKeys.state(year),
          type: 'finance-state',
          applied: toObject(new Map([...own].filter(([k]) => k.startsWith(year)))),
          version: 1,
        });
    }
  }
  let rows = 0;
  for (const [shard, contributions] of byShard.entries()) {
    for (const [key, figures] of contributions) {
      const [month, currency, plan] = key.split('|') as [string, string, string];
      rows++;
      await writer.put({
        PK: rollupKeys.monthPk(month),
        SK: `${currency}#${plan}#${shard}`,
        type: 'rollup',
        currency,
        plan,
        shard,
        ...figures,
      });
    }
  }
  await writer.close();
  return { entries, members: member, rollupRows: rows };
}

/** A document client that counts the items DynamoDB returns to it. */
function counting(doc: DynamoDBDocumentClient) {
  const counter = { items: 0, calls: 0 };
  const wrapped = Object.create(doc) as DynamoDBDocumentClient;
  wrapped.send = (async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
    const out = (await doc.send(command as never)) as { Items?: unknown[]; Item?: unknown; Responses?: Record<string, unknown[]> };
    counter.calls++;
    counter.items += (out.Items?.length ?? 0) + (out.Item ? 1 : 0) + Object.values(out.Responses ?? {}).reduce((a, r) => a + r.length, 0);
    return out;
  }) as DynamoDBDocumentClient['send'];
  return { doc: wrapped, counter };
}

type Reads = Record<'revenue' | 'metrics', { items: number; p50: number; body: string }>;

/**
 * Revenue and metrics of the month in each table, side by side: every round reads each size in turn
 * (alternating which goes first), so the machine's load at any moment weighs on both alike.
 */
async function measureReads(doc: DynamoDBDocumentClient, tables: readonly string[]): Promise<Reads[]> {
  // Read as finance reads it: the month closed (2030-01 lies ahead of the clock, which would read it as not started).
  const asOf = new Date(`${addMonths(MONTH, 1)}-15T00:00:00Z`);
  const sides = tables.map((table) => {
    const { doc: counted, counter } = counting(doc);
    const store = new DynamoRollupStore(counted, table);
    return {
      counter,
      calls: {
        revenue: async () => JSON.stringify(await monthRevenue(store, MONTH, { asOf })),
        metrics: async () => JSON.stringify(await financeMetrics(store, { currency: 'usd', from: MONTH, to: MONTH, asOf })),
      },
    };
  });
  const out = sides.map(() => ({}) as Reads);
  for (const name of ['revenue', 'metrics'] as const) {
    for (const side of sides) await side.calls[name]();
    const times = sides.map((): number[] => []);
    const bodies = sides.map(() => '');
    for (const side of sides) side.counter.items = 0;
    for (let i = 0; i < READS; i++) {
      const order = i % 2 === 0 ? sides.keys() : [...sides.keys()].reverse();
      for (const k of order) {
        const t0 = performance.now();
        bodies[k] = await sides[k]!.calls[name]();
        times[k]!.push(performance.now() - t0);
      }
    }
    for (const [k, side] of sides.entries())
      out[k]![name] = { items: side.counter.items / READS, p50: percentile(times[k]!, 50), body: bodies[k]! };
  }
  return out;
}

/** Renewals of existing members through the webhook's projecting ledger: milliseconds per event. */
async function measureRenewals(doc: DynamoDBDocumentClient, table: string, options: MonthOptions) {
  const ledger = new ProjectingLedger(new LedgerRepository(doc, table), new RollupProjector(new DynamoRollupStore(doc, table), settings));
  const renewals: LedgerEntry[] = [];
  for (const item of generateMonthLazily(options)) {
    if (renewals.length >= RENEWALS) break;
    const invoice = item.entries.find((e) => e.kind === 'invoice_paid')!;
    const start = invoice.servicePeriod!.end;
    const period = { start, end: new Date(Date.parse(start) + 30 * 86_400_000).toISOString() };
    renewals.push({
      ...invoice,
      entryId: `${invoice.entryId}r`,
      invoiceId: `${invoice.entryId}r`,
      occurredAt: start,
      servicePeriod: period,
      lines: invoice.lines!.map((l) => ({ ...l, period })),
    });
  }
  const t0 = performance.now();
  for (const r of renewals) await ledger.record(r);
  return (performance.now() - t0) / renewals.length;
}

export async function run(ctx: { dynamodbEndpoint: string; log: (line: string) => void }): Promise<void> {
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint });
  const doc = documentClient(client);
  const stamp = Date.now();
  const months = [
    { name: '1k', members: 1_000, tag: 'k', table: `bench-fin-1k-${stamp}` },
    { name: '1M', members: Number(process.env.FINANCE_BENCH_MEMBERS ?? 1_000_000), tag: 'm', table: `bench-fin-1m-${stamp}` },
  ];
  const seeded: Record<string, { entries: number }> = {};
  for (const m of months) {
    await ensureTables(client, { main: m.table, idempotency: `${m.table}-idem` });
    const t0 = performance.now();
    const s = await seedMonth(doc, m.table, monthOptions(m.members, m.tag));
    seeded[m.name] = s;
    ctx.log(
      `finance: seeded ${m.name} month: ${s.members.toLocaleString('en')} members, ${s.entries.toLocaleString('en')} ledger entries, ${s.rollupRows} rollup rows, in ${((performance.now() - t0) / 1000).toFixed(0)} s (not measured)`,
    );
  }

  const [small, large] = (await measureReads(
    doc,
    months.map((m) => m.table),
  )) as [Reads, Reads];
  for (const name of ['revenue', 'metrics'] as const) {
    const [small1k, big] = [small[name]!, large[name]!];
    ctx.log(
      `finance: /v1/finance/${name}: 1k members ${small1k.items} items, ${small1k.p50.toFixed(1)} ms p50; 1M members ${big.items} items, ${big.p50.toFixed(1)} ms p50; ratio items ${(big.items / small1k.items).toFixed(2)}, time ${(big.p50 / small1k.p50).toFixed(2)} (goal ≤ 2)`,
    );
  }
  const bigRevenue = JSON.parse(large.revenue!.body) as {
    status: string;
    currencies: Array<{ currency: string; members: { active: number } }>;
  };
  ctx.log(
    `finance: 1M month as read (${bigRevenue.status}): ${bigRevenue.currencies.map((c) => `${c.currency} ${c.members.active.toLocaleString('en')} paying members`).join(', ')}`,
  );

  // Reconciliation, in its own process so the memory is its own, with the reconcile Lambda's heap flags.
  const nodeFlags = (process.env.FINANCE_BENCH_NODE_FLAGS ?? '--expose-gc --max-old-space-size=160 --max-semi-space-size=8')
    .split(' ')
    .filter(Boolean);
  const big = months[1]!;
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', ...nodeFlags, fileURLToPath(new URL('./finance-worker.ts', import.meta.url))],
    {
      env: {
        ...process.env,
        DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint,
        TABLE_NAME: big.table,
        FINANCE_BENCH_MONTH: JSON.stringify(monthOptions(big.members, big.tag)),
      },
      maxBuffer: 8 * MiB,
    },
  );
  const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    rows: number;
    matched: number;
    problems: number;
    seconds: number;
    per100k: number[];
    rssBefore: number;
    peakRss: number;
    maxRss: number;
    retainedHeap: number;
    ledgerEntries: number;
  };
  if (r.problems !== 0 || r.matched !== r.rows) throw new Error(`reconciliation: ${JSON.stringify(r)}`);
  const first = r.per100k[0]!;
  const last = r.per100k.at(-1)!;
  ctx.log(
    `finance: reconcile ${r.rows.toLocaleString('en')} rows vs ${seeded['1M']!.entries.toLocaleString('en')}-entry month (ledger a UTC day at a time from DynamoDB): ${r.seconds.toFixed(1)} s, all matched`,
  );
  ctx.log(
    `finance: time per 100k rows: ${r.per100k.map((s) => s.toFixed(1)).join(' / ')} s; last vs first ${(last / first).toFixed(2)}× (1.00 = linear)`,
  );
  ctx.log(
    `finance: reconcile peak memory ${(r.maxRss / MiB).toFixed(0)} MiB maxRSS, ${(r.peakRss / MiB).toFixed(0)} MiB sampled (process start ${(r.rssBefore / MiB).toFixed(0)} MiB, heap kept after GC ${(r.retainedHeap / MiB).toFixed(0)} MiB), node ${nodeFlags.join(' ')}; goal < 256 MiB: ${r.maxRss < 256 * MiB ? 'met' : 'NOT met'}`,
  );
  // Last: the renewals add ledger entries to the month the reconciliation just read.
  const perEvent: Record<string, number> = {};
  for (const m of months) perEvent[m.name] = await measureRenewals(doc, m.table, monthOptions(m.members, m.tag));
  ctx.log(
    `finance: projection of a renewal (record + project + clear): 1k ${perEvent['1k']!.toFixed(1)} ms, 1M ${perEvent['1M']!.toFixed(1)} ms per event, ratio ${(perEvent['1M']! / perEvent['1k']!).toFixed(2)}`,
  );

  client.destroy();
}
