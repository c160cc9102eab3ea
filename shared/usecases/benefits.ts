import { generateGrantCode } from '../codes';
import {
  buildGrants,
  currentSavingsPeriod,
  decideRedeem,
  decideRelease,
  effectiveGrant,
  effectiveGrants,
  issuanceDue,
  issuedAtFor,
  redeemSavingCents,
  refundedPeriods,
  reversalDeltas,
  type SavingReversal,
  type SavingsPeriod,
  savingsMove,
  savingsView,
} from '../domain/benefits';
import type { PlanCatalog } from '../domain/catalog';
import type { IssuedGrant } from '../domain/grants';
import { feesPaidCents } from '../domain/issuance';
import { evaluateMembership, type MembershipRecord } from '../domain/membership';
import type { SavingsTotals } from '../domain/savings';
import { ConflictError, NotFoundError, RejectedError, type RejectionReason } from '../errors';
import {
  type DynamoBenefitsRepository,
  failedConditions,
  issuanceMarkerPut,
  type RedemptionRecord,
  type UsageOnRelease,
} from '../storage/benefits-repository';
import { savingsRollupWrites } from '../storage/finance-rollups';
import { grantPut } from '../storage/grants';
import type { ExtraWrite, MembershipRepository } from '../storage/membership-repository';
import { feesPaidUpdate, savingsReversalUpdate, savingsUpdate } from '../storage/savings';
import type { MembershipReaction } from './ingest-stripe-event';

/**
 * Issues grants and counts fees in the membership change's own transaction. The decision comes from
 * the record (`benefits` issuance state, see trackIssuance): a duplicate or reordered `invoice.paid`
 * finds its period already taken on the re-read record and emits nothing. The marker items guard the
 * same invariant in storage: should the record and markers ever disagree, the write fails instead of
 * issuing twice.
 */
export function benefitIssuanceReaction(tableName: string, code: () => string = generateGrantCode): MembershipReaction {
  return ({ before, after, event, catalog }) => {
    const writes: ExtraWrite[] = [];
    const table = tableName;
    const memberId = after.memberId;
    const periodPlanId =
      event.kind === 'invoice-paid'
        ? (catalog.planForPrice(event.priceId)?.id ??
          after.subscriptions[event.subscriptionId]?.state.planId ??
          after.subscription?.planId ??
          null)
        : null;
    for (const due of issuanceDue(before?.benefits, after.benefits, (id) => catalog.plan(id), periodPlanId)) {
      const issuedAt = issuedAtFor(due, event);
      for (const definition of due.plan.benefits.grants) {
        if (definition.every !== due.every) continue;
        const grants = buildGrants(definition, { memberId, periodKey: due.periodKey, issuedAt, code });
        writes.push(...grants.map((g) => grantPut(table, g)));
        writes.push(
          issuanceMarkerPut(
            table,
            memberId,
            due.periodKey,
            definition.id,
            grants.map((g) => g.code),
            issuedAt,
          ),
        );
      }
    }
    const feesDelta = feesPaidCents(after.benefits) - feesPaidCents(before?.benefits);
    if (feesDelta !== 0) {
      const currency = 'currency' in event ? event.currency : null;
      writes.push(feesPaidUpdate(table, memberId, feesDelta, currency ?? after.subscription?.currency ?? 'usd'));
    }
    return writes;
  };
}

export interface BenefitsDeps {
  catalog: PlanCatalog;
  memberships: Pick<MembershipRepository, 'getEntitlementData'>;
  benefits: DynamoBenefitsRepository;
}

export type RedeemResult = { code: string; status: 'redeemed'; orderId: string } & (
  | { amountOffCents: number; currency: string }
  | { serviceLevel: string }
);

const redeemResult = (grant: IssuedGrant, orderId: string): RedeemResult =>
  grant.kind === 'coupon'
    ? { code: grant.code, status: 'redeemed', orderId, amountOffCents: grant.amountOffCents ?? 0, currency: grant.currency ?? '' }
    : { code: grant.code, status: 'redeemed', orderId, serviceLevel: grant.serviceLevel ?? '' };

const MAX_ATTEMPTS = 10;

/**
 * The member as the redeem decision needs it. A consistent read: an answer such as "already redeemed
 * by this order" must not come from a replica that has not seen the release since.
 */
async function loadMember(deps: BenefitsDeps, memberId: string, now: Date) {
  const { record, grants } = await deps.memberships.getEntitlementData(memberId, { consistent: true });
  const refunded = refundedPeriods(record);
  const view = evaluateMembership(record, deps.catalog, now);
  const entitled = view.entitled && deps.catalog.plan(view.planId) !== undefined;
  return { record, grants: grants.map((g) => effectiveGrant(g, refunded)), entitled };
}

