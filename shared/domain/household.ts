/**
 * Household sharing (docs/household.md): who may invite, join and leave, and what a member's check
 * answers. Pure: plain data and a clock; storage keeps the answers atomic with conditional writes.
 */
import { effectiveGrants } from './benefits';
import type { HOUSEHOLD_BENEFITS, HouseholdConfig, Plan, PlanCatalog } from './catalog';
import { type Entitlement, evaluateEntitlement, type OrderContext } from './entitlement';
import type { IssuedGrant } from './grants';
import { evaluateMembership, evaluateSubscription, type MembershipRecord, type MembershipView } from './membership';
import { type PlannedReminder, plannedLapseAt, type Relevance, reminderId } from './reminders';

export const HOUSEHOLD_ROLES = ['adult', 'teen', 'child'] as const;
export type HouseholdRole = (typeof HOUSEHOLD_ROLES)[number];
export type HouseholdBenefit = (typeof HOUSEHOLD_BENEFITS)[number];

export interface HouseholdInvite {
  code: string;
  role: HouseholdRole;
  createdAt: string;
  expiresAt: string;
}

export interface HouseholdMember {
  memberId: string;
  role: HouseholdRole;
  joinedAt: string;
}

/** The owner's household: who joined (the owner not included) and the invites still standing. */
export interface Household {
  ownerMemberId: string;
  createdAt: string;
  members: HouseholdMember[];
  invites: HouseholdInvite[];
}

/**
 * What a member's entitlement check needs from the owner, kept on the member's own item collection:
 * the owner's membership as `evaluateMembership` reads it (no personal data) and the member's place.
 */
export interface HouseholdLink {
  ownerMemberId: string;
  role: HouseholdRole;
  joinedAt: string;
  owner: MembershipRecord;
  /** Where the member's household notices go, given at the join (a member may have no membership, so no address, of their own). */
  email?: string | null;
}

const DAY_MS = 86_400_000;
const addDays = (now: Date, days: number) => new Date(now.getTime() + days * DAY_MS).toISOString();

/**
 * The owner's record as a member's check needs it: the deciding subscription's snapshot, the latest
 * payment and the checkout time. Everything `evaluateMembership` reads, nothing personal (no email,
 * address, other subscriptions or issuance history), so ten copies stay small.
 */
export function ownerSnapshot(record: MembershipRecord): MembershipRecord {
  const sub = record.subscription;
  const decisive = sub ? record.subscriptions[sub.subscriptionId] : undefined;
  return {
    memberId: record.memberId,
    customerId: null,
    subscriptionId: record.subscriptionId,
    checkoutSessionId: null,
    checkoutCompletedAt: record.checkoutCompletedAt,
    subscription: sub,
    subscriptions: sub && decisive ? { [sub.subscriptionId]: decisive } : {},
    payment: record.payment,
    paymentVersion: record.paymentVersion,
    firstSubscribedAt: record.firstSubscribedAt,
    hadTrial: record.hadTrial,
  };
}

const DEFAULT_BENEFITS: Record<HouseholdRole, readonly HouseholdBenefit[]> = {
  adult: ['freeShipping', 'memberDiscount', 'coupons'],
  teen: ['freeShipping', 'memberDiscount', 'coupons'],
  child: [],
};

/** The benefits a role gets under the plan's household settings. */
export function roleBenefits(config: HouseholdConfig, role: HouseholdRole): ReadonlySet<HouseholdBenefit> {
  return new Set(config.benefits?.[role] ?? DEFAULT_BENEFITS[role]);
}

export function capFor(config: HouseholdConfig, role: HouseholdRole): number {
  return role === 'adult' ? config.adults : role === 'teen' ? config.teens : config.children;
}

/** Invites that can still be used at `now`. */
export const openInvites = (household: Household, now: Date): HouseholdInvite[] =>
  household.invites.filter((i) => i.expiresAt > now.toISOString());

/**
 * Seats of a role in use: members, open invites (an invite reserves its seat until it expires or is
 * used, so concurrent joins can never exceed a cap) and, for adults, the owner.
 */
export function seatsTaken(household: Household, role: HouseholdRole, now: Date): number {
  const members = household.members.filter((m) => m.role === role).length;
  const invites = openInvites(household, now).filter((i) => i.role === role).length;
  return members + invites + (role === 'adult' ? 1 : 0);
}

