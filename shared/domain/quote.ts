/**
 * The price of an order's member benefits, pure: from the membership, its plan, the member's grants
 * (as the entitlement check reads them) and the clock. docs/benefits.md "Quote" states the rules.
 */
import type { Plan } from './catalog';
import { bySoonestExpiry, freeShippingRefusal, grantRejectionAt } from './entitlement';
import type { IssuedGrant } from './grants';
import type { MembershipView } from './membership';

export interface ShippingOption {
  serviceLevel: string;
  priceCents: number;
}

export interface QuoteRequest {
  memberId: string;
  currency: string;
  subtotalCents: number;
  shippingOptions: readonly ShippingOption[];
  /** The order being priced, when it already holds codes: they count as available to it. */
  orderId?: string | undefined;
}

export interface QuotedOption {
  serviceLevel: string;
  priceCents: number;
  shippingWaived: boolean;
  /** What the shopper pays for this option: 0 when waived. */
  shippingCents: number;
  waivedBy: 'free_shipping' | 'shipping_voucher' | null;
  /** The voucher to hold with this option (null when free shipping covers it, or none applies). */
  shippingVoucherCode: string | null;
  /** Member discount + coupon + this option's waived shipping. */
  totalSavingsCents: number;
}

export interface QuotedCoupon {
  code: string;
  amountOffCents: number;
  currency: string;
  minSubtotalCents: number;
  expiresAt: string;
  /** What it takes off this order: its amount, at most the subtotal left after the member discount. */
  savedCents: number;
}

export interface QuotedVoucher {
  code: string;
  serviceLevel: string;
  expiresAt: string;
  /** The shipping it waives: the price of the dearest option of its service level. */
  savedCents: number;
}

export interface Quote {
  memberId: string;
  entitled: boolean;
  status: MembershipView['status'];
  currency: string;
  subtotalCents: number;
  memberDiscountBps: number;
  memberDiscountCents: number;
  coupon: QuotedCoupon | null;
  shippingVoucher: QuotedVoucher | null;
  shippingOptions: QuotedOption[];
  /** The most this member saves on the order: member discount + coupon + the largest shipping saving among the options. */
  totalSavingsCents: number;
}

const BPS = 10_000;

/** Basis points of the subtotal, rounded down to the minor unit: the discount never exceeds its rate. */
export const memberDiscountCents = (subtotalCents: number, bps: number): number => Math.floor((subtotalCents * bps) / BPS);

/** Among codes that save the same, use the one that would lapse first (then the smallest code). */
const byExpiryThenCode = bySoonestExpiry;

/**
 * The best applicable coupon: the one that takes the most off this order (its amount, capped at what
 * the member discount leaves of the subtotal); ties by earliest expiry, then code.
 */
export function bestCoupon(coupons: readonly IssuedGrant[], remainingCents: number): QuotedCoupon | null {
  let best: IssuedGrant | null = null;
  let bestSaved = -1;
  for (const c of coupons) {
    const saved = Math.min(c.amountOffCents ?? 0, remainingCents);
    if (saved > bestSaved || (saved === bestSaved && best !== null && byExpiryThenCode(c, best) < 0)) {
      best = c;
      bestSaved = saved;
    }
  }
  if (!best) return null;
  return {
    code: best.code,
    amountOffCents: best.amountOffCents ?? 0,
    currency: best.currency ?? '',
    minSubtotalCents: best.minSubtotalCents ?? 0,
    expiresAt: best.expiresAt,
    savedCents: bestSaved,
  };
}

export function priceOrder(
  view: MembershipView,
  plan: Plan | undefined,
  grants: readonly IssuedGrant[],
  now: Date,
  request: QuoteRequest,
): Quote {
  const entitled = view.entitled && plan !== undefined;
  const order = { subtotalCents: request.subtotalCents, currency: request.currency, orderId: request.orderId };
  const bps = entitled && plan ? plan.benefits.memberDiscountBps : 0;
  const discount = memberDiscountCents(request.subtotalCents, bps);

  const coupons: IssuedGrant[] = [];
  const vouchers: IssuedGrant[] = [];
  if (entitled) {
    const nowIso = now.toISOString();
    for (const g of grants) {
      // Service level is judged per option below; everything else about the order here.
      if (grantRejectionAt(g, entitled, nowIso, order) !== null) continue;
      if (g.kind === 'coupon') coupons.push(g);
      else vouchers.push(g);
    }
  }
  const coupon = bestCoupon(coupons, request.subtotalCents - discount);
  const couponSaved = coupon?.savedCents ?? 0;

  // Vouchers of one service level are interchangeable: each level offers its soonest-expiring one.
  const voucherFor = new Map<string, IssuedGrant>();
  for (const v of [...vouchers].sort(byExpiryThenCode)) {
    if (v.serviceLevel !== null && !voucherFor.has(v.serviceLevel)) voucherFor.set(v.serviceLevel, v);
  }

  let best: { voucher: IssuedGrant; savedCents: number } | null = null;
  const shippingOptions: QuotedOption[] = [];
  for (const option of request.shippingOptions) {
    const free = freeShippingRefusal(entitled, plan, { subtotalCents: request.subtotalCents, serviceLevel: option.serviceLevel }) === null;
    const voucher = free || option.priceCents === 0 ? undefined : voucherFor.get(option.serviceLevel);
    // The order's best voucher waives the dearest option; equal prices fall back to expiry, then code.
    if (
      voucher &&
      (!best ||
        option.priceCents > best.savedCents ||
        (option.priceCents === best.savedCents && byExpiryThenCode(voucher, best.voucher) < 0))
    ) {
      best = { voucher, savedCents: option.priceCents };
    }
    const waived = free || voucher !== undefined;
    shippingOptions.push({
      serviceLevel: option.serviceLevel,
      priceCents: option.priceCents,
      shippingWaived: waived,
      shippingCents: waived ? 0 : option.priceCents,
      waivedBy: free ? 'free_shipping' : voucher ? 'shipping_voucher' : null,
      shippingVoucherCode: voucher?.code ?? null,
      totalSavingsCents: discount + couponSaved + (waived ? option.priceCents : 0),
    });
  }
  return {
    memberId: view.memberId,
    entitled,
    status: view.status,
    currency: request.currency,
    subtotalCents: request.subtotalCents,
    memberDiscountBps: bps,
    memberDiscountCents: discount,
    coupon,
    shippingVoucher: best
      ? {
          code: best.voucher.code,
          serviceLevel: best.voucher.serviceLevel ?? '',
          expiresAt: best.voucher.expiresAt,
          savedCents: best.savedCents,
        }
      : null,
    shippingOptions,
    totalSavingsCents: shippingOptions.reduce((max, o) => Math.max(max, o.totalSavingsCents), discount + couponSaved),
  };
}
