import { fileURLToPath } from 'node:url';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { HeartbeatResult } from '#shared/jobs/handler';
import { dynamo } from '#shared/runtime/dynamo';
import { jobRunKey } from '#shared/storage/job-runs';
import { jobFunctions } from '../../functions/manifest';
import { asFunction } from '../support/iam-recorder';

const root = fileURLToPath(new URL('../..', import.meta.url));
type JobModule = { handler: (event?: Record<string, string>) => Promise<unknown> };
const load = async (entry: string) => (await import(`${root}${entry}`)) as JobModule;

async function storedRun(job: string) {
  const { doc, tables } = dynamo();
  return (await doc.send(new GetCommand({ TableName: tables.main, Key: jobRunKey(job), ConsistentRead: true }))).Item;
}

describe('scheduled jobs', () => {
  it('every job answers its heartbeat check under its manifest name (every entry wraps its run in jobHandler)', async () => {
    expect(jobFunctions.length).toBeGreaterThan(0);
    for (const spec of jobFunctions) {
      const job = await load(spec.entry);
      const beat = (await asFunction(spec.name, () => job.handler({ heartbeat: 'true' }))) as HeartbeatResult;
      expect(beat, spec.entry).toMatchObject({ job: spec.job!.name, heartbeat: true, minutesSinceSuccess: expect.any(Number) });
    }
  });

  it('records a completed run and measures the heartbeat from it; a failed run records nothing', async () => {
    const reminders = await load('functions/jobs/reminders.ts');
    // A time nothing in the shared test table is due at: the run completes having sent nothing.
    // As the function runs in its container: its DynamoDB calls are held to its IAM grants.
    await asFunction('reminders', () => reminders.handler({ asOf: '2001-01-01T00:00:00Z' }));
    const after = await storedRun('reminders');
    expect(Date.now() - Date.parse(after!.lastSuccessAt)).toBeLessThan(60_000);
    const beat = (await asFunction('reminders', () => reminders.handler({ heartbeat: 'true' }))) as HeartbeatResult;
    expect(beat).toMatchObject({ lastSuccessAt: after!.lastSuccessAt, minutesSinceSuccess: 0 });

    const reconcile = await load('functions/jobs/reconcile.ts');
    const before = await storedRun('reconcile');
    await expect(reconcile.handler({ month: '2001-01' })).rejects.toThrow(/STRIPE_SECRET_KEY/);
    expect((await storedRun('reconcile'))?.lastSuccessAt).toBe(before?.lastSuccessAt);
  });
});