export const emptyHousehold = (ownerMemberId: string, now: Date): Household => ({
  ownerMemberId,
  createdAt: now.toISOString(),
  members: [],
  invites: [],
});

export type InviteRefusal = 'no_membership' | 'no_household_plan' | 'in_another_household' | 'household_full';

/** Whether the owner may invite someone of `role` now, and the household with the invite added. */
export function decideInvite(input: {
  ownerView: MembershipView;
  plan: Plan | undefined;
  /** The owner's own place in someone else's household, if any. */
  ownerLink: HouseholdLink | null;
  household: Household | null;
  ownerMemberId: string;
  role: HouseholdRole;
  code: string;
  now: Date;
}): { kind: 'invite'; household: Household; invite: HouseholdInvite } | { kind: 'refuse'; reason: InviteRefusal } {
  const { plan, now, role } = input;
  if (!input.ownerView.entitled || !plan) return { kind: 'refuse', reason: 'no_membership' };
  if (!plan.household) return { kind: 'refuse', reason: 'no_household_plan' };
  if (input.ownerLink) return { kind: 'refuse', reason: 'in_another_household' };
  const current = input.household ?? emptyHousehold(input.ownerMemberId, now);
  const pruned = { ...current, invites: openInvites(current, now) };
  if (seatsTaken(pruned, role, now) >= capFor(plan.household, role)) return { kind: 'refuse', reason: 'household_full' };
  const invite: HouseholdInvite = {
    code: input.code,
    role,
    createdAt: now.toISOString(),
    expiresAt: addDays(now, plan.household.inviteValidDays),
  };
  return { kind: 'invite', household: { ...pruned, invites: [...pruned.invites, invite] }, invite };
}

export type JoinRefusal =
  | 'unknown_invite'
  | 'invite_expired'
  | 'already_in_household'
  | 'rejoin_locked'
  | 'own_membership'
  | 'household_inactive'
  | 'household_full';

/**
 * Whether `memberId` may join with `code`. The invite is looked up in the owner's household: a used
 * invite is gone from it (unknown), an expired one answers `invite_expired`. One household at a time;
 * not during the rejoin lock; not with a membership of one's own that is paid or being paid for
 * (they would pay twice); not into a household whose owner's membership gives nothing now.
 */
export function decideJoin(input: {
  memberId: string;
  code: string;
  household: Household | null;
  ownerRecord: MembershipRecord | null;
  catalog: PlanCatalog;
  joiner: {
    ownView: MembershipView;
    link: HouseholdLink | null;
    /** The joiner's own household, if they own one with members. */
    ownsHouseholdWithMembers: boolean;
    lockedUntil: string | null;
  };
  now: Date;
}):
  | { kind: 'join'; household: Household; member: HouseholdMember; link: HouseholdLink }
  | { kind: 'refuse'; reason: JoinRefusal; lockedUntil?: string } {
  const { household, now, joiner } = input;
  const nowIso = now.toISOString();
  const invite = household?.invites.find((i) => i.code === input.code);
  if (!household || !invite) return { kind: 'refuse', reason: 'unknown_invite' };
  if (invite.expiresAt <= nowIso) return { kind: 'refuse', reason: 'invite_expired' };
  if (joiner.link || joiner.ownsHouseholdWithMembers || household.ownerMemberId === input.memberId)
    return { kind: 'refuse', reason: 'already_in_household' };
  if (joiner.lockedUntil !== null && joiner.lockedUntil > nowIso)
    return { kind: 'refuse', reason: 'rejoin_locked', lockedUntil: joiner.lockedUntil };
  if (joiner.ownView.entitled || joiner.ownView.status === 'pending') return { kind: 'refuse', reason: 'own_membership' };
  const ownerView = evaluateSubscription(input.ownerRecord, input.catalog, now);
  const config = input.catalog.plan(ownerView.planId)?.household;
  if (!ownerView.entitled || !config || !input.ownerRecord) return { kind: 'refuse', reason: 'household_inactive' };
  const rest = { ...household, invites: household.invites.filter((i) => i.code !== invite.code) };
  // The invite held the seat; a plan that shrank since may still leave no room.
  if (seatsTaken(rest, invite.role, now) >= capFor(config, invite.role)) return { kind: 'refuse', reason: 'household_full' };
  const member: HouseholdMember = { memberId: input.memberId, role: invite.role, joinedAt: nowIso };
  return {
    kind: 'join',
    household: { ...rest, invites: openInvites(rest, now), members: [...rest.members, member] },
    member,
    link: { ownerMemberId: household.ownerMemberId, role: invite.role, joinedAt: nowIso, owner: ownerSnapshot(input.ownerRecord) },
  };
}

