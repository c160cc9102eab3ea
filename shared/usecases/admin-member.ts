import type { PlanCatalog } from '../domain/catalog';
import type { RulesResolver } from '../domain/compliance-rules';
import { evaluateMembership } from '../domain/membership';
import { consentHistory } from '../domain/shopper';
import { NotFoundError } from '../errors';
import type { DynamoBenefitsRepository } from '../storage/benefits-repository';
import type { MembershipRepository } from '../storage/membership-repository';
import type { DynamoShopperRepository } from '../storage/shopper-repository';
import { getMemberBenefits } from './benefits';

/**
 * Everything stored about one member, for the operator: membership (as stored, with its status now),
 * grants and savings as they stand now (the same effective views as the checkout and /v1/me: a
 * refunded period's open grants read `void`, the period counter reads 0 once its period is over),
 * who redeemed and released which code for which order, each order's reported shipping saving, the
 * Stripe customer link and every consent record, accepted or only presented.
 */
export async function getMemberForAdmin(
  deps: {
    catalog: PlanCatalog;
    /** The jurisdiction rules table: which entry applies to the member. */
    rules: RulesResolver;
    memberships: Pick<MembershipRepository, 'getEntitlementData'>;
    benefits: Pick<DynamoBenefitsRepository, 'getSavings' | 'listRedemptions' | 'listUsages'>;
    shoppers: Pick<DynamoShopperRepository, 'listConsents' | 'listConsentAcceptances' | 'getStripeCustomerId'>;
  },
  memberId: string,
  now: Date,
) {
  const loaded = await deps.memberships.getEntitlementData(memberId);
  const [benefits, redemptions, usages, presented, accepted, linkedCustomerId] = await Promise.all([
    getMemberBenefits(deps, memberId, loaded),
    deps.benefits.listRedemptions(memberId),
    deps.benefits.listUsages(memberId),
    deps.shoppers.listConsents(memberId),
    deps.shoppers.listConsentAcceptances(memberId),
    deps.shoppers.getStripeCustomerId(memberId),
  ]);
  const { record, grants } = loaded;
  const { consents, completedWithoutConsent } = consentHistory(presented, accepted);
  // Savings are never written alone (always with a membership change, a redemption or a usage record).
  if (!record && grants.length === 0 && redemptions.length === 0 && usages.length === 0 && consents.length === 0 && !linkedCustomerId) {
    throw new NotFoundError('Nothing is stored for this member.');
  }
  const view = evaluateMembership(record, deps.catalog, now);
  return {
    memberId,
    status: view.status,
    entitled: view.entitled,
    membership: record,
    jurisdiction: record?.jurisdiction
      ? {
          country: record.jurisdiction.country,
          state: record.jurisdiction.state,
          source: record.jurisdiction.source,
          rules: deps.rules.rulesFor(record.jurisdiction).key,
        }
      : null,
    stripeCustomerId: record?.customerId ?? linkedCustomerId,
    grants: benefits.grants,
    savings: benefits.savings,
    redemptions: redemptions.map(({ memberId: _m, ...r }) => r),
    benefitUsages: usages.map(({ memberId: _m, ...u }) => u),
    /** Each presentation, `status: accepted` (with `acceptedAt`) once its session was completed. */
    consents,
    /** Completed sessions we never presented (made elsewhere): no proof of their terms here. */
    completedWithoutConsent,
  };
}
