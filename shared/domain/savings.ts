/**
 * Per-member savings and fees, kept as atomic counters on one item (`SK = SAVINGS`), never recomputed
 * by scans. `periodKey` names the billing period the `period*` counters belong to.
 */
export interface SavingsTotals {
  memberId: string;
  periodKey: string | null;
  periodSavedCents: number;
  lifetimeSavedCents: number;
  feesPaidCents: number;
  currency: string;
}

/** A billing period of one subscription: the subscription id and the period's start. */
export const periodKey = (subscriptionId: string, periodStartIso: string) => `${subscriptionId}@${periodStartIso}`;
