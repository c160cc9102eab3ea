/**
 * Member benefits, pure: which grants a membership change issues, when a code may be redeemed or
 * released, and how savings counters move. The use cases in shared/usecases/benefits.ts turn these
 * decisions into conditional DynamoDB writes; the property test drives the same functions.
 */
import type { Grant, Plan } from './catalog';
import { type GrantRejection, grantRejection, type OrderContext } from './entitlement';
import { activeHold, type IssuedGrant, type OrderSlot, slotTakenBy } from './grants';
import { type BenefitIssuanceState, emptyIssuance } from './issuance';
import type { MembershipEvent, MembershipRecord } from './membership';
import { periodKey, type SavingsTotals } from './savings';

/** Period keys whose invoice was refunded: their unredeemed grants are void. */
export function refundedPeriods(record: MembershipRecord | null): Set<string> {
  const out = new Set<string>();
  for (const invoice of Object.values(record?.benefits?.invoices ?? {})) {
    if (invoice.refunded && invoice.periodKey !== null) out.add(invoice.periodKey);
  }
  return out;
}

/**
 * The grant as it stands: an open grant of a refunded period reads `void`. Derived at read time from
 * the membership record (like the membership status), so a refund voids exactly once, in any event
 * order, without rewriting grant items.
 */
export function effectiveGrant(grant: IssuedGrant, refunded: ReadonlySet<string>): IssuedGrant {
  return grant.state === 'open' && refunded.has(grant.periodKey) ? { ...grant, state: 'void' } : grant;
}

/** Every grant of the member as it stands, refunded periods voided: what any reader of grants must use. */
export function effectiveGrants(record: MembershipRecord | null, grants: readonly IssuedGrant[]): IssuedGrant[] {
  if (grants.length === 0) return [];
  const refunded = refundedPeriods(record);
  return refunded.size === 0 ? [...grants] : grants.map((g) => effectiveGrant(g, refunded));
}

/**
 * The grants a member can still use: open (neither redeemed nor voided by a refund) and not expired
 * at `now`. Whether the membership entitles them to use these now is a separate question.
 */
export function usableGrants(record: MembershipRecord | null, grants: readonly IssuedGrant[], now: Date): IssuedGrant[] {
  const nowIso = now.toISOString();
  return effectiveGrants(record, grants).filter((g) => g.state === 'open' && nowIso < g.expiresAt);
}

const DAY_MS = 86_400_000;

/** What a grant is, apart from when the catalog issues it: also the terms of the win-back recall coupon. */
export type GrantTerms = WithoutSchedule<Grant>;
type WithoutSchedule<G> = G extends unknown ? Omit<G, 'every'> : never;

/** The grants one grant definition issues: one code per coupon, `count` codes per voucher. */
export function buildGrants(
  definition: GrantTerms,
  options: { memberId: string; periodKey: string; issuedAt: string; code: () => string },
): IssuedGrant[] {
  const expiresAt = new Date(Date.parse(options.issuedAt) + definition.validDays * DAY_MS).toISOString();
  const count = definition.kind === 'shipping-voucher' ? (definition.count ?? 1) : 1;
  return Array.from({ length: count }, () => ({
    code: options.code(),
    memberId: options.memberId,
    grantId: definition.id,
    kind: definition.kind,
    amountOffCents: definition.kind === 'coupon' ? definition.amountOffCents : null,
    currency: definition.kind === 'coupon' ? definition.currency : null,
    minSubtotalCents: definition.kind === 'coupon' ? (definition.minSubtotalCents ?? 0) : null,
    serviceLevel: definition.kind === 'shipping-voucher' ? definition.serviceLevel : null,
    issuedAt: options.issuedAt,
    expiresAt,
    periodKey: options.periodKey,
    state: 'open' as const,
    redeemedOrderId: null,
    redeemedAt: null,
  }));
}

export interface IssuancePlan {
  /** `signup` or a period key. */
  periodKey: string;
  plan: Plan;
  every: 'signup' | 'period';
}

