/**
 * The compliance job (`npm run job -- compliance`, EventBridge every 5 minutes): works through what is
 * due in the compliance queue (storage/work-queue.ts) — cancellations received without login,
 * withdrawals whose request died, price moves after their notice, save-offer follow-ups. Each item is
 * claimed with a lease, so concurrent runs never both do one and a crashed run's item comes back; a
 * failure (Stripe down, say) puts the item back for the next run, and after `maxAttempts` it is dropped
 * with its last error and counted (alarm).
 */
import { logger } from '../observability';
import { type DeclarationStore, declarationKeys } from '../storage/declarations';
import { WORK_SHARDS, type WorkItem, type WorkQueue } from '../storage/work-queue';
import { type ProcessCancellationDeps, processCancellationRequest } from './cancellation-requests';
import { movePrice } from './price-changes';
import { followUpSaveOffer, type SaveOfferDeps } from './save-offers';
import { completeWithdrawal } from './withdraw-membership';

export interface ComplianceJobDeps extends ProcessCancellationDeps {
  queue: WorkQueue;
  declarations: Pick<DeclarationStore, 'get' | 'commit' | 'tableName'>;
  offers: SaveOfferDeps['offers'];
  /** The real clock, for leases (`asOf` only decides what is due). */
  clock?: () => Date;
  leaseMs?: number;
  maxAttempts?: number;
}

export interface ComplianceJobResult {
  asOf: string;
  read: number;
  done: Record<string, number>;
  dropped: Record<string, number>;
  retried: number;
  skipped: number;
}

const PAGE = 50;
const RETRY_MS = 5 * 60_000;
export const DEFAULT_WORK_MAX_ATTEMPTS = 50;

const count = (bucket: Record<string, number>, key: string) => {
  bucket[key] = (bucket[key] ?? 0) + 1;
};

export async function runComplianceWork(deps: ComplianceJobDeps, asOf: Date): Promise<ComplianceJobResult> {
  const result: ComplianceJobResult = { asOf: asOf.toISOString(), read: 0, done: {}, dropped: {}, retried: 0, skipped: 0 };
  await Promise.all(
    Array.from({ length: WORK_SHARDS }, async (_, shard) => {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await deps.queue.dueInShard(shard, asOf, PAGE, startKey);
        startKey = page.next;
        result.read += page.items.length;
        for (const item of page.items) await handle(deps, item, asOf, result);
      } while (startKey);
    }),
  );
  return result;
}

async function handle(deps: ComplianceJobDeps, item: WorkItem, asOf: Date, result: ComplianceJobResult) {
  const now = (deps.clock ?? (() => new Date()))();
  const lease = await deps.queue.claim(item, now, deps.leaseMs ?? RETRY_MS);
  if (!lease) {
    result.skipped++;
    return;
  }
  const attempt = (item.attempts ?? 0) + 1;
  try {
    const outcome = await perform(deps, item, asOf);
    if ('later' in outcome) {
      await deps.queue.later(item, lease, outcome.later, outcome.reason);
      result.retried++;
    } else if ('dropped' in outcome) {
      await deps.queue.finish(item, lease, 'dropped', outcome.dropped);
      count(result.dropped, `${item.kind}:${outcome.dropped}`);
    } else {
      await deps.queue.finish(item, lease, 'done', outcome.done);
      count(result.done, item.kind);
    }
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    try {
      if (attempt >= (deps.maxAttempts ?? DEFAULT_WORK_MAX_ATTEMPTS)) {
        await deps.queue.finish(item, lease, 'dropped', 'attempts_exhausted');
        count(result.dropped, `${item.kind}:attempts_exhausted`);
        logger.error('compliance work given up', { kind: item.kind, attempt, error: reason.slice(0, 300) });
        return;
      }
      await deps.queue.later(item, lease, new Date(now.getTime() + RETRY_MS).toISOString(), reason);
    } catch {
      // The lease still brings the item back.
    }
    result.retried++;
    logger.warn('compliance work failed; retried later', { kind: item.kind, attempt, error: reason.slice(0, 300) });
  }
}

type Outcome = { done: string } | { dropped: string } | { later: string; reason: string };

async function perform(deps: ComplianceJobDeps, item: WorkItem, asOf: Date): Promise<Outcome> {
  switch (item.kind) {
    case 'cancellation_request':
      return { done: await processCancellationRequest(deps, item, asOf) };
    case 'withdrawal': {
      const subscriptionId = String(item.payload.subscriptionId);
      const declaration = await deps.declarations.get(item.memberId!, declarationKeys.withdrawal(subscriptionId));
      if (!declaration) return { dropped: 'no_declaration' };
      if (declaration.status === 'processed') return { done: 'already_processed' };
      await completeWithdrawal(deps, declaration, asOf);
      return { done: 'completed_by_job' };
    }
    case 'price_move':
      return movePrice(deps, item, asOf);
    case 'save_offer_followup':
      return { done: await followUpSaveOffer(deps, item, asOf) };
  }
}
