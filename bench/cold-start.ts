/**
 * Cold init: module-load time of the entitlement Lambda bundle vs a bare bundle that only constructs
 * the DynamoDB client and does one GetItem, each bundled the way infra/ bundles (esbuild, ESM,
 * minified, node24) and loaded in fresh Node processes, alternating. Goal ≤ 1.3, no Stripe SDK.
 */

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type BenchContext, ratio } from './context';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 15;

async function bundle(entry: string, outfile: string) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  return readFileSync(outfile, 'utf8');
}

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
  writeFileSync(
    loader,
    `const t0 = performance.now(); await import(process.argv[2]); process.stdout.write(String(performance.now() - t0));`,
  );

  const env = {
    ...process.env,
    PLAN_CATALOG_FILE: join(dir, 'plan-catalog.json'),
    TABLE_NAME: 'bench',
    AWS_REGION: 'us-east-1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  const load = (file: string) => Number(execFileSync(process.execPath, [loader, join(dir, file)], { env }).toString());
  const times: Record<string, number[]> = { 'entitlement.mjs': [], 'bare.mjs': [] };
  load('entitlement.mjs');
  load('bare.mjs');
  for (let i = 0; i < RUNS; i++)
    for (const file of i % 2 ? ['bare.mjs', 'entitlement.mjs'] : ['entitlement.mjs', 'bare.mjs']) times[file]!.push(load(file));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [e, b] = [median(times['entitlement.mjs']!), median(times['bare.mjs']!)];
  const size = (file: string) => `${(statSync(join(dir, file)).size / 1024).toFixed(0)} KiB`;
  ctx.log(`cold init (module load, median of ${RUNS} fresh processes each, alternating)`);
  ctx.log(
    `  entitlement bundle ${e.toFixed(1)} ms (${size('entitlement.mjs')}) vs bare GetItem bundle ${b.toFixed(1)} ms (${size('bare.mjs')})  ratio ${ratio(e, b)}  (goal ≤ 1.3)`,
  );
  ctx.log(`  Stripe SDK in entitlement bundle: ${/StripeResource|api\.stripe\.com/.test(entitlementSource) ? 'YES (regression!)' : 'no'}`);
}
