import { effectiveGrants } from '../domain/benefits';
import type { PlanCatalog } from '../domain/catalog';
import { type Entitlement, evaluateEntitlement, type OrderContext } from '../domain/entitlement';
import { evaluateMembership } from '../domain/membership';
import type { MembershipRepository } from '../storage/membership-repository';

/** One Query of the member's item collection, then pure evaluation against the clock. */
export async function checkEntitlement(
  deps: { catalog: PlanCatalog; memberships: Pick<MembershipRepository, 'getEntitlementData'> },
  memberId: string,
  now: Date,
  order?: OrderContext,
): Promise<Entitlement> {
  const { record, grants } = await deps.memberships.getEntitlementData(memberId);
  const view = { ...evaluateMembership(record, deps.catalog, now), memberId };
  // A refunded period's unredeemed grants read void (decided from the record, see docs/benefits.md).
  return evaluateEntitlement(view, deps.catalog.plan(view.planId), effectiveGrants(record, grants), now, order);
}
