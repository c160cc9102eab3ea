/** A coupon or shipping voucher issued to one member. One code, one use. */
export interface IssuedGrant {
  code: string;
  memberId: string;
  grantId: string;
  kind: GrantKind;
  amountOffCents: number | null;
  currency: string | null;
  minSubtotalCents: number | null;
  serviceLevel: string | null;
  issuedAt: string;
  expiresAt: string;
  /** `signup`, or the subscription and period it was issued for: refunds void that period's grants. */
  periodKey: string;
  state: 'open' | 'redeemed' | 'void';
  redeemedOrderId: string | null;
  redeemedAt: string | null;
  /**
   * An order's claim on an open code while the order is being placed. It lapses by itself at
   * `expiresAt` (read against the clock, like the membership status): a lapsed hold is no hold.
   * Absent on codes never held.
   */
  hold?: GrantHold | null;
}

export type GrantKind = 'coupon' | 'shipping-voucher';

export interface GrantHold {
  orderId: string;
  expiresAt: string;
}

/** The hold that still stands at `now`, or null. */
export const activeHold = (grant: Pick<IssuedGrant, 'hold'>, nowIso: string): GrantHold | null =>
  grant.hold && nowIso < grant.hold.expiresAt ? grant.hold : null;

/**
 * An order's one coupon slot or one shipping-voucher slot: the code the order holds or redeemed in
 * that slot. Stored beside the grants and written in the same transaction as the grant's hold or
 * redemption, so two codes of one kind can never both land on one order. A held slot frees itself
 * when its hold lapses.
 */
export interface OrderSlot {
  orderId: string;
  kind: GrantKind;
  code: string;
  state: 'held' | 'redeemed';
  /** When the hold lapses; null once redeemed. */
  holdExpiresAt: string | null;
}

/** Whether `code` may take the order's slot: it is free, its own, or its hold has lapsed. */
export function slotTakenBy(slot: OrderSlot | null, code: string, nowIso: string): string | null {
  if (!slot || slot.code === code) return null;
  if (slot.state === 'held' && slot.holdExpiresAt !== null && slot.holdExpiresAt <= nowIso) return null;
  return slot.code;
}
