/**
 * Growth and member metrics of a range of months, read from the month rollups (the sum of every
 * finance account's contributions, account.ts), for one currency. Pure: rows in, figures out; the
 * cost does not depend on the number of members. Each figure's formula, and where it comes from, is
 * in docs/finance.md ("Metrics"). Rates are fractions in [0, 1], null when there is nothing to
 * divide by (no members at the start, no trial ended, ...).
 */
import { COHORT_MONTHS, type Figures, UNATTRIBUTED } from './account';
import { addMonths, monthsBetween } from './months';
import { lapsesOf, type MonthStatus, monthStatus, type RollupRow } from './revenue';

export interface MonthMetrics {
  month: string;
  status: MonthStatus;
  /** MRR movements: churned as a positive amount; net = new + expansion + reactivation − contraction − churned = end − start. */
  mrr: {
    start: number;
    new: number;
    expansion: number;
    contraction: number;
    churned: number;
    reactivation: number;
    net: number;
    end: number;
  };
  members: { start: number; end: number; new: number; reactivated: number; churned: number };
  churned: { voluntary: number; involuntary: number };
  churnRate: { voluntary: number | null; involuntary: number | null };
  trials: { ended: number; converted: number };
  trialConversionRate: number | null;
  arpuCents: number | null;
  /** ARPU ÷ the average monthly churn rate of the (up to) twelve closed months ending with this one. */
  ltvCents: number | null;
  renewals: { due: number; renewed: number };
  renewalRate: number | null;
  paymentRecovery: { failed: number; recovered: number; rate: number | null };
  memberValue: { savingsCents: number; feesCents: number; members: number; atLeastFee: number; shareSavingsAtLeastFee: number | null };
  benefitCostCents: number;
  recognizedCents: number;
  byPlan: Array<{
    planId: string;
    members: number;
    mrrCents: number;
    recognizedCents: number;
    benefitCostCents: number;
    marginCents: number;
  }>;
}

export interface CohortRetention {
  cohort: string;
  size: number;
  /** Share still paying at the end of each following month, 1 to 12, as far as those months are over. */
  retention: number[];
}

export interface FinanceMetrics {
  currency: string;
  from: string;
  to: string;
  asOf: string;
  months: MonthMetrics[];
  cohorts: CohortRetention[];
}

/** How far back the LTV's average churn looks (months), and so how many months before `from` metrics read. */
export const LTV_WINDOW = 12;

const ratio = (a: number, b: number): number | null => (b === 0 ? null : Math.round((a / b) * 1e6) / 1e6);

interface Totals {
  status: MonthStatus;
  rows: RollupRow[];
  figures: Figures;
  churned: number;
  membersStart: number;
}

function totals(month: string, rows: readonly RollupRow[], currency: string, asOf: Date): Totals {
  const status = monthStatus(month, asOf);
  const mine = rows.filter((r) => r.currency === currency && r.plan !== UNATTRIBUTED);
  const figures: Figures = {};
  for (const r of mine) for (const [k, v] of Object.entries(r.figures)) figures[k] = (figures[k] ?? 0) + v;
  return { status, rows: mine, figures, churned: lapsesOf(figures, status, asOf).members, membersStart: figures.membersStart ?? 0 };
}

