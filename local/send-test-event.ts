/**
 * `npm run send-test-event -- [--member <memberId>] [--plan monthly|annual] [--trial-days N] [--country DE] [--state CA]
 *   [--email a@b.example] [--days-ago N] [--stripe-double http://127.0.0.1:12111] [--url http://127.0.0.1:3000]`
 * Sends a realistic, signed signup sequence (checkout.session.completed, customer.subscription.created,
 * invoice.paid) to a running `npm start`, signed with STRIPE_WEBHOOK_SECRET (the local default unless set).
 * `--country`/`--state` set the checkout's billing address (the member's jurisdiction; default
 * California). With `--stripe-double` the double (`npm run stripe-double`) holds the same customer,
 * subscription and paid invoice first, so withdrawal, cancellation and save offers can be played.
 * `--finance-sample` sends instead the payments and refund behind the sample balance report in
 * docs/samples (local/finance-sample.ts), so that report reconciles.
 * The server is --url, else 127.0.0.1:$PORT, else the running `npm start` that .data/local-runtime.json
 * names, else 127.0.0.1:3000.
 */
import { STRIPE_API_VERSION } from '#shared/stripe/api-version';
import { LOCAL_DEFAULTS } from './defaults';
import { FINANCE_SAMPLE, financeSampleEvents } from './finance-sample';
import { discoverLocalRuntime, isApiReachable } from './runtime-file';
import { signPayload, signupEvents } from './stripe-test-events';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** Where to send: what the command line or environment says wins over what a running `npm start` recorded. */
async function locateApi(): Promise<{ url: string; source: string }> {
  const given = flag('url', '');
  if (given) return { url: given, source: '--url' };
  if (process.env.PORT) return { url: `http://127.0.0.1:${process.env.PORT}`, source: 'PORT' };
  const found = await discoverLocalRuntime((runtime) => isApiReachable(runtime.httpUrl));
  if (found.note) console.log(found.note);
  if (found.runtime) {
    if (!found.runtime.defaultWebhookSecret && !process.env.STRIPE_WEBHOOK_SECRET) {
      throw new Error('that npm start verifies webhooks with its own STRIPE_WEBHOOK_SECRET: set the same one here');
    }
    return { url: found.runtime.httpUrl, source: `the running npm start, pid ${found.runtime.pid}` };
  }
  return { url: `http://127.0.0.1:${LOCAL_DEFAULTS.PORT}`, source: 'default port; no running npm start found' };
}

/** The double holds the signup as Stripe would (customer, subscription, paid invoice) and answers its events. */
async function signupInDouble(
  base: string,
  spec: { memberId: string; interval: string; country: string; state: string; email: string; daysAgo: number },
): Promise<Array<{ type: string; id: string }>> {
  const form = new URLSearchParams({ member: spec.memberId, interval: spec.interval, days: String(spec.daysAgo) });
  if (spec.country) form.set('country', spec.country);
  if (spec.state) form.set('state', spec.state);
  if (spec.email) form.set('email', spec.email);
  const res = await fetch(`${base}/v1/test_helpers/membership_signups`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${process.env.STRIPE_SECRET_KEY || 'sk_test_double_0000000000000000'}`,
      'stripe-version': STRIPE_API_VERSION,
      'content-type': 'application/x-www-form-urlencoded',
      'idempotency-key': `local-signup:${spec.memberId}:${Date.now()}`,
    },
    body: form.toString(),
  });
  if (!res.ok) throw new Error(`the Stripe double answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data: Array<{ type: string; id: string }> }).data;
}

async function main() {
  const memberId = flag('member', 'shopper-42');
  const { url, source } = await locateApi();
  console.log(`sending to ${url} (${source})\n`);
  const interval = flag('plan', 'monthly') === 'annual' ? 'year' : 'month';
  const trialDays = Number(flag('trial-days', '0'));
  const secret = process.env.STRIPE_WEBHOOK_SECRET || LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET;
  const sample = process.argv.includes('--finance-sample');
  const country = flag('country', '');
  const address = country ? { country, state: flag('state', '') || null } : undefined;
  const email = flag('email', '');
  const daysAgo = Number(flag('days-ago', '0'));
  const double = flag('stripe-double', '');
  const events = sample
    ? financeSampleEvents()
    : double
      ? await signupInDouble(double, { memberId, interval, country, state: flag('state', ''), email, daysAgo })
      : signupEvents({
          memberId,
          start: Math.floor(Date.now() / 1000) - 60 - daysAgo * 86_400,
          interval,
          ...(trialDays > 0 ? { trialDays } : {}),
          ...(address ? { address } : {}),
          ...(email ? { email } : {}),
        }).events;
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
  if (sample) {
    console.log(
      `\nnow reconcile the sample report:\n  curl -s -X POST '${url}/v1/finance/reconciliations?month=${FINANCE_SAMPLE.month}' -H 'authorization: Bearer fk_local_finance_key' -H 'content-type: text/csv' --data-binary @${FINANCE_SAMPLE.file}`,
    );
    return;
  }
  console.log(
    `\nnow ask for the entitlement:\n  curl -s -X POST ${url}/v1/entitlements/check -H 'authorization: Bearer ck_local_checkout_key' -H 'content-type: application/json' -d '{"memberId":"${memberId}","order":{"subtotalCents":4200,"currency":"usd","serviceLevel":"two-day"}}'`,
  );
}

main().catch((error) => {
  console.error(`send-test-event failed: ${error instanceof Error ? error.message : String(error)} (is npm start running?)`);
  process.exit(1);
});
