import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '#shared/api/openapi';
import { allRoutes } from '#shared/api/routes';
import type { RouteSpec } from '#shared/http/types';
import { globalRegistry, int, meta, strictObject, string } from '#shared/validation';
import { CLIENT_TYPES_FILE, clientTypes, openApiDocument } from '../../local/openapi-files';

type Doc = ReturnType<typeof buildOpenApi>;
type Operation = {
  operationId: string;
  requestBody?: { content: Record<string, { schema?: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
};

const doc = openApiDocument();
const operations = (d: Doc) => Object.values(d.paths).flatMap((item) => Object.values(item as Record<string, Operation>)) as Operation[];
const refName = (schema: Record<string, unknown> | undefined) => String(schema?.$ref ?? '').replace('#/components/schemas/', '');

describe('the OpenAPI document', () => {
  it('names every request, response and problem schema as a component, and every $ref resolves', () => {
    const schemas = doc.components.schemas as Record<string, Record<string, unknown>>;
    let refs = 0;
    for (const op of operations(doc)) {
      const bodies = [
        ...Object.values(op.requestBody?.content ?? {}),
        ...Object.values(op.responses).flatMap((r) => Object.values(r.content ?? {})),
      ];
      for (const media of bodies) {
        if (!media.schema) continue;
        expect(Object.keys(media.schema), op.operationId).toEqual(['$ref']);
        expect(schemas[refName(media.schema)], `${op.operationId} → ${String(media.schema.$ref)}`).toBeDefined();
        refs++;
      }
    }
    expect(refs).toBeGreaterThan(100);
    for (const match of JSON.stringify(schemas).matchAll(/"\$ref":"([^"]+)"/g)) {
      expect(schemas[match[1]!.replace('#/components/schemas/', '')], match[1]).toBeDefined();
    }
  });

  it('gives the checkout its own types by name, and each problem its extension members', () => {
    const schemas = doc.components.schemas as Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
    for (const name of ['Entitlement', 'EntitlementCheckRequest', 'Coupon', 'ShippingVoucher', 'Problem', 'ValidationProblem']) {
      expect(schemas[name], name).toBeDefined();
    }
    expect(Object.keys(schemas.Problem!.properties!)).toEqual(['type', 'title', 'status', 'detail']);
    const problemOf = (path: string, method: string, status: number) =>
      schemas[refName((doc.paths as any)[path][method].responses[status].content['application/problem+json'].schema)]!;
    expect(Object.keys(problemOf('/v1/me/checkout-session', 'post', 409).properties!)).toEqual([
      'type',
      'title',
      'status',
      'detail',
      'reason',
      'membershipStatus',
      'portalSessionPath',
    ]);
    expect(problemOf('/v1/coupons/{code}/redeem', 'post', 422).required).toContain('reason');
    // Every problem this API documents carries a schema: generated clients never see `unknown`.
    for (const op of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400)
          expect(response.content?.['application/problem+json']?.schema, `${op.operationId} ${status}`).toBeDefined();
      }
    }
  });

  it('names a new route’s schemas after its operation, with no other change', () => {
    const nested = strictObject({ id: string() }).check(meta({ id: 'UnitTestWidget' }));
    const route: RouteSpec = {
      method: 'POST',
      path: '/v1/unit-test/widgets',
      operationId: 'makeWidget',
      summary: 'A route the document has never seen.',
      tags: ['checkout'],
      auth: { kind: 'service', roles: ['checkout'] },
      body: strictObject({ widget: nested }),
      responses: {
        201: { description: 'Made', schema: strictObject({ widget: nested, count: int() }) },
        409: { description: 'Taken', contentType: 'application/problem+json', schema: strictObject({ type: string() }) },
      },
    };
    let built: Doc;
    try {
      built = buildOpenApi([...allRoutes, route], { version: 'test' });
    } finally {
      globalRegistry.remove(nested); // ids are global: a rerun (watch mode) would find this one taken
    }
    const schemas = built.components.schemas as Record<string, unknown>;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['MakeWidgetRequest', 'MakeWidgetResponse201', 'MakeWidgetConflictProblem', 'UnitTestWidget']),
    );
    expect(JSON.stringify(schemas.MakeWidgetRequest)).toContain('"$ref":"#/components/schemas/UnitTestWidget"');
  });

  it('says where the API is and under which license', () => {
    expect(doc.servers[0]).toMatchObject({ url: expect.stringMatching(/^https?:\/\//) });
    expect(doc.info.license.name).toBeTruthy();
    const served = buildOpenApi(allRoutes, { version: 'test', servers: [{ url: 'https://api.shop.example', description: 'here' }] });
    expect(served.servers.map((s) => s.url)).toEqual(['https://api.shop.example', 'http://127.0.0.1:3000']);
  });

  it('is the document the checked-in client types were generated from (npm run openapi regenerates them)', async () => {
    expect(
      readFileSync(CLIENT_TYPES_FILE, 'utf8') === (await clientTypes()),
      'clients/checkout/openapi.ts is stale: run npm run openapi',
    ).toBe(true);
  });
});
