import { dynamo } from './dynamo';
import { ReminderStore } from '../storage/reminder-store';
import type { RecallCoupon } from '../usecases/send-reminders';

/** Local default of the customer portal link printed in renewal notices. */
export const DEFAULT_PORTAL_URL = 'http://127.0.0.1:3000/account/membership';

export function reminderStore(): ReminderStore {
  const { doc, tables } = dynamo();
  return new ReminderStore(doc, tables.main);
}

export const portalUrl = (env: NodeJS.ProcessEnv = process.env) => env.PORTAL_URL || DEFAULT_PORTAL_URL;

/** The win-back recall coupon: WIN_BACK_COUPON_CENTS (default 1000) off, valid WIN_BACK_COUPON_DAYS (default 30). */
export function recallCoupon(env: NodeJS.ProcessEnv = process.env): RecallCoupon {
  const int = (value: string | undefined, fallback: number, name: string) => {
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
    return n;
  };
  return { amountOffCents: int(env.WIN_BACK_COUPON_CENTS, 1000, 'WIN_BACK_COUPON_CENTS'), validDays: int(env.WIN_BACK_COUPON_DAYS, 30, 'WIN_BACK_COUPON_DAYS') };
}
