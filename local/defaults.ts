/**
 * Safe local defaults for every variable of the contract. They are public (README) and only ever
 * used on a developer machine; `npm start` prints which ones are in effect.
 */
export const LOCAL_DEFAULTS = {
  PORT: '3000',
  STRIPE_WEBHOOK_SECRET: 'whsec_local_development_secret_0000000000',
  STRIPE_SECRET_KEY: '',
  STRIPE_API_BASE: '',
  SERVICE_API_KEYS: 'checkout=ck_local_checkout_key,finance=fk_local_finance_key,admin=ak_local_admin_key',
  SHOPPER_JWT_SECRET: 'local-shopper-jwt-secret-change-me-0000000000',
  SHOPPER_JWKS_URL: '',
  SHOPPER_JWT_ISSUER: 'http://127.0.0.1/local-idp',
  SHOPPER_JWT_AUDIENCE: 'membership-local',
  PLAN_CATALOG_FILE: '',
  DYNAMODB_ENDPOINT: '',
  DYNAMODB_PORT: '8000',
  DATA_DIR: '',
  TABLE_NAME: 'membership',
  IDEMPOTENCY_TABLE_NAME: 'membership-idempotency',
} as const;

export type LocalVariable = keyof typeof LOCAL_DEFAULTS;
const SECRET_VARIABLES: ReadonlySet<LocalVariable> = new Set([
  'STRIPE_WEBHOOK_SECRET',
  'STRIPE_SECRET_KEY',
  'SERVICE_API_KEYS',
  'SHOPPER_JWT_SECRET',
]);

/** Fills unset variables with their local default; returns what is in effect, secrets masked unless defaulted. */
export function applyLocalDefaults(
  env: NodeJS.ProcessEnv = process.env,
): Array<{ name: LocalVariable; value: string; source: 'default' | 'environment' }> {
  return (Object.keys(LOCAL_DEFAULTS) as LocalVariable[]).map((name) => {
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') {
      const shown = SECRET_VARIABLES.has(name) ? '(set, hidden)' : fromEnv;
      return { name, value: shown, source: 'environment' as const };
    }
    env[name] = LOCAL_DEFAULTS[name];
    return { name, value: LOCAL_DEFAULTS[name] || '(unset)', source: 'default' as const };
  });
}
