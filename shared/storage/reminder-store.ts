/**
 * Reminder items in the single table, under the member (see docs/reminders.md):
 * - reminder: `{ PK: MEMBER#id, SK: NOTE#R#<reminderId>, type: 'reminder', status, dueShard?, dueAt?, ... }`
 *   `dueShard`/`dueAt` exist only while the reminder waits to be sent: the `due` index is sparse and
 *   holds exactly the queue.
 * - proof of notice: `{ PK: MEMBER#id, SK: NOTE#S#<reminderId>, type: 'notification', kind, sentAt,
 *   channel, digest, to }` written once (conditional), kept three years; erasure removes `to` only.
 * - outbox message (local channel): `{ PK: MEMBER#id, SK: NOTE#OUTBOX#<reminderId>, subject, text }`.
 * - preferences: `{ PK: MEMBER#id, SK: PREFS, marketingOptOut }`.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredSavings } from '../domain/benefits';
import type { IssuedGrant } from '../domain/grants';
import type { PlannedReminder, ReminderKind } from '../domain/reminders';
import { grantPut } from './grants';
import { keys, TTL_ATTRIBUTE } from './keys';
import type { ExtraWrite } from './membership-repository';
import { dueInShard, queryMemberItems } from './query-prefix';
import { readSavings } from './savings';

/** Writes spread over this many `due` partitions; the job reads each. */
export const DUE_SHARDS = 8;
/** Proof of notice is kept at least three years (California ARL record keeping); TTL removes it later. */
export const PROOF_RETENTION_DAYS = 3 * 366 + 31;
/** The proof retention of a jurisdiction (docs/compliance.md), in days: its years, plus a month's margin. */
export const proofRetentionDays = (years: number) => years * 366 + 31;
export const DROPPED_RETENTION_DAYS = 400;

export const reminderKeys = {
  reminderSk: (id: string) => `NOTE#R#${id}`,
  proofSk: (id: string) => `NOTE#S#${id}`,
  outboxSk: (id: string) => `NOTE#OUTBOX#${id}`,
  notePrefix: 'NOTE#',
  preferencesSk: 'PREFS',
  dueShard: (id: string) => `DUE#${createHash('sha256').update(id).digest().readUInt32BE(0) % DUE_SHARDS}`,
  dueAt: (dueIso: string, id: string) => `${dueIso}#${id}`,
};

export type ReminderStatus = 'due' | 'sending' | 'sent' | 'dropped';

export interface ReminderItem {
  PK: string;
  SK: string;
  type: 'reminder';
  reminderId: string;
  kind: ReminderKind;
  memberId: string;
  subscriptionId: string;
  anchor: string;
  offsetDays: number;
  scheduledFor: string;
  scheduledAt: string;
  status: ReminderStatus;
  dueShard?: string;
  dueAt?: string;
  leaseUntil?: string;
  attempts?: number;
  couponCode?: string;
  sentAt?: string;
  droppedAt?: string;
  dropReason?: string;
  /** Code of the last failure (an SES error name, a DynamoDB error): why it was retried or given up. */
  lastError?: string;
  /** Acknowledgements: what they confirm, as the flow recorded it (docs/compliance.md). */
  facts?: Record<string, string>;
  /** Where an acknowledgement goes when the membership has no address (any more): removed once settled. */
  deliverTo?: string;
}

export interface ProofItem {
  reminderId: string;
  kind: ReminderKind;
  sentAt: string;
  channel: string;
  /** sha256 of the exact subject and text sent. */
  digest: string;
  to: string | null;
  providerMessageId: string | null;
}

/**
 * The write that (re)queues a reminder; commits with the membership change, so it carries no
 * condition. Re-queuing a reminder that was sent is harmless: sending needs the proof item to be
 * absent. It leaves `leaseUntil` alone, so re-queuing one that a job is sending right now does not let
 * a second job claim it before that lease runs out (by then the proof exists).
 */
