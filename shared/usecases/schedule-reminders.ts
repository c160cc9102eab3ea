import type { PlanCatalog } from '../domain/catalog';
import type { RulesResolver } from '../domain/compliance-rules';
import {
  ANNUAL_RENEWAL_NOTICE_FALLBACK_DAYS,
  annualRenewalNoticeMissing,
  newReminders,
  type PlannedReminder,
  trialEndingNow,
} from '../domain/reminders';
import { memberRef } from '../member-ref';
import { logger } from '../observability';
import type { ExtraWrite } from '../storage/membership-repository';
import { reminderPut } from '../storage/reminder-store';
import type { MembershipReaction } from './ingest-stripe-event';

/**
 * The reminder writes of one membership change: every reminder its new record plans that the old
 * one did not (same id and due time), and on `trial_will_end` the trial notice due now. The trial
 * notice keeps one id per trial end, so Stripe's signal and the schedule can never both send it.
 */
export function reminderWrites(
  change: Parameters<MembershipReaction>[0],
  catalog: PlanCatalog,
  tableName: string,
  rules: RulesResolver,
): ExtraWrite[] {
  const byId = new Map<string, PlannedReminder>();
  for (const r of newReminders(change.before, change.after, catalog, rules)) byId.set(r.id, r);
  if (change.event.kind === 'subscription-changed' && change.event.trialWillEnd) {
    const now = trialEndingNow(change.after, catalog, change.now, rules);
    if (now) byId.set(now.id, now);
  }
  const sub = change.after.subscription;
  const plan = catalog.plan(sub?.planId);
  if (sub && plan && annualRenewalNoticeMissing(plan, sub) && [...byId.values()].some((r) => r.kind === 'renewal_upcoming')) {
    // Planning covers the gap (a notice 30 days ahead); the catalog should still be fixed. Planning is
    // synchronous (it runs inside the ingestion's transaction build), so the line follows the key.
    void memberRef(change.after.memberId).then((ref) =>
      logger.warn('annual subscription on a plan with no renewal notice 15-45 days ahead; planned one', {
        planId: plan.id,
        fallbackDaysBefore: ANNUAL_RENEWAL_NOTICE_FALLBACK_DAYS,
        memberRef: ref,
      }),
    );
  }
  return [...byId.values()].map((r) => reminderPut(tableName, r, change.now));
}

/** Registered in reactions.ts; `rules` is the jurisdiction rules table (notice windows per member). */
export const scheduleReminders =
  (tableName: string, rules: RulesResolver): MembershipReaction =>
  (change) =>
    reminderWrites(change, change.catalog, tableName, rules);
