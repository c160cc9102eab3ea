import { describe, expect, it } from 'vitest';
import { invoiceObject, signupEvents, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { creditNoteObject } from '../support/benefits';
import { memberItems } from '../support/member-items';
import { bearer } from '../support/shopper';

const api = useApi();
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const order = { subtotalCents: 4000, currency: 'usd' };
/** An order shipped next day: what the plan's `express-2` vouchers are for (a voucher needs the order's service level). */
const nextDay = { ...order, serviceLevel: 'next-day' };

const grantItems = async (memberId: string) => (await memberItems(memberId)).filter((i) => i.type === 'grant');
/** The operator's view of the member (GET /v1/admin/members/{id}): grants and savings as they stand now. */
async function adminView(memberId: string) {
  const res = await api.call('GET', `/v1/admin/members/${memberId}`, { key: KEYS.admin });
  if (res.status !== 200) throw new Error(`admin view answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}
const savings = async (memberId: string) => (await adminView(memberId)).savings;

/** A paying (no trial) member who started `daysAgo` days ago: signup and first period grants issued. */
async function payingMember(label: string, daysAgo = 1) {
  const memberId = uniqueMemberId(label);
  const start = nowSeconds() - daysAgo * DAY;
  const signup = signupEvents({ memberId, start });
  for (const e of signup.events) expect((await api.postEvent(e)).status).toBe(200);
  return { memberId, start, ...signup };
}

function renewal(
  m: { memberId: string; customer: string; subscription: string },
  periodStart: number,
  options: { id?: string; amountPaid?: number } = {},
) {
  const invoice = invoiceObject({
    id: options.id,
    customer: m.customer,
    subscription: m.subscription,
    memberId: m.memberId,
    billingReason: 'subscription_cycle',
    amountPaid: options.amountPaid,
    periodStart,
    periodEnd: periodStart + 30 * DAY,
  });
  return { invoice, event: (created = periodStart + 60) => stripeEvent('invoice.paid', invoice, { created }) };
}

const couponCode = async (memberId: string, amount: number) => {
  const ent = await api.entitlement(memberId);
  const coupon = ent.benefits.coupons.find((c: any) => c.amountOffCents === amount);
  if (!coupon) throw new Error(`no ${amount} coupon for ${memberId}: ${JSON.stringify(ent.benefits)}`);
  return coupon.code as string;
};

const redeem = (code: string, body: Record<string, unknown>) => api.call('POST', `/v1/coupons/${code}/redeem`, { body });
const release = (code: string, body: Record<string, unknown>) => api.call('POST', `/v1/coupons/${code}/release`, { body });

describe('grant issuance', () => {
  it('issues signup and period grants from the catalog with unguessable codes bound to the member', async () => {
    const m = await payingMember('issue');
    const ent = await api.entitlement(m.memberId, order);
    expect(ent.benefits.coupons.map((c: any) => c.amountOffCents).sort()).toEqual([1000, 500]);
    expect(ent.benefits.shippingVouchers).toHaveLength(2);
    expect(ent.benefits.shippingVouchers.every((v: any) => v.serviceLevel === 'next-day' && v.applicable)).toBe(true);
    const codes = [...ent.benefits.coupons, ...ent.benefits.shippingVouchers].map((g: any) => g.code);
    expect(new Set(codes).size).toBe(4);
    for (const code of codes)
      expect(code).toMatch(/^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{5}$/);
    const items = await memberItems(m.memberId);
    const grants = items.filter((i) => i.type === 'grant');
    expect(grants.every((g) => g.lookupPk === `CODE#${g.grant.code}` && g.grant.memberId === m.memberId)).toBe(true);
    // Expired codes stay visible (not applicable) for 30 days, then DynamoDB's TTL removes them.
    for (const g of grants) expect(g.ttl, g.grant.grantId).toBe(Date.parse(g.grant.expiresAt) / 1000 + 30 * DAY);
    expect(
      items
        .filter((i) => i.type === 'grant-issuance')
        .map((i) => i.grantId)
        .sort(),
    ).toEqual(['express-2', 'monthly-5', 'welcome-10']);
    expect((await savings(m.memberId)).feesPaidCents).toBe(1499);
  });

  it('issues exactly once per period under duplicate, concurrent and reordered invoice.paid', async () => {
    const m = await payingMember('dupes');
    const next = renewal(m, m.start + 30 * DAY);
    const later = renewal(m, m.start + 60 * DAY);
    // Different event ids for one invoice (invoice.paid and a redelivery as a new event), concurrently.
    // Distinct events never wait on each other's idempotency record: each must be applied (200), not deferred.
    const deliveries = await Promise.all(Array.from({ length: 8 }, (_, i) => api.postEvent(next.event(m.start + 30 * DAY + 60 + i))));
    expect(deliveries.map((r) => r.status)).toEqual(Array(8).fill(200));
    // The later period arrives before a repeat of the earlier one.
    expect((await api.postEvent(later.event())).status).toBe(200);
    expect((await api.postEvent(next.event(m.start + 40 * DAY))).status).toBe(200);
    for (const e of m.events) expect((await api.postEvent(e)).status).toBe(200);
    const grants = await grantItems(m.memberId);
    const byPeriod = new Map<string, number>();
    for (const g of grants)
      byPeriod.set(`${g.grant.periodKey}|${g.grant.grantId}`, (byPeriod.get(`${g.grant.periodKey}|${g.grant.grantId}`) ?? 0) + 1);
    expect(grants).toHaveLength(1 + 3 * 3);
    expect([...byPeriod.values()].sort()).toEqual([1, 1, 1, 1, 2, 2, 2]);
    expect((await savings(m.memberId)).feesPaidCents).toBe(3 * 1499);
  });

  it('issues the grants of a renewal paid from the credit balance (amount_paid 0) and counts it as fees paid', async () => {
    const m = await payingMember('balance', 31);
    const next = renewal(m, m.start + 30 * DAY);
    Object.assign(next.invoice, { amount_paid: 0, amount_remaining: 0, starting_balance: -1499, ending_balance: 0 });
    expect((await api.postEvent(next.event())).status).toBe(200);
    const period = `${m.subscription}@${new Date((m.start + 30 * DAY) * 1000).toISOString()}`;
    const grants = (await grantItems(m.memberId)).filter((g) => g.grant.periodKey === period);
    expect(grants.map((g) => g.grant.grantId).sort()).toEqual(['express-2', 'express-2', 'monthly-5']);
    expect((await savings(m.memberId)).feesPaidCents).toBe(2 * 1499);
  });

  it('gives a trial the signup grants only, and a re-subscribing member no second signup grant', async () => {
    const memberId = uniqueMemberId('trial');
    const start = nowSeconds() - DAY;
    const trial = signupEvents({ memberId, start, trialDays: 30 });
    for (const e of trial.events) expect((await api.postEvent(e)).status).toBe(200);
    let grants = await grantItems(memberId);
    expect(grants.map((g) => g.grant.grantId)).toEqual(['welcome-10']);
    expect((await savings(memberId)).feesPaidCents).toBe(0);

    const again = signupEvents({ memberId, start: start + 3600, customer: trial.customer });
    for (const e of again.events) expect((await api.postEvent(e)).status).toBe(200);
    grants = await grantItems(memberId);
    expect(grants.filter((g) => g.grant.grantId === 'welcome-10')).toHaveLength(1);
    expect(grants.filter((g) => g.grant.periodKey.startsWith(again.subscription))).toHaveLength(3);
  });

  it('voids the unredeemed grants of a refunded period, also when the refund arrives first', async () => {
    const m = await payingMember('refund');
    const first = await api.entitlement(m.memberId, order);
    const monthly = first.benefits.coupons.find((c: any) => c.amountOffCents === 500).code;
    expect((await redeem(monthly, { memberId: m.memberId, orderId: 'o-refund-1', ...order })).status).toBe(200);
    const firstInvoice = m.events[2]!.data.object;
    const note = creditNoteObject({ invoice: firstInvoice.id, customer: m.customer });
    expect((await api.postEvent(stripeEvent('credit_note.created', note, { created: m.start + 100 }))).status).toBe(200);
    const after = await api.entitlement(m.memberId, order);
    // Period grants left unredeemed are gone; the signup coupon is not tied to the invoice.
    expect(after.benefits.coupons.map((c: any) => c.amountOffCents)).toEqual([1000]);
    expect(after.benefits.shippingVouchers).toEqual([]);
    const view = await adminView(m.memberId);
    expect(view.grants.map((g: any) => `${g.grantId}:${g.state}`).sort()).toEqual([
      'express-2:void',
      'express-2:void',
      'monthly-5:redeemed',
      'welcome-10:open',
    ]);
    const voucher = first.benefits.shippingVouchers[0].code;
    const refused = await redeem(voucher, { memberId: m.memberId, orderId: 'o-refund-2', ...order });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as any).reason).toBe('void');

    // Refund before the renewal's invoice.paid: that period never issues.
    const next = renewal(m, m.start + 30 * DAY);
    const early = creditNoteObject({ invoice: next.invoice.id, customer: m.customer });
    expect((await api.postEvent(stripeEvent('credit_note.created', early, { created: m.start + 200 }))).status).toBe(200);
    expect((await api.postEvent(next.event())).status).toBe(200);
    expect(await grantItems(m.memberId)).toHaveLength(4);
    // Fees paid are net of refunds: two invoices paid, both refunded, each credit note counted once.
    expect((await api.postEvent(stripeEvent('credit_note.created', note, { created: m.start + 100 }))).status).toBe(200);
    expect((await savings(m.memberId)).feesPaidCents).toBe(0);
  });
});

