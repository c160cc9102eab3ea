import type { Plan } from './catalog';
import { activeHold, type IssuedGrant } from './grants';
import type { MembershipView } from './membership';

export interface OrderContext {
  subtotalCents: number;
  currency: string;
  serviceLevel?: string | undefined;
  /** The order asking: a code this order holds is still usable by it (and by no other order). */
  orderId?: string | undefined;
}

export type FreeShippingReason = 'not_entitled' | 'service_level_not_covered' | 'below_min_subtotal' | 'household_role' | null;

export interface Entitlement {
  memberId: string;
  entitled: boolean;
  status: MembershipView['status'];
  planId: string | null;
  currentPeriodEnd: string | null;
  graceEndsAt: string | null;
  benefits: {
    freeShipping: { eligible: boolean; serviceLevels: string[]; reason: FreeShippingReason };
    memberDiscountBps: number;
    coupons: Array<{
      code: string;
      amountOffCents: number;
      currency: string;
      minSubtotalCents: number;
      expiresAt: string;
      applicable: boolean;
    }>;
    shippingVouchers: Array<{ code: string; serviceLevel: string; expiresAt: string; applicable: boolean }>;
  };
  /** A household member answered from the owner's membership (domain/household.ts). */
  via?: { ownerMemberId: string; role: 'adult' | 'teen' | 'child' };
}

export type GrantRejection =
  | 'not_entitled'
  | 'expired'
  | 'wrong_currency'
  | 'below_min_subtotal'
  | 'service_level_mismatch'
  | 'not_open'
  | 'held';

/**
 * Why a grant cannot be used on this order, or null if it can. The single rule used to list
 * `applicable` codes at checkout, to price a quote, and to refuse a hold or a redeem. A code another
 * order holds is not usable until that hold lapses or is released.
 */
export function grantRejection(grant: IssuedGrant, entitled: boolean, now: Date, order?: OrderContext): GrantRejection | null {
  return grantRejectionAt(grant, entitled, now.toISOString(), order);
}

/** `grantRejection` with the clock as an ISO string, for callers that judge many grants at one instant. */
export function grantRejectionAt(grant: IssuedGrant, entitled: boolean, nowIso: string, order?: OrderContext): GrantRejection | null {
  if (!entitled) return 'not_entitled';
  if (grant.state !== 'open') return 'not_open';
  if (nowIso >= grant.expiresAt) return 'expired';
  const hold = grant.hold ? activeHold(grant, nowIso) : null;
  if (hold && hold.orderId !== order?.orderId) return 'held';
  if (!order) return null;
  if (grant.kind === 'coupon') {
    if (grant.currency !== order.currency) return 'wrong_currency';
    if (order.subtotalCents < (grant.minSubtotalCents ?? 0)) return 'below_min_subtotal';
  } else if (order.serviceLevel !== undefined && order.serviceLevel !== grant.serviceLevel) {
    return 'service_level_mismatch';
  }
  return null;
}

/**
 * Why the plan's free shipping does not cover this order, or null when it does: the one rule for the
 * check's `freeShipping` and the quote's waived options. Without a service level, the level is not
 * judged; without an order, only entitlement is.
 */
export function freeShippingRefusal(
  entitled: boolean,
  plan: Plan | undefined,
  order?: Pick<OrderContext, 'subtotalCents' | 'serviceLevel'>,
): FreeShippingReason {
  if (!entitled || !plan) return 'not_entitled';
  const { serviceLevels, minSubtotalCents } = plan.benefits.freeShipping;
  if (order?.serviceLevel !== undefined && !serviceLevels.includes(order.serviceLevel)) return 'service_level_not_covered';
  if (order && order.subtotalCents < minSubtotalCents) return 'below_min_subtotal';
  return null;
}

/**
 * Soonest expiry first, then code. Plain code-unit comparison: ISO times and grant codes are ASCII of
 * one layout, so it orders them as `localeCompare` would, without ICU collation on every check.
 */
export const bySoonestExpiry = (a: IssuedGrant, b: IssuedGrant): number =>
  a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : a.code < b.code ? -1 : a.code > b.code ? 1 : 0;

/** Builds the checkout's answer from the membership, its plan and the member's grants. */
export function evaluateEntitlement(
  view: MembershipView,
  plan: Plan | undefined,
  grants: readonly IssuedGrant[],
  now: Date,
  order?: OrderContext,
): Entitlement {
  const entitled = view.entitled && plan !== undefined;
  const serviceLevels = plan ? [...plan.benefits.freeShipping.serviceLevels] : [];
  const reason = freeShippingRefusal(entitled, plan, order);
  const nowIso = now.toISOString();

  // Codes that can never be used again are not listed; expired-but-open ones stay visible until TTL removes them.
  const listed = grants.filter((g) => g.state === 'open').sort(bySoonestExpiry);
  return {
    memberId: view.memberId,
    entitled,
    status: view.status,
    planId: view.planId,
    currentPeriodEnd: view.currentPeriodEnd,
    graceEndsAt: view.graceEndsAt,
    benefits: {
      freeShipping: { eligible: reason === null, serviceLevels, reason },
      memberDiscountBps: entitled && plan ? plan.benefits.memberDiscountBps : 0,
      coupons: listed
        .filter((g) => g.kind === 'coupon')
        .map((g) => ({
          code: g.code,
          amountOffCents: g.amountOffCents ?? 0,
          currency: g.currency ?? '',
          minSubtotalCents: g.minSubtotalCents ?? 0,
          expiresAt: g.expiresAt,
          applicable: grantRejectionAt(g, entitled, nowIso, order) === null,
        })),
      shippingVouchers: listed
        .filter((g) => g.kind === 'shipping-voucher')
        .map((g) => ({
          code: g.code,
          serviceLevel: g.serviceLevel ?? '',
          expiresAt: g.expiresAt,
          applicable: grantRejectionAt(g, entitled, nowIso, order) === null,
        })),
    },
  };
}
