/**
 * `npm run job -- rollups-rebuild --month YYYY-MM [--repair true]` (EventBridge Scheduler on the 3rd
 * at 07:00 UTC for the previous month, after the reconciliation, without repair): recomputes the
 * month's rollup from the finance accounts' facts and the month's ledger entries, and reports every
 * difference with what is stored, the accounts that drifted, entries whose rollup items are missing
 * and the refunds no invoice was found for. With `--repair true` it restores and re-projects them,
 * through the same exactly-once path as the webhook, and compares again. Rebuild months oldest first.
 */
import { addMonths, MONTH_PATTERN, monthOf } from '#shared/domain/finance/months';
import { type JobEvent, jobHandler } from '#shared/jobs/handler';
import { MetricNames, MetricUnit, metrics } from '#shared/metrics';
import { planCatalog } from '#shared/runtime/catalog';
import { ledgerRepository } from '#shared/runtime/dynamo';
import { rollupProjector, rollupStore } from '#shared/runtime/finance';
import { progressBar } from '#shared/runtime/progress';
import { rebuildMonth } from '#shared/usecases/finance-rollups';

export const handler = jobHandler('rollups-rebuild', async (event: JobEvent) => {
  const now = event.asOf ? new Date(event.asOf) : new Date();
  const month = event.month ?? addMonths(monthOf(now), -1);
  if (!MONTH_PATTERN.test(month)) throw new Error(`--month must be YYYY-MM, got "${month}"`);
  if (event.repair !== undefined && !['true', 'false'].includes(event.repair)) throw new Error('--repair must be true or false');
  const catalog = planCatalog();
  const ledger = ledgerRepository();
  const progress = progressBar(`rollups ${month}: accounts`);
  const report = await rebuildMonth(
    {
      store: rollupStore(),
      projector: rollupProjector(),
      settings: { graceDays: (planId) => catalog.plan(planId)?.graceDays ?? 0 },
      entries: (m) => ledger.entries(m),
      onProgress: () => progress.tick(),
    },
    month,
    { repair: event.repair === 'true' },
  );
  progress.done();
  metrics.addMetric(MetricNames.rollupsDrift, MetricUnit.Count, report.drifted + report.differences.length + report.missingFacts);
  metrics.addMetric(
    MetricNames.unattributedRefunds,
    MetricUnit.Count,
    report.unattributed.reduce((a, u) => a + u.entries, 0),
  );
  metrics.publishStoredMetrics();
  return report;
});