describe('POST /v1/entitlements/check: applicable per order', () => {
  /** `applicable` of each listed code, by grant id (vouchers as `express-2`, the list in order). */
  const applicability = async (memberId: string, order: Record<string, unknown>) => {
    const ent = await api.entitlement(memberId, order);
    const byAmount: Record<number, string> = { 1000: 'welcome-10', 500: 'monthly-5' };
    return {
      coupons: Object.fromEntries(ent.benefits.coupons.map((c: any) => [byAmount[c.amountOffCents], c.applicable])),
      vouchers: ent.benefits.shippingVouchers.map((v: any) => v.applicable),
    };
  };

  it('weighs minimum subtotal, currency and service level against the order', async () => {
    const m = await payingMember('applicable');
    expect(await applicability(m.memberId, { subtotalCents: 4000, currency: 'usd' })).toEqual({
      coupons: { 'welcome-10': true, 'monthly-5': true },
      vouchers: [true, true],
    });
    // Below a coupon's minimum subtotal (welcome 30.00, monthly 25.00).
    expect((await applicability(m.memberId, { subtotalCents: 2999, currency: 'usd' })).coupons).toEqual({
      'welcome-10': false,
      'monthly-5': true,
    });
    expect((await applicability(m.memberId, { subtotalCents: 2499, currency: 'usd' })).coupons).toEqual({
      'welcome-10': false,
      'monthly-5': false,
    });
    // Another currency: no coupon applies; vouchers carry no currency.
    expect(await applicability(m.memberId, { subtotalCents: 4000, currency: 'eur' })).toEqual({
      coupons: { 'welcome-10': false, 'monthly-5': false },
      vouchers: [true, true],
    });
    // A next-day voucher does not apply to a two-day order, and does to a next-day one.
    expect(await applicability(m.memberId, { subtotalCents: 4000, currency: 'usd', serviceLevel: 'two-day' })).toEqual({
      coupons: { 'welcome-10': true, 'monthly-5': true },
      vouchers: [false, false],
    });
    expect((await applicability(m.memberId, { subtotalCents: 4000, currency: 'usd', serviceLevel: 'next-day' })).vouchers).toEqual([
      true,
      true,
    ]);
  });

  it('lists expired codes as not applicable to any order, next to the valid ones', async () => {
    const m = await payingMember('applicable-old', 40);
    const renewed = subscriptionObject({
      id: m.subscription,
      customer: m.customer,
      memberId: m.memberId,
      periodStart: m.start + 30 * DAY,
      startDate: m.start,
    });
    expect((await api.postEvent(stripeEvent('customer.subscription.updated', renewed, { created: m.start + 30 * DAY }))).status).toBe(200);
    expect((await api.postEvent(renewal(m, m.start + 30 * DAY).event())).status).toBe(200);
    const ent = await api.entitlement(m.memberId, { subtotalCents: 10000, currency: 'usd', serviceLevel: 'next-day' });
    expect(ent.entitled).toBe(true);
    const listed = [...ent.benefits.coupons, ...ent.benefits.shippingVouchers];
    const now = new Date().toISOString();
    const expired = listed.filter((c: any) => c.expiresAt <= now);
    const valid = listed.filter((c: any) => c.expiresAt > now);
    expect([expired.length, valid.length]).toEqual([4, 3]);
    expect(expired.every((c: any) => c.applicable === false)).toBe(true);
    expect(valid.every((c: any) => c.applicable === true)).toBe(true);
  });
});

