import type { DriftFinding } from '../domain/drift';
import { InvalidInputError } from '../errors';
import { InvalidFindingsCursorError, type StripeSyncStore } from '../storage/stripe-sync-store';

export interface DriftList {
  /** When the latest sweep that ran to the end finished; null before the first. */
  checkedAt: string | null;
  items: DriftFinding[];
  nextCursor: string | null;
}

/** The operator's list of drift findings and refused events, newest first. */
export async function listDriftFindings(
  store: Pick<StripeSyncStore, 'findings' | 'readSweep'>,
  page: { limit: number; cursor?: string | undefined },
): Promise<DriftList> {
  try {
    const [found, sweep] = await Promise.all([store.findings(page), store.readSweep()]);
    return { checkedAt: sweep?.lastCompletedAt ?? null, items: found.items, nextCursor: found.cursor };
  } catch (error) {
    if (error instanceof InvalidFindingsCursorError) throw new InvalidInputError([{ path: '/query/cursor', message: error.message }]);
    throw error;
  }
}
