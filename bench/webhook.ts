/**
 * Webhook ingestion throughput: 2,000 signed events (500 members × checkout, subscription created,
 * first invoice paid, subscription updated) posted through the real HTTP stack to DynamoDB Local.
 */
import { fileURLToPath } from 'node:url';
import { httpFunctions } from '../functions/manifest';
import { LOCAL_DEFAULTS } from '../local/defaults';
import { startLocalHttpServer } from '../local/http-adapter';
import { signPayload, signupEvents, stripeEvent, subscriptionObject } from '../local/stripe-test-events';
import type { BenchContext } from './context';

const MEMBERS = 500;
const CONCURRENCY = 16;

export async function run(ctx: BenchContext) {
  const server = await startLocalHttpServer({
    functions: httpFunctions.filter((f) => f.name === 'stripe-webhook'),
    projectRoot: fileURLToPath(new URL('..', import.meta.url)),
    port: 0,
  });
  const payloads = benchMemberEvents('bench-webhook', MEMBERS)
    .flat()
    .map((e) => JSON.stringify(e));
  const { seconds, failures } = await postSignedEvents(server.url, payloads, CONCURRENCY);
  await server.close();
  ctx.log(`webhook ingestion: ${payloads.length} signed events, ${CONCURRENCY} concurrent, through HTTP → handler → DynamoDB Local`);
  ctx.log(`  ${(payloads.length / seconds).toFixed(0)} events/s (${seconds.toFixed(2)} s, ${failures} non-200)`);
}

/** Per member: checkout completed, subscription created, first invoice paid, subscription updated (a day ago). */
export function benchMemberEvents(prefix: string, members: number): Array<Array<Record<string, unknown>>> {
  const start = Math.floor(Date.now() / 1000) - 86_400;
  return Array.from({ length: members }, (_, m) => {
    const memberId = `${prefix}-${m}-${start}`;
    const { events, customer, subscription } = signupEvents({ memberId, start });
    const updated = stripeEvent(
      'customer.subscription.updated',
      subscriptionObject({ id: subscription, customer, memberId, periodStart: start, cancelAtPeriodEnd: true }),
      { created: start + 60 },
    );
    return [...events, updated];
  });
}

/** Posts each payload to the webhook, signed with the local secret, `concurrency` at a time. */
export async function postSignedEvents(baseUrl: string, payloads: readonly string[], concurrency: number) {
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < payloads.length) {
        const payload = payloads[next++]!;
        const res = await fetch(`${baseUrl}/webhooks/stripe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET) },
          body: payload,
        });
        await res.arrayBuffer();
        if (res.status !== 200) failures++;
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, failures };
}
