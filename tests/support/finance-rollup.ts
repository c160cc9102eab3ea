import { parseCatalog } from '#shared/domain/catalog';
import type { ProjectionSettings } from '#shared/domain/finance/account';
import type { LedgerEntry } from '#shared/domain/finance/ledger';
import { metricsFromRollups } from '#shared/domain/finance/metrics';
import { monthEnd } from '#shared/domain/finance/months';
import { revenueFromRollup } from '#shared/domain/finance/revenue';
import { type AccountSavings, recomputeRollup, rowsOfMonth } from '#shared/domain/finance/rollup';
import catalogJson from '../../config/plan-catalog.json' with { type: 'json' };

export const catalog = parseCatalog(catalogJson);

/** The catalog's grace per plan, as the service projects accounts with. */
export const settings: ProjectionSettings = { graceDays: (planId) => catalog.plan(planId)?.graceDays ?? 0 };

/** A month's revenue recomputed from a set of ledger entries, as of a time after it (closed) unless `asOf` says otherwise. */
export function revenueOf(
  month: string,
  entries: readonly LedgerEntry[],
  options: { asOf?: Date; currency?: string; savings?: AccountSavings[] } = {},
) {
  const rows = rowsOfMonth(recomputeRollup(entries, options.savings ?? [], settings), month);
  return revenueFromRollup(month, rows, {
    asOf: options.asOf ?? new Date(monthEnd(month).getTime() + 86_400_000),
    ...(options.currency ? { currency: options.currency } : {}),
  });
}

/** Metrics of a range recomputed from a set of ledger entries and savings, as of `asOf` (default: long after). */
export function metricsOf(
  entries: readonly LedgerEntry[],
  options: { from: string; to: string; currency?: string; asOf?: Date; savings?: AccountSavings[] },
) {
  const all = recomputeRollup(entries, options.savings ?? [], settings);
  return metricsFromRollups({
    currency: options.currency ?? 'usd',
    from: options.from,
    to: options.to,
    asOf: options.asOf ?? new Date('2100-01-01T00:00:00Z'),
    rowsOf: (month) => rowsOfMonth(all, month),
  });
}
