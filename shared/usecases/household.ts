/**
 * Household sharing (docs/household.md): invite, join, leave, the household as its people see it, and
 * the ingestion reaction that keeps every member's copy of the owner's membership in step.
 */
import type { PlanCatalog } from '../domain/catalog';
import {
  decideInvite,
  decideJoin,
  decideLeave,
  type Household,
  type HouseholdInvite,
  type HouseholdMember,
  type HouseholdRole,
  householdEndingReminder,
  openInvites,
  ownerSnapshot,
} from '../domain/household';
import { evaluateMembership, evaluateSubscription } from '../domain/membership';
import { ConflictError, type ErrorDetails, GoneError, NotFoundError, ProviderUnavailableError } from '../errors';
import { HouseholdChangedError, type HouseholdStore, householdLinkRefresh, householdUnchanged } from '../storage/households';
import type { MembershipRepository } from '../storage/membership-repository';
import { reminderPut } from '../storage/reminder-store';
import type { MembershipReaction } from './ingest-stripe-event';

export interface HouseholdDeps {
  catalog: PlanCatalog;
  memberships: Pick<MembershipRepository, 'getMembership'>;
  households: HouseholdStore;
  /** A fresh invite code (shared/codes.ts). */
  inviteCode: () => string;
}

export interface HouseholdView {
  ownerMemberId: string;
  /** The owner first (as an adult), then members by when they joined. */
  members: Array<{ memberId: string; role: HouseholdRole; joinedAt: string }>;
  /** Standing invites; shown to the owner only. */
  invites: Array<{ code: string; role: HouseholdRole; expiresAt: string }>;
}

const MAX_ATTEMPTS = 8;

async function untilWritten<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof HouseholdChangedError)) throw error;
      // Still contended after every attempt (a burst of joins to one household): a retry soon succeeds.
      if (n >= MAX_ATTEMPTS) throw new ProviderUnavailableError('dynamodb', 'busy', 'The household is changing right now; try again.', 1);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * n));
    }
  }
}

function viewOf(household: Household, asOwner: boolean, now: Date): HouseholdView {
  const owner: HouseholdMember = { memberId: household.ownerMemberId, role: 'adult', joinedAt: household.createdAt };
  return {
    ownerMemberId: household.ownerMemberId,
    members: [owner, ...household.members],
    invites: asOwner ? openInvites(household, now).map(({ code, role, expiresAt }) => ({ code, role, expiresAt })) : [],
  };
}

/**
 * The caller's household: the one they belong to, else the one they own (or could own: an entitled
 * member of a sharing plan sees a household of one). 404 `no_household` otherwise.
 */
export async function getHousehold(deps: HouseholdDeps, memberId: string, now: Date): Promise<HouseholdView> {
  const state = await deps.households.memberState(memberId);
  if (state.link) {
    const stored = await deps.households.getHousehold(state.link.ownerMemberId);
    if (stored) return viewOf(stored.household, false, now);
  }
  if (state.owned) return viewOf(state.owned.household, true, now);
  const own = await deps.memberships.getMembership(memberId);
  const view = evaluateMembership(own?.record ?? null, deps.catalog, now);
  if (view.entitled && deps.catalog.plan(view.planId)?.household) {
    return { ownerMemberId: memberId, members: [{ memberId, role: 'adult', joinedAt: now.toISOString() }], invites: [] };
  }
  throw new NotFoundError('You neither own nor belong to a household.', 'no_household');
}

const INVITE_REFUSALS = {
  no_membership: 'Only a member whose subscription is running can invite (gifted time is not shared).',
  no_household_plan: 'Your plan does not share with a household.',
  in_another_household: 'You belong to another household: leave it before inviting to your own.',
  household_full: 'Every seat of this role is taken (members and standing invites count).',
} as const;

/** The owner invites someone of `role`, within the plan's caps; the code expires after `inviteValidDays`. */
export async function inviteToHousehold(
  deps: HouseholdDeps,
  ownerMemberId: string,
  role: HouseholdRole,
  now: Date,
): Promise<Pick<HouseholdInvite, 'code' | 'role' | 'expiresAt'>> {
  return untilWritten(async () => {
    const [own, state] = await Promise.all([deps.memberships.getMembership(ownerMemberId), deps.households.memberState(ownerMemberId)]);
    // A household shares the owner's subscription: gifted time is the claimer's alone, and the members'
    // copies (ownerSnapshot) carry the subscription only.
    const ownerView = evaluateSubscription(own?.record ?? null, deps.catalog, now);
    const decision = decideInvite({
      ownerView,
      plan: deps.catalog.plan(ownerView.planId),
      ownerLink: state.link,
      household: state.owned?.household ?? null,
      ownerMemberId,
      role,
      code: deps.inviteCode(),
      now,
    });
    if (decision.kind === 'refuse') {
      throw new ConflictError(decision.reason, INVITE_REFUSALS[decision.reason], { membershipStatus: ownerView.status });
    }
    const { invite } = decision;
    await deps.households.saveInvite(decision.household, state.owned?.rev ?? 0, invite.code, invite.expiresAt, own?.rev ?? 0, now);
    return { code: invite.code, role: invite.role, expiresAt: invite.expiresAt };
  });
}

const JOIN_REFUSALS = {
  already_in_household: 'You already belong to a household (or own one with members): one household at a time.',
  rejoin_locked: 'You left a household recently: you can join another once the rejoin lock ends.',
  own_membership: 'You have a membership of your own: joining a household would make you pay twice.',
  household_inactive: 'The household’s membership is not running now.',
  household_full: 'Every seat of this role is taken.',
} as const;

