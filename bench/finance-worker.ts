/**
 * The measured reconciliation of bench/finance.ts, in its own process so its memory is the
 * reconciliation's alone: the month's balance transactions generated lazily in time order (as the
 * API lists them), the ledger read a UTC day at a time from DynamoDB around them (`reconcileByDay`,
 * what the reconcile job runs). Prints one JSON line with the time of every 100k rows.
 */

import { resourceUsage } from 'node:process';
import type { ReportRow } from '#shared/domain/finance/reconciliation';
import { RECONCILIATION_FIELDS, reconcileByDay } from '#shared/domain/finance/reconciliation';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { documentClient } from '#shared/storage/dynamodb';
import { LedgerRepository } from '#shared/storage/ledger-repository';
import { generateMonthLazily, type MonthOptions } from '../tests/support/finance-month';

const options = JSON.parse(process.env.FINANCE_BENCH_MONTH!) as MonthOptions;
const client = createDynamoClient({ DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT });
const ledger = new LedgerRepository(documentClient(client), process.env.TABLE_NAME!);

let peak = process.memoryUsage().rss;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
const rssBefore = process.memoryUsage().rss;

const CHUNK = 100_000;
const per100k: number[] = [];
let rows = 0;
let ledgerEntries = 0;
const started = performance.now();
let chunkStarted = started;

async function* stripeRows(): AsyncGenerator<ReportRow> {
  for (const item of generateMonthLazily(options)) {
    for (const row of item.rows) {
      yield row;
      if (++rows % CHUNK === 0) {
        const now = performance.now();
        per100k.push((now - chunkStarted) / 1000);
        chunkStarted = now;
      }
    }
  }
}

const result = await reconcileByDay({
  month: options.month,
  ledgerDay: async function* (day) {
    for await (const e of ledger.dayEntries(day, RECONCILIATION_FIELDS)) {
      ledgerEntries++;
      yield e;
    }
  },
  rows: stripeRows(),
  listLimit: 200,
});
const done = performance.now();
global.gc?.();
const retainedHeap = process.memoryUsage().heapUsed;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
client.destroy();
console.log(
  JSON.stringify({
    rows,
    ledgerEntries,
    matched: result.matched,
    problems: result.counts.missingInLedger + result.counts.missingInStripe + result.counts.amountMismatches,
    seconds: (done - started) / 1000,
    per100k,
    rssBefore,
    peakRss: peak,
    maxRss: resourceUsage().maxRSS * 1024,
    retainedHeap,
  }),
);
