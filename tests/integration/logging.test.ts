import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { entitlementsCheckRoute } from '#shared/api/entitlements';
import { httpHandler, json } from '#shared/http/handler';
import type { HttpEvent } from '#shared/http/types';
import { memberRef } from '#shared/member-ref';
import { logger } from '#shared/observability';
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

  it('on a route that logs only its failures, puts the request context on the failure line and nowhere else', async () => {
    const event = (requestId: string) =>
      ({
        version: '2.0',
        routeKey: 'POST /v1/entitlements/check',
        rawPath: '/v1/entitlements/check',
        rawQueryString: '',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.checkout}` },
        requestContext: { requestId, http: { method: 'POST', path: '/v1/entitlements/check' } },
        body: JSON.stringify({ memberId: 'm-1' }),
        isBase64Encoded: false,
      }) as unknown as HttpEvent;
    const context = { awsRequestId: 'aws-req-1', functionName: 'fn', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
    let fail = true;
    const handler = httpHandler(
      entitlementsCheckRoute,
      async () => {
        if (fail) throw new Error('storage exploded');
        return json(200, {});
      },
      { logContext: 'on-failure' },
    );
    expect((await handler(event('api-req-1'), context)).statusCode).toBe(500);
    fail = false;
    expect((await handler(event('api-req-2'), context)).statusCode).toBe(200);
    logger.info('a later line');
    const parsed = lines.map((l) => JSON.parse(l));
    const failure = parsed.find((l) => l.message === 'unhandled error');
    expect(failure).toMatchObject({ route: 'POST /v1/entitlements/check', requestId: 'api-req-1', function_request_id: 'aws-req-1' });
    expect(parsed.filter((l) => l.requestId === 'api-req-2')).toEqual([]);
    expect(parsed.find((l) => l.message === 'a later line')).not.toHaveProperty('route');
  });
});
