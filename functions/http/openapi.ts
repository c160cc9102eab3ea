import { buildOpenApi } from '#shared/api/openapi';
import { allRoutes } from '#shared/api/routes';
import { openapiRoute } from '#shared/api/system';
import { httpHandler } from '#shared/http/handler';
import type { HttpEvent } from '#shared/http/types';

const version = process.env.SERVICE_VERSION ?? '0.1.0';
const byOrigin = new Map<string, string>();

/** The address the caller reached us at (the HTTP API's own domain in AWS), so a client generated from the document needs no base URL. */
function origin(event: HttpEvent): string | null {
  const host = event.requestContext?.domainName;
  if (!host || !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host)) return null;
  const proto = event.headers?.['x-forwarded-proto'] === 'https' || !/^(localhost|127\.|\[::1\])/.test(host) ? 'https' : 'http';
  return `${proto}://${host}`;
}

export const handler = httpHandler(openapiRoute, async ({ event }) => {
  const here = origin(event) ?? '';
  let body = byOrigin.get(here);
  if (body === undefined) {
    const servers = here ? [{ url: here, description: 'This deployment (where this document was fetched)' }] : [];
    body = JSON.stringify(buildOpenApi(allRoutes, { version, servers }));
    // One API answers under a handful of names (its execute-api domain, a custom domain): bounded anyway.
    if (byOrigin.size < 8) byOrigin.set(here, body);
  }
  return { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }, body };
});
