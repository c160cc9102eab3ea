import { allRoutes, routerResponses } from '#shared/api/routes';
import type { ResponseSpec } from '#shared/http/types';
import { issuesToErrors } from '#shared/validation';

/**
 * Holds every answer the tests get from the HTTP API to what the route specs in shared/api/ document
 * (the same specs that generate OpenAPI): the status must be listed for the route, the content type
 * must be the documented one, and a JSON body must parse with the documented schema. A request no
 * route takes is held to what the router documents for it (`routerResponses`).
 */

const compiled = allRoutes.map((route) => ({
  route,
  pattern: new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}$`),
}));

/** The documentation that applies to `method` on `pathname`: the route's, else the router's. */
export function documentationFor(method: string, pathname: string): { name: string; responses: Record<number, ResponseSpec> } {
  const onPath = compiled.filter((c) => c.pattern.test(pathname));
  const route = onPath.find((c) => c.route.method === method.toUpperCase())?.route;
  if (route) return { name: `${route.method} ${route.path}`, responses: route.responses };
  const kind = onPath.length ? 405 : 404;
  return { name: `router (${kind === 405 ? 'wrong method' : 'no route'})`, responses: { [kind]: routerResponses[kind] } };
}

const mediaType = (contentType: string | null) => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

export class UndocumentedResponseError extends Error {
  override name = 'UndocumentedResponseError';
}

/**
 * The problems with one response, empty when it is what the documentation promises. `body` is the
 * response text as received.
 */
export function contractViolations(answer: {
  method: string;
  url: string;
  status: number;
  contentType: string | null;
  body: string;
}): string[] {
  const { pathname } = new URL(answer.url, 'http://localhost');
  const doc = documentationFor(answer.method, pathname);
  const spec = doc.responses[answer.status];
  if (!spec) {
    const listed = Object.keys(doc.responses).join(', ');
    return [`status ${answer.status} is not documented for ${doc.name} (documented: ${listed})`];
  }
  const expectedType = spec.contentType ?? (spec.schema ? 'application/json' : undefined);
  if (!expectedType) {
    return answer.body.length === 0 ? [] : [`${doc.name} documents no body for ${answer.status}, got ${answer.body.length} bytes`];
  }
  const actualType = mediaType(answer.contentType);
  const allowed = [expectedType, ...(spec.alternateContentTypes ?? [])].map((t) => t.toLowerCase());
  if (!allowed.includes(actualType)) {
    return [`${doc.name} documents ${allowed.join(' or ')} for ${answer.status}, got content-type "${answer.contentType ?? ''}"`];
  }
  // Non-JSON bodies (CSV, HTML) are documented by content type only.
  if (!/^application\/([\w.+-]+\+)?json$/.test(actualType)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    return [`${doc.name} answered ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}`];
  }
  const violations: string[] = [];
  if (actualType === 'application/problem+json' && (parsed as { status?: unknown })?.status !== answer.status) {
    violations.push(`problem body says status ${String((parsed as { status?: unknown })?.status)}, the response ${answer.status}`);
  }
  if (!spec.schema) return [...violations, `${doc.name} documents ${expectedType} for ${answer.status} but no schema for it`];
  const result = spec.schema.safeParse(parsed);
  if (!result.success) {
    violations.push(...issuesToErrors(result.error.issues).map((issue) => `${issue.path}: ${issue.message}`));
  }
  return violations;
}

/** Fails (throws) unless the response is documented; returns it unread, so the test can still consume the body. */
export async function checkResponse(method: string, url: string, res: Response): Promise<Response> {
  const body = await res.clone().text();
  const violations = contractViolations({ method, url, status: res.status, contentType: res.headers.get('content-type'), body });
  if (violations.length) {
    const { pathname } = new URL(url, 'http://localhost');
    throw new UndocumentedResponseError(
      `${method} ${pathname} answered ${res.status} unlike the API documentation (shared/api/):\n` +
        `${violations.map((v) => `  - ${v}`).join('\n')}\n  body: ${body.slice(0, 1000)}`,
    );
  }
  return res;
}

/** `fetch` whose every answer is held to the documentation. */
export async function checkedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return checkResponse(init.method ?? 'GET', url, await fetch(url, init));
}
