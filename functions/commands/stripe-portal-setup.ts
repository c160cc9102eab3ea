/**
 * `npm run job -- stripe-portal-setup [--configuration bpc_...]`: creates or updates the Stripe
 * customer portal configuration (plan switch over the catalog's prices, payment method, invoices,
 * cancel at period end) with the key in STRIPE_SECRET_KEY. An operator command, run by hand against
 * the account (test or live) whose key is given; it is not deployed and not scheduled.
 */
import { planCatalog } from '#shared/runtime/catalog';
import { stripeAccount } from '#shared/runtime/stripe-api';
import { setUpPortalConfiguration } from '#shared/usecases/stripe-portal-setup';

export async function handler(flags: { configuration?: string } = {}) {
  const account = await stripeAccount();
  if (!account) throw new Error('set STRIPE_SECRET_KEY to a key of the Stripe account to configure (sk_/rk_, test or live)');
  const result = await setUpPortalConfiguration(account.api, planCatalog(), {
    configurationId: flags.configuration ?? account.portalConfigurationId,
  });
  const inUse = account.portalConfigurationId === result.configurationId;
  return {
    ...result,
    next: inUse
      ? 'portal sessions already use this configuration'
      : `set portalConfigurationId to ${result.configurationId} in secret:stripe-api (AWS) or STRIPE_PORTAL_CONFIGURATION_ID (local); until then portal sessions use the account's default configuration`,
  };
}
