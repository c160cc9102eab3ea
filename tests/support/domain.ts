import { readFileSync } from 'node:fs';
import { parseCatalog } from '#shared/domain/catalog';
import { fixedRules, parseRulesTable } from '#shared/domain/compliance-rules';
import type { SubscriptionState } from '#shared/domain/membership';

/** The project's own plan catalog, as unit tests of the pure domain use it. */
export const projectCatalog = () =>
  parseCatalog(JSON.parse(readFileSync(new URL('../../config/plan-catalog.json', import.meta.url), 'utf8')));

/** An active monthly subscription of the catalog's `prime-monthly` plan for the given period. */
export function monthlySubscription(
  periodStartIso: string,
  periodEndIso: string,
  overrides: Partial<SubscriptionState> = {},
): SubscriptionState {
  return {
    subscriptionId: 'sub_1',
    customerId: 'cus_1',
    stripeStatus: 'active',
    priceId: 'price_prime_monthly_usd',
    planId: 'prime-monthly',
    amountCents: 1499,
    currency: 'usd',
    interval: 'month',
    currentPeriodStart: periodStartIso,
    currentPeriodEnd: periodEndIso,
    trialStart: null,
    trialEnd: null,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    canceledAt: null,
    endedAt: null,
    ...overrides,
  };
}

/** The project's own jurisdiction rules table (config/jurisdictions.json). */
export const projectRules = () =>
  parseRulesTable(JSON.parse(readFileSync(new URL('../../config/jurisdictions.json', import.meta.url), 'utf8')));

/** California's rules for every record, whatever its jurisdiction: the reminders tests' default. */
export const californiaRules = () => fixedRules(projectRules().entry('US-CA')!);
