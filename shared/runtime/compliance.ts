/**
 * Per-container wiring of the compliance features (docs/compliance.md): the work queue, declarations,
 * save offers, the member registry (export, erasure), the email lookup and the rate limiter of the
 * cancellation without login, and the save-offer terms (SAVE_OFFER_PERCENT_OFF, SAVE_OFFER_MONTHS).
 */

import { fixedWindow } from '../domain/rate-limit';
import { DeclarationStore } from '../storage/declarations';
import { MemberItems } from '../storage/item-registry';
import { MemberLookup } from '../storage/member-lookup';
import { DynamoRateCounter } from '../storage/rate-limits';
import { SaveOfferStore, type SaveOfferTerms } from '../storage/save-offers';
import { WorkQueue } from '../storage/work-queue';
import type { RateLimiter } from '../usecases/cancellation-requests';
import { dynamo } from './dynamo';
import { positiveInt } from './reminder-settings';

/** The compliance job's queue (no-login cancellations, withdrawals to finish, price moves, save-offer follow-ups). */
export function workQueue(): WorkQueue {
  const { doc, tables } = dynamo();
  return new WorkQueue(doc, tables.main);
}

export function declarationStore(): DeclarationStore {
  const { doc, tables } = dynamo();
  return new DeclarationStore(doc, tables.main);
}

export function saveOfferStore(): SaveOfferStore {
  const { doc, tables } = dynamo();
  return new SaveOfferStore(doc, tables.main);
}

export function memberItems(): MemberItems {
  const { doc, tables } = dynamo();
  return new MemberItems(doc, tables.main);
}

export function memberLookup(): MemberLookup {
  const { doc, tables } = dynamo();
  return new MemberLookup(doc, tables.main);
}

/**
 * The no-login cancellation's limits: per client address (CANCELLATION_LIMIT_PER_CLIENT an hour,
 * default 20: a household or an office shares an address) and per email (CANCELLATION_LIMIT_PER_EMAIL
 * a day, default 5: a person retrying, not a script cancelling someone else).
 */
export function cancellationLimits(env: NodeJS.ProcessEnv = process.env) {
  return {
    client: { limit: positiveInt(env.CANCELLATION_LIMIT_PER_CLIENT, 20, 'CANCELLATION_LIMIT_PER_CLIENT'), windowSeconds: 3600 },
    email: { limit: positiveInt(env.CANCELLATION_LIMIT_PER_EMAIL, 5, 'CANCELLATION_LIMIT_PER_EMAIL'), windowSeconds: 86_400 },
  };
}

/** The cancellation's limits on the shared rate counters (storage/rate-limits.ts): one atomic ADD per scope. */
export function cancellationRateLimiter(env: NodeJS.ProcessEnv = process.env): RateLimiter {
  const { doc, tables } = dynamo();
  const counter = new DynamoRateCounter(doc, tables.main);
  const limits = cancellationLimits(env);
  return {
    async consume(scope, key, now) {
      const window = fixedWindow(now, limits[scope].windowSeconds);
      const count = await counter.countKey(`cancel-${scope}`, key, window);
      return { allowed: count <= limits[scope].limit, retryAfterSeconds: window.retryAfterSeconds };
    },
  };
}

/** What a save offer gives: SAVE_OFFER_PERCENT_OFF (default 50) off for SAVE_OFFER_MONTHS (default 1). */
export function saveOfferTerms(env: NodeJS.ProcessEnv = process.env): SaveOfferTerms {
  const percentOff = positiveInt(env.SAVE_OFFER_PERCENT_OFF, 50, 'SAVE_OFFER_PERCENT_OFF');
  if (percentOff > 100) throw new Error(`SAVE_OFFER_PERCENT_OFF must be at most 100, got "${percentOff}"`);
  return { percentOff, durationInMonths: positiveInt(env.SAVE_OFFER_MONTHS, 1, 'SAVE_OFFER_MONTHS') };
}
