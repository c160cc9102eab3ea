/**
 * The measured part of bench/finance.ts, in its own process so its memory is the reconciliation's
 * alone: the ledger month from DynamoDB into the Reconciler's maps, then the report generated lazily
 * as CSV text and streamed through csv-parse. Prints one JSON line.
 */

import { resourceUsage } from 'node:process';
import { Readable } from 'node:stream';
import { RECONCILIATION_FIELDS, Reconciler } from '#shared/domain/finance/reconciliation';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { documentClient } from '#shared/storage/dynamodb';
import { LedgerRepository } from '#shared/storage/ledger-repository';
import { parseBalanceReport } from '#shared/stripe/balance-report';
import { balanceReportCsv, generateMonthLazily, type MonthOptions } from '../tests/support/finance-month';

const options = JSON.parse(process.env.FINANCE_BENCH_MONTH!) as MonthOptions & { rows: number };
const client = createDynamoClient({ DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT });
const ledger = new LedgerRepository(documentClient(client), process.env.TABLE_NAME!);

let peak = process.memoryUsage().rss;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
const rssBefore = process.memoryUsage().rss;

function* rows() {
  let n = 0;
  for (const item of generateMonthLazily(options)) {
    for (const row of item.rows) {
      if (n++ >= options.rows) return;
      yield row;
    }
  }
}

const started = performance.now();
const reconciler = new Reconciler(options.month);
let loaded = 0;
for await (const entry of ledger.entries(options.month, RECONCILIATION_FIELDS)) {
  reconciler.addLedgerEntry(entry);
  loaded++;
}
const loadedAt = performance.now();
for await (const row of parseBalanceReport(Readable.from(balanceReportCsv(rows())))) reconciler.addStripeRow(row);
const result = reconciler.finish();
const done = performance.now();
global.gc?.();
const retainedHeap = process.memoryUsage().heapUsed;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
client.destroy();
console.log(
  JSON.stringify({
    loaded,
    matched: result.matched,
    problems: result.missingInLedger.length + result.missingInStripe.length + result.amountMismatches.length,
    seconds: (done - started) / 1000,
    ledgerSeconds: (loadedAt - started) / 1000,
    rowsSeconds: (done - loadedAt) / 1000,
    rssBefore,
    peakRss: peak,
    maxRss: resourceUsage().maxRSS * 1024,
    retainedHeap,
  }),
);
