/**
 * `npm start`: the whole service on this machine. Embedded DynamoDB Local (unless DYNAMODB_ENDPOINT
 * is set), tables, and the HTTP API on 127.0.0.1:$PORT serving the same Lambda handlers as AWS.
 */
import { fileURLToPath } from 'node:url';
import { applyLocalDefaults } from './defaults';
import { type EmbeddedDynamo, startEmbeddedDynamo } from './dynamodb-local';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

async function main() {
  const settings = applyLocalDefaults(process.env);
  process.env.POWERTOOLS_SERVICE_NAME ??= 'membership-local';

  let embedded: EmbeddedDynamo | undefined;
  if (!process.env.DYNAMODB_ENDPOINT) {
    const port = Number(process.env.DYNAMODB_PORT);
    embedded = await startEmbeddedDynamo({ port, dataDir: process.env.DATA_DIR || undefined });
    process.env.DYNAMODB_ENDPOINT = embedded.endpoint;
  }

  // Imported after the environment is settled: handlers read it when their module loads.
  const { createDynamoClient, tableNamesFromEnv } = await import('#shared/runtime/dynamo');
  const { ensureTables } = await import('#shared/storage/tables');
  const { planCatalog } = await import('#shared/runtime/catalog');
  const { allFunctions } = await import('../functions/manifest');
  const { startLocalHttpServer } = await import('./http-adapter');

  const { serviceKeys } = await import('#shared/runtime/service-keys');
  // Fail at start, not on the first request, when the catalog or the service keys are malformed.
  const catalog = planCatalog();
  await serviceKeys();
  const client = createDynamoClient();
  const created = await ensureTables(client, tableNamesFromEnv());
  client.destroy();

  const http = await startLocalHttpServer({
    functions: allFunctions.filter((f) => f.routes.length > 0),
    projectRoot,
    port: Number(process.env.PORT),
    onRequest: (line) => console.log(JSON.stringify({ level: 'INFO', message: 'http request', ...line })),
  });

  console.log('\nMembership backend (local)\n');
  for (const s of settings) console.log(`  ${s.name.padEnd(24)} ${s.value}${s.source === 'default' ? '   (default)' : ''}`);
  console.log(
    `\n  DynamoDB       ${process.env.DYNAMODB_ENDPOINT}${embedded ? ` (embedded, ${process.env.DATA_DIR ? `data in ${process.env.DATA_DIR}` : 'in memory'})` : ''}`,
  );
  console.log(`  tables         ${created.length ? `created ${created.join(', ')}` : 'already present'}`);
  console.log(`  plans          ${catalog.plans.map((p) => `${p.id} (${p.stripePriceIds.join(', ')})`).join('; ')}`);
  console.log(`  HTTP API       ${http.url}   (try ${http.url}/health, ${http.url}/openapi.json)\n`);

  const shutdown = async (signal: string) => {
    console.log(`\n${signal}: stopping`);
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