describe('POST /v1/coupons/{code}/redeem and /release', () => {
  it('redeems once: same order gets the same 200, another order 409, savings counted once', async () => {
    const m = await payingMember('redeem');
    const code = await couponCode(m.memberId, 500);
    const body = { memberId: m.memberId, orderId: 'order-a', ...order };
    const first = await redeem(code, body);
    expect(first.status).toBe(200);
    const answer = (await first.json()) as any;
    expect(answer).toEqual({ code, status: 'redeemed', orderId: 'order-a', amountOffCents: 500, currency: 'usd' });
    const repeat = await redeem(code.toLowerCase(), body);
    expect(repeat.status).toBe(200);
    expect((await repeat.json()) as any).toEqual(answer);
    const other = await redeem(code, { ...body, orderId: 'order-b' });
    expect(other.status).toBe(409);
    expect(other.headers.get('content-type')).toBe('application/problem+json');
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 500, lifetimeSavedCents: 500, feesPaidCents: 1499 });
    const ent = await api.entitlement(m.memberId, order);
    expect(ent.benefits.coupons.map((c: any) => c.code)).not.toContain(code);
  });

  it('lets exactly one of 50 concurrent orders win a code, decided by the grant condition alone', async () => {
    const m = await payingMember('race');
    // Counters already in the current period: each racer's savings write is a plain same-period ADD
    // with nothing to conflict on, and a voucher's redeem writes no savings at all. Only the grant's
    // `state = open` condition stands between the racers.
    expect(
      (
        await api.call('POST', '/v1/benefit-usage', {
          body: { memberId: m.memberId, orderId: 'race-seed', shippingSavedCents: 100, currency: 'usd' },
        })
      ).status,
    ).toBe(200);
    expect((await savings(m.memberId)).periodSavedCents).toBe(100);
    const coupon = await couponCode(m.memberId, 1000);
    const voucher = (await api.entitlement(m.memberId)).benefits.shippingVouchers[0].code as string;
    for (const code of [coupon, voucher]) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          redeem(code, { memberId: m.memberId, orderId: `race-${i}`, ...nextDay }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as any,
          })),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(
        statuses.filter((s) => s === 200),
        code,
      ).toHaveLength(1);
      expect(
        statuses.filter((s) => s === 409),
        code,
      ).toHaveLength(49);
      const winner = results.find((r) => r.status === 200)!.body.orderId;
      const records = (await memberItems(m.memberId)).filter((i) => i.type === 'grant-redemption' && i.code === code);
      expect(records.map((r) => [r.action, r.orderId])).toEqual([['redeem', winner]]);
      expect((await grantItems(m.memberId)).find((g) => g.grant.code === code)!.grant.redeemedOrderId).toBe(winner);
    }
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 1100, lifetimeSavedCents: 1100 });
  });

  it('releases a code for the order that holds it, records it, and lets another order use it', async () => {
    const m = await payingMember('release');
    const code = await couponCode(m.memberId, 500);
    expect((await redeem(code, { memberId: m.memberId, orderId: 'rel-1', ...order })).status).toBe(200);
    expect((await release(code, { orderId: 'rel-2' })).status).toBe(409);
    const released = await release(code, { orderId: 'rel-1' });
    expect(released.status).toBe(200);
    expect((await released.json()) as any).toEqual({ code, status: 'open', orderId: 'rel-1' });
    expect((await release(code, { orderId: 'rel-1' })).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 0, lifetimeSavedCents: 0 });
    expect((await redeem(code, { memberId: m.memberId, orderId: 'rel-3', ...order })).status).toBe(200);
    const records = (await memberItems(m.memberId)).filter((i) => i.type === 'grant-redemption').sort((a, b) => a.at.localeCompare(b.at));
    expect(records.map((r) => `${r.action}:${r.orderId}`)).toEqual(['redeem:rel-1', 'release:rel-1', 'redeem:rel-3']);
    expect((await savings(m.memberId)).lifetimeSavedCents).toBe(500);
    expect((await release('ZZZZ-ZZZZ-ZZZZ-ZZZZZ', { orderId: 'rel-1' })).status).toBe(404);
  });

  it('answers bad input with problem+json and changes nothing', async () => {
    const m = await payingMember('bad');
    const other = await payingMember('other');
    const old = await payingMember('old', 40); // signup coupon issued 40 days ago, valid 30
    const renewed = subscriptionObject({
      id: old.subscription,
      customer: old.customer,
      memberId: old.memberId,
      periodStart: old.start + 30 * DAY,
    });
    expect((await api.postEvent(stripeEvent('customer.subscription.updated', renewed, { created: old.start + 30 * DAY }))).status).toBe(
      200,
    );
    const code = await couponCode(m.memberId, 500);
    const welcome = await couponCode(m.memberId, 1000);
    const otherCode = await couponCode(other.memberId, 500);
    const expired = (await grantItems(old.memberId)).find((g) => g.grant.grantId === 'welcome-10')!.grant.code;
    const before = JSON.stringify([await memberItems(m.memberId), await memberItems(other.memberId), await memberItems(old.memberId)]);
    const ok = { memberId: m.memberId, orderId: 'bad-1', ...order };
    const cases: Array<[string, string, unknown, number, string?]> = [
      ['unknown code', 'ZZZZ-ZZZZ-ZZZZ-ZZZZZ', ok, 404],
      ['not a code', 'hello', ok, 404],
      ["another member's code", otherCode, ok, 422, 'not_member_code'],
      ['expired', expired, { ...ok, memberId: old.memberId }, 422, 'expired'],
      ['below minimum', welcome, { ...ok, subtotalCents: 2999 }, 422, 'below_min_subtotal'],
      ['wrong currency', code, { ...ok, currency: 'eur' }, 422, 'wrong_currency'],
      ['negative cents', code, { ...ok, subtotalCents: -1 }, 400],
      ['fractional cents', code, { ...ok, subtotalCents: 10.5 }, 400],
      ['unknown field', code, { ...ok, coupon: 'x' }, 400],
      ['missing orderId', code, { memberId: m.memberId, subtotalCents: 4000, currency: 'usd' }, 400],
      ['malformed JSON', code, '{"memberId":', 400],
    ];
    for (const [label, c, body, status, reason] of cases) {
      const res = await redeem(c, body as Record<string, unknown>);
      expect(res.status, label).toBe(status);
      expect(res.headers.get('content-type'), label).toBe('application/problem+json');
      const problem = (await res.json()) as any;
      expect(problem.status, label).toBe(status);
      if (reason) expect(problem.reason, label).toBe(reason);
    }
    const noKey = await api.call('POST', `/v1/coupons/${code}/redeem`, { key: null, body: ok });
    expect(noKey.status).toBe(401);
    const wrongRole = await api.call('POST', `/v1/coupons/${code}/redeem`, { key: KEYS.finance, body: ok });
    expect(wrongRole.status).toBe(403);
    expect((await release(code, { orderId: 'bad-1', extra: 1 })).status).toBe(400);
    expect(JSON.stringify([await memberItems(m.memberId), await memberItems(other.memberId), await memberItems(old.memberId)])).toBe(
      before,
    );
  });

  it('refuses a lapsed member with not_entitled but keeps the codes visible', async () => {
    const m = await payingMember('lapsed');
    const code = await couponCode(m.memberId, 500);
    const ended = subscriptionObject({
      id: m.subscription,
      customer: m.customer,
      memberId: m.memberId,
      status: 'canceled',
      periodStart: m.start,
      endedAt: nowSeconds() - 60,
      canceledAt: nowSeconds() - 60,
    });
    expect((await api.postEvent(stripeEvent('customer.subscription.deleted', ended, { created: nowSeconds() - 60 }))).status).toBe(200);
    const ent = await api.entitlement(m.memberId, order);
    expect(ent.status).toBe('lapsed');
    expect(ent.benefits.coupons.find((c: any) => c.code === code)).toMatchObject({ applicable: false });
    const res = await redeem(code, { memberId: m.memberId, orderId: 'lapsed-1', ...order });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).reason).toBe('not_entitled');
  });
});

