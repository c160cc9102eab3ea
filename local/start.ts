/**
 * `npm start`: the whole service on this machine. Embedded DynamoDB Local (unless DYNAMODB_ENDPOINT
 * is set), tables, and the HTTP API on 127.0.0.1:$PORT serving the same Lambda handlers as AWS.
 * Where it runs is recorded in .data/local-runtime.json for `npm run job` and `npm run send-test-event`.
 */
import { fileURLToPath } from 'node:url';
import { applyLocalDefaults, LOCAL_DEFAULTS } from './defaults';
import { type EmbeddedDynamo, startEmbeddedDynamo } from './dynamodb-local';
import { removeRuntimeFile, runtimeFilePath, shownPath, writeRuntimeFile } from './runtime-file';
import { featureSettings, LOCAL_SERVICE_NAME, type SettingLine } from './settings';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

const print = (lines: SettingLine[]) => {
  for (const s of lines) console.log(`  ${s.name.padEnd(31)} ${s.value}${s.source === 'default' ? '   (default)' : ''}`);
};

const SETTLE_EVERY_MS = 5_000;

async function main() {
  const settings = applyLocalDefaults(process.env);
  // Read before any default is filled in, so "(default)" marks exactly what nobody set.
  const features = featureSettings(process.env);
  process.env.POWERTOOLS_SERVICE_NAME ||= LOCAL_SERVICE_NAME;

  let embedded: EmbeddedDynamo | undefined;
  if (!process.env.DYNAMODB_ENDPOINT) {
    const port = Number(process.env.DYNAMODB_PORT);
    embedded = await startEmbeddedDynamo({ port, dataDir: process.env.DATA_DIR || undefined });
    process.env.DYNAMODB_ENDPOINT = embedded.endpoint;
  }
  const dynamodbEndpoint = process.env.DYNAMODB_ENDPOINT;

  // Imported after the environment is settled: handlers read it when their module loads.
  const { createDynamoClient, tableNamesFromEnv } = await import('#shared/runtime/dynamo');
  const { ensureTables } = await import('#shared/storage/tables');
  const { planCatalog } = await import('#shared/runtime/catalog');
  const { jurisdictionRules } = await import('#shared/runtime/jurisdictions');
  const { allFunctions } = await import('../functions/manifest');
  const { startLocalHttpServer } = await import('./http-adapter');

  const { serviceKeys } = await import('#shared/runtime/service-keys');
  // Fail at start, not on the first request, when the catalog, the rules table or the service keys are malformed.
  const catalog = planCatalog();
  const rules = jurisdictionRules();
  await serviceKeys();
  const client = createDynamoClient();
  const tables = tableNamesFromEnv();
  const created = await ensureTables(client, tables);
  client.destroy();

  const http = await startLocalHttpServer({
    functions: allFunctions.filter((f) => f.routes.length > 0),
    projectRoot,
    port: Number(process.env.PORT),
    onRequest: (line) => console.log(JSON.stringify({ level: 'INFO', message: 'http request', ...line })),
  });

  const runtimeFile = runtimeFilePath();
  writeRuntimeFile(
    {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      httpUrl: http.url,
      dynamodbEndpoint,
      tables,
      defaultWebhookSecret: process.env.STRIPE_WEBHOOK_SECRET === LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET,
    },
    runtimeFile,
  );
  // The rollups-settle job runs every minute in AWS; here every few seconds, so the finance figures of
  // a coupon redeemed a moment ago show up without running the job by hand.
  const { rollupProjector, rollupStore } = await import('#shared/runtime/finance');
  const { projectOwed } = await import('#shared/usecases/finance-rollups');
  const store = rollupStore();
  const projector = rollupProjector();
  let settling = false;
  const settle = setInterval(() => {
    if (settling) return;
    settling = true;
    projectOwed(store, projector, { before: new Date() })
      .catch((error) => console.error(`rollups-settle failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        settling = false;
      });
  }, SETTLE_EVERY_MS);
  settle.unref();

  // 'exit' runs on every way out but a kill -9; a file left by one is recognised as stale by its pid.
  process.once('exit', () => removeRuntimeFile(process.pid, runtimeFile));

  console.log('\nMembership backend (local)\n');
  print(settings);
  console.log('');
  print(features);
  console.log(
    `\n  DynamoDB       ${dynamodbEndpoint}${embedded ? ` (embedded, ${process.env.DATA_DIR ? `data in ${process.env.DATA_DIR}` : 'in memory'})` : ''}`,
  );
  console.log(`  tables         ${created.length ? `created ${created.join(', ')}` : 'already present'}`);
  console.log(`  plans          ${catalog.plans.map((p) => `${p.id} (${p.stripePriceIds.join(', ')})`).join('; ')}`);
  console.log(`  jurisdictions  ${rules.keys.join(', ')}; anyone else: the strictest combination (docs/compliance.md)`);
  console.log(`  runtime file   ${shownPath(runtimeFile)} (npm run job and send-test-event find this server through it)`);
  console.log(
    `  rollups        projections still owed settled every ${SETTLE_EVERY_MS / 1000} s (npm run job -- rollups-settle; every minute in AWS)`,
  );
  console.log(`  HTTP API       ${http.url}   (try ${http.url}/health, ${http.url}/openapi.json)\n`);

  const shutdown = async (signal: string) => {
    console.log(`\n${signal}: stopping`);
    removeRuntimeFile(process.pid, runtimeFile);
    clearInterval(settle);
    await http.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
