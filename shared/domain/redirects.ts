/**
 * Where a shopper may be sent back to after Stripe Checkout or the customer portal (`successUrl`,
 * `cancelUrl`, `returnUrl`): only pages of the shop itself. Anything else would make our Stripe pages
 * an open redirect: a phishing link through the shop's own checkout that ends on `http://evil.example`
 * or on `https://user:pw@evil.example/`. The shop's origins are configuration (CDK context
 * `shopOrigins` in AWS, `SHOP_ORIGINS` locally); a URL is allowed when its origin is one of them
 * exactly (scheme, host and port) and it carries no credentials.
 */

/** An origin as the configuration may name it: `https://shop.example.com` (http only where allowed). */
export function originProblem(value: string, options: { httpsOnly: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URL`;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !options.httpsOnly)) {
    return `"${value}" must use https${options.httpsOnly ? '' : ' or http'}`;
  }
  if (url.username || url.password) return `"${value}" must not carry a user name or password`;
  if (url.pathname !== '/' || url.search || url.hash) {
    return `"${value}" must be an origin only (scheme://host[:port]), without path, query or fragment`;
  }
  return null;
}

/** A comma-separated list of origins; every problem at once, each naming its entry. */
export function parseShopOrigins(text: string, options: { httpsOnly: boolean }): { origins: string[]; problems: string[] } {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const problems = entries.map((e) => originProblem(e, options)).filter((p): p is string => p !== null);
  if (entries.length === 0) problems.push('no origin is listed');
  const origins = entries.filter((e) => originProblem(e, options) === null).map((e) => new URL(e).origin);
  return { origins, problems };
}

/** Why `value` may not be a redirect target of the shop, or null when it may. */
export function redirectProblem(value: string, origins: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http(s) URL';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (!origins.includes(url.origin)) return `must be a page of the shop (${origins.join(', ')})`;
  return null;
}