describe('POST /v1/benefit-usage', () => {
  it('adds shipping savings once per orderId, next to fees paid', async () => {
    const m = await payingMember('usage');
    const body = { memberId: m.memberId, orderId: 'ship-1', shippingSavedCents: 899, currency: 'usd' };
    const first = await api.call('POST', '/v1/benefit-usage', { body });
    expect(first.status).toBe(200);
    const answer = (await first.json()) as any;
    expect(answer).toMatchObject({ memberId: m.memberId, orderId: 'ship-1', shippingSavedCents: 899, currency: 'usd' });
    const again = await Promise.all(Array.from({ length: 5 }, () => api.call('POST', '/v1/benefit-usage', { body })));
    for (const r of again) {
      expect(r.status).toBe(200);
      expect((await r.json()) as any).toEqual(answer);
    }
    expect((await api.call('POST', '/v1/benefit-usage', { body: { ...body, orderId: 'ship-2', shippingSavedCents: 101 } })).status).toBe(
      200,
    );
    expect(await savings(m.memberId)).toMatchObject({
      periodSavedCents: 1000,
      lifetimeSavedCents: 1000,
      feesPaidCents: 1499,
      currency: 'usd',
    });
  });

  it("takes a cancelled order's shipping saving back with the release of its code, once", async () => {
    const m = await payingMember('usage-release');
    const ent = await api.entitlement(m.memberId, order);
    const [voucher, otherVoucher] = ent.benefits.shippingVouchers.map((v: any) => v.code as string);
    const coupon = await couponCode(m.memberId, 500);
    const usage = (orderId: string, shippingSavedCents: number) =>
      api.call('POST', '/v1/benefit-usage', { body: { memberId: m.memberId, orderId, shippingSavedCents, currency: 'usd' } });

    expect((await redeem(voucher, { memberId: m.memberId, orderId: 'cx-1', ...nextDay })).status).toBe(200);
    expect((await usage('cx-1', 899)).status).toBe(200);
    expect((await usage('kept-1', 300)).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 1199, lifetimeSavedCents: 1199 });

    expect((await release(voucher, { orderId: 'cx-1' })).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 300, lifetimeSavedCents: 300 });
    // Repeating the release or the usage report changes nothing: the saving was taken back once.
    expect((await release(voucher, { orderId: 'cx-1' })).status).toBe(200);
    expect((await usage('cx-1', 899)).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 300, lifetimeSavedCents: 300 });
    const record = (await memberItems(m.memberId)).find((i) => i.type === 'benefit-usage' && i.orderId === 'cx-1')!;
    expect(record).toMatchObject({ shippingSavedCents: 899, reversedByCode: voucher, reversedAt: expect.any(String) });

    // One order with a coupon and a voucher: the first release takes the shipping back, the second only its coupon.
    expect((await redeem(coupon, { memberId: m.memberId, orderId: 'cx-2', ...order })).status).toBe(200);
    expect((await redeem(otherVoucher, { memberId: m.memberId, orderId: 'cx-2', ...nextDay })).status).toBe(200);
    expect((await usage('cx-2', 600)).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 1400, lifetimeSavedCents: 1400 });
    expect((await release(coupon, { orderId: 'cx-2' })).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 300, lifetimeSavedCents: 300 });
    expect((await release(otherVoucher, { orderId: 'cx-2' })).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 300, lifetimeSavedCents: 300 });
  });

  it('rejects bad usage reports and changes nothing', async () => {
    const m = await payingMember('usage-bad');
    const ok = { memberId: m.memberId, orderId: 'u-1', shippingSavedCents: 500, currency: 'usd' };
    expect((await api.call('POST', '/v1/benefit-usage', { body: ok })).status).toBe(200);
    const before = JSON.stringify(await memberItems(m.memberId));
    const cases: Array<[unknown, number, string?]> = [
      [{ ...ok, orderId: 'u-2', shippingSavedCents: -5 }, 400],
      [{ ...ok, orderId: 'u-2', shippingSavedCents: 1.5 }, 400],
      [{ ...ok, orderId: 'u-2', shippingSavedCents: '5' }, 400],
      [{ ...ok, orderId: 'u-2', currency: 'USD' }, 400],
      [{ ...ok, orderId: 'u-2', currency: 'eur' }, 422, 'wrong_currency'],
      [{ ...ok, orderId: 'u-2', tip: 1 }, 400],
      [{ ...ok, shippingSavedCents: 600 }, 409],
      [{ ...ok, memberId: uniqueMemberId('nobody'), orderId: 'u-3' }, 404],
    ];
    for (const [body, status, reason] of cases) {
      const res = await api.call('POST', '/v1/benefit-usage', { body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      if (reason) expect(((await res.json()) as any).reason).toBe(reason);
    }
    expect(JSON.stringify(await memberItems(m.memberId))).toBe(before);
  });

  it('resets the period counter when a new billing period starts, keeping the lifetime total', async () => {
    const m = await payingMember('period', 31);
    expect(
      (
        await api.call('POST', '/v1/benefit-usage', {
          body: { memberId: m.memberId, orderId: 'p-1', shippingSavedCents: 300, currency: 'usd' },
        })
      ).status,
    ).toBe(200);
    const renewed = subscriptionObject({ id: m.subscription, customer: m.customer, memberId: m.memberId, periodStart: m.start + 30 * DAY });
    expect((await api.postEvent(stripeEvent('customer.subscription.updated', renewed, { created: m.start + 30 * DAY }))).status).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 0, lifetimeSavedCents: 300 });
    expect(
      (
        await api.call('POST', '/v1/benefit-usage', {
          body: { memberId: m.memberId, orderId: 'p-2', shippingSavedCents: 200, currency: 'usd' },
        })
      ).status,
    ).toBe(200);
    expect(await savings(m.memberId)).toMatchObject({ periodSavedCents: 200, lifetimeSavedCents: 500 });
  });
});

