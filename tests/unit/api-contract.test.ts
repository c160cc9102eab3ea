import { describe, expect, it } from 'vitest';
import { checkResponse, contractViolations } from '../support/api-contract';

const problem = (status: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: '/problems/x', title: 'X', status, detail: 'd', ...extra });
const answer = (method: string, url: string, status: number, contentType: string | null, body: string) => ({
  method,
  url,
  status,
  contentType,
  body,
});

describe('the response check of the integration helpers', () => {
  it('accepts what a route documents', () => {
    expect(contractViolations(answer('GET', '/health', 200, 'application/json', '{"status":"ok","time":"t"}'))).toEqual([]);
    expect(
      contractViolations(answer('POST', '/v1/coupons/ABCD/redeem', 422, 'application/problem+json', problem(422, { reason: 'expired' }))),
    ).toEqual([]);
    expect(contractViolations(answer('GET', '/v1/finance/ledger?month=2030-01', 200, 'text/csv; charset=utf-8', 'a,b\r\n'))).toEqual([]);
    expect(contractViolations(answer('GET', '/v1/finance/report.html', 200, 'text/html; charset=utf-8', '<html>'))).toEqual([]);
  });

  it('refuses a status the route does not document, naming the route and what it documents', () => {
    const [violation] = contractViolations(answer('POST', '/v1/entitlements/check', 409, 'application/problem+json', problem(409)));
    expect(violation).toMatch(
      /status 409 is not documented for POST \/v1\/entitlements\/check \(documented: 200, 400, 401, 403, 413, 415, 500, 503\)/,
    );
  });

  it('refuses a body that does not match the schema of its status, with the zod issues', () => {
    expect(
      contractViolations(
        answer('POST', '/v1/benefit-usage', 409, 'application/problem+json', problem(409, { reason: 'usage_differs', owner: 'x' })),
      ),
    ).toEqual(['/: Unrecognized key: "owner"']);
    expect(
      contractViolations(answer('POST', '/v1/coupons/C/redeem', 422, 'application/problem+json', problem(422, { reason: 'bored' }))),
    ).toEqual([expect.stringMatching(/^\/reason: Invalid option/)]);
    expect(contractViolations(answer('GET', '/health', 200, 'application/json', '{"status":"ok"}'))).toEqual([
      expect.stringMatching(/^\/time: /),
    ]);
  });

  it('refuses the wrong content type, a body that is not JSON, and a problem whose status disagrees', () => {
    expect(contractViolations(answer('GET', '/v1/finance/report.html', 200, 'application/json', '{}'))[0]).toMatch(/documents text\/html/);
    expect(contractViolations(answer('GET', '/health', 200, 'application/json', 'ok'))[0]).toMatch(/not JSON/);
    expect(contractViolations(answer('POST', '/v1/entitlements/check', 401, 'application/problem+json', problem(403)))).toEqual([
      'problem body says status 403, the response 401',
    ]);
  });

  it('holds requests no route takes to the router’s documented 404 and 405', () => {
    expect(contractViolations(answer('GET', '/nope', 404, 'application/problem+json', problem(404)))).toEqual([]);
    expect(contractViolations(answer('GET', '/v1/entitlements/check', 405, 'application/problem+json', problem(405)))).toEqual([]);
    expect(contractViolations(answer('GET', '/v1/entitlements/check', 404, 'application/problem+json', problem(404)))[0]).toMatch(
      /status 404 is not documented for router \(wrong method\)/,
    );
  });

  it('fails the call with route, status, issues and body, and leaves the body readable when all is well', async () => {
    const bad = new Response(problem(409, { membershipStatus: 'active' }), {
      status: 409,
      headers: { 'content-type': 'application/problem+json' },
    });
    await expect(checkResponse('POST', 'http://127.0.0.1:1/v1/me/portal-session', bad)).rejects.toThrow(
      /POST \/v1\/me\/portal-session answered 409 unlike the API documentation[\s\S]*\/reason: [\s\S]*membershipStatus[\s\S]*body: /,
    );
    const good = new Response('{"status":"ok","time":"now"}', { status: 200, headers: { 'content-type': 'application/json' } });
    expect(await (await checkResponse('GET', 'http://127.0.0.1:1/health', good)).json()).toEqual({ status: 'ok', time: 'now' });
  });
});
