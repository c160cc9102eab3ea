/**
 * Finance benchmark: reconciliation of Stripe's itemized report against a ledger month.
 * - The month looks like real ingestion: per invoice, its invoice_paid entry (no charge or payment
 *   intent, as endive's Invoice has none) and its invoice_payment link entry; refunds with charge
 *   and payment intent; EUR and JPY charges settled in USD (customer-facing columns). The report
 *   rows name no invoice, so every charge is matched through the link of its payment intent, the way
 *   the reconcile job (the API has no invoice column) must.
 * - Full path at 100,000 rows: the ledger month (190,909 entries) read from DynamoDB Local (one
 *   paginated Query) into the Reconciler's maps, then 100,000 report rows streamed as CSV text through
 *   csv-parse. Seconds and peak memory (RSS sampled during the run, and the process's maxRSS) against
 *   the Lambda's 256 MiB, in a child process so the memory is the reconciliation's own.
 * - Linearity: the same reconciliation (CSV parse + match) at 25k / 50k / 100k rows with the ledger
 *   side in memory, so the growth per row is visible without seeding three ledgers.
 */

import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { Reconciler } from '#shared/domain/finance/reconciliation';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { documentClient } from '#shared/storage/dynamodb';
import { ledgerItems, ledgerKeys } from '#shared/storage/ledger-repository';
import { ensureTables } from '#shared/storage/tables';
import { parseBalanceReport } from '#shared/stripe/balance-report';
import { balanceReportCsv, generateMonth, type MonthOptions } from '../tests/support/finance-month';

const MiB = 1024 * 1024;
const execFileAsync = promisify(execFile);

/**
 * The month's entry items exactly as `LedgerRepository.record` writes them (not through it: 190,909
 * one-entry transactions would take minutes). Only the `LEDGER#<month>` items: reconciliation reads
 * nothing else (recognition slices, invoice facts, payment links and reversal copies are revenue's).
 */