describe('GET /v1/admin/members/{id}: benefits as they stand, with their records', () => {
  it('shows refunded-period grants void, the period counter rolled over, and who redeemed, released and saved what', async () => {
    const m = await payingMember('admin', 2);
    const welcome = await couponCode(m.memberId, 1000);
    const monthly = await couponCode(m.memberId, 500);
    expect((await redeem(welcome, { memberId: m.memberId, orderId: 'adm-1', ...order })).status).toBe(200);
    expect(
      (
        await api.call('POST', '/v1/benefit-usage', {
          body: { memberId: m.memberId, orderId: 'adm-1', shippingSavedCents: 300, currency: 'usd' },
        })
      ).status,
    ).toBe(200);
    expect((await redeem(monthly, { memberId: m.memberId, orderId: 'adm-2', ...order })).status).toBe(200);
    expect((await release(monthly, { orderId: 'adm-2' })).status).toBe(200);
    // The first period's invoice is refunded, then the billing cycle restarts (a new period begins).
    const note = creditNoteObject({ invoice: m.events[2]!.data.object.id, customer: m.customer });
    expect((await api.postEvent(stripeEvent('credit_note.created', note, { created: m.start + 100 }))).status).toBe(200);
    const restarted = subscriptionObject({
      id: m.subscription,
      customer: m.customer,
      memberId: m.memberId,
      periodStart: m.start + DAY,
      startDate: m.start,
    });
    expect((await api.postEvent(stripeEvent('customer.subscription.updated', restarted, { created: m.start + DAY }))).status).toBe(200);

    const view = await adminView(m.memberId);
    expect(view.grants.map((g: any) => `${g.grantId}:${g.state}`).sort()).toEqual([
      'express-2:void',
      'express-2:void',
      'monthly-5:void',
      'welcome-10:redeemed',
    ]);
    expect(view.savings).toMatchObject({
      periodKey: `${m.subscription}@${new Date((m.start + DAY) * 1000).toISOString()}`,
      periodSavedCents: 0,
      lifetimeSavedCents: 1300,
      feesPaidCents: 0,
    });
    const firstPeriod = `${m.subscription}@${new Date(m.start * 1000).toISOString()}`;
    expect(view.redemptions.map((r: any) => [r.code, r.action, r.orderId, r.savedCents, r.periodKey])).toEqual([
      [welcome, 'redeem', 'adm-1', 1000, firstPeriod],
      [monthly, 'redeem', 'adm-2', 500, firstPeriod],
      [monthly, 'release', 'adm-2', -500, firstPeriod],
    ]);
    expect(view.redemptions.every((r: any) => !Number.isNaN(Date.parse(r.at)))).toBe(true);
    expect(view.benefitUsages).toEqual([
      {
        orderId: 'adm-1',
        shippingSavedCents: 300,
        currency: 'usd',
        at: expect.any(String),
        periodKey: firstPeriod,
        reversedAt: null,
        reversedByCode: null,
      },
    ]);
  });
});