export type LeaveRefusal = 'not_in_household' | 'household_owner' | 'forbidden';

/**
 * Removing a member (by the owner) or leaving (the member themselves). Either starts the member's
 * rejoin lock: the owner's plan's `rejoinLockDays`, or the longest of the catalog when that plan no
 * longer shares (the lock must not vanish because the owner switched plans). Leaving a household
 * whose owner's membership has ended starts none: nothing was left to share (a running lock stays).
 */
export function decideLeave(input: {
  actorMemberId: string;
  targetMemberId: string;
  household: Household | null;
  ownerPlan: Plan | undefined;
  ownerEntitled: boolean;
  catalog: PlanCatalog;
  currentLockedUntil: string | null;
  now: Date;
}): { kind: 'leave'; household: Household; lockedUntil: string | null } | { kind: 'refuse'; reason: LeaveRefusal } {
  const { household, actorMemberId, targetMemberId, now } = input;
  if (!household) return { kind: 'refuse', reason: 'not_in_household' };
  if (targetMemberId === household.ownerMemberId) return { kind: 'refuse', reason: 'household_owner' };
  if (actorMemberId !== household.ownerMemberId && actorMemberId !== targetMemberId) return { kind: 'refuse', reason: 'forbidden' };
  if (!household.members.some((m) => m.memberId === targetMemberId)) return { kind: 'refuse', reason: 'not_in_household' };
  const days =
    input.ownerPlan?.household?.rejoinLockDays ?? Math.max(0, ...input.catalog.plans.map((p) => p.household?.rejoinLockDays ?? 0));
  const lockEnds = input.ownerEntitled ? addDays(now, days) : null;
  const running = input.currentLockedUntil !== null && input.currentLockedUntil > now.toISOString() ? input.currentLockedUntil : null;
  const lockedUntil = running !== null && (lockEnds === null || running > lockEnds) ? running : lockEnds;
  return {
    kind: 'leave',
    household: {
      ...household,
      members: household.members.filter((m) => m.memberId !== targetMemberId),
      invites: openInvites(household, now),
    },
    lockedUntil,
  };
}

/**
 * The membership a household member's check answers from: the owner's, evaluated against the same
 * clock from the copied dates, so every member reads what the owner reads at the same instant. Null
 * when the owner's plan no longer shares with a household.
 */
export function householdView(
  link: HouseholdLink,
  memberId: string,
  catalog: PlanCatalog,
  now: Date,
): { view: MembershipView; plan: Plan; benefits: ReadonlySet<HouseholdBenefit> } | null {
  const owner = evaluateMembership(link.owner, catalog, now);
  const plan = catalog.plan(owner.planId);
  if (!plan?.household) return null;
  return { view: { ...owner, memberId }, plan, benefits: roleBenefits(plan.household, link.role) };
}

/** The plan as a member of this role gets it: free shipping and the member discount only where the role has them. */
function planForRole(plan: Plan, benefits: ReadonlySet<HouseholdBenefit>): Plan {
  const freeShipping = benefits.has('freeShipping') ? plan.benefits.freeShipping : { ...plan.benefits.freeShipping, serviceLevels: [] };
  const memberDiscountBps = benefits.has('memberDiscount') ? plan.benefits.memberDiscountBps : 0;
  return { ...plan, benefits: { ...plan.benefits, freeShipping, memberDiscountBps } };
}

export interface EntitlementSource {
  view: MembershipView;
  plan: Plan | undefined;
  grants: IssuedGrant[];
  /** Set when the answer comes from the owner's membership. */
  via: { ownerMemberId: string; role: HouseholdRole } | null;
  /** The role has no free shipping (the check says so rather than listing no service level). */
  roleWithoutFreeShipping: boolean;
}

/**
 * Whose membership answers a member's check and quote, from the one read of their item collection:
 * their own while it is entitled (someone who bought their own membership is answered by it), else
 * the owner's, through the copy, with the role's benefits. The owner's coupons live in the owner's
 * collection: they are not listed here (one read), and are redeemed by code (docs/household.md).
 */
