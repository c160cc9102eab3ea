import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KEYS, useApi, uniqueMemberId } from '../support/api';
import { signupEvents } from '../../local/stripe-test-events';
import { logger, memberRef } from '../../shared/observability';

const api = useApi();

describe('logs', () => {
  let lines: string[] = [];
  beforeEach(() => {
    lines = [];
    logger.setLogLevel('DEBUG');
    const capture = (chunk: unknown) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    logger.setLogLevel('SILENT');
  });

  it('are structured JSON without secrets, keys, signatures or member ids in clear', async () => {
    const memberId = uniqueMemberId('private-person');
    const { events } = signupEvents({ memberId, start: Math.floor(Date.now() / 1000) - 60 });
    const email = 'jenny.rosen@example.com';
    events[0]!.data.object.customer_details = { email, name: 'Jenny Rosen' };
    for (const event of events) expect((await api.postEvent(event)).status).toBe(200);
    await api.call('POST', '/v1/entitlements/check', { body: { memberId } });
    await api.call('POST', '/v1/entitlements/check', { key: 'ck_wrong_but_long_key', body: { memberId } });
    // A fresh id: a processed one would be answered from the idempotency record, not the error path.
    expect((await api.postEvent({ ...events[1]!, id: `${events[1]!.id}_v`, api_version: '2020-01-01' })).status).toBe(500);

    expect(lines.length).toBeGreaterThan(3);
    const all = lines.join('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(all).toContain(memberRef(memberId));
    for (const secret of [memberId, email, 'Jenny Rosen', process.env.STRIPE_WEBHOOK_SECRET!, KEYS.checkout, 'ck_wrong_but_long_key', 'v1=']) {
      expect(all).not.toContain(secret);
    }
  });
});
