import type { PlanCatalog } from '../domain/catalog';
import type { Entitlement, OrderContext } from '../domain/entitlement';
import { entitlementSource, memberEntitlement } from '../domain/household';
import type { MembershipRepository } from '../storage/membership-repository';

/**
 * One Query of the member's item collection, then pure evaluation against the clock. A household
 * member's collection holds the copy of the owner's membership: still one read (docs/household.md).
 */
export async function checkEntitlement(
  deps: { catalog: PlanCatalog; memberships: Pick<MembershipRepository, 'getEntitlementData'> },
  memberId: string,
  now: Date,
  order?: OrderContext,
): Promise<Entitlement> {
  // A refunded period's unredeemed grants read void (decided from the record, see docs/benefits.md).
  const source = entitlementSource(await deps.memberships.getEntitlementData(memberId), memberId, deps.catalog, now);
  return memberEntitlement(source, now, order);
}