export function reminderPut(tableName: string, reminder: PlannedReminder, now: Date): ExtraWrite {
  const fields: Omit<ReminderItem, 'PK' | 'SK'> = {
    type: 'reminder',
    reminderId: reminder.id,
    kind: reminder.kind,
    memberId: reminder.memberId,
    subscriptionId: reminder.subscriptionId,
    anchor: reminder.anchor,
    offsetDays: reminder.offsetDays,
    scheduledFor: reminder.dueAt,
    scheduledAt: now.toISOString(),
    status: 'due',
    dueShard: reminderKeys.dueShard(reminder.id),
    dueAt: reminderKeys.dueAt(reminder.dueAt, reminder.id),
  };
  const names: Record<string, string> = { '#ttl': TTL_ATTRIBUTE };
  const values: Record<string, unknown> = {};
  const sets = Object.entries(fields).map(([name, value], i) => {
    names[`#f${i}`] = name;
    values[`:v${i}`] = value;
    return `#f${i} = :v${i}`;
  });
  return {
    Update: {
      TableName: tableName,
      Key: { PK: keys.memberPk(reminder.memberId), SK: reminderKeys.reminderSk(reminder.id) },
      UpdateExpression: `SET ${sets.join(', ')} REMOVE droppedAt, dropReason, #ttl`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/**
 * An acknowledgement queued by a flow (a withdrawal, a cancellation, an erasure): due now, with the
 * facts it confirms. Written once (a retried flow finds it and changes nothing), in the flow's own
 * transaction where there is one, and sent by the reminders job like any notice, with its proof.
 * `deliverTo` is for an address the membership no longer holds (an erasure's confirmation).
 */
export function acknowledgementPut(
  tableName: string,
  ack: {
    memberId: string;
    kind: ReminderKind;
    subscriptionId: string | null;
    anchor: string;
    facts: Record<string, string>;
    deliverTo?: string;
    /** When it is to go out (a gift's delivery date); default now. */
    dueAt?: string;
  },
  now: Date,
): ExtraWrite {
  const reminderId = `${ack.kind}#${ack.subscriptionId ?? '-'}#${ack.anchor}#0`;
  const dueAt = ack.dueAt ?? now.toISOString();
  const item: ReminderItem = {
    PK: keys.memberPk(ack.memberId),
    SK: reminderKeys.reminderSk(reminderId),
    type: 'reminder',
    reminderId,
    kind: ack.kind,
    memberId: ack.memberId,
    subscriptionId: ack.subscriptionId ?? '-',
    anchor: ack.anchor,
    offsetDays: 0,
    scheduledFor: dueAt,
    scheduledAt: now.toISOString(),
    status: 'due',
    dueShard: reminderKeys.dueShard(reminderId),
    dueAt: reminderKeys.dueAt(dueAt, reminderId),
    facts: ack.facts,
    ...(ack.deliverTo ? { deliverTo: ack.deliverTo } : {}),
  };
  return { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } };
}

export type ClaimOutcome = 'claimed' | 'already_sent' | 'taken';

/** What the reminders job reads, by item: the queue entry, the membership re-check, preferences, savings. */
export type ReadSource = 'due' | 'membership' | 'preferences' | 'savings';

export interface ReadCounter {
  items: number;
  capacity: number;
  /** Items read per source, so a figure like "items read per reminder sent" can say what each one is. */
  bySource: Record<ReadSource, number>;
}

export class ReminderStore {
  /** Items and read capacity this store has read, for the job's report and the bench. */
  readonly reads: ReadCounter = { items: 0, capacity: 0, bySource: { due: 0, membership: 0, preferences: 0, savings: 0 } };

  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Counts a read of the job (the membership re-check goes through the membership repository and is counted by the job). */
  count(source: ReadSource, items: number, consumed?: { CapacityUnits?: number }) {
    this.reads.items += items;
    this.reads.bySource[source] += items;
    this.reads.capacity += consumed?.CapacityUnits ?? 0;
  }

  /** One page of what is due in one shard, oldest first, straight from the sparse index. */
  async dueInShard(shard: number, asOf: Date, limit: number, startKey?: Record<string, unknown>) {
    const out = await dueInShard(this.db, this.tableName, `DUE#${shard}`, asOf, limit, startKey);
    this.count('due', out.Items?.length ?? 0, out.ConsumedCapacity);
    return { items: (out.Items ?? []) as ReminderItem[], next: out.LastEvaluatedKey };
  }

  /**
   * Takes a reminder for sending: due → sending with a lease, or a sending whose lease ran out (its
   * job crashed). Fails when the proof of notice already exists, so a reminder is never sent twice.
   */
  async claim(item: ReminderItem, now: Date, leaseMs: number): Promise<{ outcome: ClaimOutcome; leaseUntil: string }> {
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    const key = { PK: item.PK, SK: item.SK };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: key,
                UpdateExpression: 'SET #status = :sending, leaseUntil = :lease, claimedAt = :now ADD attempts :one',
                // A due reminder may still carry the lease of a send in progress (re-queued meanwhile).
                ConditionExpression:
                  'attribute_exists(PK) AND ((#status = :due AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)) OR (#status = :sending AND leaseUntil < :now))',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':sending': 'sending',
                  ':due': 'due',
                  ':lease': leaseUntil,
                  ':now': now.toISOString(),
                  ':one': 1,
                },
              },
            },
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: { PK: item.PK, SK: reminderKeys.proofSk(item.reminderId) },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
          ],
        }),
      );
      return { outcome: 'claimed', leaseUntil };
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const [reminder, proof] = error.CancellationReasons ?? [];
        if (proof?.Code === 'ConditionalCheckFailed') {
          // Re-queued after it was sent (a plan flipped back): take it out of the queue again.
          await this.finish(item, { status: 'sent' }, null);
          return { outcome: 'already_sent', leaseUntil };
        }
        if (
          reminder?.Code === 'ConditionalCheckFailed' ||
          reminder?.Code === 'TransactionConflict' ||
          proof?.Code === 'TransactionConflict'
        ) {
          return { outcome: 'taken', leaseUntil };
        }
      }
      throw error;
    }
  }

  /** The recall coupon code of a win-back: chosen once per reminder, so a retried send reuses it. */
  async couponCodeFor(item: ReminderItem, candidate: string): Promise<string> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: item.PK, SK: item.SK },
        UpdateExpression: 'SET couponCode = if_not_exists(couponCode, :code)',
        ExpressionAttributeValues: { ':code': candidate },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return String(out.Attributes?.couponCode ?? candidate);
  }

  /**
   * Issues a grant (the win-back coupon) once, written like every other grant. The code is chosen
   * once per reminder (`couponCodeFor`), so a retried send finds its own grant there and does nothing.
   */
  async issueGrant(grant: IssuedGrant): Promise<void> {
    try {
      await this.db.send(new PutCommand(grantPut(this.tableName, grant).Put));
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Proof of notice: written once; a second writer (after a lease expiry) keeps the first proof.
   * Kept `retentionDays` (the member's jurisdiction's proof years). With an address it is written
   * only while the member is not erased (docs/erasure.md): the job read the address before sending,
   * and an erasure that ran since must not find it written back.
   */
  async recordProof(item: ReminderItem, proof: ProofItem, retentionDays = PROOF_RETENTION_DAYS, now = new Date()): Promise<void> {
    const ttl = Math.floor(Date.parse(proof.sentAt) / 1000) + retentionDays * 86_400;
    const base = { PK: item.PK, SK: reminderKeys.proofSk(item.reminderId), type: 'notification', memberId: item.memberId, ...proof, ttl };
    await this.putUnlessErased(item.memberId, base, proof.to === null ? [] : ['to'], { onlyOnce: true, now });
  }

  /**
   * Ends a reminder (sent or dropped) and takes it out of the `due` index. With a lease it only
   * succeeds for the holder of that lease; returns false when someone else holds the reminder now.
   */
  async finish(
    item: ReminderItem,
    outcome: { status: 'sent' } | { status: 'dropped'; reason: string; error?: string },
    lease: string | null,
    now = new Date(),
    sentRetentionDays = PROOF_RETENTION_DAYS,
  ): Promise<boolean> {
    // Settled reminders expire with their proof (sent) or after a year (dropped: kept for support).
    const keepDays = outcome.status === 'sent' ? sentRetentionDays : DROPPED_RETENTION_DAYS;
    const values: Record<string, unknown> = {
      ':status': outcome.status,
      ':now': now.toISOString(),
      ':ttl': Math.floor(now.getTime() / 1000) + keepDays * 86_400,
    };
    let set = '#status = :status, #ttl = :ttl';
    if (outcome.status === 'sent') set += ', sentAt = if_not_exists(sentAt, :now)';
    else {
      set += ', droppedAt = :now, dropReason = :reason';
      values[':reason'] = outcome.reason;
      if (outcome.error) {
        set += ', lastError = :error';
        values[':error'] = outcome.error;
      }
    }
    let condition = 'attribute_exists(PK)';
    if (lease !== null) {
      condition += ' AND #status = :sending AND leaseUntil = :lease';
      values[':sending'] = 'sending';
      values[':lease'] = lease;
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: item.PK, SK: item.SK },
          // A settled notice no longer needs an address of its own (an erasure's confirmation).
          UpdateExpression: `SET ${set} REMOVE dueShard, dueAt, leaseUntil, deliverTo`,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#status': 'status', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Records why an attempt failed; the reminder stays claimed and is retried after its lease. */
  async noteFailure(item: ReminderItem, lease: string, error: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: item.PK, SK: item.SK },
          UpdateExpression: 'SET lastError = :error',
          ConditionExpression: '#status = :sending AND leaseUntil = :lease',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':error': error, ':sending': 'sending', ':lease': lease },
        }),
      );
    } catch (failure) {
      if (!(failure instanceof ConditionalCheckFailedException)) throw failure;
    }
  }

  /**
   * Gives a claimed reminder back untried (the sender could not send anything): due again at once,
   * and the attempt it was claimed with does not count against its limit.
   */
  async release(item: ReminderItem, lease: string, error: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: item.PK, SK: item.SK },
          UpdateExpression: 'SET #status = :due, lastError = :error REMOVE leaseUntil ADD attempts :minusOne',
          ConditionExpression: '#status = :sending AND leaseUntil = :lease',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':due': 'due', ':error': error, ':minusOne': -1, ':sending': 'sending', ':lease': lease },
        }),
      );
      return true;
    } catch (failure) {
      if (failure instanceof ConditionalCheckFailedException) return false;
      throw failure;
    }
  }

  async preferences(memberId: string): Promise<{ marketingOptOut: boolean }> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { PK: keys.memberPk(memberId), SK: reminderKeys.preferencesSk },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.count('preferences', out.Item ? 1 : 0, out.ConsumedCapacity);
    return { marketingOptOut: out.Item?.marketingOptOut === true };
  }

  async setPreferences(memberId: string, prefs: { marketingOptOut: boolean }, now: Date): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          PK: keys.memberPk(memberId),
          SK: reminderKeys.preferencesSk,
          type: 'preferences',
          memberId,
          ...prefs,
          updatedAt: now.toISOString(),
        },
      }),
    );
  }

  /**
   * The member's savings counters as stored (null when none), with the period they belong to: the
   * caller applies `savingsView`, which counts the period figure only while it is the current period.
   */
  async savings(memberId: string): Promise<StoredSavings | null> {
    const { savings, consumed } = await readSavings(this.db, this.tableName, memberId, { consistent: false });
    this.count('savings', savings ? 1 : 0, consumed);
    return savings;
  }

  /** The local channel's copy of a message; like a proof, its address and text only while the member is not erased. */
  async writeOutbox(memberId: string, reminderId: string, message: Record<string, unknown>, now = new Date()): Promise<void> {
    const item = { PK: keys.memberPk(memberId), SK: reminderKeys.outboxSk(reminderId), type: 'outbox', memberId, reminderId, ...message };
    await this.putUnlessErased(memberId, item, ['to', 'text'], { onlyOnce: false, now });
  }

  /**
   * Puts `item` with its `personal` attributes in one transaction with a check that the member's
   * membership is not erased; if it is (an erasure ran between the job's read and this write), puts
   * the item without them, marked erased like the erasure marks what it finds. `onlyOnce`: an item
   * already there is kept (a proof of notice is written once). Erasure lists notices with a
   * consistent read after it saved `erasedAt`, so every write lands on one side of it or the other.
   */
  private async putUnlessErased(
    memberId: string,
    item: Record<string, unknown>,
    personal: readonly string[],
    options: { onlyOnce: boolean; now: Date },
  ): Promise<void> {
    const once = options.onlyOnce ? { ConditionExpression: 'attribute_not_exists(PK)' } : {};
    const erased = () => {
      const copy: Record<string, unknown> = { ...item, erasedAt: options.now.toISOString() };
      for (const name of personal) delete copy[name];
      return copy;
    };
    const put = async (Item: Record<string, unknown>) => {
      try {
        await this.db.send(new PutCommand({ TableName: this.tableName, Item, ...once }));
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    };
    if (personal.every((name) => item[name] === undefined || item[name] === null)) return put(item);
    // A conflict with the erasure's own transaction on the membership is retried: the answer is then clear.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: this.tableName, Item: item, ...once } },
              {
                ConditionCheck: {
                  TableName: this.tableName,
                  Key: { PK: keys.memberPk(memberId), SK: keys.membershipSk },
                  // A record never erased stores erasedAt as null (or has none).
                  ConditionExpression: 'attribute_not_exists(erasedAt) OR attribute_type(erasedAt, :null)',
                  ExpressionAttributeValues: { ':null': 'NULL' },
                },
              },
            ],
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [write, member] = error.CancellationReasons ?? [];
        if (member?.Code === 'ConditionalCheckFailed') return put(erased());
        if (write?.Code === 'ConditionalCheckFailed') return; // written before: the first one stays
        const conflict = [write, member].some((r) => r?.Code === 'TransactionConflict');
        if (!conflict || attempt >= 4) throw error;
      }
    }
  }

  /**
   * For member erasure: removes the address (and the outbox copy of the text) from every notice of the
   * member, keeping the proof of notice itself (kind, time, channel, digest). Returns how many changed.
   */
  async erasePersonalData(memberId: string): Promise<number> {
    let changed = 0;
    // Consistent: a notice written just before the membership's erasedAt was saved must be found here.
    for (const item of await queryMemberItems(this.db, this.tableName, memberId, reminderKeys.notePrefix, { consistent: true })) {
      if (item.type !== 'notification' && item.type !== 'outbox') continue;
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: item.PK, SK: item.SK },
          // The first erasure time stays, so erasing again leaves the items as they are.
          UpdateExpression:
            item.type === 'outbox'
              ? 'SET erasedAt = if_not_exists(erasedAt, :now) REMOVE #to, #text'
              : 'SET erasedAt = if_not_exists(erasedAt, :now) REMOVE #to',
          ExpressionAttributeNames: item.type === 'outbox' ? { '#to': 'to', '#text': 'text' } : { '#to': 'to' },
          ExpressionAttributeValues: { ':now': new Date().toISOString() },
          ConditionExpression: 'attribute_exists(PK)',
        }),
      );
      changed++;
    }
    return changed;
  }

  /** The reminder ids of the proofs of one kind the member has (a price change is announced once). */
  async proofsOfKind(memberId: string, kind: ReminderKind): Promise<string[]> {
    const items = await queryMemberItems(this.db, this.tableName, memberId, reminderKeys.proofSk(`${kind}#`), { consistent: true });
    return items.map((i) => String(i.reminderId));
  }

  /** Everything notice-related of one member (reminders, proofs, outbox), for the operator. */
  async listForMember(memberId: string): Promise<Array<Record<string, unknown>>> {
    return queryMemberItems(this.db, this.tableName, memberId, reminderKeys.notePrefix);
  }
}
