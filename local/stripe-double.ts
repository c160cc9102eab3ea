/**
 * `npx tsx local/stripe-double.ts [port]`: runs the tests' Stripe API double as a server, seeded with
 * the plan catalog's prices, so the shopper flows can be tried locally without a Stripe account:
 * start it, then `STRIPE_SECRET_KEY=<printed> STRIPE_API_BASE=<printed> npm start`. It prints each
 * call it receives. Test-only: it is not Stripe and never runs in AWS.
 */
import { planCatalog } from '#shared/runtime/catalog';
import { StripeDouble } from '../tests/support/stripe-double';
import { signupEvents } from './stripe-test-events';

const port = Number(process.argv[2] ?? 12111);
const double = await StripeDouble.start(undefined, port);
for (const plan of planCatalog().plans) {
  for (const id of plan.stripePriceIds) {
    double.price({ id, unitAmount: plan.interval === 'year' ? 13900 : 1499, interval: plan.interval ?? 'month' });
  }
}
// Local only (not a Stripe endpoint): a member who signed up `days` ago, held here as Stripe would hold
// it; the answer is the signup's events, which `npm run send-test-event -- --stripe-double` forwards.
// Lets withdrawal, cancellation and save offers be played against this double.
double.route({
  method: 'POST',
  path: '/v1/test_helpers/membership_signups',
  required: ['member'],
  allowed: ['member', 'days', 'interval', 'country', 'state', 'email'],
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
const seen = { count: 0 };
setInterval(() => {
  for (const call of double.calls.slice(seen.count))
    console.log(JSON.stringify({ method: call.method, path: call.path, status: call.status, idempotencyKey: call.idempotencyKey }));
  seen.count = double.calls.length;
}, 250);
console.log(`Stripe double on ${double.url}\n  STRIPE_SECRET_KEY=${double.apiKey} STRIPE_API_BASE=${double.url} npm start`);
