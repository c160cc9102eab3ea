import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactItem } from './transact';

/**
 * Writes items together. A transaction cancelled only by conditions (a conditional put finding its
 * item already there: the work was done by an earlier attempt) answers which items failed them,
 * instead of throwing; anything else, a concurrent transaction included, is thrown for the caller's
 * retry.
 */
export async function writeTogether(db: DynamoDBDocumentClient, items: TransactItem[]): Promise<{ failed: number[] }> {
  try {
    await db.send(new TransactWriteCommand({ TransactItems: items }));
    return { failed: [] };
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    const failed = reasons.flatMap((r, i) => (r.Code === 'ConditionalCheckFailed' ? [i] : []));
    if (failed.length === 0 || reasons.some((r) => r.Code && r.Code !== 'None' && r.Code !== 'ConditionalCheckFailed')) throw error;
    return { failed };
  }
}
