import { describe, expect, it } from 'vitest';
import { allRoutes } from '#shared/api/routes';
import type { RouteSpec } from '#shared/http/types';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { shopperToken } from '../support/shopper';

/**
 * Garbage at every route: each refusal must be one the route documents, in the documented shape
 * (useApi checks every answer against shared/api/), before any route-specific code runs.
 */
const api = useApi();
const memberId = uniqueMemberId('contract');
const concrete = (route: RouteSpec) => route.path.replace('{memberId}', memberId).replace('{code}', 'ABCD-EFGH-JKMN-PQRST');
const label = (route: RouteSpec) => `${route.method} ${route.path}`;

/** Credentials that pass the route's authentication, so what follows is what the route itself refuses. */
async function allowed(route: RouteSpec): Promise<{ key: string | null; headers: Record<string, string> }> {
  if (route.auth.kind === 'service') return { key: KEYS[route.auth.roles[0]!], headers: {} };
  if (route.auth.kind === 'shopper') return { key: null, headers: { authorization: `Bearer ${await shopperToken(memberId)}` } };
  return { key: null, headers: {} };
}

describe('every route refuses garbage as its documentation says', () => {
  it.each(allRoutes.filter((r) => r.method !== 'GET').map((r) => [label(r), r] as const))(
    '%s: a body over 256 KiB is 413',
    async (_name, route) => {
      const auth = await allowed(route);
      const res = await api.call(route.method, concrete(route), { ...auth, body: { padding: 'x'.repeat(300 * 1024) } });
      expect(res.status).toBe(413);
    },
  );

  it.each(allRoutes.filter((r) => r.auth.kind === 'service' || r.auth.kind === 'shopper').map((r) => [label(r), r] as const))(
    '%s: no credentials is 401, another role 403',
    async (_name, route) => {
      expect((await api.call(route.method, concrete(route), { key: null })).status).toBe(401);
      expect((await api.call(route.method, concrete(route), { key: 'not-a-key' })).status).toBe(401);
      if (route.auth.kind === 'service') {
        const other = (['checkout', 'finance', 'admin'] as const).find((role) => !routeRoles(route).includes(role))!;
        expect((await api.call(route.method, concrete(route), { key: KEYS[other] })).status).toBe(403);
      }
    },
  );

  it.each(allRoutes.filter((r) => r.body || r.rawBody?.contentType === 'text/csv').map((r) => [label(r), r] as const))(
    '%s: a body of another content type is 415',
    async (_name, route) => {
      const auth = await allowed(route);
      const type = route.body ? 'text/plain' : 'application/json';
      const res = await api.call(route.method, `${concrete(route)}${route.query ? '?month=2030-01' : ''}`, {
        ...auth,
        headers: { ...auth.headers, 'content-type': type },
        body: '{"x":1}',
      });
      expect(res.status).toBe(415);
    },
  );

  it.each(allRoutes.filter((r) => r.query).map((r) => [label(r), r] as const))(
    '%s: an unknown query field is a 400 naming it',
    async (_name, route) => {
      const auth = await allowed(route);
      const res = await api.call(route.method, `${concrete(route)}?unexpected=1`, auth);
      expect(res.status).toBe(400);
      // A required body is checked first and fails alone; otherwise the query field is what is named.
      if (!route.body || route.body.safeParse(undefined).success) {
        expect(((await res.json()) as { errors: Array<{ path: string }> }).errors).toContainEqual(
          expect.objectContaining({ path: '/query', message: expect.stringContaining('unexpected') }),
        );
      }
    },
  );

  it('a path no route has is 404; a method the path does not take is 405', async () => {
    expect((await api.call('GET', '/v1/nothing-here', { key: null })).status).toBe(404);
    for (const route of allRoutes) {
      const res = await api.call('PATCH', concrete(route), { key: null });
      expect(res.status, label(route)).toBe(405);
      expect(((await res.json()) as { detail: string }).detail).toContain(route.method);
    }
  });
});

function routeRoles(route: RouteSpec): readonly string[] {
  return route.auth.kind === 'service' ? route.auth.roles : [];
}
