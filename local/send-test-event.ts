/**
 * `npm run send-test-event -- [--member <memberId>] [--plan monthly|annual] [--trial-days N] [--url http://127.0.0.1:3000]`
 * Sends a realistic, signed signup sequence (checkout.session.completed, customer.subscription.created,
 * invoice.paid) to a running `npm start`, signed with STRIPE_WEBHOOK_SECRET (the local default unless set).
 */
import { LOCAL_DEFAULTS } from './defaults';
import { signPayload, signupEvents } from './stripe-test-events';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function main() {
  const memberId = flag('member', 'shopper-42');
  const url = flag('url', `http://127.0.0.1:${process.env.PORT || LOCAL_DEFAULTS.PORT}`);
  const interval = flag('plan', 'monthly') === 'annual' ? 'year' : 'month';
  const trialDays = Number(flag('trial-days', '0'));
  const secret = process.env.STRIPE_WEBHOOK_SECRET || LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET;
  const { events } = signupEvents({
    memberId,
    start: Math.floor(Date.now() / 1000) - 60,
    interval,
    ...(trialDays > 0 ? { trialDays } : {}),
  });
  for (const event of events) {
    const payload = JSON.stringify(event);
    const res = await fetch(`${url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, secret) },
      body: payload,
    });
    console.log(`${event.type.padEnd(32)} ${event.id}  → ${res.status} ${await res.text()}`);
    if (!res.ok) process.exitCode = 1;
  }
  console.log(
    `\nnow ask for the entitlement:\n  curl -s -X POST ${url}/v1/entitlements/check -H 'authorization: Bearer ck_local_checkout_key' -H 'content-type: application/json' -d '{"memberId":"${memberId}","order":{"subtotalCents":4200,"currency":"usd","serviceLevel":"two-day"}}'`,
  );
}

main().catch((error) => {
  console.error(`send-test-event failed: ${error instanceof Error ? error.message : String(error)} (is npm start running?)`);
  process.exit(1);
});
