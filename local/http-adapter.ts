/**
 * The one adapter from plain HTTP to API Gateway HTTP API (payload v2) events, so the local server and
 * the integration tests run exactly the Lambda handlers that AWS runs. It also plays the two parts
 * API Gateway plays in AWS: routing, and the JWT authorizer for shopper routes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { HttpProblem, problemResponse, problems } from '#shared/http/problem';
import type { HttpEvent, HttpLambda, HttpResult, RouteSpec } from '#shared/http/types';
import type { FunctionSpec } from '../functions/manifest';
import { createShopperVerifier, type ShopperVerifier } from './shopper-jwt';

/** API Gateway's own payload limit; the handlers enforce the contract's 256 KiB themselves. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;
const TEXT_TYPES = /^(application\/([\w.+-]+\+)?(json|xml|x-www-form-urlencoded)|text\/)/i;

/**
 * The function whose handler is running, as Lambda would run it in its own container: the tests use
 * it to hold each function's DynamoDB calls to the IAM actions infra grants it
 * (tests/support/iam-recorder.ts).
 */
export const runningFunction = new AsyncLocalStorage<FunctionSpec>();

interface MountedRoute {
  route: RouteSpec;
  pattern: RegExp;
  paramNames: string[];
  fn: FunctionSpec;
  handler: HttpLambda;
}

function compile(path: string) {
  const paramNames: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
      paramNames.push(name);
      return '([^/]+)';
    })}$`,
  );
  return { pattern, paramNames };
}

export async function mountFunctions(functions: readonly FunctionSpec[], projectRoot: string): Promise<MountedRoute[]> {
  const mounted: MountedRoute[] = [];
  for (const fn of functions) {
    const mod = (await import(pathToFileURL(resolve(projectRoot, fn.entry)).href)) as { handler: HttpLambda };
    for (const route of fn.routes) mounted.push({ route, fn, handler: mod.handler, ...compile(route.path) });
  }
  return mounted;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > GATEWAY_MAX_BODY) {
        reject(problems.tooLarge(GATEWAY_MAX_BODY));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function lambdaContext(fn: FunctionSpec, requestId: string): Context {
  const deadline = Date.now() + (fn.timeoutSeconds ?? 10) * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `local-${fn.name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:local-${fn.name}`,
    memoryLimitInMB: String(fn.memoryMb ?? 512),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/local-${fn.name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function toHttpEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
): HttpEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? '');
  const requestId = randomUUID();
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

function send(res: ServerResponse, result: HttpResult) {
  const headers = { ...(result.headers ?? {}) } as Record<string, string | number | boolean>;
  const body = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  res.writeHead(result.statusCode ?? 200, headers as Record<string, string>);
  res.end(body);
}

export interface LocalHttpServer {
  server: Server;
  url: string;
  close: () => Promise<void>;
}

export async function startLocalHttpServer(options: {
  functions: readonly FunctionSpec[];
  projectRoot: string;
  port: number;
  host?: string;
  env?: NodeJS.ProcessEnv;
  /** One access-log line per request; names the route template, never the raw path (it can hold a memberId). */
  onRequest?: (line: { route: string; status: number; ms: number }) => void;
}): Promise<LocalHttpServer> {
  const routes = await mountFunctions(options.functions, options.projectRoot);
  let shopperVerifier: ShopperVerifier | undefined;

  const server = createServer(async (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let status = 500;
    let route = `${req.method} (no route)`;
    try {
      const candidates = routes.filter((r) => r.pattern.test(url.pathname));
      const match = candidates.find((r) => r.route.method === req.method);
      if (!match) {
        throw candidates.length
          ? new HttpProblem(405, `Use ${candidates.map((c) => c.route.method).join(', ')} for ${url.pathname}.`)
          : problems.notFound(`No route for ${req.method} ${url.pathname}.`);
      }
      route = `${match.route.method} ${match.route.path}`;
      const values = match.pattern.exec(url.pathname)!.slice(1);
      const params = Object.fromEntries(match.paramNames.map((name, i) => [name, decodeURIComponent(values[i]!)]));
      const body = await readBody(req);
      const event = toHttpEvent(req, url, body, `${match.route.method} ${match.route.path}`, params);
      if (match.route.auth.kind === 'shopper') {
        shopperVerifier ??= createShopperVerifier(options.env ?? process.env);
        const claims = await shopperVerifier(event.headers.authorization);
        event.requestContext.authorizer = { jwt: { claims, scopes: null } };
      }
      const result = await runningFunction.run(match.fn, () =>
        match.handler(event, lambdaContext(match.fn, event.requestContext.requestId)),
      );
      status = result.statusCode ?? 200;
      send(res, result);
    } catch (error) {
      const problem = error instanceof HttpProblem ? error : problems.internal();
      if (!(error instanceof HttpProblem)) console.error('local adapter error', error);
      status = problem.status;
      if (!res.headersSent) send(res, problemResponse(problem));
      else res.destroy();
    } finally {
      options.onRequest?.({ route, status, ms: Math.round((performance.now() - started) * 10) / 10 });
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const address = server.address() as { port: number };
  return {
    server,
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
