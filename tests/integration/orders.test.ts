import { describe, expect, it } from 'vitest';
import { planCatalog } from '#shared/runtime/catalog';
import { benefitsRepository, membershipRepository } from '#shared/runtime/dynamo';
import { holdGrant } from '#shared/usecases/benefits';
import { signupEvents } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { memberItems } from '../support/member-items';

/**
 * The checkout's order flow through the real HTTP stack: quote, hold, commit (or redeem), release,
 * with the stacking rules. A hold that lapses is placed through the use case with a clock 20 minutes
 * back (the HTTP API always runs on the real clock), then met over HTTP.
 */
const api = useApi();
const DAY = 86_400;
const deps = { catalog: planCatalog(), memberships: membershipRepository(), benefits: benefitsRepository() };
const options = [
  { serviceLevel: 'standard', priceCents: 499 },
  { serviceLevel: 'two-day', priceCents: 899 },
  { serviceLevel: 'next-day', priceCents: 1999 },
];

async function payingMember(label: string) {
  const memberId = uniqueMemberId(label);
  for (const e of signupEvents({ memberId, start: Math.floor(Date.now() / 1000) - DAY }).events)
    expect((await api.postEvent(e)).status).toBe(200);
  const ent = await api.entitlement(memberId);
  const code = (amount: number) => ent.benefits.coupons.find((c: any) => c.amountOffCents === amount).code as string;
  return {
    memberId,
    welcome: code(1000), // min subtotal 30.00
    monthly: code(500), // min subtotal 25.00
    vouchers: ent.benefits.shippingVouchers.map((v: any) => v.code as string) as string[], // two, next-day
  };
}

const post = (path: string, body: unknown) => api.call('POST', path, { body });
const quote = async (body: Record<string, unknown>) => {
  const res = await post('/v1/orders/quote', body);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Record<string, any>;
};
const hold = (code: string, body: Record<string, unknown>) => post(`/v1/coupons/${code}/hold`, body);
const commit = (code: string, orderId: string) => post(`/v1/coupons/${code}/commit`, { orderId });
const redeem = (code: string, body: Record<string, unknown>) => post(`/v1/coupons/${code}/redeem`, body);
const release = (code: string, orderId: string) => post(`/v1/coupons/${code}/release`, { orderId });
const reason = async (res: Response) => ((await res.json()) as { reason?: string }).reason;
const savings = async (memberId: string) =>
  ((await (await api.call('GET', `/v1/admin/members/${memberId}`, { key: KEYS.admin })).json()) as any).savings;

describe('POST /v1/orders/quote', () => {
  it('prices the order from the same read as the check: free shipping, the voucher on the dearest option, the best coupon', async () => {
    const m = await payingMember('quote');
    const q = await quote({ memberId: m.memberId, currency: 'usd', subtotalCents: 4000, shippingOptions: options });
    expect(q).toMatchObject({ memberId: m.memberId, entitled: true, status: 'active', memberDiscountBps: 0, memberDiscountCents: 0 });
    expect(q.coupon).toMatchObject({ code: m.welcome, amountOffCents: 1000, savedCents: 1000 });
    expect(m.vouchers).toContain(q.shippingVoucher.code);
    expect(q.shippingVoucher).toMatchObject({ serviceLevel: 'next-day', savedCents: 1999 });
    expect(q.shippingOptions.map((o: any) => [o.serviceLevel, o.shippingWaived, o.shippingCents, o.waivedBy])).toEqual([
      ['standard', true, 0, 'free_shipping'],
      ['two-day', true, 0, 'free_shipping'],
      ['next-day', true, 0, 'shipping_voucher'],
    ]);
    expect(q.totalSavingsCents).toBe(1000 + 1999);
    // Below the welcome coupon's minimum, the monthly one is best; in another currency, none applies.
    expect((await quote({ memberId: m.memberId, currency: 'usd', subtotalCents: 2800, shippingOptions: [] })).coupon?.code).toBe(m.monthly);
    expect((await quote({ memberId: m.memberId, currency: 'eur', subtotalCents: 4000, shippingOptions: [] })).coupon).toBeNull();
  });

  it('gives an unknown shopper nothing and refuses bad input with 400', async () => {
    const q = await quote({ memberId: uniqueMemberId('nobody'), currency: 'usd', subtotalCents: 4000, shippingOptions: options });
    expect(q).toMatchObject({ entitled: false, status: 'none', coupon: null, shippingVoucher: null, totalSavingsCents: 0 });
    expect(q.shippingOptions.every((o: any) => !o.shippingWaived && o.shippingCents === o.priceCents)).toBe(true);
    const ok = { memberId: 'x', currency: 'usd', subtotalCents: 4000, shippingOptions: options };
    for (const bad of [
      { ...ok, coupon: 'x' },
      { ...ok, subtotalCents: -1 },
      { ...ok, shippingOptions: [{ serviceLevel: 'standard', priceCents: 1.5 }] },
      { ...ok, shippingOptions: [{ serviceLevel: 'Standard!', priceCents: 100 }] },
      { ...ok, shippingOptions: Array.from({ length: 21 }, () => options[0]) },
      { ...ok, currency: 'USD' },
    ]) {
      const res = await post('/v1/orders/quote', bad);
      expect(res.status, JSON.stringify(bad).slice(0, 80)).toBe(400);
    }
  });
});