function rejection(reason: RejectionReason): RejectedError {
  const messages: Record<string, string> = {
    not_entitled: 'The member is not entitled to member benefits.',
    expired: 'The code has expired.',
    wrong_currency: "The order's currency does not match the code's.",
    below_min_subtotal: "The order's subtotal is below the code's minimum.",
    service_level_mismatch: "The order's service level does not match the voucher's.",
    void: 'The code was voided (its billing period was refunded).',
    not_member_code: 'The code belongs to another member.',
  };
  return new RejectedError(reason, messages[reason] ?? `The code cannot be used (${reason}).`);
}

async function unknownOrForeign(deps: BenefitsDeps, code: string): Promise<NotFoundError | RejectedError> {
  // Only on this error path: the index tells "no such code" from "someone else's code".
  const owner = await deps.benefits.findGrantOwner(code);
  return owner === null ? new NotFoundError('No such code.') : rejection('not_member_code');
}

/** The savings write for a delta in a period, chosen from the stored counters, guarded by its condition. */
async function savingsWrite(deps: BenefitsDeps, memberId: string, currency: string, deltaCents: number, period: SavingsPeriod | null) {
  if (deltaCents === 0) return null;
  const stored = await deps.benefits.getSavings(memberId);
  return savingsUpdate(deps.benefits.tableName, memberId, currency, deltaCents, savingsMove(stored, period), period);
}

