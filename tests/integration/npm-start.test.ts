import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../local/dynamodb-local';
import { checkedFetch } from '../support/api-contract';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm start', () => {
  it('starts embedded DynamoDB Local and the API with printed defaults, and serves a signed test event end to end', async () => {
    const [port, dynamoPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DYNAMODB_PORT: String(dynamoPort) };
    for (const name of [
      'DYNAMODB_ENDPOINT',
      'TABLE_NAME',
      'IDEMPOTENCY_TABLE_NAME',
      'POWERTOOLS_LOG_LEVEL',
      'SERVICE_API_KEYS',
      'STRIPE_WEBHOOK_SECRET',
    ])
      delete env[name];
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('HTTP API')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not come up:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(output).toMatch(/STRIPE_WEBHOOK_SECRET\s+whsec_local/);
      expect(output).toContain(`DynamoDB       http://127.0.0.1:${dynamoPort} (embedded, in memory)`);
      const send = spawn(
        process.execPath,
        ['--import', 'tsx', 'local/send-test-event.ts', '--member', 'readme-shopper', '--url', `http://127.0.0.1:${port}`],
        { cwd: root, env },
      );
      let sent = '';
      send.stdout.on('data', (d) => (sent += d));
      expect(await new Promise((r) => send.on('exit', r))).toBe(0);
      expect(sent).toContain('invoice.paid');
      const res = await checkedFetch(`http://127.0.0.1:${port}/v1/entitlements/check`, {
        method: 'POST',
        headers: { authorization: 'Bearer ck_local_checkout_key', 'content-type': 'application/json' },
        body: JSON.stringify({ memberId: 'readme-shopper' }),
      });
      expect(await res.json()).toMatchObject({ entitled: true, status: 'active', planId: 'prime-monthly' });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 90_000);
});
