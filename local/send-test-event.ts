/**
 * `npm run send-test-event -- [--member <memberId>] [--plan monthly|annual] [--trial-days N] [--url http://127.0.0.1:3000]`
 * Sends a realistic, signed signup sequence (checkout.session.completed, customer.subscription.created,
 * invoice.paid) to a running `npm start`, signed with STRIPE_WEBHOOK_SECRET (the local default unless set).
 * `--finance-sample` sends instead the payments and refund behind the sample balance report in
 * docs/samples (local/finance-sample.ts), so that report reconciles.
 * The server is --url, else 127.0.0.1:$PORT, else the running `npm start` that .data/local-runtime.json
 * names, else 127.0.0.1:3000.
 */
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

async function main() {
  const memberId = flag('member', 'shopper-42');
  const { url, source } = await locateApi();
  console.log(`sending to ${url} (${source})\n`);
  const interval = flag('plan', 'monthly') === 'annual' ? 'year' : 'month';
  const trialDays = Number(flag('trial-days', '0'));
  const secret = process.env.STRIPE_WEBHOOK_SECRET || LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET;
  const sample = process.argv.includes('--finance-sample');
  const events = sample
    ? financeSampleEvents()
    : signupEvents({
        memberId,
        start: Math.floor(Date.now() / 1000) - 60,
        interval,
        ...(trialDays > 0 ? { trialDays } : {}),
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
