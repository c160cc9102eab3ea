/** Custom metric names (namespace `Membership`); infra/ alarms on the failure counters. */
export const MetricNames = {
  stripeEventProcessed: 'StripeEventProcessed',
  stripePayloadRejected: 'StripePayloadRejected',
  stripeEventUnattributed: 'StripeEventUnattributed',
  stripeSignatureRejected: 'StripeSignatureRejected',
  /** Reminders job, per run: sent, failed and retried later, dropped after too many attempts, refused by SES. */
  remindersSent: 'RemindersSent',
  remindersFailed: 'RemindersFailed',
  remindersGaveUp: 'RemindersGaveUp',
  remindersUndeliverable: 'RemindersUndeliverable',
  /** Rollups: projections the settle job did, and what it left; a rebuild's drift, and money no invoice could be found for. */
  rollupsSettled: 'RollupsSettled',
  rollupsOwed: 'RollupsOwed',
  rollupsDrift: 'RollupsDrift',
  unattributedRefunds: 'UnattributedRefunds',
} as const;
