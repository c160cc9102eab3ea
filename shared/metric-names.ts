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
  /** Compliance job: work (a no-login cancellation, a withdrawal, a price move) given up after its last attempt. */
  complianceWorkGaveUp: 'ComplianceWorkGaveUp',
} as const;
