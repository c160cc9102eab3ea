import type { Context } from 'aws-lambda';
import { type JobEvent, jobHandler } from '#shared/jobs/handler';
import { MetricNames, MetricUnit, metrics } from '#shared/metrics';
import { notificationSenderFromEnv } from '#shared/notifications/senders';
import { logger } from '#shared/observability';
import { planCatalog } from '#shared/runtime/catalog';
import { workQueue } from '#shared/runtime/compliance';
import { giftStore, householdStore, membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import {
  maxAttempts,
  maxSendRate,
  portalUrl,
  preferencesUrl,
  recallCoupon,
  reminderStore,
  stopClaimingMs,
} from '#shared/runtime/reminders';
import { type ReminderJobResult, sendDueReminders } from '#shared/usecases/send-reminders';

const catalog = planCatalog();
const memberships = membershipRepository();
const households = householdStore();
const gifts = giftStore();
const store = reminderStore();
const rules = jurisdictionRules();
const work = workQueue();
const settings = {
  portalUrl: portalUrl(),
  preferencesUrl: preferencesUrl(),
  recallCoupon: recallCoupon(),
  maxAttempts: maxAttempts(),
  stopClaimingMs: stopClaimingMs(),
};
const sesRate = maxSendRate();

function publish(result: ReminderJobResult) {
  metrics.addMetric(MetricNames.remindersSent, MetricUnit.Count, result.sent);
  metrics.addMetric(MetricNames.remindersFailed, MetricUnit.Count, result.failed);
  metrics.addMetric(MetricNames.remindersGaveUp, MetricUnit.Count, result.dropped.attempts_exhausted ?? 0);
  metrics.addMetric(MetricNames.remindersUndeliverable, MetricUnit.Count, result.dropped.undeliverable ?? 0);
  metrics.publishStoredMetrics();
}

/**
 * EventBridge Scheduler every 15 minutes; `npm run job -- reminders [--as-of ISO]` locally (no
 * context there, so no deadline). In Lambda the run stops claiming while there is still time to finish
 * what it claimed; what is left stays queued for the next run.
 */
export const handler = jobHandler('reminders', async (event: JobEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const asOf = event.asOf ? new Date(event.asOf) : new Date();
  if (Number.isNaN(asOf.getTime())) throw new Error(`asOf must be an ISO time, got "${event.asOf}"`);
  const sender = await notificationSenderFromEnv(store);
  const result = await sendDueReminders(
    {
      catalog,
      rules,
      work,
      memberships,
      households,
      gifts,
      store,
      sender,
      ...settings,
      ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
      // The outbox is a table write: only SES has a send rate to respect.
      ...(sender.channel === 'email' ? { maxSendRate: sesRate } : {}),
    },
    asOf,
  );
  logger.info('reminders job done', { ...result });
  publish(result);
  // One reminder's failure is not the run's: it is retried after its lease and dropped after
  // `maxAttempts` (metrics RemindersFailed / RemindersGaveUp). The run fails, and the function's
  // error alarm fires, only when nothing could be sent at all.
  if (result.senderUnavailable)
    throw new Error(`the sender is unavailable (${result.senderUnavailable}); ${result.deferred} reminder(s) put back for the next run`);
  return result;
});