describe('GET /v1/me/membership: codes and savings', () => {
  const me = async (memberId: string) => {
    const res = await api.call('GET', '/v1/me/membership', { key: null, headers: await bearer(memberId) });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, any>;
  };

  it('lists only usable codes: not expired, not void through a refund, not redeemed', async () => {
    const m = await payingMember('me-codes', 40); // signup and first-period codes have expired
    const second = renewal(m, m.start + 30 * DAY);
    expect((await api.postEvent(second.event())).status).toBe(200);
    const refund = creditNoteObject({ invoice: second.invoice.id, customer: m.customer });
    expect((await api.postEvent(stripeEvent('credit_note.created', refund, { created: m.start + 31 * DAY }))).status).toBe(200);
    // The billing cycle restarts yesterday: that period's codes are the usable ones.
    const thirdStart = nowSeconds() - DAY;
    const current = subscriptionObject({
      id: m.subscription,
      customer: m.customer,
      memberId: m.memberId,
      periodStart: thirdStart,
      startDate: m.start,
    });
    expect((await api.postEvent(stripeEvent('customer.subscription.updated', current, { created: thirdStart }))).status).toBe(200);
    expect((await api.postEvent(renewal(m, thirdStart).event())).status).toBe(200);
    const thirdPeriod = `${m.subscription}@${new Date(thirdStart * 1000).toISOString()}`;
    const usable = (await grantItems(m.memberId)).filter((g) => g.grant.periodKey === thirdPeriod).map((g) => g.grant);
    const [used, ...rest] = usable.filter((g) => g.kind === 'shipping-voucher');
    expect((await redeem(used.code, { memberId: m.memberId, orderId: 'me-codes-1', ...nextDay })).status).toBe(200);

    const view = await me(m.memberId);
    expect(view.status).toBe('active');
    expect(view.coupons.map((c: any) => c.code)).toEqual(usable.filter((g) => g.kind === 'coupon').map((g) => g.code));
    expect(view.shippingVouchers.map((v: any) => v.code)).toEqual(rest.map((g) => g.code));
    expect([...view.coupons, ...view.shippingVouchers].every((c: any) => c.applicable)).toBe(true);
    // The checkout still lists the expired ones, as not applicable; the void ones nowhere.
    const ent = await api.entitlement(m.memberId);
    expect(ent.benefits.coupons.filter((c: any) => !c.applicable)).toHaveLength(2);
    expect(ent.benefits.shippingVouchers.filter((v: any) => !v.applicable)).toHaveLength(2);
  });

  it('shows savings made through real redeems, releases and usage reports, the period counter rolling over', async () => {
    const m = await payingMember('me-savings', 2);
    const welcome = await couponCode(m.memberId, 1000);
    const monthly = await couponCode(m.memberId, 500);
    const usage = (orderId: string, shippingSavedCents: number) =>
      api.call('POST', '/v1/benefit-usage', { body: { memberId: m.memberId, orderId, shippingSavedCents, currency: 'usd' } });
    expect((await redeem(welcome, { memberId: m.memberId, orderId: 'ms-1', ...order })).status).toBe(200);
    expect((await usage('ms-2', 899)).status).toBe(200);
    expect((await redeem(monthly, { memberId: m.memberId, orderId: 'ms-3', ...order })).status).toBe(200);
    expect((await release(monthly, { orderId: 'ms-3' })).status).toBe(200);
    expect((await me(m.memberId)).savings).toEqual({ periodCents: 1899, lifetimeCents: 1899, feesPaidCents: 1499, currency: 'usd' });

    const restarted = subscriptionObject({
      id: m.subscription,
      customer: m.customer,
      memberId: m.memberId,
      periodStart: m.start + DAY,
      startDate: m.start,
    });
    expect((await api.postEvent(stripeEvent('customer.subscription.updated', restarted, { created: m.start + DAY }))).status).toBe(200);
    expect((await me(m.memberId)).savings).toEqual({ periodCents: 0, lifetimeCents: 1899, feesPaidCents: 1499, currency: 'usd' });
    expect((await usage('ms-4', 250)).status).toBe(200);
    expect((await me(m.memberId)).savings).toEqual({ periodCents: 250, lifetimeCents: 2149, feesPaidCents: 1499, currency: 'usd' });
  });
});

describe('OpenAPI', () => {
  it('documents the benefit routes', async () => {
    const doc = (await (await api.call('GET', '/openapi.json', { key: null })).json()) as any;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/coupons/{code}/redeem', '/v1/coupons/{code}/release', '/v1/benefit-usage']),
    );
  });
});
