import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { memberIdSchema } from '../domain/member-id';
import { useCaseErrorIn } from '../errors';
import { logger } from '../observability';
import { serviceKeys } from '../runtime/service-keys';
import { bearerToken, roleForKey, type ServiceRole } from '../security/service-keys';
import { type Infer, issuesToErrors, type Schema } from '../validation';
import { countProblem } from './metrics';
import { HttpProblem, problemFor, problemResponse, problems } from './problem';
import type { HttpEvent, HttpResult, RouteSpec } from './types';

/** Contract: request bodies over 256 KiB are refused with 413. */
export const MAX_BODY_BYTES = 256 * 1024;

export type Principal = { kind: 'service'; role: ServiceRole } | { kind: 'shopper'; memberId: string } | { kind: 'anonymous' };

type Parsed<S, Fallback> = S extends Schema ? Infer<S> : Fallback;

export interface Request<R extends RouteSpec> {
  body: Parsed<R['body'], undefined>;
  query: Parsed<R['query'], Record<string, string>>;
  params: Parsed<R['params'], Record<string, string>>;
  principal: Principal;
  event: HttpEvent;
  /** Decoded raw body, for routes that take a non-JSON payload. */
  rawBody: string;
  context: Context;
  now: Date;
}

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body: JSON.stringify(body),
});

export function rawBodyOf(event: HttpEvent): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

function header(event: HttpEvent, name: string): string | undefined {
  return event.headers?.[name] ?? event.headers?.[name.toLowerCase()];
}

function validate<S extends Schema>(schema: S, value: unknown, where: string): Infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw problems.validation(
      issuesToErrors(result.error.issues).map((e) => ({ ...e, path: e.path === '/' ? `/${where}` : `/${where}${e.path}` })),
    );
  }
  return result.data as Infer<S>;
}

async function authenticate(route: RouteSpec, event: HttpEvent): Promise<Principal> {
  const auth = route.auth;
  if (auth.kind === 'service') {
    const token = bearerToken(header(event, 'authorization'));
    if (!token) throw problems.unauthorized();
    const role = roleForKey(token, await serviceKeys());
    if (!role) throw problems.unauthorized();
    if (!auth.roles.includes(role)) throw problems.forbidden();
    return { kind: 'service', role };
  }
  if (auth.kind === 'shopper') {
    // Verified before the handler: by the HTTP API JWT authorizer in AWS, by the local adapter at home.
    const sub = event.requestContext.authorizer?.jwt?.claims?.sub;
    // The memberId keys the member's items: a `sub` outside the contract's alphabet never reaches them.
    if (typeof sub !== 'string' || !memberIdSchema.safeParse(sub).success) throw problems.unauthorized();
    return { kind: 'shopper', memberId: sub };
  }
  return { kind: 'anonymous' };
}

/** The name of what a typed error wraps (a DynamoDB timeout, a network error), for the log line; never its message. */
const causeName = (error: unknown) => {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof Error ? cause.name : undefined;
};

/**
 * Wraps a route's domain call in the edge concerns every endpoint shares: size limit, auth,
 * strict zod validation of body/query/path, and one problem+json error mapper. The handler body
 * only maps a validated request to a domain call and its result to a response.
 */
export function httpHandler<R extends RouteSpec>(route: R, fn: (request: Request<R>) => Promise<HttpResult>) {
  const core = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const raw = rawBodyOf(event);
    if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) throw problems.tooLarge(MAX_BODY_BYTES);
    const principal = await authenticate(route, event);
    let body: unknown;
    if (route.body) {
      const contentType = header(event, 'content-type') ?? '';
      if (raw.length > 0 && !/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
        throw problems.unsupportedMediaType('Send the request body as application/json.');
      }
      let parsed: unknown;
      try {
        parsed = raw.length === 0 ? undefined : JSON.parse(raw);
      } catch {
        throw problems.badRequest('The request body is not valid JSON.');
      }
      body = validate(route.body, parsed, 'body');
    }
    const query = route.query ? validate(route.query, event.queryStringParameters ?? {}, 'query') : (event.queryStringParameters ?? {});
    const params = route.params ? validate(route.params, event.pathParameters ?? {}, 'path') : (event.pathParameters ?? {});
    return fn({ body, query, params, principal, event, rawBody: raw, context, now: new Date() } as Request<R>);
  };

  return middy<HttpEvent, HttpResult, Error, Context>()
    .use({
      before: (request) => {
        logger.addContext(request.context);
        logger.appendKeys({ route: `${route.method} ${route.path}`, requestId: request.event.requestContext?.requestId });
      },
      onError: async (request) => {
        const error = request.error;
        // A typed error may arrive wrapped by a library (Powertools idempotency wraps a DynamoDB outage).
        const typed = error instanceof HttpProblem ? null : useCaseErrorIn(error);
        const problem = error instanceof HttpProblem ? error : typed ? problemFor(typed) : null;
        if (problem) {
          if (problem.status >= 500)
            logger.error('request failed', {
              status: problem.status,
              type: problem.body.type,
              detail: problem.message,
              cause: causeName(error),
            });
          request.response = problemResponse(problem);
        } else {
          // Unknown failures are logged with their stack here and answered without internals.
          logger.error('unhandled error', error as Error);
          request.response = problemResponse(problems.internal());
        }
        await countProblem(request.response, request.context);
      },
      after: async (request) => {
        logger.removeKeys(['route', 'requestId']);
        await countProblem(request.response, request.context);
      },
    })
    .handler(core);
}
