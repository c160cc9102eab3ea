/**
 * Finance benchmark: reconciliation of Stripe's itemized report against a ledger month.
 * - Full path at 100,000: the ledger month read from DynamoDB Local (one paginated Query) into the
 *   Reconciler's maps, then 100,000 report rows streamed as CSV text through csv-parse. Seconds and
 *   peak memory (RSS sampled during the run, and the process's maxRSS) against the Lambda's 256 MiB.
 * - Linearity: the same reconciliation (CSV parse + match) at 25k / 50k / 100k rows with the ledger
 *   side in memory, so the growth per row is visible without seeding three ledgers.
 */
import { Readable } from 'node:stream';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClient, documentClient } from '../shared/storage/dynamodb';
import { ensureTables } from '../shared/storage/tables';
import { ledgerKeys } from '../shared/storage/ledger-repository';
import { Reconciler } from '../shared/domain/finance/reconciliation';
import { parseBalanceReport } from '../shared/domain/finance/balance-report';
import { balanceReportCsv, generateMonth } from '../tests/support/finance-month';

const MiB = 1024 * 1024;
const execFileAsync = promisify(execFile);

async function seed(doc: ReturnType<typeof documentClient>, table: string, entries: ReturnType<typeof generateMonth>['entries']) {
  const batches: Array<Record<string, unknown>[]> = [];
  for (let i = 0; i < entries.length; i += 25) batches.push(entries.slice(i, i + 25).map((e) => ({ ...ledgerKeys.entry(e), type: 'ledger-entry', ...e })));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let items = batches[next++]!.map((Item) => ({ PutRequest: { Item } }));
      while (items.length) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: items } }));
        items = (out.UnprocessedItems?.[table] ?? []) as typeof items;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

export async function run(ctx: { dynamodbEndpoint: string; log: (line: string) => void }): Promise<void> {
  const month = '2030-01';
  const rowsWanted = 100_000;
  // 100,000 balance transactions: 90,909 charges and 9,091 refunds (every 10th invoice refunded).
  const monthOptions = { month, invoices: 90_909, refundEvery: 10, currencies: ['usd', 'eur', 'jpy'], seed: 3 };
  const generated = generateMonth(monthOptions);
  const rows = generated.rows.slice(0, rowsWanted);
  ctx.log(`finance: ${generated.entries.length} ledger entries, ${rows.length} report rows`);

  // Linearity, ledger side in memory (after a warm-up pass so the JIT does not favour later sizes).
  const linear: Array<[number, number]> = [];
  for (const n of [10_000, 25_000, 50_000, 100_000]) {
    const part = rows.slice(0, n);
    const ids = new Set(part.map((r) => (r.reportingCategory === 'refund' ? r.sourceId : r.invoiceId)));
    const entries = generated.entries.filter((e) => ids.has(e.entryId));
    const started = performance.now();
    const reconciler = new Reconciler(month);
    for (const e of entries) reconciler.addLedgerEntry(e);
    for await (const row of parseBalanceReport(Readable.from(balanceReportCsv(part)))) reconciler.addStripeRow(row);
    const result = reconciler.finish();
    const seconds = (performance.now() - started) / 1000;
    if (result.matched !== n) throw new Error(`expected ${n} matches, got ${result.matched}`);
    if (n === 10_000) continue;
    linear.push([n, seconds]);
    ctx.log(`finance: reconcile ${n.toLocaleString('en')} rows (in-memory ledger): ${seconds.toFixed(2)} s, ${Math.round(n / seconds).toLocaleString('en')} rows/s`);
  }
  const [[n1, s1], , [n3, s3]] = linear as [[number, number], [number, number], [number, number]];
  ctx.log(`finance: time per row at ${n3 / 1000}k vs ${n1 / 1000}k: ${((s3 / n3) / (s1 / n1)).toFixed(2)}× (1.00 = linear)`);

  // Full path: ledger month from DynamoDB.
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint });
  const tables = { main: `bench-finance-${Date.now()}`, idempotency: `bench-finance-idem-${Date.now()}` };
  await ensureTables(client, tables);
  const doc = documentClient(client);
  const seedStarted = performance.now();
  await seed(doc, tables.main, generated.entries);
  ctx.log(`finance: seeded ${generated.entries.length.toLocaleString('en')} ledger entries in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s (not measured)`);

  // The measured run happens in a child process so its memory is the reconciliation's alone, with
  // V8's heap capped as a 256 MB Lambda should be (NODE_OPTIONS): uncapped, V8 on a big machine lets
  // garbage grow the heap long before collecting it, which says nothing about the working set.
  const nodeFlags = (process.env.FINANCE_BENCH_NODE_FLAGS ?? '--expose-gc --max-old-space-size=160 --max-semi-space-size=8').split(' ').filter(Boolean);
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', ...nodeFlags, fileURLToPath(new URL('./finance-worker.ts', import.meta.url))], {
    env: { ...process.env, DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint, TABLE_NAME: tables.main, FINANCE_BENCH_MONTH: JSON.stringify({ ...monthOptions, rows: rowsWanted }) },
    maxBuffer: 1024 * 1024,
  });
  const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { loaded: number; matched: number; problems: number; seconds: number; ledgerSeconds: number; rowsSeconds: number; rssBefore: number; peakRss: number; maxRss: number; retainedHeap: number };
  if (r.loaded !== generated.entries.length || r.matched !== rows.length || r.problems !== 0) throw new Error(`full path: ${JSON.stringify(r)}`);
  ctx.log(
    `finance: reconcile ${rows.length.toLocaleString('en')} rows vs ${r.loaded.toLocaleString('en')}-entry ledger month (DynamoDB Query + CSV stream): ${r.seconds.toFixed(2)} s ` +
      `(ledger read ${r.ledgerSeconds.toFixed(2)} s, rows ${r.rowsSeconds.toFixed(2)} s)`,
  );
  ctx.log(
    `finance: node ${nodeFlags.join(' ')}: peak RSS ${(r.peakRss / MiB).toFixed(0)} MiB (process start ${(r.rssBefore / MiB).toFixed(0)} MiB, maxRSS ${(r.maxRss / MiB).toFixed(0)} MiB, heap kept after GC ${(r.retainedHeap / MiB).toFixed(0)} MiB); goal < 256 MiB: ${r.maxRss < 256 * MiB ? 'met' : 'NOT met'}`,
  );
  client.destroy();
}
