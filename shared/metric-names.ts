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
  /** Every scheduled job (shared/jobs/handler.ts), dimension `job`: a run that completed, and the heartbeat check's figure. */
  jobSucceeded: 'JobSucceeded',
  jobMinutesSinceSuccess: 'JobMinutesSinceSuccess',
} as const;
