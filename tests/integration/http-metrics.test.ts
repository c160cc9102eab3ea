import { describe, expect, it } from 'vitest';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { captureOutput } from '../support/output';

// Metrics are on in this file (the edge loads Powertools Metrics on the first problem, after this line).
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

const api = useApi();

describe('the edge counts problem answers per route group, status class and cause', () => {
  const lines = captureOutput('INFO');
  const problemRecords = () =>
    lines
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((r) => r._aws?.CloudWatchMetrics?.some((m: any) => m.Metrics.some((x: any) => x.Name === 'HttpProblems')));

  it('one EMF record per 401 and 403, with both dimension sets; nothing for a 200', async () => {
    const memberId = uniqueMemberId('metrics');
    expect((await api.call('POST', '/v1/entitlements/check', { body: { memberId } })).status).toBe(200);
    expect(problemRecords()).toHaveLength(0);

    expect((await api.call('POST', '/v1/entitlements/check', { key: 'ck_rolled_but_not_here', body: { memberId } })).status).toBe(401);
    expect((await api.call('POST', '/v1/entitlements/check', { key: KEYS.finance, body: { memberId } })).status).toBe(403);
    const records = problemRecords();
    expect(records).toHaveLength(2);
    for (const record of records) {
      expect(record._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: 'Membership',
        Dimensions: [
          ['service', 'routeGroup', 'statusClass'],
          ['service', 'routeGroup', 'cause'],
        ],
      });
      expect(record).toMatchObject({ service: 'membership', routeGroup: 'local-entitlements-check', statusClass: '4xx', HttpProblems: 1 });
    }
    expect(records.map((r) => r.cause)).toEqual(['unauthorized', 'forbidden']);
  });

  it('counts a 400 by its problem type', async () => {
    expect((await api.call('POST', '/v1/entitlements/check', { body: { memberId: 'no spaces allowed' } })).status).toBe(400);
    expect(problemRecords().map((r) => [r.statusClass, r.cause])).toEqual([['4xx', 'validation-error']]);
  });
});
