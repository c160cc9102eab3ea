/**
 * Declarations a member made to end their membership, kept as proof (docs/compliance.md): a withdrawal
 * (`DECLARATION#WITHDRAWAL#<subscriptionId>`, one per contract) or a cancellation received without
 * login (`DECLARATION#CANCELLATION#<reference>`), in the member's partition outside `ENT#`.
 * `{ type: 'declaration', ...Declaration, ttl }`: written once when received (conditional), then
 * marked processed with its outcome; kept for the proof retention of the member's jurisdiction.
 * Erasure removes `name`, `email` and `reason` (the registry, storage/item-registry.ts).
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys, TTL_ATTRIBUTE } from './keys';
import type { TransactItem } from './transact';
import { writeTogether } from './transact-write';

export interface Declaration {
  memberId: string;
  reference: string;
  kind: 'withdrawal' | 'cancellation';
  channel: 'self_service' | 'no_login';
  receivedAt: string;
  subscriptionId: string | null;
  planId: string | null;
  /** Which rules applied (`DE`, `US-CA`, `strictest`). */
  rulesKey: string;
  /** What the person gave: their name, the address they typed, the type and reason of a cancellation, their language. */
  name: string | null;
  email: string | null;
  cancellationType: 'ordinary' | 'extraordinary' | null;
  reason: string | null;
  lang: 'en' | 'de' | null;
  status: 'received' | 'processed';
  processedAt: string | null;
  /** What came of it: end date, refund, charge for days served (strings and numbers only). */
  outcome: Record<string, string | number | null> | null;
}

export const declarationKeys = {
  prefix: 'DECLARATION#',
  withdrawal: (subscriptionId: string) => `DECLARATION#WITHDRAWAL#${subscriptionId}`,
  cancellation: (reference: string) => `DECLARATION#CANCELLATION#${reference}`,
};

/** The declaration's sort key, from its kind and the contract or reference that names it. */
export const declarationSk = (d: Pick<Declaration, 'kind' | 'subscriptionId' | 'reference'>) =>
  d.kind === 'withdrawal' ? declarationKeys.withdrawal(d.subscriptionId ?? d.reference) : declarationKeys.cancellation(d.reference);

/** Received: written once, so a retried request keeps the first receipt time and reference. */
export function declarationPut(tableName: string, declaration: Declaration, retentionDays: number): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        PK: keys.memberPk(declaration.memberId),
        SK: declarationSk(declaration),
        type: 'declaration',
        ...declaration,
        [TTL_ATTRIBUTE]: Math.floor(Date.parse(declaration.receivedAt) / 1000) + retentionDays * 86_400,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

/** Processed, with its outcome; only from `received`, so the first outcome stays. */
export function declarationProcessed(
  tableName: string,
  declaration: Pick<Declaration, 'memberId' | 'kind' | 'subscriptionId' | 'reference'>,
  outcome: Declaration['outcome'],
  now: Date,
): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: { PK: keys.memberPk(declaration.memberId), SK: declarationSk(declaration) },
      UpdateExpression: 'SET #status = :processed, processedAt = :now, outcome = :outcome',
      ConditionExpression: '#status = :received',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':processed': 'processed', ':received': 'received', ':now': now.toISOString(), ':outcome': outcome },
    },
  };
}

export function declarationFromItem(item: Record<string, unknown>): Declaration {
  const { PK: _pk, SK: _sk, type: _type, [TTL_ATTRIBUTE]: _ttl, ...rest } = item;
  return rest as unknown as Declaration;
}

export class DeclarationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Commits a flow's writes together (declaration, acknowledgement, queued work); see `writeTogether`. */
  commit(items: TransactItem[]): Promise<{ failed: number[] }> {
    return writeTogether(this.db, items);
  }

  async get(memberId: string, sk: string): Promise<Declaration | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: keys.memberPk(memberId), SK: sk }, ConsistentRead: true }),
    );
    return out.Item ? declarationFromItem(out.Item) : null;
  }
}
