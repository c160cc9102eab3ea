import type { PlanCatalog } from '../domain/catalog';
import { evaluateMembership } from '../domain/membership';
import { consentHistory } from '../domain/shopper';
import { problems } from '../http/problem';
import type { MembershipRepository } from '../storage/membership-repository';
import type { DynamoShopperRepository } from '../storage/shopper-repository';

/**
 * Everything stored about one member, for the operator: membership (as stored, with its status now),
 * grants, savings, the Stripe customer link and every consent record, accepted or only presented.
 */
export async function getMemberForAdmin(
  deps: {
    catalog: PlanCatalog;
    memberships: Pick<MembershipRepository, 'getEntitlementData'>;
    shoppers: Pick<DynamoShopperRepository, 'getSavings' | 'listConsents' | 'listConsentAcceptances' | 'getStripeCustomerId'>;
  },
  memberId: string,
  now: Date,
) {
  const [{ record, grants }, savings, presented, accepted, linkedCustomerId] = await Promise.all([
    deps.memberships.getEntitlementData(memberId),
    deps.shoppers.getSavings(memberId),
    deps.shoppers.listConsents(memberId),
    deps.shoppers.listConsentAcceptances(memberId),
    deps.shoppers.getStripeCustomerId(memberId),
  ]);
  const { consents, completedWithoutConsent } = consentHistory(presented, accepted);
  if (!record && grants.length === 0 && !savings && consents.length === 0 && !linkedCustomerId) {
    throw problems.notFound('Nothing is stored for this member.');
  }
  const view = evaluateMembership(record, deps.catalog, now);
  return {
    memberId,
    status: view.status,
    entitled: view.entitled,
    membership: record,
    stripeCustomerId: record?.customerId ?? linkedCustomerId,
    grants,
    savings,
    /** Each presentation, `status: accepted` (with `acceptedAt`) once its session was completed. */
    consents,
    /** Completed sessions we never presented (made elsewhere): no proof of their terms here. */
    completedWithoutConsent,
  };
}
