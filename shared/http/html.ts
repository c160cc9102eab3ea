import type { HttpResult } from './types';

/**
 * An HTML answer of the API (the cancellation pages): self-contained by construction, and the policy
 * makes sure nothing else is ever fetched or framed; forms may only post back here.
 */
export const html = (statusCode: number, body: string, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...headers,
  },
  body,
});