describe('hold, then commit', () => {
  it('holds a code for one order, hides it from others until committed, counts the saving once at commit', async () => {
    const m = await payingMember('hold');
    const body = { memberId: m.memberId, orderId: 'h-1', subtotalCents: 4000, currency: 'usd' };
    const held = await hold(m.welcome, body);
    expect(held.status).toBe(200);
    const answer = (await held.json()) as any;
    expect(answer).toMatchObject({ code: m.welcome, status: 'held', orderId: 'h-1' });
    const minutes = (Date.parse(answer.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(14);
    expect(minutes).toBeLessThanOrEqual(15);
    // The same order again: the same hold. Another order: refused while it stands.
    expect(await (await hold(m.welcome, body)).json()).toEqual(answer);
    const other = await hold(m.welcome, { ...body, orderId: 'h-2' });
    expect([other.status, await reason(other)]).toEqual([409, 'held_by_another_order']);
    const otherRedeem = await redeem(m.welcome, { ...body, orderId: 'h-2' });
    expect([otherRedeem.status, await reason(otherRedeem)]).toEqual([409, 'held_by_another_order']);
    // The check shows it unusable; a quote for another order skips it, the holding order's quote keeps it.
    const ent = await api.entitlement(m.memberId, { subtotalCents: 4000, currency: 'usd' });
    expect(ent.benefits.coupons.find((c: any) => c.code === m.welcome).applicable).toBe(false);
    const q = { memberId: m.memberId, currency: 'usd', subtotalCents: 4000, shippingOptions: [] };
    expect((await quote(q)).coupon.code).toBe(m.monthly);
    expect((await quote({ ...q, orderId: 'h-1' })).coupon.code).toBe(m.welcome);
    // Nothing counted while held.
    expect(await savings(m.memberId)).toMatchObject({ lifetimeSavedCents: 0 });

    const committed = await commit(m.welcome, 'h-1');
    expect(committed.status).toBe(200);
    const redemption = await committed.json();
    expect(redemption).toEqual({ code: m.welcome, status: 'redeemed', orderId: 'h-1', amountOffCents: 1000, currency: 'usd' });
    expect(await (await commit(m.welcome, 'h-1')).json()).toEqual(redemption);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 1000, lifetimeSavedCents: 1000 });
    const notHeld = await commit(m.welcome, 'h-2');
    expect([notHeld.status, await reason(notHeld)]).toEqual([409, 'not_held_by_this_order']);
    const again = await hold(m.welcome, body);
    expect([again.status, await reason(again)]).toEqual([409, 'redeemed_by_this_order']);
    // Release after the commit: the order was cancelled, the saving comes back off, the code is free.
    expect((await release(m.welcome, 'h-1')).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 0, lifetimeSavedCents: 0 });
    expect((await hold(m.welcome, { ...body, orderId: 'h-3' })).status).toBe(200);
    expect((await post('/v1/coupons/ZZZZ-ZZZZ-ZZZZ-ZZZZZ/commit', { orderId: 'h-1' })).status).toBe(404);
  });

  it('lets a hold lapse by itself: the code is usable again, and a commit after the lapse is 409 hold_lapsed', async () => {
    const m = await payingMember('lapse');
    const claim = { memberId: m.memberId, subtotalCents: 4000, currency: 'usd' };
    // Held 20 minutes ago for 15 minutes: lapsed 5 minutes ago, with nothing run since.
    const then = new Date(Date.now() - 20 * 60_000);
    const old = await holdGrant(deps, { code: m.welcome, orderId: 'l-1', ...claim }, then);
    expect(Date.parse(old.expiresAt)).toBe(then.getTime() + 15 * 60_000);
    const ent = await api.entitlement(m.memberId, { subtotalCents: 4000, currency: 'usd' });
    expect(ent.benefits.coupons.find((c: any) => c.code === m.welcome).applicable).toBe(true);
    const late = await commit(m.welcome, 'l-1');
    expect([late.status, await reason(late)]).toEqual([409, 'hold_lapsed']);
    // Another order takes the lapsed code and commits it; the first order's commit stays refused.
    expect((await hold(m.welcome, { ...claim, orderId: 'l-2' })).status).toBe(200);
    expect((await commit(m.welcome, 'l-2')).status).toBe(200);
    const still = await commit(m.welcome, 'l-1');
    expect([still.status, await reason(still)]).toEqual([409, 'hold_lapsed']);
    // The lapsed order's coupon slot is free again too: it may hold another coupon.
    expect((await hold(m.monthly, { ...claim, orderId: 'l-1' })).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ lifetimeSavedCents: 1000 });
  });

  it('releases a standing hold at once, without counting anything', async () => {
    const m = await payingMember('hold-release');
    const claim = { memberId: m.memberId, subtotalCents: 4000, currency: 'usd' };
    expect((await hold(m.welcome, { ...claim, orderId: 'r-1', holdMinutes: 60 })).status).toBe(200);
    const released = await release(m.welcome, 'r-1');
    expect([released.status, await released.json()]).toEqual([200, { code: m.welcome, status: 'open', orderId: 'r-1' }]);
    expect((await release(m.welcome, 'r-1')).status).toBe(200);
    expect((await redeem(m.welcome, { ...claim, orderId: 'r-2' })).status).toBe(200);
    const records = (await memberItems(m.memberId)).filter((i) => i.type === 'grant-redemption');
    expect(records.map((r) => `${r.action}:${r.orderId}`)).toEqual(['redeem:r-2']);
    expect(await savings(m.memberId)).toMatchObject({ lifetimeSavedCents: 1000 });
  });
});

