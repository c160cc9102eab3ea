/**
 * Automatic-renewal law that the plan catalog itself must satisfy, checked when the catalog loads (at
 * start and at synth). Pure, and free of catalog imports so the catalog schema can call it.
 */

/** The shape of a plan these rules read (a catalog `Plan` is one). */
export interface AutoRenewalTerms {
  interval?: 'month' | 'year' | undefined;
  trialDays: number;
  reminders: { renewalDaysBefore: readonly number[]; trialEndingDaysBefore: number };
}

/** California's window for the renewal notice of an annual plan, in days before renewal. */
export const ANNUAL_RENEWAL_NOTICE_WINDOW = { min: 15, max: 45 } as const;

/**
 * California's automatic-renewal law (Bus. & Prof. Code §17602, as amended from July 2025):
 * an annual (or longer) plan must send a renewal notice 15–45 days before it renews, and a free trial
 * of 31 days or more must be followed by a notice 3–21 days before it converts to paid.
 * Returns one message per violation, with the field it concerns.
 */
export function autoRenewalViolations(plan: AutoRenewalTerms): Array<{ path: string[]; message: string }> {
  const out: Array<{ path: string[]; message: string }> = [];
  const { min, max } = ANNUAL_RENEWAL_NOTICE_WINDOW;
  if (plan.interval === 'year' && !plan.reminders.renewalDaysBefore.some((d) => d >= min && d <= max)) {
    out.push({
      path: ['reminders', 'renewalDaysBefore'],
      message: 'an annual plan needs a renewal notice between 15 and 45 days before renewal (California automatic-renewal law)',
    });
  }
  const trialDays = plan.reminders.trialEndingDaysBefore;
  if (plan.trialDays >= 31 && (trialDays < 3 || trialDays > 21)) {
    out.push({
      path: ['reminders', 'trialEndingDaysBefore'],
      message: 'a trial of 31 days or more needs its ending notice between 3 and 21 days before it ends (California automatic-renewal law)',
    });
  }
  return out;
}
