/**
 * The compliance job's queue (docs/compliance.md): work that must finish once and never be lost —
 * a cancellation received without login, a withdrawal whose request died half-way, a subscription
 * moving to a new price after its notice, the 90-day look at a save offer. The same pattern as the
 * reminders: items carry `dueShard`/`dueAt` only while they wait, so the sparse `due` index holds
 * exactly the queue, read shard by shard without a Scan; a claim is a conditional write with a lease,
 * so two runs never both do an item and a crashed run's item comes back after its lease.
 *
 * Shards are `WORK#0..7`, apart from the reminders' `DUE#0..7` in the same index.
 *
 * `{ PK, SK, type: 'work', kind, workId, payload, status: due|working|done|dropped, dueShard?, dueAt?,
 *   leaseUntil?, attempts, lastError?, outcome?, ttl? }`; the PK is the member's partition when the work
 * belongs to a member (it is then part of their export), else the work's own.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TTL_ATTRIBUTE } from './keys';
import { dueInShard } from './query-prefix';
import type { TransactItem } from './transact';

export const WORK_SHARDS = 8;
/** Finished work is kept a while for support, then expires. */
const FINISHED_RETENTION_DAYS = 400;

export const WORK_KINDS = ['cancellation_request', 'withdrawal', 'price_move', 'save_offer_followup'] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

export interface WorkItem {
  PK: string;
  SK: string;
  type: 'work';
  kind: WorkKind;
  workId: string;
  memberId?: string;
  payload: Record<string, unknown>;
  status: 'due' | 'working' | 'done' | 'dropped';
  createdAt: string;
  scheduledFor: string;
  dueShard?: string;
  dueAt?: string;
  leaseUntil?: string;
  attempts?: number;
  lastError?: string;
  outcome?: string;
}

export const workKeys = {
  sk: (kind: WorkKind, workId: string) => `WORK#${kind}#${workId}`,
  prefix: 'WORK#',
  dueShard: (workId: string) => `WORK#${createHash('sha256').update(workId).digest().readUInt32BE(0) % WORK_SHARDS}`,
  dueAt: (dueIso: string, workId: string) => `${dueIso}#${workId}`,
};

/**
 * The write that queues work, once: a second put of the same work (a retried request) changes nothing.
 * Returned as a transaction item so it can commit with the fact it follows from.
 */
export function workPut(
  tableName: string,
  work: { PK: string; kind: WorkKind; workId: string; memberId?: string; payload: Record<string, unknown>; dueAt: string; now: Date },
  extra: Record<string, unknown> = {},
): TransactItem {
  const item: WorkItem = {
    PK: work.PK,
    SK: workKeys.sk(work.kind, work.workId),
    type: 'work',
    kind: work.kind,
    workId: work.workId,
    ...(work.memberId ? { memberId: work.memberId } : {}),
    payload: work.payload,
    status: 'due',
    createdAt: work.now.toISOString(),
    scheduledFor: work.dueAt,
    dueShard: workKeys.dueShard(work.workId),
    dueAt: workKeys.dueAt(work.dueAt, work.workId),
    attempts: 0,
  };
  return { Put: { TableName: tableName, Item: { ...item, ...extra }, ConditionExpression: 'attribute_not_exists(PK)' } };
}

export class WorkQueue {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Queues work once; false when it was queued before. */
  async enqueue(work: Parameters<typeof workPut>[1], extra: Record<string, unknown> = {}): Promise<boolean> {
    try {
      await this.db.send(new PutCommand(workPut(this.tableName, work, extra).Put!));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** One page of what is due in one shard, oldest first. */
  async dueInShard(shard: number, asOf: Date, limit: number, startKey?: Record<string, unknown>) {
    const out = await dueInShard(this.db, this.tableName, `WORK#${shard}`, asOf, limit, startKey);
    return { items: (out.Items ?? []) as WorkItem[], next: out.LastEvaluatedKey };
  }

  /** Takes an item: due (or working with an expired lease) → working with a lease; null when another run has it. */
  async claim(item: WorkItem, now: Date, leaseMs: number): Promise<string | null> {
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: item.PK, SK: item.SK },
          UpdateExpression: 'SET #status = :working, leaseUntil = :lease ADD attempts :one',
          ConditionExpression:
            'attribute_exists(dueShard) AND (#status = :due OR (#status = :working AND leaseUntil < :now)) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':working': 'working', ':due': 'due', ':lease': leaseUntil, ':now': now.toISOString(), ':one': 1 },
        }),
      );
      return leaseUntil;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  /** Ends an item (done or dropped with a reason) and takes it out of the queue; only for the lease holder. */
  async finish(item: WorkItem, lease: string, status: 'done' | 'dropped', outcome: string, now = new Date()): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: item.PK, SK: item.SK },
        UpdateExpression: 'SET #status = :status, outcome = :outcome, finishedAt = :now, #ttl = :ttl REMOVE dueShard, dueAt, leaseUntil',
        ConditionExpression: '#status = :working AND leaseUntil = :lease',
        ExpressionAttributeNames: { '#status': 'status', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':status': status,
          ':outcome': outcome,
          ':now': now.toISOString(),
          ':ttl': Math.floor(now.getTime() / 1000) + FINISHED_RETENTION_DAYS * 86_400,
          ':working': 'working',
          ':lease': lease,
        },
      }),
    );
  }

  /** Puts an item back to be tried again at `at` (a failure, or not yet time), keeping the reason. */
  async later(item: WorkItem, lease: string, at: string, reason: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: item.PK, SK: item.SK },
        UpdateExpression: 'SET #status = :due, dueAt = :dueAt, scheduledFor = :at, lastError = :reason REMOVE leaseUntil',
        ConditionExpression: '#status = :working AND leaseUntil = :lease',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':due': 'due',
          ':dueAt': workKeys.dueAt(at, item.workId),
          ':at': at,
          ':reason': reason.slice(0, 300),
          ':working': 'working',
          ':lease': lease,
        },
      }),
    );
  }

  /** Removes fields from an item (personal data a finished request no longer needs). */
  async strip(item: Pick<WorkItem, 'PK' | 'SK'>, fields: readonly string[]): Promise<void> {
    if (fields.length === 0) return;
    const names = Object.fromEntries(fields.map((f, i) => [`#f${i}`, f]));
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: item.PK, SK: item.SK },
        UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: names,
      }),
    );
  }
}
