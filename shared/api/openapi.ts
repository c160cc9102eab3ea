import type { ResponseSpec, RouteSpec } from '../http/types';
import { globalRegistry, registry, type Schema, toJSONSchema } from '../validation';

type JsonSchema = Record<string, unknown>;

/**
 * Every request body, response and problem schema of every route becomes a named component, so a
 * generated client has a type to import for each (`Entitlement`, `Problem`, ...). A schema is named
 * by its zod metadata (`.check(meta({ id: 'Entitlement' }))`, which also makes it a component
 * wherever it is nested); an unnamed one after its operation and role: `CheckEntitlementRequest`,
 * `RedeemCouponResponse`, `RedeemCouponConflictProblem`. New routes need nothing else to follow.
 */
const STATUS_WORDS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Unprocessable',
  429: 'TooManyRequests',
  500: 'Internal',
  502: 'BadGateway',
  503: 'Unavailable',
  504: 'GatewayTimeout',
};

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const explicitName = (schema: Schema): string | undefined => globalRegistry.get(schema)?.id;

function derivedName(route: RouteSpec, role: 'request' | number, response?: ResponseSpec): string {
  const op = pascal(route.operationId);
  if (role === 'request') return `${op}Request`;
  if (role < 400) return role === 200 ? `${op}Response` : `${op}Response${role}`;
  const word = STATUS_WORDS[role] ?? `Status${role}`;
  return response?.contentType === 'application/problem+json' ? `${op}${word}Problem` : `${op}${word}`;
}

/** The schemas of one direction (`input`: what clients send, `output`: what they receive), by component name. */
class Components {
  private readonly byName = new Map<string, Schema>();
  private readonly nameOf = new Map<Schema, string>();

  constructor(private readonly io: 'input' | 'output') {}

  /** The component name of `schema`: its own id, else the first name a route gave it. */
  name(schema: Schema, fallback: string): string {
    const known = this.nameOf.get(schema);
    if (known) return known;
    const name = explicitName(schema) ?? fallback;
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`OpenAPI: "${name}" is not a valid component name`);
    if (this.byName.has(name)) throw new Error(`OpenAPI: two different schemas are named ${name}; give one of them its own meta({ id })`);
    this.byName.set(name, schema);
    this.nameOf.set(schema, name);
    return name;
  }

  /**
   * Converts every registered schema at once, so zod writes `$ref`s between them. Named schemas nested
   * inside (a `Coupon` in an `Entitlement`) are found by a first pass and registered too.
   */
  toJsonSchemas(): Record<string, JsonSchema> {
    const convert = (reg: ReturnType<typeof registry<{ id: string }>>, override?: (schema: Schema) => void) =>
      toJSONSchema(reg, {
        io: this.io,
        unrepresentable: 'any',
        uri: (id) => `#/components/schemas/${id}`,
        ...(override ? { override: ({ zodSchema }) => override(zodSchema as unknown as Schema) } : {}),
      }).schemas as Record<string, JsonSchema>;
    for (;;) {
      const reg = registry<{ id: string }>();
      for (const [name, schema] of this.byName) reg.add(schema, { id: name });
      const nested: Schema[] = [];
      const out = convert(reg, (schema) => {
        if (!this.nameOf.has(schema) && explicitName(schema)) nested.push(schema);
      });
      if (nested.length === 0) {
        const result: Record<string, JsonSchema> = {};
        for (const [name, { $schema: _s, $id: _i, ...schema }] of Object.entries(out)) {
          if (name === '__shared') throw new Error('OpenAPI: a named schema escaped the component registry');
          result[name] = schema;
        }
        return result;
      }
      for (const schema of nested) this.name(schema, explicitName(schema)!);
    }
  }
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function parameters(schema: Schema | undefined, where: 'query' | 'path') {
  if (!schema) return [];
  const { $defs, ...json } = toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema & {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  // Parameters are inlined: a named schema inside one would leave a dangling `#/$defs` reference.
  if ($defs) throw new Error(`OpenAPI: ${where} parameters hold a named schema (${Object.keys($defs).join(', ')}); parameters are inlined`);
  return Object.entries(json.properties ?? {}).map(([name, s]) => {
    const { $schema: _s, ...rest } = s;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      schema: rest,
      ...(typeof s.description === 'string' ? { description: s.description } : {}),
    };
  });
}