describe('one coupon and one shipping voucher per order', () => {
  it('refuses a second coupon or voucher for an order, at hold and at redeem, and a voucher for another service level', async () => {
    const m = await payingMember('stack');
    const claim = { memberId: m.memberId, orderId: 's-1', subtotalCents: 3000, currency: 'usd' };
    expect((await redeem(m.welcome, claim)).status).toBe(200);
    for (const res of [await redeem(m.monthly, claim), await hold(m.monthly, claim)]) {
      expect([res.status, await reason(res)]).toEqual([422, 'one_coupon_per_order']);
    }
    const [v1, v2] = m.vouchers;
    const noLevel = await hold(v1!, claim);
    expect([noLevel.status, await reason(noLevel)]).toEqual([422, 'service_level_required']);
    const standard = await redeem(v1!, { ...claim, serviceLevel: 'standard' });
    expect([standard.status, await reason(standard)]).toEqual([422, 'service_level_mismatch']);
    // A voucher beside the coupon: another kind, its own slot.
    expect((await hold(v1!, { ...claim, serviceLevel: 'next-day' })).status).toBe(200);
    const second = await redeem(v2!, { ...claim, serviceLevel: 'next-day' });
    expect([second.status, await reason(second)]).toEqual([422, 'one_voucher_per_order']);
    expect((await commit(v1!, 's-1')).status).toBe(200);
    // Another order may use the second coupon and voucher.
    expect((await redeem(m.monthly, { ...claim, orderId: 's-2' })).status).toBe(200);
    expect((await redeem(v2!, { ...claim, orderId: 's-2', serviceLevel: 'next-day' })).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ lifetimeSavedCents: 1500 });
  });

  it('lets exactly one of two coupons claimed at the same time for one order through, however the race falls', async () => {
    const m = await payingMember('stack-race');
    const claim = { memberId: m.memberId, subtotalCents: 4000, currency: 'usd' };
    for (let round = 0; round < 4; round++) {
      const orderId = `race-${round}`;
      const [a, b] = await Promise.all([
        (round % 2 ? redeem : hold)(m.welcome, { ...claim, orderId }),
        (round < 2 ? hold : redeem)(m.monthly, { ...claim, orderId }),
      ]);
      const outcomes = [
        [a.status, a.status === 200 ? 'ok' : await reason(a)],
        [b.status, b.status === 200 ? 'ok' : await reason(b)],
      ];
      expect(
        outcomes.filter(([s]) => s === 200),
        JSON.stringify(outcomes),
      ).toHaveLength(1);
      expect(outcomes.find(([s]) => s !== 200)).toEqual([422, 'one_coupon_per_order']);
      // Free both codes for the next round.
      await release(m.welcome, orderId);
      await release(m.monthly, orderId);
    }
    const slots = (await memberItems(m.memberId)).filter((i) => i.type === 'order-slot');
    expect(slots).toEqual([]);
  });

  it('changes nothing on bad input', async () => {
    const m = await payingMember('stack-bad');
    const claim = { memberId: m.memberId, orderId: 'b-1', subtotalCents: 4000, currency: 'usd' };
    const before = JSON.stringify(await memberItems(m.memberId));
    for (const [res, status] of [
      [await hold(m.welcome, { ...claim, holdMinutes: 0 }), 400],
      [await hold(m.welcome, { ...claim, holdMinutes: 61 }), 400],
      [await hold(m.welcome, { ...claim, extra: 1 }), 400],
      [await hold(m.welcome, { ...claim, serviceLevel: 'Next Day' }), 400],
      [await hold(m.welcome, { ...claim, subtotalCents: 100 }), 422],
      [await post(`/v1/coupons/${m.welcome}/commit`, {}), 400],
      [await post(`/v1/coupons/${m.welcome}/commit`, { orderId: 'b-1', memberId: m.memberId }), 400],
      [await commit(m.welcome, 'b-1'), 409],
    ] as const) {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(JSON.stringify(await memberItems(m.memberId))).toBe(before);
  });
});
