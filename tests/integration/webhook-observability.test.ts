import { createHash } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamo } from '#shared/runtime/dynamo';
import { signupEvents } from '../../local/stripe-test-events';
import { uniqueMemberId, useApi } from '../support/api';
import { captureOutput } from '../support/output';

// This file checks what operators rely on: EMF metrics are on here (the handlers load in beforeAll,
// after this line), unlike the rest of the suite.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

const api = useApi();
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('webhook observability', () => {
  const lines = captureOutput('INFO');
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, any>);
  const metricValue = (name: string) =>
    records()
      .filter((r) => r._aws?.CloudWatchMetrics?.some((m: any) => m.Metrics.some((x: any) => x.Name === name)))
      .reduce((sum, r) => sum + Number(r[name]), 0);

  it('keeps an idempotency record per event id, shared with the stripe-sync job, for as long as Stripe keeps events', async () => {
    const { events } = signupEvents({ memberId: uniqueMemberId('idem'), start: nowSeconds() - 60 });
    const event = events[1]!;
    expect((await api.postEvent(event)).status).toBe(200);
    // Powertools stores `<prefix>#md5(JSON of the key)`; the key is the event id, the prefix the same
    // for the webhook and the job (not the function's name).
    const hash = createHash('md5').update(JSON.stringify(event.id)).digest('base64');
    const { doc, tables } = dynamo();
    const out = await doc.send(new ScanCommand({ TableName: tables.idempotency, ConsistentRead: true }));
    const record = out.Items?.find((i) => String(i.id) === `stripe-event#${hash}`);
    expect(record).toMatchObject({ status: 'COMPLETED' });
    expect(Number(record!.expiration)).toBeGreaterThan(nowSeconds() + 31 * 86_400 - 120);
    expect(Number(record!.expiration)).toBeLessThanOrEqual(nowSeconds() + 31 * 86_400 + 5);
    expect(metricValue('StripeEventProcessed')).toBe(1);
  });

  it('logs an error and counts StripePayloadRejected for an event of another API version', async () => {
    const { events } = signupEvents({ memberId: uniqueMemberId('version'), start: nowSeconds() - 60 });
    const wrongVersion = { ...events[1]!, id: `evt_version_${Date.now()}`, api_version: '2024-06-20' };
    expect((await api.postEvent(wrongVersion)).status).toBe(500);
    const error = records().find((r) => r.level === 'ERROR' && r.eventId === wrongVersion.id);
    expect(error?.reason).toMatch(/API version 2024-06-20/);
    expect(metricValue('StripePayloadRejected')).toBe(1);
  });

  it('counts a rejected signature on the request that was rejected', async () => {
    const { events } = signupEvents({ memberId: uniqueMemberId('sig'), start: nowSeconds() - 60 });
    expect((await api.postEvent(events[1]!, { secret: 'whsec_not_ours_000000000000' })).status).toBe(400);
    expect(metricValue('StripeSignatureRejected')).toBe(1);
  });

  it('counts, without failing, an event of a customer that no member is linked to', async () => {
    const { events } = signupEvents({ memberId: uniqueMemberId('stranger'), start: nowSeconds() - 60 });
    const foreign = structuredClone(events[1]!);
    foreign.data.object.metadata = {};
    expect((await api.postEvent(foreign)).status).toBe(200);
    expect(metricValue('StripeEventUnattributed')).toBe(1);
  });
});
