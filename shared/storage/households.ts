/**
 * Household items (docs/household.md, docs/data-model.md), each written and mapped here only:
 * - household: `{ PK: MEMBER#<owner>, SK: HOUSEHOLD, type: 'household', ...Household, rev }`: members
 *   and standing invites; every change is conditional on `rev`, so concurrent joins cannot exceed a cap.
 * - link:      `{ PK: MEMBER#<member>, SK: ENT#HOUSEHOLD, type: 'household-link', ...HouseholdLink }`:
 *   the copy of the owner's membership the member's check reads (inside the `ENT#` prefix: one Query).
 * - lock:      `{ PK: MEMBER#<member>, SK: HOUSEHOLD_LOCK, type: 'household-lock', lockedUntil, ... }`.
 * - invite:    `{ PK: HHINVITE#<code>, SK: INVITE, type: 'household-invite', ownerMemberId, ttl }`:
 *   from a typed code to its household; the household item decides whether the invite still stands.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Household, HouseholdLink, HouseholdMember } from '../domain/household';
import { batchGetAll } from './batch-get';
import { keys } from './keys';
import type { TransactItem } from './transact';

const HOUSEHOLD_SK = 'HOUSEHOLD';

export const householdKeys = {
  household: (ownerMemberId: string) => ({ PK: keys.memberPk(ownerMemberId), SK: HOUSEHOLD_SK }),
  link: (memberId: string) => ({ PK: keys.memberPk(memberId), SK: keys.householdLinkSk }),
  lock: (memberId: string) => ({ PK: keys.memberPk(memberId), SK: 'HOUSEHOLD_LOCK' }),
  invite: (code: string) => ({ PK: `HHINVITE#${code}`, SK: 'INVITE' }),
} as const;

const DAY_S = 86_400;
/** An invite's pointer outlives the invite a little, so a late join still hears "expired" rather than "unknown". */
const INVITE_POINTER_RETENTION_DAYS = 30;

export interface StoredHousehold {
  household: Household;
  rev: number;
}

/** Who a household's owner shares with, as the owner's ingestion needs it to keep the copies in step. */
export interface HouseholdRoster {
  rev: number;
  members: HouseholdMember[];
}

/** The household changed under us (a join, a leave, an invite): read again and decide again. */
export class HouseholdChangedError extends Error {
  override name = 'HouseholdChangedError';
}

function householdFromItem(item: Record<string, unknown>): StoredHousehold {
  return {
    household: {
      ownerMemberId: String(item.ownerMemberId),
      createdAt: String(item.createdAt),
      members: (item.members as HouseholdMember[] | undefined) ?? [],
      invites: (item.invites as Household['invites'] | undefined) ?? [],
    },
    rev: Number(item.rev ?? 0),
  };
}

/** The one mapper of the link item: from an item the document client read, or converted from the wire. */
export function householdLinkFromItem(item: Record<string, unknown>): HouseholdLink {
  return {
    ownerMemberId: String(item.ownerMemberId),
    role: item.role as HouseholdLink['role'],
    joinedAt: String(item.joinedAt),
    owner: item.owner as HouseholdLink['owner'],
    email: typeof item.email === 'string' ? item.email : null,
  };
}

export const isHouseholdLinkSk = (sk: string | undefined): boolean => sk === keys.householdLinkSk;

/** The one writer of the link item: the join writes it (never over another household's link)... */
export function householdLinkPut(tableName: string, memberId: string, link: HouseholdLink): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: { ...householdKeys.link(memberId), type: 'household-link', ...link },
      // One household at a time: a join never overwrites another household's link.
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

/**
 * ...and every change of the owner's membership refreshes its copy, leaving the rest (the member's
 * address) as the join wrote it. Only inside the owner's transaction, guarded by `householdUnchanged`,
 * so the link it updates is still there.
 */
export function householdLinkRefresh(tableName: string, memberId: string, owner: HouseholdLink['owner']): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: householdKeys.link(memberId),
      UpdateExpression: 'SET #owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': owner },
    },
  };
}

/** Guards a write decided from the household at `rev` (the owner's ingestion writing the copies). */
export function householdUnchanged(tableName: string, ownerMemberId: string, rev: number): TransactItem {
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: householdKeys.household(ownerMemberId),
      ConditionExpression: rev === 0 ? 'attribute_not_exists(PK)' : 'rev = :rev',
      ...(rev === 0 ? {} : { ExpressionAttributeValues: { ':rev': rev } }),
    },
  };
}

/** Whether a transaction item is the guard `householdUnchanged` builds. */
export const isHouseholdGuard = (item: TransactItem | undefined): boolean =>
  item?.ConditionCheck?.Key?.SK === HOUSEHOLD_SK && String(item.ConditionCheck.Key.PK).startsWith('MEMBER#');

function householdPut(tableName: string, household: Household, expectedRev: number, now: Date): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...householdKeys.household(household.ownerMemberId),
        type: 'household',
        ...household,
        rev: expectedRev + 1,
        updatedAt: now.toISOString(),
      },
      ConditionExpression: expectedRev === 0 ? 'attribute_not_exists(PK)' : 'rev = :rev',
      ...(expectedRev === 0 ? {} : { ExpressionAttributeValues: { ':rev': expectedRev } }),
    },
  };
}

