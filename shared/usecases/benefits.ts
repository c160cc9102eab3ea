import { generateGrantCode } from '../codes';
import {
  buildGrants,
  type CodeConflict,
  currentSavingsPeriod,
  decideCommit,
  decideHold,
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
import { bySoonestExpiry } from '../domain/entitlement';
import type { IssuedGrant } from '../domain/grants';
import { poolAccess, savingsAccountOf } from '../domain/household';
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

export interface HoldResult {
  code: string;
  status: 'held';
  orderId: string;
  expiresAt: string;
}

/** How long a hold lasts unless the request asks otherwise (the contract's default). */
export const DEFAULT_HOLD_MINUTES = 15;
const MAX_ATTEMPTS = 10;

/**
 * The member as the hold, commit and redeem decisions need them. A consistent read: an answer such as
 * "already redeemed by this order" must not come from a replica that has not seen the release since.
 */
async function loadMember(deps: BenefitsDeps, memberId: string, now: Date) {
  const { record, grants, household } = await deps.memberships.getEntitlementData(memberId, { consistent: true });
  const refunded = refundedPeriods(record);
  const view = evaluateMembership(record, deps.catalog, now);
  const entitled = view.entitled && deps.catalog.plan(view.planId) !== undefined;
  return { record, grants: grants.map((g) => effectiveGrant(g, refunded)), entitled, household };
}

/**
 * The member, the code and the order's slot for the code's kind, read together (two reads in parallel).
 * A code that is not the member's may be their household owner's: the owner's pool is one, so the
 * claim is then the owner's (their entitlement, their order slots, their savings; docs/household.md).
 */
async function loadClaim(deps: BenefitsDeps, memberId: string, code: string, orderId: string, now: Date) {
  const [member, slots] = await Promise.all([loadMember(deps, memberId, now), deps.benefits.getOrderSlots(memberId, orderId)]);
  const grant = member.grants.find((g) => g.code === code);
  if (!grant && member.household) {
    const access = poolAccess(member.household, deps.catalog, now);
    if (access !== null) {
      const ownerId = member.household.ownerMemberId;
      const [owner, ownerSlots] = await Promise.all([loadMember(deps, ownerId, now), deps.benefits.getOrderSlots(ownerId, orderId)]);
      const pooled = owner.grants.find((g) => g.code === code);
      if (pooled && access === 'role_excluded') throw rejection('household_role');
      if (pooled) return { ...owner, grant: pooled, slot: ownerSlots.find((s) => s.kind === pooled.kind) ?? null };
    }
  }
  return { ...member, grant, slot: (grant && slots.find((s) => s.kind === grant.kind)) ?? null };
}

const REJECTION_MESSAGES: Record<RejectionReason, string> = {
  not_entitled: 'The member is not entitled to member benefits.',
  expired: 'The code has expired.',
  wrong_currency: "The order's currency does not match the code's.",
  below_min_subtotal: "The order's subtotal is below the code's minimum.",
  service_level_mismatch: "The order's service level does not match the voucher's.",
  void: 'The code was voided (its billing period was refunded).',
  not_member_code: 'The code belongs to another member.',
  service_level_required: "A shipping voucher needs the order's service level (serviceLevel).",
  one_coupon_per_order: 'The order already holds or redeemed another coupon: one coupon per order.',
  one_voucher_per_order: 'The order already holds or redeemed another shipping voucher: one shipping voucher per order.',
  household_role: 'The household owner’s coupons and vouchers are not for your household role.',
};

const rejection = (reason: RejectionReason) => new RejectedError(reason, REJECTION_MESSAGES[reason]);

const CONFLICT_MESSAGES: Record<CodeConflict, string> = {
  redeemed_by_another_order: 'The code was already redeemed by another order.',
  held_by_another_order: 'Another order holds the code; it is usable again once that hold lapses or is released.',
  redeemed_by_this_order: 'This order has redeemed the code already.',
  hold_lapsed: "The order's hold on the code lapsed before the commit; hold it again.",
  not_held_by_this_order: 'This order holds no hold on the code.',
  not_redeemed_by_this_order: 'The code is not held or redeemed by this order.',
};

const conflict = (reason: CodeConflict) => new ConflictError(reason, CONFLICT_MESSAGES[reason]);

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

/**
 * Runs a decide-then-write attempt until its conditional write holds. A failed condition means a
 * concurrent writer (another order's hold, a savings period move) got there first: read and decide again.
 */
async function untilWritten<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (failedConditions(error) === null || n >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * n));
    }
  }
}

/**
 * A redemption, counted once: the coupon's saving goes into the member's current period with the
 * grant's redeem (a hold counts nothing; its commit does). A voucher saves nothing here: the checkout
 * reports the shipping saved through benefit usage.
 */
async function writeRedemption(
  deps: BenefitsDeps,
  how: 'redeem' | 'commit',
  record: MembershipRecord | null,
  grant: IssuedGrant,
  orderId: string,
  currency: string,
  now: Date,
) {
  const saved = redeemSavingCents(grant);
  const period = currentSavingsPeriod(record);
  const savedIn = grant.currency ?? currency;
  const input = {
    grant,
    orderId,
    at: now.toISOString(),
    savedCents: saved,
    savings: await savingsWrite(deps, grant.memberId, savedIn, saved, period),
    periodKey: saved > 0 ? (period?.key ?? null) : null,
    finance: savingsRollupWrites(deps.benefits.tableName, grant.memberId, now, savedIn, saved),
  };
  await deps.benefits.redeem(input, how);
}

