/** Custom metric names (namespace `Membership`); infra/ alarms on the failure counters. */
export const MetricNames = {
  stripeEventProcessed: 'StripeEventProcessed',
  stripePayloadRejected: 'StripePayloadRejected',
  stripeEventUnattributed: 'StripeEventUnattributed',
  stripeSignatureRejected: 'StripeSignatureRejected',
} as const;
