/**
 * Creates or updates the Stripe customer portal configuration from the plan catalog (operator
 * command `npm run job -- stripe-portal-setup`). Idempotent: a configuration that already matches is
 * left alone, one that drifted is updated in place, and a new one is made only when there is none of
 * ours. Portal sessions use it once its id is in the Stripe settings (`portalConfigurationId`).
 */
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { PlanCatalog } from '../domain/catalog';
import {
  desiredPortalConfiguration,
  PORTAL_CONFIGURATION_MANAGER,
  type PortalProduct,
  portalConfigurationMatches,
} from '../stripe/portal-configuration';

export interface PortalSetupResult {
  configurationId: string;
  action: 'created' | 'updated' | 'unchanged';
  products: PortalProduct[];
}

/** The catalog's sold prices (each plan's first), grouped by the Stripe product they belong to. */
async function portalProducts(stripe: Stripe, catalog: PlanCatalog): Promise<PortalProduct[]> {
  const byProduct = new Map<string, string[]>();
  for (const plan of catalog.plans) {
    const priceId = plan.stripePriceIds[0]!;
    const price = await stripe.prices.retrieve(priceId);
    if (!price.recurring) throw new Error(`price ${priceId} of plan ${plan.id} is not recurring: it cannot be switched to in the portal`);
    const product = typeof price.product === 'string' ? price.product : price.product.id;
    byProduct.set(product, [...(byProduct.get(product) ?? []), price.id]);
  }
  return [...byProduct].map(([product, prices]) => ({ product, prices }));
}

/** Ours: the one the settings name, else the newest carrying our `managedBy` marker. */
async function existingConfiguration(stripe: Stripe, configurationId: string | null): Promise<Stripe.BillingPortal.Configuration | null> {
  if (configurationId) return stripe.billingPortal.configurations.retrieve(configurationId);
  for await (const configuration of stripe.billingPortal.configurations.list({ limit: 100 })) {
    if (configuration.metadata?.managedBy === PORTAL_CONFIGURATION_MANAGER) return configuration;
  }
  return null;
}

export async function setUpPortalConfiguration(
  stripe: Stripe,
  catalog: PlanCatalog,
  options: { configurationId: string | null },
): Promise<PortalSetupResult> {
  const products = await portalProducts(stripe, catalog);
  const desired = desiredPortalConfiguration(products);
  const existing = await existingConfiguration(stripe, options.configurationId);
  // Keys scoped to this run: the SDK's retries dedupe, while a later run after someone edited the
  // configuration in the Dashboard is a new intent Stripe must not answer from its replay cache.
  const run = randomUUID();
  if (!existing) {
    const created = await stripe.billingPortal.configurations.create(desired, { idempotencyKey: `stripe-portal-setup:${run}:create` });
    return { configurationId: created.id, action: 'created', products };
  }
  if (portalConfigurationMatches(existing, desired)) return { configurationId: existing.id, action: 'unchanged', products };
  await stripe.billingPortal.configurations.update(
    existing.id,
    { active: true, name: desired.name, metadata: desired.metadata, features: desired.features },
    { idempotencyKey: `stripe-portal-setup:${run}:update:${existing.id}` },
  );
  return { configurationId: existing.id, action: 'updated', products };
}
