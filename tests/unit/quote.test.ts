import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGrants } from '#shared/domain/benefits';
import { type Plan, parseCatalog } from '#shared/domain/catalog';
import { grantRejection } from '#shared/domain/entitlement';
import type { IssuedGrant } from '#shared/domain/grants';
import type { MembershipView } from '#shared/domain/membership';
import { bestCoupon, memberDiscountCents, priceOrder } from '#shared/domain/quote';
import catalogJson from '../../config/plan-catalog.json' with { type: 'json' };

const base = parseCatalog(catalogJson).plan('prime-monthly')!;
/** The catalog's plan with a member discount (the shipped catalog has none). */
const plan: Plan = { ...base, benefits: { ...base.benefits, memberDiscountBps: 250 } };
const now = new Date('2026-03-10T12:00:00.000Z');
const view = (entitled = true): MembershipView => ({
  memberId: 'm1',
  status: entitled ? 'active' : 'lapsed',
  entitled,
  planId: plan.id,
  currentPeriodEnd: '2026-04-01T00:00:00.000Z',
  graceEndsAt: null,
  accessEndsAt: null,
});

let n = 0;
const coupon = (amountOffCents: number, over: Partial<IssuedGrant> = {}): IssuedGrant => ({
  ...buildGrants(
    { id: `c${amountOffCents}`, kind: 'coupon', amountOffCents, currency: 'usd', minSubtotalCents: 0, validDays: 30 },
    { memberId: 'm1', periodKey: 'p1', issuedAt: '2026-03-01T00:00:00.000Z', code: () => `C${String(++n).padStart(3, '0')}` },
  )[0]!,
  ...over,
});
const voucher = (serviceLevel: string, over: Partial<IssuedGrant> = {}): IssuedGrant => ({
  ...buildGrants(
    { id: `v-${serviceLevel}`, kind: 'shipping-voucher', serviceLevel, validDays: 30 },
    { memberId: 'm1', periodKey: 'p1', issuedAt: '2026-03-01T00:00:00.000Z', code: () => `V${String(++n).padStart(3, '0')}` },
  )[0]!,
  ...over,
});
const options = [
  { serviceLevel: 'standard', priceCents: 499 },
  { serviceLevel: 'two-day', priceCents: 899 },
  { serviceLevel: 'next-day', priceCents: 1999 },
];
const request = (over: object = {}) => ({ memberId: 'm1', currency: 'usd', subtotalCents: 4200, shippingOptions: options, ...over });