export async function redeemGrant(
  deps: BenefitsDeps,
  input: { code: string; memberId: string; orderId: string; subtotalCents: number; currency: string },
  now: Date,
): Promise<RedeemResult> {
  for (let attempt = 1; ; attempt++) {
    const { record, grants, entitled } = await loadMember(deps, input.memberId, now);
    const grant = grants.find((g) => g.code === input.code);
    if (!grant) throw await unknownOrForeign(deps, input.code);
    const decision = decideRedeem(grant, entitled, now, { subtotalCents: input.subtotalCents, currency: input.currency }, input.orderId);
    if (decision.kind === 'already-redeemed') return redeemResult(grant, input.orderId);
    if (decision.kind === 'conflict')
      throw new ConflictError('redeemed_by_another_order', 'The code was already redeemed by another order.');
    if (decision.kind === 'reject') throw rejection(decision.reason);

    const saved = redeemSavingCents(grant);
    const period = currentSavingsPeriod(record);
    const currency = grant.currency ?? input.currency;
    const savings = await savingsWrite(deps, input.memberId, currency, saved, period);
    try {
      await deps.benefits.redeem({
        grant,
        orderId: input.orderId,
        at: now.toISOString(),
        savedCents: saved,
        savings,
        periodKey: saved > 0 ? (period?.key ?? null) : null,
        finance: savingsRollupWrites(deps.benefits.tableName, input.memberId, now, currency, saved),
      });
      return redeemResult(grant, input.orderId);
    } catch (error) {
      const failed = failedConditions(error);
      if (failed === null || attempt >= MAX_ATTEMPTS) throw error;
      // Lost to a concurrent redeem (grant condition) or a savings period move: re-read and decide again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

export type ReleaseResult = { code: string; status: 'open' | 'expired' | 'void'; orderId: string };

export async function releaseGrant(deps: BenefitsDeps, input: { code: string; orderId: string }, now: Date): Promise<ReleaseResult> {
  const memberId = await deps.benefits.findGrantOwner(input.code);
  if (memberId === null) throw new NotFoundError('No such code.');
  for (let attempt = 1; ; attempt++) {
    const stored = await deps.benefits.getGrant(memberId, input.code);
    if (!stored) throw new NotFoundError('No such code.');
    const { record } = await deps.memberships.getEntitlementData(memberId, { consistent: true });
    const refunded = refundedPeriods(record);
    const status = (g: IssuedGrant): ReleaseResult['status'] =>
      refunded.has(g.periodKey) ? 'void' : now.toISOString() >= g.expiresAt ? 'expired' : 'open';
    const decision = decideRelease(stored.grant, stored.lastReleasedOrderId, input.orderId);
    if (decision.kind === 'already-released') return { code: input.code, status: status(stored.grant), orderId: input.orderId };
    if (decision.kind === 'conflict') throw new ConflictError('not_redeemed_by_this_order', 'The code is not redeemed by this order.');

    // Release means the order was cancelled: its coupon saving and the shipping saving it reported
    // through benefit usage are both taken back, in the release's own transaction, each once.
    const saved = redeemSavingCents(stored.grant);
    const usage = await deps.benefits.getUsage(memberId, input.orderId);
    const usageOnRelease: UsageOnRelease =
      usage === null
        ? { kind: 'none', orderId: input.orderId }
        : usage.reversedAt === null
          ? { kind: 'reverse', orderId: input.orderId }
          : { kind: 'already-reversed' };
    const reversals: SavingReversal[] = [{ cents: saved, periodKey: stored.redeemedPeriodKey }];
    if (usageOnRelease.kind === 'reverse') reversals.push({ cents: usage!.shippingSavedCents, periodKey: usage!.periodKey });
    const counters = await deps.benefits.getSavings(memberId);
    const deltas = reversalDeltas(counters?.periodKey ?? null, reversals);
    const currency = usage?.currency ?? stored.grant.currency ?? counters?.currency ?? 'usd';
    const savings =
      deltas.lifetimeCents === 0
        ? null
        : savingsReversalUpdate(deps.benefits.tableName, memberId, currency, deltas, counters?.periodKey ?? null);
    try {
      await deps.benefits.release({
        grant: stored.grant,
        orderId: input.orderId,
        at: now.toISOString(),
        savedCents: saved,
        periodKey: stored.redeemedPeriodKey,
        usage: usageOnRelease,
        savings,
        // Taken back in the release's month: months already closed keep what they showed.
        finance: savingsRollupWrites(deps.benefits.tableName, memberId, now, currency, deltas.lifetimeCents),
      });
      return { code: input.code, status: status(stored.grant), orderId: input.orderId };
    } catch (error) {
      const failed = failedConditions(error);
      if (failed === null || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

export interface UsageResult {
  memberId: string;
  orderId: string;
  shippingSavedCents: number;
  currency: string;
  recordedAt: string;
}

export async function recordBenefitUsage(
  deps: BenefitsDeps,
  input: { memberId: string; orderId: string; shippingSavedCents: number; currency: string },
  now: Date,
): Promise<UsageResult> {
  for (let attempt = 1; ; attempt++) {
    const existing = await deps.benefits.getUsage(input.memberId, input.orderId);
    if (existing) {
      if (existing.shippingSavedCents !== input.shippingSavedCents || existing.currency !== input.currency) {
        throw new ConflictError('usage_differs', 'This order already reported a different benefit usage.');
      }
      return { ...pickUsage(existing), recordedAt: existing.at };
    }
    // Consistent: the savings period comes from this record, and a replica behind a renewal would count the saving in the old period.
    const { record } = await deps.memberships.getEntitlementData(input.memberId, { consistent: true });
    if (!record) throw new NotFoundError('No such member.', 'unknown_member');
    const stored = await deps.benefits.getSavings(input.memberId);
    const currency = stored?.currency ?? record.subscription?.currency ?? null;
    if (currency !== null && currency !== input.currency) throw rejection('wrong_currency');
    const period = currentSavingsPeriod(record);
    const savings = savingsUpdate(
      deps.benefits.tableName,
      input.memberId,
      input.currency,
      input.shippingSavedCents,
      savingsMove(stored, period),
      period,
    );
    const at = now.toISOString();
    try {
      await deps.benefits.recordUsage(
        {
          memberId: input.memberId,
          orderId: input.orderId,
          shippingSavedCents: input.shippingSavedCents,
          currency: input.currency,
          at,
          periodKey: period?.key ?? null,
        },
        savings,
        savingsRollupWrites(deps.benefits.tableName, input.memberId, now, input.currency, input.shippingSavedCents),
      );
      return {
        memberId: input.memberId,
        orderId: input.orderId,
        shippingSavedCents: input.shippingSavedCents,
        currency: input.currency,
        recordedAt: at,
      };
    } catch (error) {
      const failed = failedConditions(error);
      if (failed === null || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

const pickUsage = (u: { memberId: string; orderId: string; shippingSavedCents: number; currency: string }) => ({
  memberId: u.memberId,
  orderId: u.orderId,
  shippingSavedCents: Number(u.shippingSavedCents),
  currency: u.currency,
});

export interface MemberBenefits {
  /** Every stored grant as it stands now (refunded periods read `void`), soonest expiry first. */
  grants: IssuedGrant[];
  /** The counters as of `now`: the period counter reads 0 once the member's period has moved on. */
  savings: SavingsTotals;
}

/** Grants and savings as they stand now, for GET /v1/admin/members/{id}. */
export async function getMemberBenefits(
  deps: { memberships: Pick<MembershipRepository, 'getEntitlementData'>; benefits: Pick<DynamoBenefitsRepository, 'getSavings'> },
  memberId: string,
  loaded?: { record: MembershipRecord | null; grants: IssuedGrant[] },
): Promise<MemberBenefits> {
  const [{ record, grants }, stored] = await Promise.all([
    loaded ? Promise.resolve(loaded) : deps.memberships.getEntitlementData(memberId),
    deps.benefits.getSavings(memberId),
  ]);
  return {
    grants: effectiveGrants(record, grants).sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.code.localeCompare(b.code)),
    savings: savingsView(stored, memberId, currentSavingsPeriod(record), record?.subscription?.currency ?? null),
  };
}

export type { RedemptionRecord };
