/**
 * Every Stripe event type the service ingests: what the webhook endpoint subscribes to
 * (docs/operations.md lists the same, a unit test keeps them in step) and what the stripe-sync job
 * replays from `GET /v1/events`. Anything else is answered 200 and ignored, whatever its API version.
 */
import { MEMBERSHIP_EVENT_TYPES } from './events';
import { MONEY_EVENT_TYPES } from './money-events';

export const INGESTED_EVENT_TYPES: readonly string[] = [...new Set([...MEMBERSHIP_EVENT_TYPES, ...MONEY_EVENT_TYPES])].sort();

const ingested: ReadonlySet<string> = new Set(INGESTED_EVENT_TYPES);
export const isIngestedEventType = (type: string): boolean => ingested.has(type);

/** `GET /v1/events` takes at most 20 types per request (`types[]`). */
export const MAX_TYPES_PER_LIST = 20;

/** The ingested types in groups a single events list request accepts. */
export function eventTypeGroups(types: readonly string[] = INGESTED_EVENT_TYPES): string[][] {
  const groups: string[][] = [];
  for (let i = 0; i < types.length; i += MAX_TYPES_PER_LIST) groups.push(types.slice(i, i + MAX_TYPES_PER_LIST));
  return groups;
}