const SECURITY: Record<RouteSpec['auth']['kind'], Array<Record<string, string[]>>> = {
  public: [],
  'stripe-signature': [{ stripeSignature: [] }],
  service: [{ serviceKey: [] }],
  shopper: [{ shopperJwt: [] }],
};

export interface ServerSpec {
  url: string;
  description: string;
}

/** Where the document says the API is when nothing better is known: `npm start`'s default address. */
export const LOCAL_SERVER: ServerSpec = { url: 'http://127.0.0.1:3000', description: 'npm start on this machine (PORT may differ)' };

const TAGS = [
  { name: 'checkout', description: "The shop's checkout: entitlement check, order quote, coupon holds, redemption and benefit usage." },
  { name: 'shopper', description: "The signed-in shopper's own membership, checkout and portal sessions, cancellation and preferences." },
  { name: 'admin', description: "Operators: a member's stored state, notices, preferences and erasure." },
  { name: 'finance', description: 'Finance: ledger, revenue, reconciliation with Stripe and the monthly report.' },
  { name: 'stripe', description: 'Stripe webhook deliveries.' },
  { name: 'system', description: 'Health and this document.' },
];

/** Builds the OpenAPI 3.1 document from the same route specs and zod schemas the handlers validate with. */
export function buildOpenApi(routes: readonly RouteSpec[], info: { version: string; servers?: readonly ServerSpec[] }) {
  const inputs = new Components('input');
  const outputs = new Components('output');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [key, response] of Object.entries(route.responses) as Array<[string, ResponseSpec]>) {
      const status = Number(key);
      const content: Record<string, unknown> = {};
      if (response.schema) {
        content[response.contentType ?? 'application/json'] = {
          schema: ref(outputs.name(response.schema, derivedName(route, status, response))),
        };
      } else if (response.contentType) content[response.contentType] = {};
      for (const type of response.alternateContentTypes ?? []) content[type] = {};
      responses[key] = { description: response.description, ...(Object.keys(content).length ? { content } : {}) };
    }
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: route.tags,
      security: SECURITY[route.auth.kind],
      ...(route.auth.kind === 'service' ? { 'x-roles': route.auth.roles } : {}),
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      responses,
    };
    if (route.body) {
      // A body schema that accepts no body at all (e.g. cancel's optional options) is an optional body.
      operation.requestBody = {
        required: !route.body.safeParse(undefined).success,
        content: {
          'application/json': { schema: ref(inputs.name(route.body, derivedName(route, 'request'))) },
          ...(route.formBody
            ? { 'application/x-www-form-urlencoded': { schema: ref(inputs.name(route.body, derivedName(route, 'request'))) } }
            : {}),
        },
      };
    } else if (route.rawBody) {
      operation.requestBody = { required: true, description: route.rawBody.description, content: { [route.rawBody.contentType]: {} } };
    }
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation;
  }

  const schemas = outputs.toJsonSchemas();
  for (const [name, schema] of Object.entries(inputs.toJsonSchemas())) {
    // One name, one shape: a schema sent and received alike must convert alike in both directions.
    if (name in schemas && JSON.stringify(schemas[name]) !== JSON.stringify(schema)) {
      throw new Error(`OpenAPI: ${name} differs as a request and as a response; name the two directions apart`);
    }
    schemas[name] = schema;
  }
  const usedTags = new Set(routes.flatMap((r) => r.tags));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Membership backend',
      version: info.version,
      description:
        'Paid-membership API: Stripe webhooks, entitlement checks, order quotes, coupon holds, member benefits, reminders and finance. ' +
        'Errors are application/problem+json (RFC 9457), each problem schema listing its extension members; unknown JSON fields are ' +
        'rejected; bodies over 256 KiB get 413. A request no route takes gets 404 (405 for a known path with another method locally; ' +
        'API Gateway answers 404 itself in AWS).',
      license: { name: 'Proprietary: for the shop and its partners', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [...(info.servers ?? []), LOCAL_SERVER].filter((s, i, all) => all.findIndex((o) => o.url === s.url) === i),
    tags: TAGS.filter((t) => usedTags.has(t.name)),
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        serviceKey: { type: 'http', scheme: 'bearer', description: 'Service key with a role: checkout, finance or admin.' },
        shopperJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Shopper token; `sub` is the memberId.' },
        stripeSignature: { type: 'apiKey', in: 'header', name: 'Stripe-Signature', description: 'HMAC signature over the raw body.' },
      },
    },
  };
}
