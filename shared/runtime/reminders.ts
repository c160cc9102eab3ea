import { ReminderStore } from '../storage/reminder-store';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_STOP_CLAIMING_MS, type RecallCoupon } from '../usecases/send-reminders';
import { dynamo } from './dynamo';
import { LOCAL_PORTAL_URL, LOCAL_PREFERENCES_URL, linkSetting, positiveInt, positiveNumber } from './reminder-settings';

export function reminderStore(): ReminderStore {
  const { doc, tables } = dynamo();
  return new ReminderStore(doc, tables.main);
}

/** The customer portal link printed in notices (how to cancel): set by infra in AWS, local server otherwise. */
export const portalUrl = (env: NodeJS.ProcessEnv = process.env) => linkSetting(env, 'PORTAL_URL', LOCAL_PORTAL_URL);

/** The marketing opt-out page linked from every marketing notice (win-back): MARKETING_PREFERENCES_URL. */
export const preferencesUrl = (env: NodeJS.ProcessEnv = process.env) =>
  linkSetting(env, 'MARKETING_PREFERENCES_URL', LOCAL_PREFERENCES_URL);

/** Claims of one reminder before it is dropped as `attempts_exhausted`: REMINDER_MAX_ATTEMPTS (default 5). */
export const maxAttempts = (env: NodeJS.ProcessEnv = process.env) =>
  positiveInt(env.REMINDER_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, 'REMINDER_MAX_ATTEMPTS');

/**
 * Sends per second through SES: SES_MAX_SEND_RATE (default 10, below the 14/s an account gets when it
 * leaves the sandbox; set it to the account's own quota, 1 in the sandbox).
 */
export const DEFAULT_SES_MAX_SEND_RATE = 10;
export const maxSendRate = (env: NodeJS.ProcessEnv = process.env) =>
  positiveNumber(env.SES_MAX_SEND_RATE, DEFAULT_SES_MAX_SEND_RATE, 'SES_MAX_SEND_RATE');

/** The run stops claiming with fewer milliseconds left than REMINDER_STOP_CLAIMING_MS (default 60 s). */
export const stopClaimingMs = (env: NodeJS.ProcessEnv = process.env) =>
  positiveInt(env.REMINDER_STOP_CLAIMING_MS, DEFAULT_STOP_CLAIMING_MS, 'REMINDER_STOP_CLAIMING_MS');

/** The win-back recall coupon: WIN_BACK_COUPON_CENTS (default 1000) off, valid WIN_BACK_COUPON_DAYS (default 30). */
export function recallCoupon(env: NodeJS.ProcessEnv = process.env): RecallCoupon {
  return {
    amountOffCents: positiveInt(env.WIN_BACK_COUPON_CENTS, 1000, 'WIN_BACK_COUPON_CENTS'),
    validDays: positiveInt(env.WIN_BACK_COUPON_DAYS, 30, 'WIN_BACK_COUPON_DAYS'),
  };
}
