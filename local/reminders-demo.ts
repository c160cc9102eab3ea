/**
 * `npx tsx local/reminders-demo.ts <memberId> <start ISO> [month|year] [trialDays]`
 * Posts a signed signup (checkout completed, subscription created, first invoice paid) for a member to
 * the running `npm start`, so `npm run job -- reminders --as-of ...` has something to send.
 */
import { LOCAL_DEFAULTS } from './defaults';
import { signPayload, signupEvents } from './stripe-test-events';

async function main() {
  const [memberId, startIso, interval = 'month', trialDays] = process.argv.slice(2);
  if (!memberId || !startIso || Number.isNaN(Date.parse(startIso)))
    throw new Error('usage: reminders-demo.ts <memberId> <start ISO> [month|year] [trialDays]');
  const base = `http://127.0.0.1:${process.env.PORT || LOCAL_DEFAULTS.PORT}`;
  const secret = process.env.STRIPE_WEBHOOK_SECRET || LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET;
  const { events } = signupEvents({
    memberId,
    start: Math.floor(Date.parse(startIso) / 1000),
    interval: interval === 'year' ? 'year' : 'month',
    ...(trialDays ? { trialDays: Number(trialDays) } : {}),
  });
  for (const event of events) {
    const body = JSON.stringify(event);
    const res = await fetch(`${base}/webhooks/stripe`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(body, secret) },
    });
    console.log(`${event.type} → ${res.status}`);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
