/**
 * Settings of the reminders job, from the environment (infra/ sets them from CDK context; a local run
 * falls back to local defaults). Pure: no AWS SDK, so infra/ can share the URL rule at synth time.
 */

/** Local defaults of the links printed in notices; never used inside Lambda. */
export const LOCAL_PORTAL_URL = 'http://127.0.0.1:3000/account/membership';
export const LOCAL_PREFERENCES_URL = 'http://127.0.0.1:3000/account/email-preferences';

const LOOPBACK_OR_PRIVATE = [
  /^localhost$/,
  /\.localhost$/,
  /^127\./,
  /^0\.0\.0\.0$/,
  /^10\./,
  /^192\.168\./,
  /^172\.(1[6-9]|2\d|3[01])\./,
  /^169\.254\./,
  /^\[(::1?|f[cd][0-9a-f]*:.*|fe80:.*)\]$/,
];

/**
 * Why `value` cannot be a link in an email sent to members, or null when it can: members open it from
 * their own device, so it must be an absolute https URL on a public host.
 */
export function publicLinkProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URL`;
  }
  if (url.protocol !== 'https:') return `"${value}" must use https`;
  const host = url.hostname.toLowerCase();
  if (LOOPBACK_OR_PRIVATE.some((re) => re.test(host))) return `"${value}" points at a local or private host that members cannot reach`;
  if (!host.includes('.')) return `"${value}" has no public host name`;
  return null;
}

export function positiveInt(value: string | number | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
}

export function positiveNumber(value: string | number | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${value}"`);
  return n;
}

/** Inside Lambda the links must be configured (infra does) and public; locally they default to the local server. */
export function linkSetting(env: NodeJS.ProcessEnv, name: string, localDefault: string): string {
  const value = env[name];
  const inAws = Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
  if (!value) {
    if (inAws) throw new Error(`${name} must be set in AWS (CDK context; see docs/operations.md)`);
    return localDefault;
  }
  if (inAws) {
    const problem = publicLinkProblem(value);
    if (problem) throw new Error(`${name}: ${problem}`);
  }
  return value;
}
