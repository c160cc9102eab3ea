/**
 * Where a running `npm start` can be found. It records its HTTP address, DynamoDB endpoint and table
 * names in `.data/local-runtime.json` (LOCAL_RUNTIME_FILE to put it elsewhere), so `npm run job` and
 * `npm run send-test-event` reach it on whatever ports it was given without being told them again.
 * No secrets go into the file: only whether the webhook secret is the public local default.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_FILE = fileURLToPath(new URL('../.data/local-runtime.json', import.meta.url));

export interface LocalRuntime {
  pid: number;
  startedAt: string;
  httpUrl: string;
  dynamodbEndpoint: string;
  tables: { main: string; idempotency: string };
  /** False when npm start runs with its own STRIPE_WEBHOOK_SECRET: test events must be signed with that one. */
  defaultWebhookSecret: boolean;
}

export const runtimeFilePath = (env: NodeJS.ProcessEnv = process.env) => env.LOCAL_RUNTIME_FILE || DEFAULT_FILE;

/** The path as a person in the checkout would type it. */
export const shownPath = (file: string) => (file.startsWith(projectRoot) ? relative(projectRoot, file) : file);

export function writeRuntimeFile(runtime: LocalRuntime, file = runtimeFilePath()): void {
  mkdirSync(dirname(file), { recursive: true });
  // Written whole and renamed, so a reader never sees half a file.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(runtime, null, 2)}\n`);
  renameSync(partial, file);
}

/** Removes the file if it is still ours: a second `npm start` may have replaced it since. */
export function removeRuntimeFile(pid: number, file = runtimeFilePath()): void {
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalRuntime>).pid === pid) rmSync(file, { force: true });
  } catch {
    // Already gone or unreadable: nothing of ours to remove.
  }
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export type Discovery = { runtime: LocalRuntime; note: string } | { runtime: null; note: string | null };

/**
 * The running `npm start` the file describes, if its process is alive and `reachable` (a check of the
 * endpoint the caller needs) says it answers. A file left by a killed process is reported as stale
 * and ignored; `note` says what was found, for the caller to print.
 */
export async function discoverLocalRuntime(
  reachable: (runtime: LocalRuntime) => Promise<boolean>,
  file = runtimeFilePath(),
): Promise<Discovery> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { runtime: null, note: null };
  }
  let runtime: LocalRuntime;
  try {
    runtime = JSON.parse(text) as LocalRuntime;
    if (!Number.isInteger(runtime.pid) || typeof runtime.httpUrl !== 'string' || typeof runtime.dynamodbEndpoint !== 'string')
      throw new Error('incomplete');
  } catch {
    return { runtime: null, note: `ignoring ${shownPath(file)}: not a runtime file written by npm start` };
  }
  if (!isRunning(runtime.pid)) {
    return { runtime: null, note: `ignoring stale ${shownPath(file)}: npm start (pid ${runtime.pid}) is no longer running` };
  }
  if (!(await reachable(runtime))) {
    return { runtime: null, note: `ignoring ${shownPath(file)}: npm start (pid ${runtime.pid}) does not answer at its recorded address` };
  }
  return { runtime, note: `found npm start (pid ${runtime.pid}) through ${shownPath(file)}` };
}

/** Whether the HTTP API at `httpUrl` answers its health check. */
export async function isApiReachable(httpUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${httpUrl}/health`, { signal: AbortSignal.timeout(5_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
