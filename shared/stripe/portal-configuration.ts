/**
 * The Stripe customer portal configuration the membership needs, built from the plan catalog, and
 * whether a stored one still matches it. Pure: the setup command (functions/commands/
 * stripe-portal-setup.ts) fetches and writes.
 */
import type Stripe from 'stripe';

/** `metadata.managedBy` of the configuration this project creates: how the command finds it again. */
export const PORTAL_CONFIGURATION_MANAGER = 'membership-backend';

/** The prices a member can switch between in the portal, grouped by their Stripe product. */
export interface PortalProduct {
  product: string;
  prices: string[];
}

/**
 * The portal as the feature doc promises it (docs/shoppers.md): change plan (monthly ↔ annual),
 * update the payment method, see invoices, cancel.
 * - Plan switch over the catalog's sold prices. A switch to a shorter interval or a cheaper price
 *   (annual → monthly) waits for the period end, so nobody is left with a year's credit balance; a
 *   switch up (monthly → annual) applies now with prorations (Stripe restarts the cycle on an
 *   interval change and charges the annual price less the unused month). A trial carries on.
 * - Cancel at period end, like `POST /v1/me/membership/cancel` (the refund policy lives there).
 * - The customer's details are not editable here: the notice address comes from Checkout.
 */
export function desiredPortalConfiguration(products: readonly PortalProduct[]): Stripe.BillingPortal.ConfigurationCreateParams {
  return {
    name: 'Membership: plan switch, payment method, invoices, cancel',
    metadata: { managedBy: PORTAL_CONFIGURATION_MANAGER },
    features: {
      customer_update: { enabled: false },
      invoice_history: { enabled: true },
      payment_method_update: { enabled: true },
      subscription_cancel: { enabled: true, mode: 'at_period_end' },
      subscription_update: {
        enabled: true,
        default_allowed_updates: ['price'],
        products: products.map((p) => ({ product: p.product, prices: [...p.prices] })),
        proration_behavior: 'create_prorations',
        schedule_at_period_end: { conditions: [{ type: 'decreasing_item_amount' }, { type: 'shortening_interval' }] },
        trial_update_behavior: 'continue_trial',
      },
    },
  };
}

const sorted = (values: readonly string[]) => [...values].sort();

/** The parts of a configuration this project decides, in one comparable shape. */
function decided(features: {
  customer_update?: { enabled?: boolean | null };
  invoice_history?: { enabled?: boolean | null };
  payment_method_update?: { enabled?: boolean | null };
  subscription_cancel?: { enabled?: boolean | null; mode?: string | null };
  subscription_update?: {
    enabled?: boolean | null;
    default_allowed_updates?: readonly string[] | '' | null;
    products?: ReadonlyArray<{ product: string; prices: readonly string[] }> | '' | null;
    proration_behavior?: string | null;
    schedule_at_period_end?: { conditions?: ReadonlyArray<{ type: string }> } | null;
    trial_update_behavior?: string | null;
  };
}) {
  const update = features.subscription_update ?? {};
  return JSON.stringify({
    customerUpdate: features.customer_update?.enabled ?? null,
    invoiceHistory: features.invoice_history?.enabled ?? null,
    paymentMethodUpdate: features.payment_method_update?.enabled ?? null,
    cancel: [features.subscription_cancel?.enabled ?? null, features.subscription_cancel?.mode ?? null],
    update: {
      enabled: update.enabled ?? null,
      allowed: sorted(update.default_allowed_updates || []),
      products: [...(update.products || [])]
        .map((p) => [p.product, sorted(p.prices)])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      proration: update.proration_behavior ?? null,
      atPeriodEnd: sorted((update.schedule_at_period_end?.conditions ?? []).map((c) => c.type)),
      trial: update.trial_update_behavior ?? null,
    },
  });
}

/** Whether a stored configuration already is the desired one (active, same decided features). */
export function portalConfigurationMatches(
  existing: Stripe.BillingPortal.Configuration,
  desired: Stripe.BillingPortal.ConfigurationCreateParams,
): boolean {
  return existing.active && decided(existing.features) === decided(desired.features);
}
