import { MEMBERSHIP_EVENT_TYPES } from './events';
import { MONEY_EVENT_TYPES } from './money-events';

/**
 * Every Stripe event type the webhook acts on: the webhook endpoint must be subscribed to each
 * (docs/operations.md lists them; tests/unit/operations-doc.test.ts keeps the two in step).
 */
export const HANDLED_EVENT_TYPES: readonly string[] = [...new Set([...MEMBERSHIP_EVENT_TYPES, ...MONEY_EVENT_TYPES])].sort();
