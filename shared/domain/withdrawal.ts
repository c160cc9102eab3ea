/**
 * The right of withdrawal (EU, UK: 14 days; docs/compliance.md): when the period ends, and what a
 * member who withdraws gets back. Pure.
 *
 * The period runs from the day the contract (the subscription) was concluded, for the jurisdiction's
 * number of days, to the end of the last day in UTC (a day's end in UTC is never earlier than in
 * Europe, so the member gets the longer reading). Renewals are no new contract; a new subscription is.
 */
import type { JurisdictionRules } from './compliance-rules';
import type { SubscriptionState } from './membership';

const DAY_MS = 86_400_000;

/** When the contract was concluded: Stripe's `start_date`, else the trial or period start. */
export const contractStart = (sub: Pick<SubscriptionState, 'startDate' | 'trialStart' | 'currentPeriodStart'>) =>
  sub.startDate ?? sub.trialStart ?? sub.currentPeriodStart;

export function withdrawalEndsAt(
  sub: Pick<SubscriptionState, 'startDate' | 'trialStart' | 'currentPeriodStart'>,
  rules: Pick<JurisdictionRules, 'withdrawal'>,
): string | null {
  const start = contractStart(sub);
  if (!rules.withdrawal || !start) return null;
  const d = new Date(start);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + rules.withdrawal.days + 1) - 1).toISOString();
}

export interface WithdrawalRefund {
  paidCents: number;
  /** What the member pays for the days served (CRD Art. 14(3)): kept. */
  chargedCents: number;
  refundCents: number;
  daysServed: number;
  daysInPeriod: number;
}

/**
 * The fee less a proportionate amount for the days served, in minor units: `daysServed / daysInPeriod`
 * of what was paid for the period. A day begun counts as served (the benefits were there that day);
 * the charge is rounded down to the minor unit, so any rounding favours the member. Minor units are
 * whole numbers in every currency (a yen, a cent, a fils), so no currency needs its own rule.
 */
export function proportionalRefund(input: { paidCents: number; periodStart: string; periodEnd: string; at: string }): WithdrawalRefund {
  const start = Date.parse(input.periodStart);
  const daysInPeriod = Math.max(1, Math.round((Date.parse(input.periodEnd) - start) / DAY_MS));
  const daysServed = Math.min(daysInPeriod, Math.max(0, Math.ceil((Date.parse(input.at) - start) / DAY_MS)));
  const paid = Math.max(0, input.paidCents);
  const chargedCents = Math.floor((paid * daysServed) / daysInPeriod);
  return { paidCents: paid, chargedCents, refundCents: paid - chargedCents, daysServed, daysInPeriod };
}

/**
 * A refund split over the payments of an invoice, first payment first, never above what each paid.
 * Pure arithmetic, so a retried withdrawal asks Stripe for exactly the same refunds.
 */
export function splitRefund(refundCents: number, payments: ReadonlyArray<{ ref: string; amountCents: number }>) {
  let left = refundCents;
  return payments.flatMap((p) => {
    const amount = Math.min(left, p.amountCents);
    left -= amount;
    return amount > 0 ? [{ ref: p.ref, amountCents: amount }] : [];
  });
}