describe('order quote', () => {
  it('waives the plan’s free levels, the dearest other option with a voucher, and adds discount, coupon and shipping', () => {
    const grants = [coupon(500), coupon(1000, { minSubtotalCents: 3000 }), voucher('next-day')];
    const quote = priceOrder(view(), plan, grants, now, request());
    expect(quote.memberDiscountCents).toBe(105); // 2.5 % of 42.00
    expect(quote.coupon).toMatchObject({ amountOffCents: 1000, savedCents: 1000 });
    expect(quote.shippingVoucher).toMatchObject({ code: grants[2]!.code, serviceLevel: 'next-day', savedCents: 1999 });
    expect(quote.shippingOptions).toEqual([
      expect.objectContaining({ serviceLevel: 'standard', shippingWaived: true, shippingCents: 0, waivedBy: 'free_shipping' }),
      expect.objectContaining({ serviceLevel: 'two-day', shippingWaived: true, shippingCents: 0, waivedBy: 'free_shipping' }),
      expect.objectContaining({
        serviceLevel: 'next-day',
        shippingWaived: true,
        shippingCents: 0,
        waivedBy: 'shipping_voucher',
        shippingVoucherCode: grants[2]!.code,
        totalSavingsCents: 105 + 1000 + 1999,
      }),
    ]);
    expect(quote.shippingOptions[0]!.totalSavingsCents).toBe(105 + 1000 + 499);
    expect(quote.totalSavingsCents).toBe(105 + 1000 + 1999);
  });

  it('picks the coupon that saves most, capped at what the discount leaves; ties by earliest expiry, then code', () => {
    const late = coupon(800, { expiresAt: '2026-03-30T00:00:00.000Z' });
    const early = coupon(800, { expiresAt: '2026-03-20T00:00:00.000Z' });
    expect(bestCoupon([late, early, coupon(300)], 10_000)?.code).toBe(early.code);
    const sameDay = [coupon(800, { code: 'ZZZ' }), coupon(800, { code: 'AAA' })];
    expect(bestCoupon(sameDay, 10_000)?.code).toBe('AAA');
    // Both cap at 600 left of the subtotal: the soonest expiring wins although the other has the larger face value.
    const big = coupon(2000, { expiresAt: '2026-03-25T00:00:00.000Z' });
    expect(bestCoupon([big, early], 600)).toMatchObject({ code: early.code, savedCents: 600, amountOffCents: 800 });
    expect(bestCoupon([], 600)).toBeNull();
  });

  it('offers nothing to a non-member, and only what applies to this order to a member', () => {
    const grants = [coupon(500), voucher('next-day')];
    const lapsed = priceOrder(view(false), plan, grants, now, request());
    expect(lapsed).toMatchObject({ entitled: false, memberDiscountCents: 0, coupon: null, shippingVoucher: null, totalSavingsCents: 0 });
    expect(lapsed.shippingOptions.every((o) => !o.shippingWaived && o.shippingCents === o.priceCents)).toBe(true);
    // Another currency: no coupon; vouchers carry no currency; free shipping compares the subtotal as given.
    expect(priceOrder(view(), plan, grants, now, request({ currency: 'eur' })).coupon).toBeNull();
    // Another order's standing hold hides a code; the same order's does not.
    const held = coupon(700, { hold: { orderId: 'o-1', expiresAt: '2026-03-10T12:10:00.000Z' } });
    expect(priceOrder(view(), plan, [held], now, request()).coupon).toBeNull();
    expect(priceOrder(view(), plan, [held], now, request({ orderId: 'o-1' })).coupon?.code).toBe(held.code);
    expect(priceOrder(view(), plan, [held], new Date('2026-03-10T12:10:00.000Z'), request()).coupon?.code).toBe(held.code);
    // Expired or redeemed codes never price.
    const gone = [coupon(900, { expiresAt: '2026-03-10T12:00:00.000Z' }), coupon(900, { state: 'redeemed', redeemedOrderId: 'x' })];
    expect(priceOrder(view(), plan, gone, now, request()).coupon).toBeNull();
    // No options: shipping is not part of the order; the total is discount and coupon.
    expect(priceOrder(view(), plan, grants, now, request({ shippingOptions: [] }))).toMatchObject({
      shippingVoucher: null,
      totalSavingsCents: 105 + 500,
    });
  });

  it('rounds the member discount down to the minor unit', () => {
    expect(memberDiscountCents(4200, 250)).toBe(105);
    expect(memberDiscountCents(999, 250)).toBe(24); // 24.975
    expect(memberDiscountCents(1, 9_999)).toBe(0);
    expect(memberDiscountCents(100_000_000, 10_000)).toBe(100_000_000);
  });

  it('never saves more than the order costs, and picks no worse coupon than any applicable one (property)', () => {
    const grantArb = fc.oneof(
      fc
        .record({
          amount: fc.integer({ min: 1, max: 5000 }),
          min: fc.integer({ min: 0, max: 6000 }),
          days: fc.integer({ min: -3, max: 30 }),
          currency: fc.constantFrom('usd', 'eur'),
        })
        .map(({ amount, min, days, currency }) =>
          coupon(amount, {
            minSubtotalCents: min,
            currency,
            expiresAt: new Date(now.getTime() + days * 86_400_000 + 1).toISOString(),
          }),
        ),
      fc.constantFrom('standard', 'two-day', 'next-day', 'same-day').map((level) => voucher(level)),
    );
    fc.assert(
      fc.property(
        fc.array(grantArb, { maxLength: 8 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.array(
          fc.record({
            serviceLevel: fc.constantFrom('standard', 'two-day', 'next-day', 'same-day'),
            priceCents: fc.integer({ min: 0, max: 3000 }),
          }),
          { maxLength: 4 },
        ),
        fc.integer({ min: 0, max: 10_000 }),
        fc.boolean(),
        (grants, subtotalCents, shippingOptions, bps, entitled) => {
          const p: Plan = { ...plan, benefits: { ...plan.benefits, memberDiscountBps: bps } };
          const q = priceOrder(view(entitled), p, grants, now, { memberId: 'm1', currency: 'usd', subtotalCents, shippingOptions });
          const discount = q.memberDiscountCents;
          expect(discount).toBeLessThanOrEqual(subtotalCents);
          expect(discount + (q.coupon?.savedCents ?? 0)).toBeLessThanOrEqual(subtotalCents);
          const order = { subtotalCents, currency: 'usd' };
          const applicable = grants.filter((g) => g.kind === 'coupon' && grantRejection(g, entitled, now, order) === null);
          if (q.coupon) expect(applicable.map((g) => g.code)).toContain(q.coupon.code);
          for (const g of applicable)
            expect(q.coupon?.savedCents ?? -1).toBeGreaterThanOrEqual(Math.min(g.amountOffCents!, subtotalCents - discount));
          if (!entitled) expect(q).toMatchObject({ coupon: null, shippingVoucher: null, totalSavingsCents: 0 });
          for (const o of q.shippingOptions) {
            expect(o.shippingCents).toBe(o.shippingWaived ? 0 : o.priceCents);
            expect(o.totalSavingsCents).toBe(discount + (q.coupon?.savedCents ?? 0) + (o.priceCents - o.shippingCents));
            if (o.waivedBy === 'shipping_voucher') {
              const v = grants.find((g) => g.code === o.shippingVoucherCode);
              expect(v?.serviceLevel).toBe(o.serviceLevel);
            }
          }
          expect(q.totalSavingsCents).toBe(
            Math.max(discount + (q.coupon?.savedCents ?? 0), ...q.shippingOptions.map((o) => o.totalSavingsCents)),
          );
          if (q.shippingVoucher) expect(q.shippingOptions.some((o) => o.shippingVoucherCode === q.shippingVoucher!.code)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
