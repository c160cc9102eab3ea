import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CatalogError, parseCatalog } from '#shared/domain/catalog';
import { planCatalog } from '#shared/runtime/catalog';

const raw = () => JSON.parse(readFileSync(new URL('../../config/plan-catalog.json', import.meta.url), 'utf8'));

describe('plan catalog', () => {
  it('accepts the project catalog and maps Stripe prices to plans', () => {
    const catalog = parseCatalog(raw());
    expect(catalog.planForPrice('price_prime_monthly_usd')?.id).toBe('prime-monthly');
    expect(catalog.planForPrice('price_unknown')).toBeUndefined();
    expect(catalog.plan('prime-annual')?.benefits.memberDiscountBps).toBe(500);
  });

  it('names the bad field in its error', () => {
    const bad = raw();
    bad.plans[0].graceDays = -1;
    bad.plans[1].benefits.grants[0].currency = 'USD';
    expect(() => parseCatalog(bad)).toThrow(CatalogError);
    expect(() => parseCatalog(bad)).toThrow(/plans\/0\/graceDays/);
    expect(() => parseCatalog(bad)).toThrow(/plans\/1\/benefits\/grants\/0\/currency/);
  });

  it('rejects unknown fields, duplicate plans and a price mapped twice', () => {
    const unknown = raw();
    unknown.plans[0].benefits.freeShiping = {};
    expect(() => parseCatalog(unknown)).toThrow(/Unrecognized key/);
    const dup = raw();
    dup.plans[1].stripePriceIds = ['price_prime_monthly_usd'];
    expect(() => parseCatalog(dup)).toThrow(/already mapped to plan "prime-monthly"/);
  });

  it('fails start-up on a bad PLAN_CATALOG_FILE, naming the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    const file = join(dir, 'plans.json');
    const bad = raw();
    delete bad.plans[0].trialDays;
    writeFileSync(file, JSON.stringify(bad));
    try {
      expect(() => planCatalog({ PLAN_CATALOG_FILE: file })).toThrow(new RegExp(`${file}.*plans/0/trialDays`));
      expect(() => planCatalog({ PLAN_CATALOG_FILE: join(dir, 'missing.json') })).toThrow(/cannot read plan catalog/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