/** What a transition issues: compares the issuance state before and after the event. */
export function issuanceDue(
  before: BenefitIssuanceState | null | undefined,
  after: BenefitIssuanceState | null | undefined,
  planFor: (planId: string | null) => Plan | undefined,
  periodPlanId: string | null,
): IssuancePlan[] {
  const b = before ?? emptyIssuance();
  const a = after ?? emptyIssuance();
  const due: IssuancePlan[] = [];
  if (b.signupPlanId === null && a.signupPlanId !== null) {
    const plan = planFor(a.signupPlanId);
    if (plan) due.push({ periodKey: 'signup', plan, every: 'signup' });
  }
  for (const key of a.periods) {
    if (b.periods.includes(key)) continue;
    const plan = planFor(periodPlanId);
    if (plan) due.push({ periodKey: key, plan, every: 'period' });
  }
  return due;
}

/**
 * When a due issuance counts as issued, taken from data every delivery of it carries, so the dates do
 * not depend on which event arrives first. Signup grants date from the subscription's `start_date`,
 * which is the same on every snapshot (`created`, any `updated`, in any order). Period grants date
 * from their `invoice.paid`: only that event adds a period, and Stripe sends it once per invoice (a
 * redelivery repeats the same event, same `created`).
 */
export function issuedAtFor(due: IssuancePlan, event: MembershipEvent): string {
  if (due.every === 'signup' && event.kind === 'subscription-changed' && event.subscription.startDate) return event.subscription.startDate;
  // Hand-built events (tests, bench) and snapshots read before `start_date` was: the event time.
  return new Date(event.created * 1000).toISOString();
}

// ---- hold, commit, redeem and release -------------------------------------------------------

/**
 * Why a code cannot be held or redeemed for this order (422 `reason`): the checkout's `applicable`
 * rule (`grantRejection`), plus the order's slots and the voucher's need for a service level.
 */
export type RedeemRejection =
  | Exclude<GrantRejection, 'not_open' | 'held'>
  | 'not_member_code'
  | 'void'
  | 'service_level_required'
  | 'one_coupon_per_order'
  | 'one_voucher_per_order';

/** Why the code's state forbids it (409 `reason`). */
export type CodeConflict =
  | 'redeemed_by_another_order'
  | 'held_by_another_order'
  | 'redeemed_by_this_order'
  | 'hold_lapsed'
  | 'not_held_by_this_order'
  | 'not_redeemed_by_this_order';

export type RedeemDecision =
  | { kind: 'redeem' }
  | { kind: 'already-redeemed' }
  | { kind: 'conflict'; reason: CodeConflict }
  | { kind: 'reject'; reason: Exclude<RedeemRejection, 'not_member_code'> };

export type HoldDecision =
  | { kind: 'hold'; expiresAt: string }
  | { kind: 'already-held'; expiresAt: string }
  | { kind: 'conflict'; reason: CodeConflict }
  | { kind: 'reject'; reason: Exclude<RedeemRejection, 'not_member_code'> };

/** The order a hold or redeem is for: the contract's body, `serviceLevel` required for a voucher. */
export interface OrderClaim extends OrderContext {
  orderId: string;
}

/** What the code's own state says, before the order is weighed: shared by hold and redeem. */
type ClaimBlock = { kind: 'already-redeemed' } | { kind: 'conflict'; reason: CodeConflict } | { kind: 'reject'; reason: 'void' };

function claimBlocker(grant: IssuedGrant, orderId: string, nowIso: string): ClaimBlock | null {
  if (grant.state === 'redeemed')
    return grant.redeemedOrderId === orderId ? { kind: 'already-redeemed' } : { kind: 'conflict', reason: 'redeemed_by_another_order' };
  if (grant.state === 'void') return { kind: 'reject', reason: 'void' };
  const hold = activeHold(grant, nowIso);
  if (hold && hold.orderId !== orderId) return { kind: 'conflict', reason: 'held_by_another_order' };
  return null;
}

/** What the order says: the applicability rule, a voucher's service level, and the order's slot for this kind. */
function orderBlocker(grant: IssuedGrant, entitled: boolean, now: Date, order: OrderClaim, slot: OrderSlot | null) {
  if (grant.kind === 'shipping-voucher' && order.serviceLevel === undefined) return 'service_level_required' as const;
  const rejection = grantRejection(grant, entitled, now, order);
  if (rejection === 'not_open' || rejection === 'held') throw new Error(`unreachable: ${rejection} after claimBlocker`);
  if (rejection !== null) return rejection;
  if (slotTakenBy(slot, grant.code, now.toISOString()) !== null)
    return grant.kind === 'coupon' ? ('one_coupon_per_order' as const) : ('one_voucher_per_order' as const);
  return null;
}

