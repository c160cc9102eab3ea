import type { PlanCatalog } from '../domain/catalog';
import { entitlementSource } from '../domain/household';
import { priceOrder, type Quote, type QuoteRequest } from '../domain/quote';
import type { MembershipRepository } from '../storage/membership-repository';

/** The same one Query as the entitlement check (a household member's included), then pure pricing against the clock. */
export async function quoteOrder(
  deps: { catalog: PlanCatalog; memberships: Pick<MembershipRepository, 'getEntitlementData'> },
  request: QuoteRequest,
  now: Date,
): Promise<Quote> {
  const source = entitlementSource(await deps.memberships.getEntitlementData(request.memberId), request.memberId, deps.catalog, now);
  return priceOrder(source.view, source.plan, source.grants, now, request);
}