/** A membership item still at the revision a decision read (0: still absent). */
function membershipAt(tableName: string, memberId: string, rev: number): TransactItem {
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: { PK: keys.memberPk(memberId), SK: keys.membershipSk },
      ConditionExpression: rev === 0 ? 'attribute_not_exists(PK)' : 'rev = :rev',
      ...(rev === 0 ? {} : { ExpressionAttributeValues: { ':rev': rev } }),
    },
  };
}

export class HouseholdStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async getHousehold(ownerMemberId: string): Promise<StoredHousehold | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: householdKeys.household(ownerMemberId), ConsistentRead: true }),
    );
    return out.Item ? householdFromItem(out.Item) : null;
  }

  /** The owner's members and the household's revision: read (consistently) by the owner's ingestion. */
  async roster(ownerMemberId: string): Promise<HouseholdRoster | null> {
    const stored = await this.getHousehold(ownerMemberId);
    return stored ? { rev: stored.rev, members: stored.household.members } : null;
  }

  /** The member's own place (link) and rejoin lock, and the household they own: one consistent batch read. */
  async memberState(memberId: string): Promise<{ link: HouseholdLink | null; lockedUntil: string | null; owned: StoredHousehold | null }> {
    const items = await batchGetAll(
      this.db,
      this.tableName,
      [householdKeys.link(memberId), householdKeys.lock(memberId), householdKeys.household(memberId)],
      { consistent: true },
    );
    const bySk = new Map(items.map((i) => [String(i.SK), i]));
    const link = bySk.get(keys.householdLinkSk);
    const lock = bySk.get(householdKeys.lock(memberId).SK);
    const owned = bySk.get(householdKeys.household(memberId).SK);
    return {
      link: link ? householdLinkFromItem(link) : null,
      lockedUntil: typeof lock?.lockedUntil === 'string' ? lock.lockedUntil : null,
      owned: owned ? householdFromItem(owned) : null,
    };
  }

  /** The member's link (consistent): the reminders job re-checks a household notice against it. */
  async link(memberId: string): Promise<HouseholdLink | null> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: householdKeys.link(memberId), ConsistentRead: true }));
    return out.Item ? householdLinkFromItem(out.Item) : null;
  }

  async inviteOwner(code: string): Promise<string | null> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: householdKeys.invite(code), ConsistentRead: true }));
    return typeof out.Item?.ownerMemberId === 'string' ? out.Item.ownerMemberId : null;
  }

  /** Stores the household with its new invite, and the invite's pointer. */
  async saveInvite(
    next: Household,
    expectedRev: number,
    code: string,
    expiresAt: string,
    ownerMembershipRev: number,
    now: Date,
  ): Promise<void> {
    await this.write([
      householdPut(this.tableName, next, expectedRev, now),
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...householdKeys.invite(code),
            type: 'household-invite',
            ownerMemberId: next.ownerMemberId,
            ttl: Math.floor(Date.parse(expiresAt) / 1000) + INVITE_POINTER_RETENTION_DAYS * DAY_S,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      // Invites only while the owner's membership is what the decision saw.
      membershipAt(this.tableName, next.ownerMemberId, ownerMembershipRev),
    ]);
  }

  /**
   * The join, all or nothing: the household (at the revision read: caps hold under concurrent joins),
   * the member's link (only if they have none: one household at a time), their rejoin lock still over,
   * and both memberships unchanged since the decision (the copy is the owner's current record, and the
   * joiner did not start paying meanwhile).
   */
  async join(input: {
    household: Household;
    expectedRev: number;
    memberId: string;
    link: HouseholdLink;
    ownerMembershipRev: number;
    joinerMembershipRev: number;
    /** Written with the join (the notice of an owner's membership that is already ending). */
    extra: TransactItem[];
    now: Date;
  }): Promise<void> {
    const { memberId, now } = input;
    await this.write([
      householdPut(this.tableName, input.household, input.expectedRev, now),
      householdLinkPut(this.tableName, memberId, input.link),
      ...input.extra,
      {
        ConditionCheck: {
          TableName: this.tableName,
          Key: householdKeys.lock(memberId),
          ConditionExpression: 'attribute_not_exists(PK) OR lockedUntil <= :now',
          ExpressionAttributeValues: { ':now': now.toISOString() },
        },
      },
      membershipAt(this.tableName, input.link.ownerMemberId, input.ownerMembershipRev),
      membershipAt(this.tableName, memberId, input.joinerMembershipRev),
    ]);
  }

  /** Leaving or removal: the household without the member, the member's link gone, the rejoin lock set. */
  async leave(input: {
    household: Household;
    expectedRev: number;
    memberId: string;
    lockedUntil: string | null;
    now: Date;
  }): Promise<void> {
    const { memberId, now, household } = input;
    await this.write([
      householdPut(this.tableName, household, input.expectedRev, now),
      {
        Delete: {
          TableName: this.tableName,
          Key: householdKeys.link(memberId),
          ConditionExpression: 'ownerMemberId = :owner',
          ExpressionAttributeValues: { ':owner': household.ownerMemberId },
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...householdKeys.lock(memberId),
            type: 'household-lock',
            // Without a lock (the owner's membership had ended) the item still says whom they left, and when.
            lockedUntil: input.lockedUntil ?? now.toISOString(),
            leftHousehold: household.ownerMemberId,
            leftAt: now.toISOString(),
          },
        },
      },
    ]);
  }

  private async write(items: TransactItem[]): Promise<void> {
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = error.CancellationReasons ?? [];
        if (reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict'))
          throw new HouseholdChangedError('the household or a membership changed since it was read');
      }
      throw error;
    }
  }
}
