import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { memberIdSchema } from '../domain/member-id';
import { useCaseErrorIn } from '../errors';
import { logger } from '../observability';
import { freshServiceKeys, serviceKeys } from '../runtime/service-keys';
import { bearerToken, type HashedKey, roleForKey, type ServiceRole } from '../security/service-keys';
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

/** A CSV download: RFC 4180 with a header row, saved under `filename` by a browser. */
export const csv = (body: string, filename: string, headers: Record<string, string> = {}): HttpResult => ({
  statusCode: 200,
  headers: {
    'content-type': 'text/csv; charset=utf-8; header=present',
    'content-disposition': `attachment; filename="${filename}"`,
    'cache-control': 'no-store',
    ...headers,
  },
  body,
});

/** Whether the caller asked for CSV (`Accept: text/csv`). */
export const wantsCsv = (event: HttpEvent): boolean => /\btext\/csv\b/i.test(event.headers?.accept ?? '');

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

/**
 * Who is calling. Synchronous while the service keys are cached (every call but one in five minutes):
 * the entitlement check pays for no extra await (bench/entitlement.ts).
 */
function authenticate(route: RouteSpec, event: HttpEvent): Principal | Promise<Principal> {
  const auth = route.auth;
  if (auth.kind === 'service') {
    const token = bearerToken(header(event, 'authorization'));
    if (!token) throw problems.unauthorized();
    const keys = freshServiceKeys();
    return keys ? serviceRole(auth.roles, token, keys) : serviceKeys().then((loaded) => serviceRole(auth.roles, token, loaded));
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

function serviceRole(allowed: readonly ServiceRole[], token: string, keys: HashedKey[]): Principal {
  const role = roleForKey(token, keys);
  if (!role) throw problems.unauthorized();
  if (!allowed.includes(role)) throw problems.forbidden();
  return { kind: 'service', role };
}

export interface HandlerOptions {
  /**
   * Where the request's context (the Lambda context, `route`, `requestId`) goes in the logs.
   * `every-line` (default): on every line logged during the request, use cases' included.
   * `on-failure`: attached only when the wrapper logs a failure, which then reads the same; for routes
   * whose code logs nothing else and whose latency is the budget (the checkout's reads), since
   * attaching and removing Powertools keys is a measurable share of such a request (bench/entitlement.ts).
   */
  logContext?: 'every-line' | 'on-failure';
}

type MiddyRequest = { event: HttpEvent; context: Context };

const attachLogContext = (route: RouteSpec, request: MiddyRequest) => {
  logger.addContext(request.context);
  logger.appendKeys({ route: `${route.method} ${route.path}`, requestId: request.event.requestContext?.requestId });
};
const detachLogContext = () => logger.removeKeys(['route', 'requestId']);

/** The name of what a typed error wraps (a DynamoDB timeout, a network error), for the log line; never its message. */
const causeName = (error: unknown) => {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof Error ? cause.name : undefined;
};

/**
 * Wraps a route's domain call in the edge concerns every endpoint shares: size limit, auth,
 * strict zod validation of body/query/path, and one problem+json error mapper. The handler body
 * only maps a validated request to a domain call and its result to a response. Optional concerns are
 * middlewares registered only when wanted, so one that is off costs a request nothing.
 */
export function httpHandler<R extends RouteSpec>(route: R, fn: (request: Request<R>) => Promise<HttpResult>, options: HandlerOptions = {}) {
  const core = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const raw = rawBodyOf(event);
    if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) throw problems.tooLarge(MAX_BODY_BYTES);
    const authenticated = authenticate(route, event);
    const principal = authenticated instanceof Promise ? await authenticated : authenticated;
    let body: unknown;
    if (route.formBody) {
      // Parsed and validated by the handler (it may answer a form with HTML); the media type is the edge's.
      const contentType = header(event, 'content-type') ?? '';
      if (raw.length > 0 && !/^application\/(([\w.+-]+\+)?json|x-www-form-urlencoded)\b/i.test(contentType)) {
        throw problems.unsupportedMediaType('Send the request body as application/json or application/x-www-form-urlencoded.');
      }
    } else if (route.body) {
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

  const everyLine = (options.logContext ?? 'every-line') === 'every-line';
  const handler = middy<HttpEvent, HttpResult, Error, Context>();
  if (everyLine) handler.use({ before: (request) => attachLogContext(route, request), after: detachLogContext });
  return handler
    .use({
      onError: async (request) => {
        const error = request.error;
        // A typed error may arrive wrapped by a library (Powertools idempotency wraps a DynamoDB outage).
        const typed = error instanceof HttpProblem ? null : useCaseErrorIn(error);
        const problem = error instanceof HttpProblem ? error : typed ? problemFor(typed) : null;
        const logged = !problem || problem.status >= 500;
        if (logged && !everyLine) attachLogContext(route, request);
        if (problem) {
          if (logged)
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
        // Middy runs no `after` once a request failed: the context comes off here.
        if (logged || everyLine) detachLogContext();
        await countProblem(request.response, request.context);
      },
      // Only a problem is counted; the success path stays synchronous (the checkout's latency budget).
      after: (request) => ((request.response?.statusCode ?? 200) >= 400 ? countProblem(request.response, request.context) : undefined),
    })
    .handler(core);
}
