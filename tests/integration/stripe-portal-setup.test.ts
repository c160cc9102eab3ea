import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PORTAL_CONFIGURATION_MANAGER } from '#shared/stripe/portal-configuration';
import { handler } from '../../functions/commands/stripe-portal-setup';
import { StripeDouble } from '../support/stripe-double';

const root = fileURLToPath(new URL('../..', import.meta.url));
let double: StripeDouble;
let product: string;

beforeAll(async () => {
  double = await StripeDouble.start();
  double.price({ id: 'price_prime_monthly_usd', unitAmount: 1499, interval: 'month' });
  double.price({ id: 'price_prime_annual_usd', unitAmount: 13900, interval: 'year' });
  product = double.objects.get('price_prime_monthly_usd')!.product as string;
  process.env.STRIPE_SECRET_KEY = double.apiKey;
  process.env.STRIPE_API_BASE = double.url;
});
afterAll(async () => {
  delete process.env.STRIPE_SECRET_KEY;
  delete process.env.STRIPE_API_BASE;
  delete process.env.STRIPE_PORTAL_CONFIGURATION_ID;
  await double.close();
});

const configurationWrites = () => double.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/v1/billing_portal/configurations'));

describe('npm run job -- stripe-portal-setup', () => {
  it('creates the portal configuration from the catalog: plan switch over both prices, payment method, invoices, cancel at period end', async () => {
    const result = await handler();
    expect(result).toMatchObject({
      action: 'created',
      products: [{ product, prices: ['price_prime_monthly_usd', 'price_prime_annual_usd'] }],
    });
    expect(result.next).toContain(`set portalConfigurationId to ${result.configurationId}`);
    const [create] = configurationWrites();
    expect(create!.idempotencyKey).toMatch(/^stripe-portal-setup:[0-9a-f-]{36}:create$/);
    expect(double.objects.get(result.configurationId)).toMatchObject({
      active: true,
      metadata: { managedBy: PORTAL_CONFIGURATION_MANAGER },
      features: {
        subscription_update: {
          enabled: true,
          default_allowed_updates: ['price'],
          products: [{ product, prices: ['price_prime_monthly_usd', 'price_prime_annual_usd'] }],
          proration_behavior: 'create_prorations',
          schedule_at_period_end: { conditions: [{ type: 'decreasing_item_amount' }, { type: 'shortening_interval' }] },
          trial_update_behavior: 'continue_trial',
        },
        subscription_cancel: { enabled: true, mode: 'at_period_end' },
        payment_method_update: { enabled: true },
        invoice_history: { enabled: true },
        customer_update: { enabled: false },
      },
    });
  });

  it('is idempotent: a second run finds its configuration and writes nothing; a drifted one is updated in place', async () => {
    const writes = configurationWrites().length;
    const again = await handler();
    expect(again.action).toBe('unchanged');
    expect(configurationWrites()).toHaveLength(writes);

    // Someone turned plan switching off in the Dashboard.
    const stored = double.objects.get(again.configurationId)!;
    stored.features.subscription_update = { ...stored.features.subscription_update, enabled: false, products: [] };
    const fixed = await handler();
    expect(fixed).toMatchObject({ action: 'updated', configurationId: again.configurationId });
    expect(double.objects.get(again.configurationId)!.features.subscription_update).toMatchObject({
      enabled: true,
      products: [{ product }],
    });
    expect(double.all('billing_portal.configuration')).toHaveLength(1);
  });

  it('uses the configuration the settings name, and says so', async () => {
    const [configuration] = double.all('billing_portal.configuration');
    process.env.STRIPE_PORTAL_CONFIGURATION_ID = configuration!.id;
    try {
      expect(await handler()).toMatchObject({
        action: 'unchanged',
        configurationId: configuration!.id,
        next: 'portal sessions already use this configuration',
      });
      expect(double.callsTo('GET', `/v1/billing_portal/configurations/${configuration!.id}`).length).toBeGreaterThan(0);
    } finally {
      delete process.env.STRIPE_PORTAL_CONFIGURATION_ID;
    }
  });

  it('is registered as a local operator command: runs through local/job.ts without DynamoDB', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/job.ts', 'stripe-portal-setup'], {
      cwd: root,
      env: { ...process.env, STRIPE_SECRET_KEY: double.apiKey, STRIPE_API_BASE: double.url, DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    child.stderr.on('data', (chunk) => (out += String(chunk)));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, out).toBe(0);
    expect(JSON.parse(out.slice(out.indexOf('{')))).toMatchObject({ job: 'stripe-portal-setup', result: { action: 'unchanged' } });
  });

  it('refuses to run without a Stripe key', async () => {
    const key = process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_SECRET_KEY;
    try {
      await expect(handler()).rejects.toThrow(/STRIPE_SECRET_KEY/);
    } finally {
      process.env.STRIPE_SECRET_KEY = key;
    }
  });
});
