/**
 * `npm run stripe-double -- [port] [--webhook-url URL] [--hold-webhooks]`: runs the Stripe API double
 * as a server, seeded with the plan catalog's prices, so every Stripe flow can be tried locally
 * without a Stripe account (README, docs/stripe-sync.md). Start it, then
 * `STRIPE_SECRET_KEY=<printed> STRIPE_API_BASE=<printed> npm start`. Its events are delivered to the
 * webhook URL (default: the local server's) signed with `STRIPE_WEBHOOK_SECRET` (default: the local
 * one), or held back while webhooks are "down". It prints each call it receives and each delivery.
 * Not Stripe, and never run in AWS.
 */
import { planCatalog } from '#shared/runtime/catalog';
import { LOCAL_DEFAULTS } from './defaults';
import { StripeDouble } from './stripe-api/double';
import { P } from './stripe-api/params';
import { signupEvents } from './stripe-test-events';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? (args.splice(at, 2)[1] ?? '') : undefined;
};
const hold = args.includes('--hold-webhooks');
if (hold) args.splice(args.indexOf('--hold-webhooks'), 1);
const webhookUrl = flag('--webhook-url') ?? `http://127.0.0.1:${process.env.PORT || LOCAL_DEFAULTS.PORT}/webhooks/stripe`;
const port = Number(args[0] ?? 12111);

const double = await StripeDouble.start(undefined, port);
Object.assign(double.webhook, {
  url: webhookUrl,
  secret: process.env.STRIPE_WEBHOOK_SECRET || LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET,
  mode: hold ? 'hold' : 'deliver',
});
for (const plan of planCatalog().plans) {
  for (const id of plan.stripePriceIds) {
    double.price({ id, unitAmount: plan.interval === 'year' ? 13900 : 1499, interval: plan.interval ?? 'month' });
  }
  // Gifts are one-time prices: the gifted months at the monthly price.
  for (const gift of plan.gifts ?? []) double.price({ id: gift.stripePriceId, unitAmount: gift.months * 1499 });
}
// Local only (not a Stripe endpoint): a member who signed up `days` ago, held here as Stripe would hold
// it; the answer is the signup's events, which `npm run send-test-event -- --stripe-double` forwards.
// Lets withdrawal, cancellation and save offers be played against this double.
double.route({
  method: 'POST',
  path: '/v1/test_helpers/membership_signups',
  required: ['member'],
  params: { member: P.str, days: P.int, interval: P.enum('month', 'year'), country: P.str, state: P.str, email: P.str },
  handle: (req, d) => {
    const p = req.params;
    const signup = signupEvents({
      memberId: String(p.member),
      start: Math.floor(Date.now() / 1000) - Number(p.days ?? 0) * 86_400 - 60,
      interval: p.interval === 'year' ? 'year' : 'month',
      ...(p.email ? { email: String(p.email) } : {}),
      ...(p.country ? { address: { country: String(p.country), state: p.state ? String(p.state) : null } } : {}),
    });
    d.membershipSignup(signup, String(p.member));
    return { object: 'list', data: signup.events, has_more: false, url: '/v1/test_helpers/membership_signups' };
  },
});
const seen = { calls: 0, deliveries: 0 };
setInterval(() => {
  for (const call of double.calls.slice(seen.calls))
    console.log(JSON.stringify({ method: call.method, path: call.path, status: call.status, idempotencyKey: call.idempotencyKey }));
  for (const d of double.deliveries.slice(seen.deliveries))
    console.log(JSON.stringify({ delivered: d.type, eventId: d.eventId, status: d.status }));
  seen.calls = double.calls.length;
  seen.deliveries = double.deliveries.length;
}, 250);
const auth = `-H 'authorization: Bearer ${double.apiKey}'`;
console.log(`Stripe double on ${double.url}
  STRIPE_SECRET_KEY=${double.apiKey} STRIPE_API_BASE=${double.url} npm start
webhooks: ${hold ? 'held back (webhooks down)' : 'delivered'} to ${webhookUrl}
  complete a checkout:  curl -s -X POST ${double.url}/_double/checkout/sessions/<cs_test_...>/complete ${auth}
  webhooks down / up:   curl -s -X POST ${double.url}/_double/webhooks -d mode=hold ${auth}   (mode=deliver)
  deliver held events:  curl -s -X POST ${double.url}/_double/webhooks/release ${auth}`);