export function entitlementSource(
  data: { record: MembershipRecord | null; grants: readonly IssuedGrant[]; household: HouseholdLink | null },
  memberId: string,
  catalog: PlanCatalog,
  now: Date,
): EntitlementSource {
  const own = { ...evaluateMembership(data.record, catalog, now), memberId };
  const shared = !own.entitled && data.household ? householdView(data.household, memberId, catalog, now) : null;
  if (!shared || !data.household) {
    return {
      view: own,
      plan: catalog.plan(own.planId),
      grants: effectiveGrants(data.record, data.grants),
      via: null,
      roleWithoutFreeShipping: false,
    };
  }
  return {
    view: shared.view,
    plan: planForRole(shared.plan, shared.benefits),
    grants: [],
    via: { ownerMemberId: data.household.ownerMemberId, role: data.household.role },
    roleWithoutFreeShipping: !shared.benefits.has('freeShipping'),
  };
}

/** The checkout's answer for a member, a household member included (`via`). */
export function memberEntitlement(source: EntitlementSource, now: Date, order?: OrderContext): Entitlement {
  const answer = evaluateEntitlement(source.view, source.plan, source.grants, now, order);
  if (!source.via) return answer;
  const freeShipping =
    source.roleWithoutFreeShipping && answer.entitled
      ? { eligible: false, serviceLevels: [], reason: 'household_role' as const }
      : answer.benefits.freeShipping;
  return { ...answer, benefits: { ...answer.benefits, freeShipping }, via: source.via };
}

/**
 * Whether a household member may use the owner's coupons and vouchers (one pool, each code still
 * once): `role_excluded` for a role without `coupons`, null when the owner's plan no longer shares.
 */
export function poolAccess(link: HouseholdLink, catalog: PlanCatalog, now: Date): 'allowed' | 'role_excluded' | null {
  const config = catalog.plan(evaluateMembership(link.owner, catalog, now).planId)?.household;
  if (!config) return null;
  return roleBenefits(config, link.role).has('coupons') ? 'allowed' : 'role_excluded';
}

/** Days before the owner's membership ends that each member is told (the catalog has no field for it). */
export const HOUSEHOLD_ENDING_DAYS_BEFORE = 3;

/**
 * The notice a member gets when the owner's membership will end (cancelled, or a failed renewal's
 * grace running out): due `HOUSEHOLD_ENDING_DAYS_BEFORE` days before, anchored on the end itself, so a
 * moved end is a new notice and the old one is dropped at send time. Null while the owner's renews.
 */
export function householdEndingReminder(owner: MembershipRecord, memberId: string, catalog: PlanCatalog): PlannedReminder | null {
  const sub = owner.subscription;
  const plan = catalog.plan(sub?.planId);
  if (!sub || !plan?.household) return null;
  const endsAt = plannedLapseAt(owner, plan);
  if (!endsAt) return null;
  const days = HOUSEHOLD_ENDING_DAYS_BEFORE;
  return {
    id: reminderId('household_ending', sub.subscriptionId, endsAt, days),
    kind: 'household_ending',
    memberId,
    subscriptionId: sub.subscriptionId,
    anchor: endsAt,
    offsetDays: days,
    dueAt: new Date(Date.parse(endsAt) - days * DAY_MS).toISOString(),
  };
}

/** Whether a household-ending notice still has its reason at send time, from the member's link now. */
export function householdEndingRelevance(
  reminder: Pick<PlannedReminder, 'id' | 'memberId'>,
  link: HouseholdLink | null,
  catalog: PlanCatalog,
  now: Date,
): Relevance {
  if (!link) return { send: false, reason: 'left_household' };
  const planned = householdEndingReminder(link.owner, reminder.memberId, catalog);
  if (!planned || planned.id !== reminder.id) return { send: false, reason: planned ? 'date_changed' : 'owner_renews' };
  if (planned.anchor <= now.toISOString()) return { send: false, reason: 'too_late' };
  return { send: true };
}

/**
 * Whose savings a member's reported usage counts in: the household owner's while the member is
 * answered from the owner's membership ("savings count for the household"), else their own.
 */
export function savingsAccountOf(
  memberId: string,
  data: { record: MembershipRecord | null; household: HouseholdLink | null },
  catalog: PlanCatalog,
  now: Date,
): string {
  if (!data.household || evaluateMembership(data.record, catalog, now).entitled) return memberId;
  return data.household.ownerMemberId;
}
