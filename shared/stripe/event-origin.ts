/**
 * Whether a verified event is about the Stripe account and mode this service is configured for. A
 * signature only proves the sender holds a webhook secret: a test-mode endpoint pointed at production
 * with a shared secret, or a Connect endpoint forwarding connected accounts' events, would otherwise
 * move real memberships. Such events are answered 200 (they are not ours to retry) and counted.
 */
import type { StripeEvent } from './events';

export interface ExpectedOrigin {
  /** The configured key's mode (`sk_live_`/`rk_live_` → true); null while no key is configured. */
  livemode: boolean | null;
  /** The account whose events a Connect endpoint may deliver (`STRIPE_ACCOUNT_ID`); null: the account's own only. */
  accountId: string | null;
}

/** Why the event is not ours, or null. */
export function foreignEventReason(event: Pick<StripeEvent, 'livemode' | 'account'>, expected: ExpectedOrigin): string | null {
  if (expected.livemode !== null && event.livemode !== expected.livemode) {
    return `a ${event.livemode ? 'live' : 'test'}-mode event, but the configured Stripe key is ${expected.livemode ? 'live' : 'test'}-mode`;
  }
  if (event.account && event.account !== expected.accountId) return `an event of connected account ${event.account}`;
  return null;
}
