import type { PlanCatalog } from '../domain/catalog';
import { applyMembershipEvent, type MembershipEvent, type MembershipRecord } from '../domain/membership';
import { translateStripeEvent, type StripeEvent } from '../stripe/events';
import { ConcurrentModificationError, type ExtraWrite, type MembershipRepository } from '../storage/membership-repository';
import { recordMoneyEvent, type LedgerWriter } from './record-money-event';

/** A member-affecting event arrived before anything tells us whose it is; Stripe's retry will find it. */
export class UnattributedEventError extends Error {
  override name = 'UnattributedEventError';
}

/**
 * Something else that must happen atomically with a membership change, e.g. issuing the period's
 * grants or scheduling reminders. Reactions are pure: they look at the change and return writes.
 */
export type MembershipReaction = (change: {
  before: MembershipRecord | null;
  after: MembershipRecord;
  event: MembershipEvent;
  now: Date;
  catalog: PlanCatalog;
}) => ExtraWrite[];

export interface IngestDeps {
  catalog: PlanCatalog;
  memberships: MembershipRepository;
  reactions?: readonly MembershipReaction[];
  now?: () => Date;
  /** The money ledger (finance); money events are recorded there before any membership change. */
  ledger?: LedgerWriter;
}

export type IngestOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'applied' | 'unchanged'; memberId: string }
  | { outcome: 'recorded'; ledgerEntries: number };

const MAX_ATTEMPTS = 8;

/**
 * Applies one verified Stripe event. Safe to repeat and to run concurrently with itself or any other
 * event for the same member: the membership is written with an optimistic revision check together
 * with every reaction in one transaction, so a crash leaves either all or nothing.
 */
export async function ingestStripeEvent(deps: IngestDeps, event: StripeEvent): Promise<IngestOutcome> {
  // Money first: invoice.paid is both a ledger and a membership event. Both writes are idempotent, so
  // if either fails the event answers 5xx and Stripe's retry completes whichever is missing.
  const money = deps.ledger ? await recordMoneyEvent({ catalog: deps.catalog, ledger: deps.ledger }, event) : { entries: 0, recorded: 0 };
  const translated = translateStripeEvent(event, deps.catalog);
  if (translated.kind === 'ignored') {
    return money.entries > 0 ? { outcome: 'recorded', ledgerEntries: money.entries } : { outcome: 'ignored', reason: translated.reason };
  }

  const memberId =
    translated.memberId ?? (translated.customerId ? await deps.memberships.findMemberIdByCustomer(translated.customerId) : null);
  if (!memberId && translated.onlyIfMember) {
    // A credit note names no member; one for a customer we never linked is not about a membership.
    // Its money side was recorded in the ledger above.
    return money.entries > 0 ? { outcome: 'recorded', ledgerEntries: money.entries } : { outcome: 'ignored', reason: `${event.type} of a customer without membership` };
  }
  if (!memberId) {
    throw new UnattributedEventError(`${event.type} ${event.id}: no memberId in metadata and customer is not linked yet`);
  }
  const domainEvent = translated.build(memberId);
  const now = deps.now ?? (() => new Date());

  for (let attempt = 1; ; attempt++) {
    const stored = await deps.memberships.getMembership(memberId);
    const before = stored?.record ?? null;
    const { record: after, changed } = applyMembershipEvent(before, domainEvent);
    const at = now();
    const extra = (deps.reactions ?? []).flatMap((react) => react({ before, after, event: domainEvent, now: at, catalog: deps.catalog }));
    if (!changed && extra.length === 0) return { outcome: 'unchanged', memberId };
    try {
      await deps.memberships.saveMembership(after, stored?.rev ?? 0, extra, at);
      return { outcome: 'applied', memberId };
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}
