import type { JobEvent } from '../manifest';
import { logger } from '../../shared/observability';
import { planCatalog } from '../../shared/runtime/catalog';
import { membershipRepository } from '../../shared/runtime/dynamo';
import { portalUrl, recallCoupon, reminderStore } from '../../shared/runtime/reminders';
import { notificationSenderFromEnv } from '../../shared/notifications/senders';
import { sendDueReminders } from '../../shared/usecases/send-reminders';

const catalog = planCatalog();
const memberships = membershipRepository();
const store = reminderStore();

/** EventBridge Scheduler every 15 minutes; `npm run job -- reminders [--as-of ISO]` locally. */
export async function handler(event: JobEvent = {}) {
  const asOf = event.asOf ? new Date(event.asOf) : new Date();
  if (Number.isNaN(asOf.getTime())) throw new Error(`asOf must be an ISO time, got "${event.asOf}"`);
  const sender = await notificationSenderFromEnv(store);
  const result = await sendDueReminders({ catalog, memberships, store, sender, portalUrl: portalUrl(), recallCoupon: recallCoupon() }, asOf);
  logger.info('reminders job done', { ...result });
  // Failures stay queued and are retried after their lease; the run itself fails so it alarms.
  if (result.failed > 0) throw new Error(`${result.failed} reminder(s) failed; they are retried after their lease`);
  return result;
}