export interface ClaimInput {
  code: string;
  memberId: string;
  orderId: string;
  subtotalCents: number;
  currency: string;
  /** The order's service level: required for a shipping voucher, which covers only its own level. */
  serviceLevel?: string | undefined;
}

/** Redeem: a hold and its commit in one conditional write (the contract's original, one-step call). */
export async function redeemGrant(deps: BenefitsDeps, input: ClaimInput, now: Date): Promise<RedeemResult> {
  return untilWritten(async () => {
    const { record, grant, entitled, slot } = await loadClaim(deps, input.memberId, input.code, input.orderId, now);
    if (!grant) throw await unknownOrForeign(deps, input.code);
    const decision = decideRedeem(grant, entitled, now, input, slot);
    if (decision.kind === 'already-redeemed') return redeemResult(grant, input.orderId);
    if (decision.kind === 'conflict') throw conflict(decision.reason);
    if (decision.kind === 'reject') throw rejection(decision.reason);
    await writeRedemption(deps, 'redeem', record, grant, input.orderId, input.currency, now);
    return redeemResult(grant, input.orderId);
  });
}

/** Holds a code for an order being placed; the hold lapses by itself after `holdMinutes`. */
export async function holdGrant(
  deps: BenefitsDeps,
  input: ClaimInput & { holdMinutes?: number | undefined },
  now: Date,
): Promise<HoldResult> {
  const holdMs = (input.holdMinutes ?? DEFAULT_HOLD_MINUTES) * 60_000;
  return untilWritten(async () => {
    const { grant, entitled, slot } = await loadClaim(deps, input.memberId, input.code, input.orderId, now);
    if (!grant) throw await unknownOrForeign(deps, input.code);
    const decision = decideHold(grant, entitled, now, input, slot, holdMs);
    if (decision.kind === 'conflict') throw conflict(decision.reason);
    if (decision.kind === 'reject') throw rejection(decision.reason);
    if (decision.kind === 'hold') {
      await deps.benefits.hold({ grant, hold: { orderId: input.orderId, expiresAt: decision.expiresAt }, at: now.toISOString() });
    }
    return { code: grant.code, status: 'held', orderId: input.orderId, expiresAt: decision.expiresAt };
  });
}

/** The order was placed: its standing hold becomes a redemption, counted once. Idempotent per orderId. */
export async function commitGrant(deps: BenefitsDeps, input: { code: string; orderId: string }, now: Date): Promise<RedeemResult> {
  const memberId = await deps.benefits.findGrantOwner(input.code);
  if (memberId === null) throw new NotFoundError('No such code.');
  return untilWritten(async () => {
    const { record, grant, slot } = await loadClaim(deps, memberId, input.code, input.orderId, now);
    if (!grant) throw new NotFoundError('No such code.');
    const decision = decideCommit(grant, input.orderId, now, slot);
    if (decision.kind === 'already-redeemed') return redeemResult(grant, input.orderId);
    if (decision.kind === 'conflict') throw conflict(decision.reason);
    if (decision.kind === 'reject') throw rejection(decision.reason);
    await writeRedemption(deps, 'commit', record, grant, input.orderId, grant.currency ?? 'usd', now);
    return redeemResult(grant, input.orderId);
  });
}

export type ReleaseResult = { code: string; status: 'open' | 'expired' | 'void'; orderId: string };

export async function releaseGrant(deps: BenefitsDeps, input: { code: string; orderId: string }, now: Date): Promise<ReleaseResult> {
  const memberId = await deps.benefits.findGrantOwner(input.code);
  if (memberId === null) throw new NotFoundError('No such code.');
  return untilWritten(async () => {
    const stored = await deps.benefits.getGrant(memberId, input.code);
    if (!stored) throw new NotFoundError('No such code.');
    const { record } = await deps.memberships.getEntitlementData(memberId, { consistent: true });
    const refunded = refundedPeriods(record);
    const status = (g: IssuedGrant): ReleaseResult['status'] =>
      refunded.has(g.periodKey) ? 'void' : now.toISOString() >= g.expiresAt ? 'expired' : 'open';
    const answer = { code: input.code, status: status(stored.grant), orderId: input.orderId };
    const decision = decideRelease(stored.grant, stored.lastReleasedOrderId, input.orderId, now);
    if (decision.kind === 'already-released') return answer;
    if (decision.kind === 'conflict') throw conflict(decision.reason);
    if (decision.kind === 'release-hold') {
      // Nothing was counted for a hold: dropping it frees the code and the order's slot.
      await deps.benefits.releaseHold({ grant: stored.grant, orderId: input.orderId });
      return answer;
    }

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
    return answer;
  });
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
  // A household member's order saves for the household: counted with the owner's savings (docs/household.md).
  const caller = input.memberId;
  input = {
    ...input,
    memberId: savingsAccountOf(caller, await deps.memberships.getEntitlementData(caller, { consistent: true }), deps.catalog, now),
  };
  for (let attempt = 1; ; attempt++) {
    const existing = await deps.benefits.getUsage(input.memberId, input.orderId);
    if (existing) {
      if (existing.shippingSavedCents !== input.shippingSavedCents || existing.currency !== input.currency) {
        throw new ConflictError('usage_differs', 'This order already reported a different benefit usage.');
      }
      return { ...pickUsage(existing), memberId: caller, recordedAt: existing.at };
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
        memberId: caller,
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
    grants: effectiveGrants(record, grants)
      .map((g) => ({ ...g, hold: g.hold ?? null }))
      .sort(bySoonestExpiry),
    savings: savingsView(stored, memberId, currentSavingsPeriod(record), record?.subscription?.currency ?? null),
  };
}

export type { RedemptionRecord };
