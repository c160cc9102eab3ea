import type { PlanCatalog } from '../domain/catalog';
import type { LedgerEntry } from '../domain/finance/ledger';
import type { StripeEvent } from '../stripe/events';
import { translateMoneyEvent } from '../stripe/money-events';

export interface LedgerWriter {
  record(entry: LedgerEntry): Promise<'recorded' | 'duplicate'>;
}

/**
 * Records the ledger entries of one Stripe event. Idempotent per entry (conditional writes keyed by
 * the Stripe object), so running it again after a partial failure completes what is missing and
 * duplicates nothing. Returns how many entries the event carries and how many were new.
 */
export async function recordMoneyEvent(
  deps: { catalog: PlanCatalog; ledger: LedgerWriter },
  event: StripeEvent,
): Promise<{ entries: number; recorded: number }> {
  const entries = translateMoneyEvent(event, deps.catalog);
  let recorded = 0;
  for (const entry of entries) if ((await deps.ledger.record(entry)) === 'recorded') recorded++;
  return { entries: entries.length, recorded };
}
