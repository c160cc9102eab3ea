import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { desiredPortalConfiguration, portalConfigurationMatches } from '#shared/stripe/portal-configuration';

const desired = desiredPortalConfiguration([
  { product: 'prod_a', prices: ['price_month', 'price_year'] },
  { product: 'prod_b', prices: ['price_b'] },
]);
/** A configuration as Stripe returns it after creating `desired` (arrays in its own order). */
const stored = (overrides: Record<string, unknown> = {}): Stripe.BillingPortal.Configuration =>
  ({
    active: true,
    features: {
      ...desired.features,
      subscription_update: {
        ...desired.features.subscription_update,
        products: [
          { product: 'prod_b', prices: ['price_b'], adjustable_quantity: { enabled: false, maximum: null, minimum: 1 } },
          { product: 'prod_a', prices: ['price_year', 'price_month'], adjustable_quantity: { enabled: false, maximum: null, minimum: 1 } },
        ],
        schedule_at_period_end: { conditions: [{ type: 'shortening_interval' }, { type: 'decreasing_item_amount' }] },
        ...overrides,
      },
    },
  }) as unknown as Stripe.BillingPortal.Configuration;

describe('portalConfigurationMatches', () => {
  it('matches what Stripe stored for it, whatever the order of products, prices and conditions', () => {
    expect(portalConfigurationMatches(stored(), desired)).toBe(true);
  });
  it('does not match a drifted or inactive configuration', () => {
    expect(portalConfigurationMatches(stored({ enabled: false }), desired)).toBe(false);
    expect(portalConfigurationMatches(stored({ products: [{ product: 'prod_a', prices: ['price_month'] }] }), desired)).toBe(false);
    expect(portalConfigurationMatches(stored({ proration_behavior: 'none' }), desired)).toBe(false);
    expect(portalConfigurationMatches({ ...stored(), active: false }, desired)).toBe(false);
    const noCancel = stored();
    noCancel.features.subscription_cancel = { ...noCancel.features.subscription_cancel, enabled: false };
    expect(portalConfigurationMatches(noCancel, desired)).toBe(false);
  });
});
