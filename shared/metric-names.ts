/** Custom metric names (namespace `Membership`); infra/ alarms on the failure counters. */
export const MetricNames = {
  stripeEventProcessed: 'StripeEventProcessed',
  stripePayloadRejected: 'StripePayloadRejected',
  stripeEventUnattributed: 'StripeEventUnattributed',
  stripeSignatureRejected: 'StripeSignatureRejected',
  /** Events that name a member they may not bind to (domain/binding.ts): answered 200, listed for review. */
  stripeEventRefused: 'StripeEventRefused',
  /** Signed events of another account (Connect) or mode: answered 200, not applied. */
  stripeEventForeign: 'StripeEventForeign',
  /** stripe-sync job: events applied by the replay that no webhook had applied; newest event's age when listed. */
  stripeSyncEventsReplayed: 'StripeSyncEventsReplayed',
  stripeSyncNewestEventAge: 'StripeSyncNewestEventAge',
  /** Drift: repaired by the sweep, and findings left for review (sweep, replay or webhook; alarmed). */
  stripeDriftRepaired: 'StripeDriftRepaired',
  stripeDriftNeedsReview: 'StripeDriftNeedsReview',
  /** Reminders job, per run: sent, failed and retried later, dropped after too many attempts, refused by SES. */
  remindersSent: 'RemindersSent',
  remindersFailed: 'RemindersFailed',
  remindersGaveUp: 'RemindersGaveUp',
  remindersUndeliverable: 'RemindersUndeliverable',
  /** Compliance job: work (a no-login cancellation, a withdrawal, a price move) given up after its last attempt. */
  complianceWorkGaveUp: 'ComplianceWorkGaveUp',
  /** Rollups: projections the settle job did, and what it left; a rebuild's drift, and money no invoice could be found for. */
  rollupsSettled: 'RollupsSettled',
  rollupsOwed: 'RollupsOwed',
  rollupsDrift: 'RollupsDrift',
  unattributedRefunds: 'UnattributedRefunds',
  /** Every scheduled job (shared/jobs/handler.ts), dimension `job`: a run that completed, and the heartbeat check's figure. */
  jobSucceeded: 'JobSucceeded',
  jobMinutesSinceSuccess: 'JobMinutesSinceSuccess',
} as const;
