/**
 * Revenue and metrics as RFC 4180 CSV (header row, CRLF, integer cents; rates as decimal fractions),
 * for spreadsheets. Cells go through the ledger CSV's `csvCell`, so text is quoted and defused alike.
 */
import { COHORT_MONTHS } from './account';
import { csvCell } from './ledger-csv';
import type { FinanceMetrics } from './metrics';
import type { MonthRevenue } from './revenue';

type Cell = string | number | null;
const line = (cells: ReadonlyArray<readonly [Cell, boolean]>) => `${cells.map(([v, numeric]) => csvCell(v, numeric)).join(',')}\r\n`;
const text = (v: Cell): [Cell, boolean] => [v, false];
const num = (v: Cell): [Cell, boolean] => [v, true];

export const REVENUE_CSV_COLUMNS = [
  'month',
  'status',
  'currency',
  'plan',
  'invoices',
  'billed_cents',
  'collected_cents',
  'tax_cents',
  'refunds',
  'refunded_cents',
  'refunded_net_of_tax_cents',
  'credited_cents',
  'disputed_cents',
  'net_cents',
  'recognized_cents',
  'deferred_cents',
  'mrr_cents',
  'active_members',
  'new_members',
  'churned_members',
] as const;

/** One row per currency and plan, an `unattributed` row where refunds or disputes found no invoice, and a `total` row per currency. */
export function revenueCsv(revenue: MonthRevenue): string {
  let out = `${REVENUE_CSV_COLUMNS.join(',')}\r\n`;
  for (const c of revenue.currencies) {
    const head = [text(revenue.month), text(revenue.status), text(c.currency)];
    for (const p of c.byPlan) {
      out += line([
        ...head,
        text(p.planId),
        ...[
          p.invoices,
          p.billedCents,
          p.collectedCents,
          p.taxCents,
          p.refunds,
          p.refundedCents,
          p.refundedNetOfTaxCents,
          p.creditedCents,
        ].map(num),
        ...[p.disputedCents, p.netCents, p.recognizedCents, p.deferredCents, p.mrrCents, p.activeMembers, null, null].map(num),
      ]);
    }
    const u = c.unattributed;
    if (u.refunds !== 0 || u.refundedCents !== 0 || u.disputedCents !== 0) {
      const net = -u.refundedCents - u.disputedCents;
      out += line([
        ...head,
        text('unattributed'),
        ...[null, null, null, null, u.refunds, u.refundedCents, null, null, u.disputedCents, net].map(num),
        ...[null, null, null, null, null, null].map(num),
      ]);
    }
    out += line([
      ...head,
      text('total'),
      ...[
        c.invoices,
        c.billedCents,
        c.collectedCents,
        c.taxCents,
        c.refunds,
        c.refundedCents,
        c.refundedNetOfTaxCents,
        c.creditedCents,
      ].map(num),
      ...[
        c.disputedCents,
        c.netCents,
        c.recognizedCents,
        c.deferredCents,
        c.mrrCents,
        c.members.active,
        c.members.new,
        c.members.churned,
      ].map(num),
    ]);
  }
  return out;
}

const retentionColumns = Array.from({ length: COHORT_MONTHS }, (_, i) => `retention_${i + 1}`);

export const METRICS_CSV_COLUMNS = [
  'month',
  'status',
  'currency',
  'members_start',
  'members_end',
  'members_new',
  'members_reactivated',
  'members_churned',
  'churned_voluntary',
  'churned_involuntary',
  'churn_rate_voluntary',
  'churn_rate_involuntary',
  'mrr_start_cents',
  'mrr_new_cents',
  'mrr_expansion_cents',
  'mrr_contraction_cents',
  'mrr_churned_cents',
  'mrr_reactivation_cents',
  'mrr_net_cents',
  'mrr_end_cents',
  'arpu_cents',
  'ltv_cents',
  'trials_ended',
  'trials_converted',
  'trial_conversion_rate',
  'renewals_due',
  'renewals_renewed',
  'renewal_rate',
  'failed_renewals',
  'recovered_renewals',
  'recovery_rate',
  'savings_cents',
  'fees_cents',
  'members_saving_at_least_fee',
  'share_savings_at_least_fee',
  'benefit_cost_cents',
  'recognized_cents',
  'cohort_size',
  ...retentionColumns,
] as const;

/** One row per month; the cohort columns are those of the cohort that started paying that month. */
export function metricsCsv(metrics: FinanceMetrics): string {
  let out = `${METRICS_CSV_COLUMNS.join(',')}\r\n`;
  const cohorts = new Map(metrics.cohorts.map((c) => [c.cohort, c]));
  for (const m of metrics.months) {
    const cohort = cohorts.get(m.month);
    out += line([
      text(m.month),
      text(m.status),
      text(metrics.currency),
      ...[
        m.members.start,
        m.members.end,
        m.members.new,
        m.members.reactivated,
        m.members.churned,
        m.churned.voluntary,
        m.churned.involuntary,
      ].map(num),
      ...[m.churnRate.voluntary, m.churnRate.involuntary].map(num),
      ...[m.mrr.start, m.mrr.new, m.mrr.expansion, m.mrr.contraction, m.mrr.churned, m.mrr.reactivation, m.mrr.net, m.mrr.end].map(num),
      ...[m.arpuCents, m.ltvCents, m.trials.ended, m.trials.converted, m.trialConversionRate].map(num),
      ...[
        m.renewals.due,
        m.renewals.renewed,
        m.renewalRate,
        m.paymentRecovery.failed,
        m.paymentRecovery.recovered,
        m.paymentRecovery.rate,
      ].map(num),
      ...[m.memberValue.savingsCents, m.memberValue.feesCents, m.memberValue.atLeastFee, m.memberValue.shareSavingsAtLeastFee].map(num),
      ...[m.benefitCostCents, m.recognizedCents, cohort?.size ?? null].map(num),
      ...retentionColumns.map((_, i) => num(cohort?.retention[i] ?? null)),
    ]);
  }
  return out;
}
