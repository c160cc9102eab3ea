/**
 * The Stripe account settings the functions use: the API key and, optionally, the customer portal
 * configuration sessions open with. In AWS both live in one Secrets Manager secret as JSON: they
 * belong to one account and one mode (a test-mode configuration does not exist for a live key), so
 * they are changed together. The stack creates the secret as `STRIPE_API_SECRET_TEMPLATE`, a value
 * that plainly says "not set"; left alone, CDK would generate a random string that reaches Stripe as
 * a key and comes back as 401. Locally: `STRIPE_SECRET_KEY` (the key itself, or the same JSON) and
 * `STRIPE_PORTAL_CONFIGURATION_ID`.
 */
import { looseObject, optional, string } from '../validation';

export const STRIPE_API_SECRET_TEMPLATE = { apiKey: '', portalConfigurationId: '' } as const;

export type StripeSettings =
  | { configured: true; apiKey: string; portalConfigurationId: string | null; livemode: boolean; accountId: string | null }
  | { configured: false; problem: 'unset' | 'invalid'; detail: string };

const secretSchema = looseObject({ apiKey: optional(string()), portalConfigurationId: optional(string()), accountId: optional(string()) });
/** Secret keys (`sk_`) and restricted keys (`rk_`), test or live. */
const API_KEY = /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/;
const PORTAL_CONFIGURATION = /^bpc_[A-Za-z0-9]+$/;
const ACCOUNT = /^acct_[A-Za-z0-9]+$/;

/**
 * Reads the settings from the secret's text. Empty (the template as created) is "unset"; anything
 * that is not a Stripe secret or restricted key is "invalid": either way no Stripe call is made and
 * the routes that need one answer 503. `detail` is for the operator's log line and never holds the
 * value itself.
 */
export function parseStripeSettings(raw: string | undefined, portalConfigurationIdFromEnv = '', accountIdFromEnv = ''): StripeSettings {
  const text = (raw ?? '').trim();
  let apiKey = text;
  let portalConfigurationId = portalConfigurationIdFromEnv.trim();
  let accountId = accountIdFromEnv.trim();
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = secretSchema.safeParse(json);
    if (!parsed.success) {
      return {
        configured: false,
        problem: 'invalid',
        detail: 'the Stripe secret is not JSON of the form {"apiKey": "...", "portalConfigurationId": "..."}',
      };
    }
    apiKey = (parsed.data.apiKey ?? '').trim();
    portalConfigurationId = (parsed.data.portalConfigurationId ?? '').trim() || portalConfigurationId;
    accountId = (parsed.data.accountId ?? '').trim() || accountId;
  }
  if (apiKey === '') return { configured: false, problem: 'unset', detail: 'no Stripe API key is set' };
  if (!API_KEY.test(apiKey))
    return { configured: false, problem: 'invalid', detail: 'the Stripe API key is not a secret (sk_) or restricted (rk_) key' };
  if (portalConfigurationId !== '' && !PORTAL_CONFIGURATION.test(portalConfigurationId)) {
    return { configured: false, problem: 'invalid', detail: 'portalConfigurationId is not a portal configuration id (bpc_...)' };
  }
  if (accountId !== '' && !ACCOUNT.test(accountId))
    return { configured: false, problem: 'invalid', detail: 'accountId is not an account id (acct_...)' };
  return {
    configured: true,
    apiKey,
    portalConfigurationId: portalConfigurationId || null,
    // The key's own mode: events of the other mode are not this account's to apply.
    livemode: /^(sk|rk)_live_/.test(apiKey),
    accountId: accountId || null,
  };
}