/** Joins the household of the invite's owner, with the invite's role. */
export async function joinHousehold(
  deps: HouseholdDeps,
  memberId: string,
  input: { code: string; email?: string | undefined },
  now: Date,
): Promise<HouseholdView> {
  const { code } = input;
  const ownerMemberId = await deps.households.inviteOwner(code);
  if (ownerMemberId === null) throw new NotFoundError('No such invite.', 'unknown_invite');
  return untilWritten(async () => {
    const [stored, owner, joiner, state] = await Promise.all([
      deps.households.getHousehold(ownerMemberId),
      deps.memberships.getMembership(ownerMemberId),
      deps.memberships.getMembership(memberId),
      deps.households.memberState(memberId),
    ]);
    const decision = decideJoin({
      memberId,
      code,
      household: stored?.household ?? null,
      ownerRecord: owner?.record ?? null,
      catalog: deps.catalog,
      joiner: {
        ownView: evaluateMembership(joiner?.record ?? null, deps.catalog, now),
        link: state.link,
        ownsHouseholdWithMembers: (state.owned?.household.members.length ?? 0) > 0,
        lockedUntil: state.lockedUntil,
      },
      now,
    });
    if (decision.kind === 'refuse') {
      if (decision.reason === 'unknown_invite') throw new NotFoundError('No such invite (or it was used).', 'unknown_invite');
      if (decision.reason === 'invite_expired') throw new GoneError('invite_expired', 'The invite has expired: ask for a new one.');
      const details: ErrorDetails = decision.lockedUntil ? { lockedUntil: decision.lockedUntil } : {};
      throw new ConflictError(decision.reason, JOIN_REFUSALS[decision.reason], details);
    }
    // The member's own address (a past membership's) unless they give one for household notices.
    const link = { ...decision.link, email: input.email ?? null };
    const ending = householdEndingReminder(link.owner, memberId, deps.catalog);
    await deps.households.join({
      household: decision.household,
      expectedRev: stored?.rev ?? 0,
      memberId,
      link,
      ownerMembershipRev: owner?.rev ?? 0,
      joinerMembershipRev: joiner?.rev ?? 0,
      extra: ending ? [reminderPut(deps.households.tableName, ending, now)] : [],
      now,
    });
    return viewOf(decision.household, false, now);
  });
}

/** The owner removes a member, or a member leaves; either starts the member's rejoin lock. */
export async function leaveHousehold(
  deps: HouseholdDeps,
  actorMemberId: string,
  targetMemberId: string,
  now: Date,
): Promise<{ memberId: string; ownerMemberId: string; rejoinLockedUntil: string | null }> {
  return untilWritten(async () => {
    // The household is the target's (when they leave) or the actor's own (when the owner removes).
    const target = await deps.households.memberState(targetMemberId);
    const ownerMemberId = actorMemberId === targetMemberId ? (target.link?.ownerMemberId ?? actorMemberId) : actorMemberId;
    const [stored, owner] = await Promise.all([deps.households.getHousehold(ownerMemberId), deps.memberships.getMembership(ownerMemberId)]);
    const ownerView = evaluateSubscription(owner?.record ?? null, deps.catalog, now);
    const decision = decideLeave({
      actorMemberId,
      targetMemberId,
      household: stored?.household ?? null,
      ownerPlan: deps.catalog.plan(ownerView.planId),
      ownerEntitled: ownerView.entitled,
      catalog: deps.catalog,
      currentLockedUntil: target.lockedUntil,
      now,
    });
    if (decision.kind === 'refuse') {
      if (decision.reason === 'household_owner')
        throw new ConflictError('household_owner', 'The owner cannot leave their own household; members leave or are removed.');
      // Someone else's household, or nobody's: the caller learns nothing about it.
      throw new NotFoundError('No such member in your household.', 'not_in_household');
    }
    await deps.households.leave({
      household: decision.household,
      expectedRev: stored!.rev,
      memberId: targetMemberId,
      lockedUntil: decision.lockedUntil,
      now,
    });
    return { memberId: targetMemberId, ownerMemberId, rejoinLockedUntil: decision.lockedUntil };
  });
}

/**
 * Keeps every member's copy of the owner's membership in step, in the owner's membership transaction:
 * a copy per member (at most 9) and a guard on the household's revision, so a join or leave since the
 * roster was read makes the change decide again. Nothing is written when the copy would not change.
 */
export function householdCopyReaction(tableName: string): MembershipReaction {
  return ({ before, after, household, catalog, now }) => {
    if (household === undefined || household === null) return [];
    const snapshot = ownerSnapshot(after);
    if (before && JSON.stringify(ownerSnapshot(before)) === JSON.stringify(snapshot)) return [];
    const endingBefore = before ? householdEndingReminder(before, '', catalog) : null;
    return [
      householdUnchanged(tableName, after.memberId, household.rev),
      ...household.members.flatMap((m) => {
        const writes = [householdLinkRefresh(tableName, m.memberId, snapshot)];
        // Each member hears when the owner's membership will end; a moved end is a new notice.
        const ending = householdEndingReminder(after, m.memberId, catalog);
        if (ending && (ending.id !== endingBefore?.id || ending.dueAt !== endingBefore.dueAt))
          writes.push(reminderPut(tableName, ending, now));
        return writes;
      }),
    ];
  };
}
