import { describe, expect, it } from 'vitest';
import { parseStripeSettings, STRIPE_API_SECRET_TEMPLATE } from '#shared/stripe/settings';

describe('parseStripeSettings', () => {
  it('reads the secret as the stack creates it, or an empty value, as "not set"', () => {
    for (const raw of [JSON.stringify(STRIPE_API_SECRET_TEMPLATE), '', '   ', undefined, '{"apiKey":"  "}']) {
      expect(parseStripeSettings(raw)).toMatchObject({ configured: false, problem: 'unset' });
    }
  });

  it('refuses what is not a Stripe secret or restricted key, such as a generated password, without echoing it', () => {
    const generated = 'x;R8#pQ2v!kLm^9sT0wZ&aB3cD4eF5gH';
    const settings = parseStripeSettings(generated);
    expect(settings).toMatchObject({ configured: false, problem: 'invalid' });
    expect(JSON.stringify(settings)).not.toContain(generated);
    expect(parseStripeSettings('pk_live_123')).toMatchObject({ configured: false, problem: 'invalid' });
    expect(parseStripeSettings('{"apiKey": ')).toMatchObject({ configured: false, problem: 'invalid' });
    expect(parseStripeSettings('{"apiKey": 42}')).toMatchObject({ configured: false, problem: 'invalid' });
    expect(parseStripeSettings(JSON.stringify({ apiKey: 'rk_live_abc', portalConfigurationId: 'portal-1' }))).toMatchObject({
      configured: false,
      problem: 'invalid',
    });
  });

  it('takes the key and the portal configuration from the JSON secret, or a plain key and the environment', () => {
    expect(parseStripeSettings(JSON.stringify({ apiKey: ' rk_live_abc123 ', portalConfigurationId: 'bpc_123' }))).toEqual({
      configured: true,
      apiKey: 'rk_live_abc123',
      portalConfigurationId: 'bpc_123',
      livemode: true,
      accountId: null,
    });
    expect(parseStripeSettings(JSON.stringify({ apiKey: 'sk_test_abc', portalConfigurationId: '' }))).toEqual({
      configured: true,
      apiKey: 'sk_test_abc',
      portalConfigurationId: null,
      livemode: false,
      accountId: null,
    });
    expect(parseStripeSettings('sk_test_abc', 'bpc_local')).toEqual({
      configured: true,
      apiKey: 'sk_test_abc',
      portalConfigurationId: 'bpc_local',
      livemode: false,
      accountId: null,
    });
  });

  it('takes the account whose Connect events are ours from the secret or the environment, and refuses what is not an account id', () => {
    expect(parseStripeSettings(JSON.stringify({ apiKey: 'sk_live_abc', accountId: 'acct_123' }))).toMatchObject({
      livemode: true,
      accountId: 'acct_123',
    });
    expect(parseStripeSettings('sk_test_abc', '', 'acct_9')).toMatchObject({ accountId: 'acct_9' });
    expect(parseStripeSettings('sk_test_abc', '', 'account-9')).toMatchObject({ configured: false, problem: 'invalid' });
  });
});