async function seed(
  doc: ReturnType<typeof documentClient>,
  table: string,
  month: string,
  entries: ReturnType<typeof generateMonth>['entries'],
) {
  const monthPk = ledgerKeys.monthPk(month);
  const items = entries.flatMap((e) =>
    ledgerItems(e, new Date())
      .map((i) => i.item)
      .filter((item) => item.PK === monthPk),
  );
  const batches: Array<Record<string, unknown>[]> = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
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
  // A USD account selling in USD, EUR and JPY; rows without an invoice column (matched through links).
  const base = {
    month,
    refundEvery: 10,
    currencies: ['usd', 'eur', 'jpy'],
    settlement: { eur: { currency: 'usd', rate: 1.0834 }, jpy: { currency: 'usd', rate: 0.0067 } },
    invoiceColumn: false,
    seed: 3,
  } satisfies Omit<MonthOptions, 'invoices'>;
  // 100,000 balance transactions: 90,909 charges and 9,091 refunds (every 10th invoice refunded).
  const monthOptions: MonthOptions = { ...base, invoices: 90_909 };
  const generated = generateMonth(monthOptions);
  const rowsWanted = generated.rows.length;
  const kinds = generated.entries.reduce<Record<string, number>>((acc, e) => {
    acc[e.kind] = (acc[e.kind] ?? 0) + 1;
    return acc;
  }, {});
  ctx.log(
    `finance: ${generated.entries.length.toLocaleString('en')} ledger entries (${Object.entries(kinds)
      .map(([k, n]) => `${n.toLocaleString('en')} ${k}`)
      .join(', ')}), ${rowsWanted.toLocaleString('en')} report rows without invoice ids`,
  );

  // Linearity, ledger side in memory (after a warm-up pass so the JIT does not favour later sizes).
  const linear: Array<[number, number]> = [];
  for (const invoices of [9_091, 22_727, 45_455, 90_909]) {
    const part = invoices === monthOptions.invoices ? generated : generateMonth({ ...base, invoices });
    const n = part.rows.length;
    const started = performance.now();
    const reconciler = new Reconciler(month);
    for (const e of part.entries) reconciler.addLedgerEntry(e);
    for await (const row of parseBalanceReport(Readable.from(balanceReportCsv(part.rows)))) reconciler.addStripeRow(row);
    const result = reconciler.finish();
    const seconds = (performance.now() - started) / 1000;
    const problems = result.missingInLedger.length + result.missingInStripe.length + result.amountMismatches.length;
    if (result.matched !== n || problems !== 0)
      throw new Error(`expected ${n} matches and no problems, got ${result.matched} and ${problems}`);
    if (invoices === 9_091) continue;
    linear.push([n, seconds]);
    ctx.log(
      `finance: reconcile ${n.toLocaleString('en')} rows (in-memory ledger): ${seconds.toFixed(2)} s, ${Math.round(n / seconds).toLocaleString('en')} rows/s`,
    );
  }
  const [[n1, s1], , [n3, s3]] = linear as [[number, number], [number, number], [number, number]];
  ctx.log(
    `finance: time per row at ${Math.round(n3 / 1000)}k vs ${Math.round(n1 / 1000)}k: ${(s3 / n3 / (s1 / n1)).toFixed(2)}× (1.00 = linear)`,
  );

  // Full path: ledger month from DynamoDB.
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint });
  const tables = { main: `bench-finance-${Date.now()}`, idempotency: `bench-finance-idem-${Date.now()}` };
  await ensureTables(client, tables);
  const doc = documentClient(client);
  const seedStarted = performance.now();
  await seed(doc, tables.main, month, generated.entries);
  ctx.log(
    `finance: seeded ${generated.entries.length.toLocaleString('en')} ledger entries in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s (not measured)`,
  );

  // The measured run happens in a child process so its memory is the reconciliation's alone, with
  // V8's heap capped as a 256 MB Lambda should be (NODE_OPTIONS): uncapped, V8 on a big machine lets
  // garbage grow the heap long before collecting it, which says nothing about the working set.
  const nodeFlags = (process.env.FINANCE_BENCH_NODE_FLAGS ?? '--expose-gc --max-old-space-size=160 --max-semi-space-size=8')
    .split(' ')
    .filter(Boolean);
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', ...nodeFlags, fileURLToPath(new URL('./finance-worker.ts', import.meta.url))],
    {
      env: {
        ...process.env,
        DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint,
        TABLE_NAME: tables.main,
        FINANCE_BENCH_MONTH: JSON.stringify({ ...monthOptions, rows: rowsWanted }),
      },
      maxBuffer: 1024 * 1024,
    },
  );
  const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    loaded: number;
    matched: number;
    problems: number;
    seconds: number;
    ledgerSeconds: number;
    rowsSeconds: number;
    rssBefore: number;
    peakRss: number;
    maxRss: number;
    retainedHeap: number;
  };
  if (r.loaded !== generated.entries.length || r.matched !== rowsWanted || r.problems !== 0)
    throw new Error(`full path: ${JSON.stringify(r)}`);
  ctx.log(
    `finance: reconcile ${rowsWanted.toLocaleString('en')} rows vs ${r.loaded.toLocaleString('en')}-entry ledger month (DynamoDB Query + CSV stream): ${r.seconds.toFixed(2)} s ` +
      `(ledger read ${r.ledgerSeconds.toFixed(2)} s, rows ${r.rowsSeconds.toFixed(2)} s)`,
  );
  ctx.log(
    `finance: peak memory ${(r.maxRss / MiB).toFixed(0)} MiB maxRSS, ${(r.peakRss / MiB).toFixed(0)} MiB sampled RSS (process start ${(r.rssBefore / MiB).toFixed(0)} MiB, heap kept after GC ${(r.retainedHeap / MiB).toFixed(0)} MiB), node ${nodeFlags.join(' ')}; goal < 256 MiB: ${r.maxRss < 256 * MiB ? 'met' : 'NOT met'}`,
  );
  client.destroy();
}
