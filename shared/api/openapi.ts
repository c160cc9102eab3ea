import type { ResponseSpec, RouteSpec } from '../http/types';
import { type Schema, toJSONSchema } from '../validation';
import { routerResponses } from './routes';

type JsonSchema = Record<string, unknown>;

const schemaOf = (schema: Schema, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _ignored, ...rest } = toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

function parameters(schema: Schema | undefined, where: 'query' | 'path') {
  if (!schema) return [];
  const json = schemaOf(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }));
}

function responseObject(response: ResponseSpec) {
  const content: Record<string, unknown> = {};
  if (response.schema) content[response.contentType ?? 'application/json'] = { schema: schemaOf(response.schema, 'output') };
  else if (response.contentType) content[response.contentType] = {};
  for (const type of response.alternateContentTypes ?? []) content[type] = {};
  return { description: response.description, ...(Object.keys(content).length ? { content } : {}) };
}

const SECURITY: Record<RouteSpec['auth']['kind'], Array<Record<string, string[]>>> = {
  public: [],
  'stripe-signature': [{ stripeSignature: [] }],
  service: [{ serviceKey: [] }],
  shopper: [{ shopperJwt: [] }],
};

/** Builds the OpenAPI 3.1 document from the same route specs and zod schemas the handlers validate with. */
export function buildOpenApi(routes: readonly RouteSpec[], info: { version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: route.tags,
      security: SECURITY[route.auth.kind],
      ...(route.auth.kind === 'service' ? { 'x-roles': route.auth.roles } : {}),
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      responses: Object.fromEntries(Object.entries(route.responses).map(([status, response]) => [status, responseObject(response)])),
    };
    if (route.body) {
      // A body schema that accepts no body at all (e.g. cancel's optional options) is an optional body.
      operation.requestBody = {
        required: !route.body.safeParse(undefined).success,
        content: {
          'application/json': { schema: schemaOf(route.body, 'input') },
          ...(route.formBody ? { 'application/x-www-form-urlencoded': { schema: schemaOf(route.body, 'input') } } : {}),
        },
      };
    } else if (route.rawBody) {
      operation.requestBody = { required: true, description: route.rawBody.description, content: { [route.rawBody.contentType]: {} } };
    }
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Membership backend',
      version: info.version,
      description:
        'Paid-membership API: Stripe webhooks, entitlement checks, member benefits, reminders and finance. ' +
        'Errors are application/problem+json (RFC 9457); unknown JSON fields are rejected; bodies over 256 KiB get 413.',
    },
    paths,
    components: {
      // Referenced by no operation: what the router answers to a request no route takes.
      responses: { NoRoute: responseObject(routerResponses[404]), MethodNotAllowed: responseObject(routerResponses[405]) },
      securitySchemes: {
        serviceKey: { type: 'http', scheme: 'bearer', description: 'Service key with a role: checkout, finance or admin.' },
        shopperJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Shopper token; `sub` is the memberId.' },
        stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature', description: 'HMAC signature over the raw body.' },
      },
    },
  };
}