/**
 * The one rule for a redeem (a hold and its commit in one step), shared with the checkout's
 * `applicable` through `grantRejection`. `slot` is the order's slot for the code's kind.
 */
export function decideRedeem(grant: IssuedGrant, entitled: boolean, now: Date, order: OrderClaim, slot: OrderSlot | null): RedeemDecision {
  const blocked = claimBlocker(grant, order.orderId, now.toISOString());
  if (blocked) return blocked;
  const reason = orderBlocker(grant, entitled, now, order, slot);
  return reason === null ? { kind: 'redeem' } : { kind: 'reject', reason };
}

/**
 * A hold for an order being placed: the same rules as a redeem. It lasts `holdMs`, never beyond the
 * code's own expiry; the same order asking again gets the hold it has.
 */
export function decideHold(
  grant: IssuedGrant,
  entitled: boolean,
  now: Date,
  order: OrderClaim,
  slot: OrderSlot | null,
  holdMs: number,
): HoldDecision {
  const nowIso = now.toISOString();
  const blocked = claimBlocker(grant, order.orderId, nowIso);
  if (blocked?.kind === 'already-redeemed') return { kind: 'conflict', reason: 'redeemed_by_this_order' };
  if (blocked) return blocked;
  const held = activeHold(grant, nowIso);
  if (held) return { kind: 'already-held', expiresAt: held.expiresAt };
  const reason = orderBlocker(grant, entitled, now, order, slot);
  if (reason !== null) return { kind: 'reject', reason };
  const until = new Date(now.getTime() + holdMs).toISOString();
  return { kind: 'hold', expiresAt: until < grant.expiresAt ? until : grant.expiresAt };
}

export type CommitDecision =
  | { kind: 'commit' }
  | { kind: 'already-redeemed' }
  | { kind: 'conflict'; reason: CodeConflict }
  | { kind: 'reject'; reason: 'void' };

/**
 * The order was placed: its hold becomes a redemption, if the hold still stands. A hold that lapsed
 * is gone even when nobody took the code since (409 `hold_lapsed`): the order may hold it again.
 * `slot` tells a lapsed hold of this order from a code it never held.
 */
export function decideCommit(grant: IssuedGrant, orderId: string, now: Date, slot: OrderSlot | null): CommitDecision {
  const nowIso = now.toISOString();
  if (grant.state === 'redeemed' && grant.redeemedOrderId === orderId) return { kind: 'already-redeemed' };
  const hold = activeHold(grant, nowIso);
  if (grant.state === 'open' && hold?.orderId === orderId) return { kind: 'commit' };
  if (grant.state === 'void' && hold?.orderId === orderId) return { kind: 'reject', reason: 'void' };
  const heldOnce = grant.hold?.orderId === orderId || (slot?.code === grant.code && slot.state === 'held');
  return { kind: 'conflict', reason: heldOnce ? 'hold_lapsed' : 'not_held_by_this_order' };
}

export type ReleaseDecision =
  | { kind: 'release' }
  | { kind: 'release-hold' }
  | { kind: 'already-released' }
  | { kind: 'conflict'; reason: 'not_redeemed_by_this_order' };

/**
 * Giving a code back: a redemption of this order (the order was cancelled: savings come back too),
 * or a hold of this order that still stands (nothing was counted). A hold of this order that lapsed
 * already gave the code back, and a repeated release is answered as the first.
 */
export function decideRelease(grant: IssuedGrant, lastReleasedOrderId: string | null, orderId: string, now: Date): ReleaseDecision {
  if (grant.state === 'redeemed')
    return grant.redeemedOrderId === orderId ? { kind: 'release' } : { kind: 'conflict', reason: 'not_redeemed_by_this_order' };
  if (grant.hold?.orderId === orderId)
    return activeHold(grant, now.toISOString()) ? { kind: 'release-hold' } : { kind: 'already-released' };
  return lastReleasedOrderId === orderId ? { kind: 'already-released' } : { kind: 'conflict', reason: 'not_redeemed_by_this_order' };
}

