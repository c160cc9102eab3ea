import { describe, expect, it } from 'vitest';
import { memberRef } from '#shared/member-ref';
import { signupEvents } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { captureOutput } from '../support/output';

const api = useApi();

describe('logs', () => {
  const lines = captureOutput('DEBUG');

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
    expect(all).toContain(await memberRef(memberId));
    for (const secret of [
      memberId,
      email,
      'Jenny Rosen',
      process.env.STRIPE_WEBHOOK_SECRET!,
      KEYS.checkout,
      'ck_wrong_but_long_key',
      'v1=',
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});
