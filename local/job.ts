/**
 * `npm run job -- <name> [--as-of <ISO time>] [--month YYYY-MM] [--flag value ...]`
 * Runs a scheduled job's Lambda handler locally against DYNAMODB_ENDPOINT, else 127.0.0.1:$DYNAMODB_PORT,
 * else the DynamoDB (and tables) of the running `npm start` that .data/local-runtime.json names, else
 * 127.0.0.1:8000. Says where it connected, creates missing tables, prints what it did, exits non-zero
 * on failure. Operator commands (functions/manifest.ts `operatorCommands`) run the same way, without
 * DynamoDB.
 */

import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LOCAL_DEFAULTS } from './defaults';
import { isDynamoReachable } from './dynamodb-local';
import { discoverLocalRuntime } from './runtime-file';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

function parseArgs(argv: string[]) {
  const [name, ...rest] = argv;
  const flags: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const [key, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const value = inline ?? rest[++i];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    flags[key.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())] = value;
  }
  return { name, flags };
}

async function main() {
  const { name, flags } = parseArgs(process.argv.slice(2));
  const { jobFunctions, operatorCommands } = await import('../functions/manifest');
  const job = jobFunctions.find((f) => f.job?.name === name);
  const command = operatorCommands.find((c) => c.name === name);
  if (!job && command) return run(command.entry, name!, flags);
  if (!job) {
    throw new Error(
      `unknown job "${name ?? ''}"; jobs: ${jobFunctions.map((f) => f.job!.name).join(', ') || '(none)'}; commands: ${operatorCommands.map((c) => c.name).join(', ') || '(none)'}`,
    );
  }
  if (flags.asOf !== undefined && Number.isNaN(Date.parse(flags.asOf))) throw new Error(`--as-of must be an ISO time, got "${flags.asOf}"`);

  const source = await locateDynamo();
  for (const key of ['TABLE_NAME', 'IDEMPOTENCY_TABLE_NAME', 'SERVICE_API_KEYS', 'STRIPE_WEBHOOK_SECRET'] as const)
    process.env[key] ||= LOCAL_DEFAULTS[key];
  // No CloudWatch here: keep the jobs' EMF metric lines out of what the run prints.
  process.env.POWERTOOLS_METRICS_DISABLED ||= 'true';
  // On stderr: stdout is the job's JSON result.
  console.error(
    `DynamoDB ${process.env.DYNAMODB_ENDPOINT} (${source}), tables ${process.env.TABLE_NAME}, ${process.env.IDEMPOTENCY_TABLE_NAME}`,
  );
  if (!(await isDynamoReachable(process.env.DYNAMODB_ENDPOINT!))) {
    throw new Error(`no DynamoDB at ${process.env.DYNAMODB_ENDPOINT}: run \`npm start\` in another terminal, or set DYNAMODB_ENDPOINT`);
  }
  const { createDynamoClient, tableNamesFromEnv } = await import('#shared/runtime/dynamo');
  const { ensureTables } = await import('#shared/storage/tables');
  const client = createDynamoClient();
  const created = await ensureTables(client, tableNamesFromEnv());
  client.destroy();
  if (created.length) console.log(`created tables: ${created.join(', ')}`);

  await run(job.entry, name!, flags);
}

/**
 * Points DYNAMODB_ENDPOINT (and the table names, unless set) at the DynamoDB to use; returns where
 * that came from. What the environment says wins over what a running `npm start` recorded.
 */
async function locateDynamo(): Promise<string> {
  if (process.env.DYNAMODB_ENDPOINT) return 'DYNAMODB_ENDPOINT';
  if (process.env.DYNAMODB_PORT) {
    process.env.DYNAMODB_ENDPOINT = `http://127.0.0.1:${process.env.DYNAMODB_PORT}`;
    return 'DYNAMODB_PORT';
  }
  const found = await discoverLocalRuntime((runtime) => isDynamoReachable(runtime.dynamodbEndpoint));
  if (found.note) console.error(found.note);
  if (found.runtime) {
    process.env.DYNAMODB_ENDPOINT = found.runtime.dynamodbEndpoint;
    process.env.TABLE_NAME ||= found.runtime.tables.main;
    process.env.IDEMPOTENCY_TABLE_NAME ||= found.runtime.tables.idempotency;
    return `the running npm start, pid ${found.runtime.pid}`;
  }
  process.env.DYNAMODB_ENDPOINT = `http://127.0.0.1:${LOCAL_DEFAULTS.DYNAMODB_PORT}`;
  return 'default port; no running npm start found';
}

async function run(entry: string, name: string, flags: Record<string, string>) {
  const mod = (await import(pathToFileURL(resolve(projectRoot, entry)).href)) as {
    handler: (event: Record<string, string>) => Promise<unknown>;
  };
  const started = Date.now();
  const result = await mod.handler(flags);
  console.log(JSON.stringify({ job: name, ms: Date.now() - started, result }, null, 2));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`job failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
