/**
 * The replay cursor: how far the stripe-sync job has applied Stripe's event list. Events are applied
 * in ascending (created, id) order; the cursor is the last applied position, so it never passes an
 * event that was not applied, and many events sharing one second are told apart by their id. Pure:
 * the job reads windows of the list and asks these functions what to do next.
 */

export interface ReplayedEvent {
  id: string;
  /** Stripe's `created`, epoch seconds. */
  created: number;
}

export interface EventCursor {
  /** Every event created before this second has been applied... */
  created: number;
  /** ...and of the events created in that second, those with an id up to this one (null: none yet). */
  after: string | null;
  /** Width of the next window to read, adapted to how many events a window holds. */
  windowSeconds: number;
}

const DAY_S = 86_400;
/** Stripe keeps events for 30 days (`GET /v1/events`). */
export const EVENT_RETENTION_SECONDS = 30 * DAY_S;
/**
 * Events younger than this are left for the next run: Stripe's list may not show every event of the
 * last moments yet, and the cursor must not pass one that appears late. Webhooks cover them meanwhile.
 */
export const EVENT_SETTLE_SECONDS = 300;
export const INITIAL_WINDOW_SECONDS = 3600;
/** A window holding more events than this is read again at half the width (bounded memory per window). */
export const MAX_WINDOW_EVENTS = 2_000;

export const compareEvents = (a: ReplayedEvent, b: ReplayedEvent): number =>
  a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Whether an event lies after the cursor (is not applied yet). */
export const isAfterCursor = (event: ReplayedEvent, cursor: Pick<EventCursor, 'created' | 'after'>): boolean =>
  event.created > cursor.created || (event.created === cursor.created && (cursor.after === null || event.id > cursor.after));

/**
 * The cursor a run starts from: the stored one, or 30 days back on the first run. A stored cursor
 * older than Stripe's retention has lost events for good (`gapSeconds`): the drift sweep is what
 * repairs their effects, and the runbook says so.
 */
export function startingCursor(stored: EventCursor | null, nowSeconds: number): { cursor: EventCursor; gapSeconds: number } {
  const oldest = nowSeconds - EVENT_RETENTION_SECONDS;
  if (!stored) return { cursor: { created: oldest, after: null, windowSeconds: INITIAL_WINDOW_SECONDS }, gapSeconds: 0 };
  if (stored.created >= oldest) return { cursor: stored, gapSeconds: 0 };
  return { cursor: { ...stored, created: oldest, after: null }, gapSeconds: oldest - stored.created };
}

/** The newest second a run may read up to (exclusive). */
export const replayHorizon = (nowSeconds: number): number => nowSeconds - EVENT_SETTLE_SECONDS;

/**
 * Where the cursor goes after a window: past the whole window when every event in it was applied,
 * else to the last event of the longest applied prefix (events are given sorted). Never backwards.
 */
export function advanceCursor(
  cursor: EventCursor,
  sorted: readonly ReplayedEvent[],
  applied: ReadonlySet<string>,
  windowEnd: number,
): EventCursor {
  let last: ReplayedEvent | null = null;
  for (const event of sorted) {
    if (!applied.has(event.id)) {
      return last ? { ...cursor, created: last.created, after: last.id } : cursor;
    }
    last = event;
  }
  return { ...cursor, created: Math.max(cursor.created, windowEnd), after: null };
}

/** Adapts the window to what the last one held: wider when sparse, narrower after an overflow. */
export function nextWindowSeconds(current: number, eventsInWindow: number, overflowed: boolean): number {
  if (overflowed) return Math.max(1, Math.floor(current / 2));
  if (eventsInWindow < MAX_WINDOW_EVENTS / 4) return Math.min(EVENT_RETENTION_SECONDS, current * 2);
  return current;
}
