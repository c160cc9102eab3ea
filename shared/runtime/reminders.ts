import { dynamo } from './dynamo';
import { ReminderStore } from '../storage/reminder-store';
import { DEFAULT_MAX_ATTEMPTS, type RecallCoupon } from '../usecases/send-reminders';
import { LOCAL_PORTAL_URL, linkSetting, positiveInt } from './reminder-settings';

export function reminderStore(): ReminderStore {
  const { doc, tables } = dynamo();
  return new ReminderStore(doc, tables.main);
}

/** The customer portal link printed in notices (how to cancel): set by infra in AWS, local server otherwise. */
export const portalUrl = (env: NodeJS.ProcessEnv = process.env) => linkSetting(env, 'PORTAL_URL', LOCAL_PORTAL_URL);

/** Claims of one reminder before it is dropped as `attempts_exhausted`: REMINDER_MAX_ATTEMPTS (default 5). */
export const maxAttempts = (env: NodeJS.ProcessEnv = process.env) => positiveInt(env.REMINDER_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, 'REMINDER_MAX_ATTEMPTS');

/** The win-back recall coupon: WIN_BACK_COUPON_CENTS (default 1000) off, valid WIN_BACK_COUPON_DAYS (default 30). */
export function recallCoupon(env: NodeJS.ProcessEnv = process.env): RecallCoupon {
  return {
    amountOffCents: positiveInt(env.WIN_BACK_COUPON_CENTS, 1000, 'WIN_BACK_COUPON_CENTS'),
    validDays: positiveInt(env.WIN_BACK_COUPON_DAYS, 30, 'WIN_BACK_COUPON_DAYS'),
  };
}