/** What a redeem saves: a coupon's amount; a voucher's shipping saving arrives through benefit usage. */
export const redeemSavingCents = (grant: IssuedGrant): number => (grant.kind === 'coupon' ? (grant.amountOffCents ?? 0) : 0);

// ---- savings ---------------------------------------------------------------------------------

/** The billing period a saving counts towards: the member's current subscription period. */
export interface SavingsPeriod {
  key: string;
  start: string;
}

export function currentSavingsPeriod(record: MembershipRecord | null): SavingsPeriod | null {
  const sub = record?.subscription;
  if (!sub?.currentPeriodStart) return null;
  return { key: periodKey(sub.subscriptionId, sub.currentPeriodStart), start: sub.currentPeriodStart };
}

/** Stored savings item fields (`periodStart` orders periods so a late write never resets a newer one). */
export interface StoredSavings extends Omit<SavingsTotals, 'currency'> {
  periodStart: string | null;
  /** The counters' currency, set by their first write; null on an item that names none. */
  currency: string | null;
}

export type SavingsMove = 'same-period' | 'new-period' | 'older-period' | 'lifetime-only';

/**
 * Which of the mutually exclusive conditional updates applies. Storage re-checks the same condition
 * atomically, so a concurrent period change makes the write fail and retry, never double-count.
 */
export function savingsMove(stored: Pick<StoredSavings, 'periodKey' | 'periodStart'> | null, period: SavingsPeriod | null): SavingsMove {
  if (period === null) return 'lifetime-only';
  if (!stored || stored.periodStart === null || stored.periodStart === undefined) return 'new-period';
  if (stored.periodKey === period.key) return 'same-period';
  return stored.periodStart < period.start ? 'new-period' : 'older-period';
}

/** Pure mirror of the storage update, for the model-based test. */
export function applySavings(stored: StoredSavings, deltaCents: number, period: SavingsPeriod | null): StoredSavings {
  const move = savingsMove(stored, period);
  const next = { ...stored, lifetimeSavedCents: stored.lifetimeSavedCents + deltaCents };
  if (move === 'same-period') next.periodSavedCents += deltaCents;
  if (move === 'new-period') Object.assign(next, { periodKey: period!.key, periodStart: period!.start, periodSavedCents: deltaCents });
  return next;
}

/** A saving taken back (a released coupon, a cancelled order's shipping) and the period it was counted in. */
export interface SavingReversal {
  cents: number;
  /** The period whose counter the saving went to; null when it counted towards the lifetime total only. */
  periodKey: string | null;
}

/**
 * How taking savings back moves the counters: the lifetime total always; the period counter only for
 * savings of the period the counters hold now (an older period's counter has been reset already).
 * Storage applies it on the condition that the stored period is still `storedPeriodKey`.
 */
export function reversalDeltas(
  storedPeriodKey: string | null,
  reversals: readonly SavingReversal[],
): { periodCents: number; lifetimeCents: number } {
  let periodCents = 0;
  let lifetimeCents = 0;
  for (const r of reversals) {
    lifetimeCents -= r.cents;
    if (r.periodKey !== null && r.periodKey === storedPeriodKey) periodCents -= r.cents;
  }
  return { periodCents, lifetimeCents };
}

/** Pure mirror of the storage reversal, for the model-based test. */
export function applyReversal(stored: StoredSavings, reversals: readonly SavingReversal[]): StoredSavings {
  const { periodCents, lifetimeCents } = reversalDeltas(stored.periodKey, reversals);
  return {
    ...stored,
    periodSavedCents: stored.periodSavedCents + periodCents,
    lifetimeSavedCents: stored.lifetimeSavedCents + lifetimeCents,
  };
}

/** Totals as of `now`: the period counter only counts while its period is the member's current one. */
export function savingsView(
  stored: StoredSavings | null,
  memberId: string,
  period: SavingsPeriod | null,
  currency: string | null,
): SavingsTotals {
  const inPeriod = stored !== null && period !== null && stored.periodKey === period.key;
  return {
    memberId,
    periodKey: period?.key ?? null,
    periodSavedCents: inPeriod ? stored.periodSavedCents : 0,
    lifetimeSavedCents: stored?.lifetimeSavedCents ?? 0,
    feesPaidCents: stored?.feesPaidCents ?? 0,
    currency: stored?.currency ?? currency ?? 'usd',
  };
}

export { grantRejection };