export function metricsFromRollups(input: {
  currency: string;
  from: string;
  to: string;
  asOf: Date;
  /** Rows of every month from `from` − LTV_WINDOW + 1 to `to` (missing months read as empty). */
  rowsOf: (month: string) => readonly RollupRow[];
}): FinanceMetrics {
  const { currency, asOf } = input;
  const all = new Map(
    monthsBetween(addMonths(input.from, -(LTV_WINDOW - 1)), input.to).map((m) => [m, totals(m, input.rowsOf(m), currency, asOf)]),
  );
  const months = monthsBetween(input.from, input.to).map((month): MonthMetrics => {
    const t = all.get(month)!;
    const x = (field: string) => t.figures[field] ?? 0;
    const lapses = lapsesOf(t.figures, t.status, asOf);
    const mrrStart = x('mrrStartCents');
    const mrrEnd = x('mrrEndCents') + lapses.pendingMrrCents;
    const membersEnd = x('membersEnd') + lapses.pendingMembers;
    const movements = {
      new: x('newMrrCents'),
      expansion: x('expansionMrrCents'),
      contraction: x('contractionMrrCents'),
      churned: lapses.mrrCents,
      reactivation: x('reactivatedMrrCents'),
    };
    const arpu = membersEnd === 0 ? null : Math.round(mrrEnd / membersEnd);
    // Pooled over the window: lapses over member-months at risk, closed months only.
    const window = monthsBetween(addMonths(month, -(LTV_WINDOW - 1)), month)
      .map((m) => all.get(m)!)
      .filter((w) => w.status === 'closed');
    const pooledChurned = window.reduce((a, w) => a + w.churned, 0);
    const pooledAtRisk = window.reduce((a, w) => a + w.membersStart, 0);
    return {
      month,
      status: t.status,
      mrr: {
        start: mrrStart,
        ...movements,
        net: movements.new + movements.expansion + movements.reactivation - movements.contraction - movements.churned,
        end: mrrEnd,
      },
      members: {
        start: x('membersStart'),
        end: membersEnd,
        new: x('newMembers'),
        reactivated: x('reactivatedMembers'),
        churned: lapses.members,
      },
      churned: { voluntary: lapses.voluntary, involuntary: lapses.involuntary },
      churnRate: { voluntary: ratio(lapses.voluntary, x('membersStart')), involuntary: ratio(lapses.involuntary, x('membersStart')) },
      trials: { ended: x('trialsEnded'), converted: x('trialsConverted') },
      trialConversionRate: ratio(x('trialsConverted'), x('trialsEnded')),
      arpuCents: arpu,
      // ARPU ÷ churn rate from the unrounded figures, rounded once: at a million members the 6-decimal
      // rate and the rounded ARPU each moved the LTV by cents to dollars.
      ltvCents: membersEnd === 0 || pooledChurned === 0 ? null : Math.round((mrrEnd / membersEnd) * (pooledAtRisk / pooledChurned)),
      renewals: { due: x('renewalsDue'), renewed: x('renewalsRenewed') },
      renewalRate: ratio(x('renewalsRenewed'), x('renewalsDue')),
      paymentRecovery: {
        failed: x('failedRenewals'),
        recovered: x('recoveredRenewals'),
        rate: ratio(x('recoveredRenewals'), x('failedRenewals')),
      },
      memberValue: {
        savingsCents: x('valueSavingsCents'),
        feesCents: x('valueFeesCents'),
        members: x('membersEnd'),
        atLeastFee: x('valueAtLeastFee'),
        shareSavingsAtLeastFee: ratio(x('valueAtLeastFee'), x('membersEnd')),
      },
      benefitCostCents: x('benefitCostCents'),
      recognizedCents: x('recognizedCents'),
      byPlan: t.rows
        .map((r) => {
          const l = lapsesOf(r.figures, t.status, asOf);
          const recognized = r.figures.recognizedCents ?? 0;
          const cost = r.figures.benefitCostCents ?? 0;
          return {
            planId: r.plan,
            members: (r.figures.membersEnd ?? 0) + l.pendingMembers,
            mrrCents: (r.figures.mrrEndCents ?? 0) + l.pendingMrrCents,
            recognizedCents: recognized,
            benefitCostCents: cost,
            marginCents: recognized - cost,
          };
        })
        .filter((p) => p.members !== 0 || p.mrrCents !== 0 || p.recognizedCents !== 0 || p.benefitCostCents !== 0)
        .sort((a, b) => a.planId.localeCompare(b.planId)),
    };
  });
  const cohorts = monthsBetween(input.from, input.to)
    .map((cohort): CohortRetention => {
      const f = all.get(cohort)!.figures;
      const size = f.cohortSize ?? 0;
      const retention: number[] = [];
      for (let k = 1; k <= COHORT_MONTHS && monthStatus(addMonths(cohort, k), asOf) === 'closed'; k++)
        retention.push(ratio(f[`retained_${k}`] ?? 0, size) ?? 0);
      return { cohort, size, retention };
    })
    .filter((c) => c.size > 0);
  return { currency, from: input.from, to: input.to, asOf: asOf.toISOString(), months, cohorts };
}
