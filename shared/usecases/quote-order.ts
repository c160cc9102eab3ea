import { effectiveGrants } from '../domain/benefits';
import type { PlanCatalog } from '../domain/catalog';
import { evaluateMembership } from '../domain/membership';
import { priceOrder, type Quote, type QuoteRequest } from '../domain/quote';
import type { MembershipRepository } from '../storage/membership-repository';

/** The same one Query as the entitlement check, then pure pricing against the clock. */
export async function quoteOrder(
  deps: { catalog: PlanCatalog; memberships: Pick<MembershipRepository, 'getEntitlementData'> },
  request: QuoteRequest,
  now: Date,
): Promise<Quote> {
  const { record, grants } = await deps.memberships.getEntitlementData(request.memberId);
  const view = { ...evaluateMembership(record, deps.catalog, now), memberId: request.memberId };
  return priceOrder(view, deps.catalog.plan(view.planId), effectiveGrants(record, grants), now, request);
}
