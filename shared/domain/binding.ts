/**
 * Which member a Stripe object belongs to. A memberId is bound to a Stripe customer only by facts this
 * service wrote itself: a link already stored (`CUSTOMER#<id>`, written when we create the member's
 * customer, before any payment), or our own metadata on the object (`metadata.memberId` on the
 * Checkout Sessions and subscriptions we create) for a member who has no customer yet. Anything a
 * buyer can type, above all Checkout's `client_reference_id` (a Payment Link takes it from its URL),
 * names a member but binds nothing: such an event is refused, answered 200, counted and listed for
 * review, and never changes the member's email, customer or entitlement.
 */

/** Where an object says whose it is. `metadata` is set by API callers (us); the rest by anyone. */
export type ClaimSource = 'metadata' | 'client_reference_id';

export interface MemberClaim {
  memberId: string;
  source: ClaimSource;
}

export interface BindingFacts {
  /** The member the object names, if any. */
  claim: MemberClaim | null;
  /** The object's Stripe customer (a subscription-mode checkout always has one). */
  customerId: string | null;
  /** The member the stored `CUSTOMER#<customerId>` link names. */
  linkedMemberId: string | null;
  /**
   * The Stripe customers already stored for the claimed member (the one we created, the one its
   * membership follows). Only needed when the customer is linked to nobody.
   */
  memberCustomerIds: readonly string[];
}

export const BINDING_REFUSALS = ['claim_without_our_metadata', 'customer_of_another_member', 'member_has_another_customer'] as const;
export type BindingRefusal = (typeof BINDING_REFUSALS)[number];

export type Binding =
  /** Apply to `memberId`; `newLink` when this is the fact that links the customer to the member. */
  | { kind: 'member'; memberId: string; newLink: boolean }
  /** Names no member and its customer is linked to none: not a membership of ours. */
  | { kind: 'unattributed' }
  | { kind: 'refused'; claimedMemberId: string; reason: BindingRefusal; linkedMemberId: string | null };

/** Decides whose the object is; see the module comment. Pure: the caller reads the stored facts. */
export function bindingFor(facts: BindingFacts): Binding {
  const { claim, customerId, linkedMemberId } = facts;
  if (customerId !== null && linkedMemberId !== null) {
    if (claim === null || claim.memberId === linkedMemberId) return { kind: 'member', memberId: linkedMemberId, newLink: false };
    return { kind: 'refused', claimedMemberId: claim.memberId, reason: 'customer_of_another_member', linkedMemberId };
  }
  if (claim === null) return { kind: 'unattributed' };
  if (claim.source !== 'metadata') {
    return { kind: 'refused', claimedMemberId: claim.memberId, reason: 'claim_without_our_metadata', linkedMemberId: null };
  }
  // Without a customer (an invoice may name none) there is nothing to link, so nothing to take over.
  if (customerId !== null && facts.memberCustomerIds.some((id) => id !== customerId)) {
    return { kind: 'refused', claimedMemberId: claim.memberId, reason: 'member_has_another_customer', linkedMemberId: null };
  }
  return { kind: 'member', memberId: claim.memberId, newLink: customerId !== null };
}

/** Whether deciding needs the claimed member's stored customers (a read the common path skips). */
export const needsMemberCustomers = (facts: Omit<BindingFacts, 'memberCustomerIds'>): boolean =>
  facts.claim?.source === 'metadata' && facts.customerId !== null && facts.linkedMemberId === null;

/** Words for the operator, per refusal. */
export const BINDING_REFUSAL_DETAIL: Record<BindingRefusal, string> = {
  claim_without_our_metadata:
    'names the member only where a buyer can write it (client_reference_id), not in metadata this service sets: not bound',
  customer_of_another_member: 'names a member, but its Stripe customer is linked to another member: not applied',
  member_has_another_customer: 'names a member who already has another Stripe customer: not bound to this one',
};
