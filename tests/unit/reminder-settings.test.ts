import { describe, expect, it } from 'vitest';
import { LOCAL_PORTAL_URL, LOCAL_PREFERENCES_URL, publicLinkProblem } from '#shared/runtime/reminder-settings';
import { maxAttempts, maxSendRate, portalUrl, preferencesUrl, recallCoupon, stopClaimingMs } from '#shared/runtime/reminders';

describe('reminders job settings', () => {
  it('links: public https only', () => {
    expect(publicLinkProblem('https://shop.example.com/account')).toBeNull();
    for (const bad of [
      'http://shop.example.com/a',
      'https://127.0.0.1:3000/a',
      'https://localhost/a',
      'https://192.168.1.2/a',
      'https://[::1]/a',
      'https://intranet/a',
      'account',
    ]) {
      expect(publicLinkProblem(bad), bad).not.toBeNull();
    }
  });

  it('locally the portal link defaults to the local server; inside Lambda it must be set and public', () => {
    expect(portalUrl({})).toBe(LOCAL_PORTAL_URL);
    const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'reminders' };
    expect(() => portalUrl(lambda)).toThrow(/PORTAL_URL must be set in AWS/);
    expect(() => portalUrl({ ...lambda, PORTAL_URL: LOCAL_PORTAL_URL })).toThrow(/PORTAL_URL: .*https/);
    expect(portalUrl({ ...lambda, PORTAL_URL: 'https://shop.example.com/account' })).toBe('https://shop.example.com/account');
    expect(preferencesUrl({})).toBe(LOCAL_PREFERENCES_URL);
    expect(() => preferencesUrl(lambda)).toThrow(/MARKETING_PREFERENCES_URL must be set in AWS/);
  });

  it('recall coupon: positive integers, defaults 1000 cents for 30 days', () => {
    expect(recallCoupon({})).toEqual({ amountOffCents: 1000, validDays: 30 });
    expect(recallCoupon({ WIN_BACK_COUPON_CENTS: '1500', WIN_BACK_COUPON_DAYS: '14' })).toEqual({ amountOffCents: 1500, validDays: 14 });
    expect(() => recallCoupon({ WIN_BACK_COUPON_DAYS: '0' })).toThrow(/WIN_BACK_COUPON_DAYS/);
  });

  it('pacing, deadline and attempts: safe defaults, positive values only', () => {
    expect([maxSendRate({}), stopClaimingMs({}), maxAttempts({})]).toEqual([10, 60_000, 5]);
    expect(maxSendRate({ SES_MAX_SEND_RATE: '0.5' })).toBe(0.5);
    expect(() => maxSendRate({ SES_MAX_SEND_RATE: '0' })).toThrow(/SES_MAX_SEND_RATE/);
    expect(() => maxAttempts({ REMINDER_MAX_ATTEMPTS: '-1' })).toThrow(/REMINDER_MAX_ATTEMPTS/);
  });
});
