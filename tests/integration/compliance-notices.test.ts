import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stripeEvent } from '../../local/stripe-test-events';
import { uniqueMemberId, useApi } from '../support/api';
import { partition, runCompliance, sendNotices } from '../support/compliance';
import { subscribedMember, useStripeDouble } from '../support/shopper';

// A catalog whose monthly plan has a new price from 2042 on (read by the handlers when they load).
const NEW_PRICE = 'price_prime_monthly_usd_2042';
const catalog = JSON.parse(readFileSync(new URL('../../config/plan-catalog.json', import.meta.url), 'utf8'));
catalog.plans[0].stripePriceIds.push(NEW_PRICE);
catalog.plans[0].priceChange = { priceId: NEW_PRICE, amountCents: 1699, currency: 'usd', from: '2042-01-01T00:00:00Z' };
const catalogFile = join(mkdtempSync(join(tmpdir(), 'catalog-')), 'plan-catalog.json');
writeFileSync(catalogFile, JSON.stringify(catalog));
process.env.PLAN_CATALOG_FILE = catalogFile;

const api = useApi();
const stripe = useStripeDouble();
const DAY = 86_400;
const HOUR = 3600;
// Far from the wall clock and from other files' years: nothing else is due at these times.
const T0 = Date.parse('2042-01-10T00:00:00Z') / 1000;
const at = (seconds: number) => new Date(seconds * 1000);

async function member(label: string, address: { country: string; state?: string }, start = T0, trialDays?: number) {
  const memberId = uniqueMemberId(label);
  stripe().price({ id: NEW_PRICE, unitAmount: 1699, interval: 'month' });
  const signup = await subscribedMember(api, stripe(), {
    memberId,
    start,
    address,
    email: `${memberId}@example.com`,
    ...(trialDays ? { trialDays } : {}),
  });
  return { memberId, ...signup };
}

/** Renewal and trial notices as `kind@days`; the price change of this file's catalog is the other describe's. */
const kinds = (sent: Array<{ kind: string; reminderId: string }>) =>
  sent.filter((m) => m.kind !== 'price_change').map((m) => `${m.kind}@${m.reminderId.split('#').at(-1)}`);

describe('China: a prominent reminder five days before every automatic renewal', () => {
  it('a Chinese member gets the 5-day reminder besides the plan’s 7-day one; a Californian does not', async () => {
    const start = T0 + 40 * DAY;
    const cn = await member('cn', { country: 'CN' }, start);
    const ca = await member('cn-ca', { country: 'US', state: 'CA' }, start);
    const renewal = cn.periodEnd;
    expect(kinds(await sendNotices([cn.memberId, ca.memberId], at(renewal - 7 * DAY + 60)))).toEqual([
      'renewal_upcoming@7',
      'renewal_upcoming@7',
    ]);
    expect(kinds(await sendNotices([cn.memberId, ca.memberId], at(renewal - 6 * DAY)))).toEqual([]);
    const fiveDays = (await sendNotices([cn.memberId, ca.memberId], at(renewal - 5 * DAY + 60))).filter((m) => m.kind !== 'price_change');
    expect(fiveDays.map((m) => [m.memberId, m.kind, m.reminderId.endsWith('#5')])).toEqual([[cn.memberId, 'renewal_upcoming', true]]);
    expect(fiveDays[0]!.text).toContain('To cancel');
  });

  it('and five days before a trial turns into a paid membership', async () => {
    const cn = await member('cn-trial', { country: 'CN' }, T0 + 45 * DAY, 14);
    const trialEnd = T0 + 45 * DAY + 14 * DAY;
    expect(kinds(await sendNotices([cn.memberId], at(trialEnd - 5 * DAY + 60)))).toEqual(['trial_ending@5']);
    expect(kinds(await sendNotices([cn.memberId], at(trialEnd - 3 * DAY + 60)))).toEqual(['trial_ending@3']);
  });
});

describe('price change for existing members', () => {
  it('California (7–30 days): notice before the next charge, then the move to the new price, proration off', async () => {
    const ca = await member('pc-ca', { country: 'US', state: 'CA' });
    // Nothing is due before the window opens (30 days before the renewal on 9 February: the signup day).
    const [notice, ...others] = await sendNotices([ca.memberId], at(T0 + HOUR));
    expect(others).toEqual([]);
    expect(notice).toMatchObject({ kind: 'price_change' });
    expect(notice!.subject).toBe('The price of Prime Monthly changes to $16.99 per month');
    expect(notice!.text).toContain('from $14.99 to $16.99 per month');
    expect(notice!.text).toContain('on or about 9 February 2042');
    const run = await runCompliance({ members: [ca.memberId] }, at(T0 + 2 * HOUR));
    expect(run.done).toEqual({ price_move: 1 });
    const sub = stripe().objects.get(ca.subscription)!;
    expect(sub.items.data[0].price.id).toBe(NEW_PRICE);
    const update = stripe().callsTo('POST', `/v1/subscriptions/${ca.subscription}`).at(-1)!;
    expect(update.params).toMatchObject({ proration_behavior: 'none', items: [{ price: NEW_PRICE }] });
    expect(update.idempotencyKey).toBe(`price-move:${ca.subscription}:${NEW_PRICE}`);
  });

  it('UK (30–90 days): a monthly member is told for the renewal after next, and moves only once the one before has started', async () => {
    const gb = await member('pc-gb', { country: 'GB' });
    const [notice] = await sendNotices([gb.memberId], at(T0 + HOUR));
    expect(notice).toMatchObject({ kind: 'price_change' });
    expect(notice!.text).toContain('on or about 10 March 2042');
    // Before the February renewal a move would bill the new price in February: it waits.
    expect((await runCompliance({ members: [gb.memberId] }, at(T0 + 2 * HOUR))).read).toBe(0);
    expect(stripe().objects.get(gb.subscription)!.items.data[0].price.id).toBe('price_prime_monthly_usd');
    // Stripe renews on 9 February (Stripe's time is ahead of its webhook: the move asks Stripe).
    const renewal = gb.periodEnd;
    const item = stripe().objects.get(gb.subscription)!.items.data[0];
    Object.assign(item, { current_period_start: renewal, current_period_end: renewal + 30 * DAY });
    const object = structuredClone(stripe().render(stripe().objects.get(gb.subscription)!));
    expect((await api.postEvent(stripeEvent('customer.subscription.updated', object, { created: renewal }))).status).toBe(200);
    // The renewal plans a notice for the renewal after this one: the change was announced, so it is not sent.
    expect(await sendNotices([gb.memberId], at(renewal + 30 * 60))).toEqual([]);
    const run = await runCompliance({ members: [gb.memberId] }, at(renewal + 2 * HOUR));
    expect(run.done).toEqual({ price_move: 1 });
    expect(stripe().objects.get(gb.subscription)!.items.data[0].price.id).toBe(NEW_PRICE);
    const proofs = (await partition(gb.memberId)).filter((i) => i.type === 'notification' && i.kind === 'price_change');
    expect(proofs).toHaveLength(1);
  });

  it('Germany (consent needed): no notice and no move', async () => {
    const de = await member('pc-de', { country: 'DE' });
    expect(await sendNotices([de.memberId], at(T0 + 40 * DAY))).not.toContainEqual(expect.objectContaining({ kind: 'price_change' }));
    expect((await runCompliance({ members: [de.memberId] }, at(T0 + 40 * DAY))).done).toEqual({});
    expect(stripe().objects.get(de.subscription)!.items.data[0].price.id).toBe('price_prime_monthly_usd');
    expect((await partition(de.memberId)).some((i) => i.kind === 'price_change')).toBe(false);
  });
});
