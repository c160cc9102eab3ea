/**
 * What the stripe-sync job keeps between runs, and the drift findings operators read. Item shapes:
 * - event cursor: `{ PK: STRIPE_SYNC, SK: EVENT_CURSOR, type: 'sync-cursor', created, after, windowSeconds, position, updatedAt }`;
 *   `position` orders cursors, so a write never moves it backwards (a slower concurrent run loses);
 * - sweep:        `{ PK: STRIPE_SYNC, SK: SWEEP, type: 'sync-sweep', ...SweepState, lastCompletedAt, updatedAt }`;
 * - lease:        `{ PK: STRIPE_SYNC, SK: LEASE, type: 'sync-lease', holder, until }`: one run at a time;
 * - finding:      `{ PK: DRIFT, SK: <at>#<subject>#<kind>, type: 'drift-finding', ...DriftFinding, ttl }`, where `at`
 *   is the sweep's id or the event's time, so finding the same thing again in the same sweep (a run that
 *   resumes a page) or for the same event (a redelivery) writes the same item. Kept 30 days.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DriftFinding, SweepState } from '../domain/drift';
import type { EventCursor } from '../domain/event-replay';

const SYNC_PK = 'STRIPE_SYNC';
const FINDINGS_PK = 'DRIFT';
const FINDING_RETENTION_DAYS = 30;
const DAY_S = 86_400;

const pad = (n: number) => String(Math.max(0, Math.trunc(n))).padStart(12, '0');
const FINDING_SK = /^\d{4}-\d\d-\d\dT[^#]+#[^#]+#[a-z_]+$/;
const cursorPosition = (c: Pick<EventCursor, 'created' | 'after'>) => `${pad(c.created)}#${c.after ?? ''}`;

export class InvalidFindingsCursorError extends Error {
  override name = 'InvalidFindingsCursorError';
}

export interface StoredSweep extends SweepState {
  /** When the latest sweep that ran to the end finished (carried from sweep to sweep). */
  lastCompletedAt: string | null;
}

export interface FindingsPage {
  items: DriftFinding[];
  cursor: string | null;
}

export class StripeSyncStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async get(sk: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { PK: SYNC_PK, SK: sk }, ConsistentRead: true }));
    return out.Item;
  }

  async readCursor(): Promise<EventCursor | null> {
    const item = await this.get('EVENT_CURSOR');
    if (!item) return null;
    return {
      created: Number(item.created),
      after: typeof item.after === 'string' ? item.after : null,
      windowSeconds: Number(item.windowSeconds),
    };
  }

  /** Stores the cursor unless a later one is stored (then returns false). */
  async saveCursor(cursor: EventCursor, now: Date): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: SYNC_PK,
            SK: 'EVENT_CURSOR',
            type: 'sync-cursor',
            created: cursor.created,
            after: cursor.after,
            windowSeconds: cursor.windowSeconds,
            position: cursorPosition(cursor),
            updatedAt: now.toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(PK) OR #position <= :position',
          ExpressionAttributeNames: { '#position': 'position' },
          ExpressionAttributeValues: { ':position': cursorPosition(cursor) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async readSweep(): Promise<StoredSweep | null> {
    const item = await this.get('SWEEP');
    if (!item) return null;
    return {
      sweepId: String(item.sweepId),
      phase: item.phase as SweepState['phase'],
      priceIndex: Number(item.priceIndex ?? 0),
      startingAfter: typeof item.startingAfter === 'string' ? item.startingAfter : null,
      checked: Number(item.checked ?? 0),
      repaired: Number(item.repaired ?? 0),
      needsReview: Number(item.needsReview ?? 0),
      completedAt: typeof item.completedAt === 'string' ? item.completedAt : null,
      lastCompletedAt: typeof item.lastCompletedAt === 'string' ? item.lastCompletedAt : null,
    };
  }

  async saveSweep(sweep: StoredSweep, now: Date): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { PK: SYNC_PK, SK: 'SWEEP', type: 'sync-sweep', ...sweep, updatedAt: now.toISOString() },
      }),
    );
  }

  /**
   * Takes the job's lease until `until`, unless another run holds one that has not expired. Runs
   * overlap when one outlives the schedule's interval, or when an operator runs the job by hand.
   */
  async acquireLease(holder: string, now: Date, until: Date): Promise<{ acquired: true } | { acquired: false; heldUntil: string }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { PK: SYNC_PK, SK: 'LEASE', type: 'sync-lease', holder, until: until.toISOString() },
          ConditionExpression: 'attribute_not_exists(PK) OR #until < :now OR holder = :holder',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now.toISOString(), ':holder': holder },
        }),
      );
      return { acquired: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { acquired: false, heldUntil: String((await this.get('LEASE'))?.until ?? '') };
    }
  }

  /** Ends the lease (an expired lease, not a deletion: nothing deletes from this table). */
  async releaseLease(holder: string, now: Date): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { PK: SYNC_PK, SK: 'LEASE', type: 'sync-lease', holder, until: now.toISOString() },
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** `at` keys the finding in time: the sweep's id, or the time of the event it is about. */
  async recordFinding(finding: DriftFinding, at: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          PK: FINDINGS_PK,
          SK: `${at}#${finding.subject}#${finding.kind}`,
          type: 'drift-finding',
          ...finding,
          ttl: Math.floor(Date.parse(finding.detectedAt) / 1000) + FINDING_RETENTION_DAYS * DAY_S,
        },
      }),
    );
  }

  /** The latest findings first, a page at a time. */
  async findings(options: { limit: number; cursor?: string | undefined }): Promise<FindingsPage> {
    let startKey: Record<string, unknown> | undefined;
    if (options.cursor) {
      const sk = Buffer.from(options.cursor, 'base64url').toString('utf8');
      if (!FINDING_SK.test(sk)) throw new InvalidFindingsCursorError('cursor is not one this API returned');
      startKey = { PK: FINDINGS_PK, SK: sk };
    }
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': FINDINGS_PK },
        ScanIndexForward: false,
        Limit: options.limit,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    const last = out.LastEvaluatedKey;
    return {
      items: (out.Items ?? []).map(findingFromItem),
      cursor: last ? Buffer.from(String(last.SK), 'utf8').toString('base64url') : null,
    };
  }
}

export function findingFromItem(item: Record<string, unknown>): DriftFinding {
  return {
    memberId: typeof item.memberId === 'string' ? item.memberId : null,
    kind: item.kind as DriftFinding['kind'],
    action: item.action as DriftFinding['action'],
    stripe: (item.stripe as DriftFinding['stripe']) ?? null,
    stored: (item.stored as DriftFinding['stored']) ?? null,
    subject: String(item.subject),
    detail: String(item.detail ?? ''),
    source: item.source as DriftFinding['source'],
    detectedAt: String(item.detectedAt),
  };
}
