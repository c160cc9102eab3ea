/** A coupon or shipping voucher issued to one member. One code, one use. */
export interface IssuedGrant {
  code: string;
  memberId: string;
  grantId: string;
  kind: 'coupon' | 'shipping-voucher';
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
}
