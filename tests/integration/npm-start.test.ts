import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_DEFAULTS } from '../../local/defaults';
import { freePort } from '../../local/dynamodb-local';
import type { LocalRuntime } from '../../local/runtime-file';
import { checkedFetch } from '../support/api-contract';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Variables only AWS sets (the stack's secret ARNs, Lambda's own name): nothing to print locally. */
const AWS_ONLY = /(_ARN|^AWS_LAMBDA_FUNCTION_NAME)$/;

/** Every environment variable the service's code reads, found in the source as `env.NAME`, `env['NAME']` or a named link setting. */
function variablesTheCodeReads(): string[] {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith('.ts')) {
        const source = readFileSync(join(root, path), 'utf8');
        for (const m of source.matchAll(/\benv(?:\.|\[')([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
        for (const m of source.matchAll(/linkSetting\(env, '([A-Z][A-Z0-9_]+)'/g)) names.add(m[1]!);
      }
    }
  };
  for (const dir of ['shared', 'functions', 'local']) walk(dir);
  return [...names].filter((name) => !AWS_ONLY.test(name)).sort();
}

/** The environment of a shell where nobody said where the service runs. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of [
    'PORT',
    'DYNAMODB_ENDPOINT',
    'DYNAMODB_PORT',
    'TABLE_NAME',
    'IDEMPOTENCY_TABLE_NAME',
    'POWERTOOLS_LOG_LEVEL',
    'POWERTOOLS_METRICS_DISABLED',
    'SERVICE_API_KEYS',
    'STRIPE_WEBHOOK_SECRET',
    'STRIPE_SECRET_KEY',
    'STRIPE_API_BASE',
    'SHOPPER_JWT_SECRET',
    'SHOPPER_JWT_ISSUER',
    'SHOPPER_JWT_AUDIENCE',
  ]) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

function run(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));

describe('npm start on ports of its own, and the commands that find it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npm-start-'));
  // Not the checkout's .data/local-runtime.json: a developer's own npm start may be using that one.
  const runtimeFile = join(dir, 'local-runtime.json');
  const secretKey = 'sk_test_npmstart_never_printed_0000';
  const state: { child?: ChildProcess; output: string; port: number; dynamoPort: number } = { output: '', port: 0, dynamoPort: 0 };
  /** What the person in the second terminal has: the checkout, nothing about ports. */
  const secondTerminal = cleanEnv({ LOCAL_RUNTIME_FILE: runtimeFile });

  beforeAll(async () => {
    state.port = await freePort();
    state.dynamoPort = await freePort();
    const env = cleanEnv({
      PORT: String(state.port),
      DYNAMODB_PORT: String(state.dynamoPort),
      LOCAL_RUNTIME_FILE: runtimeFile,
      STRIPE_SECRET_KEY: secretKey,
      WIN_BACK_COUPON_DAYS: '21',
    });
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    state.child = child;
    child.stdout!.on('data', (d) => (state.output += d));
    child.stderr!.on('data', (d) => (state.output += d));
    // Up once it prints its address; it exits on any failure, which ends the wait too.
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (state.output.includes('HTTP API')) resolve();
        else if (child.exitCode !== null) reject(new Error(`npm start exited ${child.exitCode}:\n${state.output}`));
      };
      child.stdout!.on('data', check);
      child.once('exit', check);
    });
  });

  afterAll(async () => {
    if (state.child) {
      state.child.kill('SIGTERM');
      await exited(state.child);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints every setting the code reads, defaults marked, secrets hidden', () => {
    const lines = state.output.split('\n');
    const setting = (name: string) => lines.find((l) => new RegExp(`^ {2}${name} +\\S`).test(l));
    for (const name of variablesTheCodeReads())
      expect(setting(name), `${name} is not printed by npm start:\n${state.output}`).toBeDefined();
    expect(setting('PORT')).toMatch(new RegExp(`PORT +${state.port}$`));
    expect(setting('WIN_BACK_COUPON_DAYS')).toMatch(/WIN_BACK_COUPON_DAYS +21$/);
    expect(setting('WIN_BACK_COUPON_CENTS')).toMatch(/WIN_BACK_COUPON_CENTS +1000 +\(default\)$/);
    expect(setting('SES_MAX_SEND_RATE')).toMatch(/\(default\)$/);
    expect(setting('REMINDER_MAX_ATTEMPTS')).toMatch(/\(default\)$/);
    expect(setting('PORTAL_URL')).toMatch(/PORTAL_URL +http:\/\/127\.0\.0\.1:\d+\/account\/membership +\(default\)$/);
    expect(setting('STRIPE_WEBHOOK_SECRET')).toMatch(/whsec_local.*\(default\)$/);
    expect(setting('STRIPE_SECRET_KEY')).toMatch(/STRIPE_SECRET_KEY +\(set, hidden\)$/);
    expect(state.output).not.toContain(secretKey);
    expect(state.output).toContain(`DynamoDB       http://127.0.0.1:${state.dynamoPort} (embedded, in memory)`);
  });

  it('records where it runs for the other commands', () => {
    const runtime = JSON.parse(readFileSync(runtimeFile, 'utf8')) as LocalRuntime;
    expect(runtime).toMatchObject({
      pid: state.child!.pid,
      httpUrl: `http://127.0.0.1:${state.port}`,
      dynamodbEndpoint: `http://127.0.0.1:${state.dynamoPort}`,
      tables: { main: LOCAL_DEFAULTS.TABLE_NAME, idempotency: LOCAL_DEFAULTS.IDEMPOTENCY_TABLE_NAME },
      defaultWebhookSecret: true,
    });
  });

  it('send-test-event and job find it without PORT or DYNAMODB_PORT, and say where they connected', async () => {
    const sent = await run('local/send-test-event.ts', ['--member', 'readme-shopper'], secondTerminal);
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    expect(sent.stdout).toContain(`sending to http://127.0.0.1:${state.port} (the running npm start, pid ${state.child!.pid})`);
    expect(sent.stdout).toMatch(/invoice\.paid .* → 200/);

    const res = await checkedFetch(`http://127.0.0.1:${state.port}/v1/entitlements/check`, {
      method: 'POST',
      headers: { authorization: 'Bearer ck_local_checkout_key', 'content-type': 'application/json' },
      body: JSON.stringify({ memberId: 'readme-shopper' }),
    });
    expect(await res.json()).toMatchObject({ entitled: true, status: 'active', planId: 'prime-monthly' });

    // As the README's walk-through: the renewal notice is due 7 days before the 30-day renewal.
    const asOf = new Date(Date.now() + 24 * 86_400_000).toISOString();
    const job = await run('local/job.ts', ['reminders', '--as-of', asOf], secondTerminal);
    expect(job.code, job.stdout + job.stderr).toBe(0);
    expect(job.stderr).toContain(
      `DynamoDB http://127.0.0.1:${state.dynamoPort} (the running npm start, pid ${state.child!.pid}), tables ${LOCAL_DEFAULTS.TABLE_NAME}, ${LOCAL_DEFAULTS.IDEMPOTENCY_TABLE_NAME}`,
    );
    const printed = JSON.parse(job.stdout.slice(job.stdout.indexOf('{\n  "job"'))) as { result: { sent: number } };
    expect(printed.result.sent).toBeGreaterThanOrEqual(1);
    expect(job.stdout).toContain('Your Prime Monthly membership renews on');
  });

  it('removes the file when it stops', async () => {
    expect(existsSync(runtimeFile)).toBe(true);
    state.child!.kill('SIGTERM');
    await exited(state.child!);
    expect(state.child!.exitCode).toBe(0);
    expect(existsSync(runtimeFile)).toBe(false);
  });
});
