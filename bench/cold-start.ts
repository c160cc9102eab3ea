/**
 * Cold init: module-load time of the entitlement Lambda bundle vs a bare bundle that only constructs
 * the DynamoDB client and does one GetItem, each bundled the way infra/ bundles (infra/bundling.ts)
 * and loaded in fresh Node processes, alternating. Goal ≤ 1.2, no Stripe SDK. Also prints the size of
 * every function's bundle, built the same way.
 */

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { allFunctions } from '../functions/manifest';
import { ESBUILD_OPTIONS } from '../infra/bundling';
import { type BenchContext, ratio } from './context';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 21;

async function bundle(entry: string, outfile: string) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    ...ESBUILD_OPTIONS,
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    banner: { js: ESBUILD_OPTIONS.banner },
    logLevel: 'error',
  });
  return readFileSync(outfile, 'utf8');
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

export async function run(ctx: BenchContext) {
  const dir = mkdtempSync(join(tmpdir(), 'cold-start-'));
  const bareEntry = join(dir, 'bare-entry.mjs');
  writeFileSync(
    bareEntry,
    `import { DynamoDBClient, GetItemCommand } from '${ROOT}node_modules/@aws-sdk/client-dynamodb/dist-es/index.js';
const client = new DynamoDBClient({});
export const handler = async () => client.send(new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: { PK: { S: 'x' }, SK: { S: 'y' } } }));
`,
  );
  const entitlementSource = await bundle(join(ROOT, 'functions/http/entitlements-check.ts'), join(dir, 'entitlement.mjs'));
  await bundle(bareEntry, join(dir, 'bare.mjs'));
  copyFileSync(join(ROOT, 'config/plan-catalog.json'), join(dir, 'plan-catalog.json'));
  const loader = join(dir, 'load.mjs');
  // Wall time, and the CPU time the process spent: on a shared machine the second hardly moves with
  // the neighbours' load, while the first can swing by half.
  writeFileSync(
    loader,
    `const c0 = process.cpuUsage(); const t0 = performance.now(); await import(process.argv[2]); const c = process.cpuUsage(c0);
process.stdout.write(JSON.stringify([performance.now() - t0, (c.user + c.system) / 1000]));`,
  );

  const env = {
    ...process.env,
    PLAN_CATALOG_FILE: join(dir, 'plan-catalog.json'),
    TABLE_NAME: 'bench',
    AWS_REGION: 'us-east-1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  const load = (file: string) =>
    JSON.parse(execFileSync(process.execPath, [loader, join(dir, file)], { env }).toString()) as [number, number];
  const wall: Record<string, number[]> = { 'entitlement.mjs': [], 'bare.mjs': [] };
  const cpu: Record<string, number[]> = { 'entitlement.mjs': [], 'bare.mjs': [] };
  load('entitlement.mjs');
  load('bare.mjs');
  for (let i = 0; i < RUNS; i++) {
    for (const file of i % 2 ? ['bare.mjs', 'entitlement.mjs'] : ['entitlement.mjs', 'bare.mjs']) {
      const [w, c] = load(file);
      wall[file]!.push(w);
      cpu[file]!.push(c);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const size = (file: string) => kib(statSync(join(dir, file)).size);
  ctx.log(`cold init (module load, median of ${RUNS} fresh processes each, alternating)`);
  ctx.log(`  entitlement bundle ${size('entitlement.mjs')}, bare GetItem bundle ${size('bare.mjs')}`);
  for (const [what, samples] of [
    ['wall time', wall],
    ['CPU time ', cpu],
  ] as const) {
    const [e, b] = [median(samples['entitlement.mjs']!), median(samples['bare.mjs']!)];
    ctx.log(`  ${what}: entitlement ${e.toFixed(1)} ms vs bare ${b.toFixed(1)} ms  ratio ${ratio(e, b)}  (goal ≤ 1.2)`);
  }
  ctx.log(`  Stripe SDK in entitlement bundle: ${/StripeResource|api\.stripe\.com/.test(entitlementSource) ? 'YES (regression!)' : 'no'}`);

  ctx.log('  bundle of every function (minified ESM, as infra/ builds it):');
  for (const fn of allFunctions) {
    const out = join(dir, 'all', `${fn.name}.mjs`);
    const source = await bundle(join(ROOT, fn.entry), out);
    const stripe = /StripeResource|api\.stripe\.com/.test(source) ? '  (Stripe SDK)' : '';
    ctx.log(`    ${fn.name.padEnd(26)} ${kib(statSync(out).size).padStart(9)}${stripe}`);
  }
}
