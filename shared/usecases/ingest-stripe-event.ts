import type { PlanCatalog } from '../domain/catalog';
import { applyMembershipEvent, type MembershipEvent, type MembershipRecord } from '../domain/membership';
import {
  ConcurrentModificationError,
  type ExtraWrite,
  type MembershipRepository,
  type ParkedRefund,
} from '../storage/membership-repository';
import { type StripeEvent, translateStripeEvent } from '../stripe/events';
import { type LedgerWriter, recordMoneyEvent } from './record-money-event';

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
  /**
   * The money ledger (finance). Money events are recorded there before any membership change: the
   * payment link the refund path reads is written with the ledger's `invoice_payment` entry.
   */
  ledger: LedgerWriter;
}

export type IngestOutcome =
  | { outcome: 'ignored'; reason: string }
  /** About a Stripe customer that no member is linked to: not a membership (counted, not retried). */
  | { outcome: 'unattributed'; reason: string }
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
  const money = await recordMoneyEvent({ catalog: deps.catalog, ledger: deps.ledger }, event);
  const orRecorded = (outcome: IngestOutcome): IngestOutcome =>
    money.entries > 0 ? { outcome: 'recorded', ledgerEntries: money.entries } : outcome;
  const translated = translateStripeEvent(event, deps.catalog);
  const now = deps.now ?? (() => new Date());

  switch (translated.kind) {
    case 'ignored':
      return orRecorded({ outcome: 'ignored', reason: translated.reason });

    case 'payment-link': {
      // The link was committed with this event's ledger entry, above; now apply what waited for it. A
      // refund parked after this read is applied by its own delivery, which re-reads the link after
      // parking (see below): one of the two sees the other, and a refund applied twice lands once.
      for (const parked of await deps.memberships.parkedRefunds(translated.paymentRef)) {
        await applyToMember(deps, parked.memberId, chargeRefunded(parked, translated.invoiceId), now);
      }
      return orRecorded({ outcome: 'ignored', reason: 'invoice payment linked' });
    }

    case 'charge-refunded': {
      const memberId = translated.customerId ? await deps.memberships.findMemberIdByCustomer(translated.customerId) : null;
      if (!memberId || !translated.customerId) return orRecorded(unattributed(event));
      const parked = { ...translated.refund, memberId, customerId: translated.customerId };
      let invoiceId = await deps.memberships.invoiceForPayment(translated.paymentRef);
      if (!invoiceId) {
        await deps.memberships.parkRefund(translated.paymentRef, parked, now());
        // The link may have been written (and the parked list read) between our read and the park.
        invoiceId = await deps.memberships.invoiceForPayment(translated.paymentRef);
        if (!invoiceId) return orRecorded({ outcome: 'ignored', reason: 'refund parked until its payment names an invoice' });
      }
      return applyToMember(deps, memberId, chargeRefunded(parked, invoiceId), now);
    }

    case 'membership': {
      // Objects this service creates carry the memberId; the rest belong to whoever the customer is
      // linked to (the link is written when the shopper's Stripe customer is created, before any
      // payment). A customer linked to nobody bought something else on this Stripe account.
      const memberId =
        translated.memberId ?? (translated.customerId ? await deps.memberships.findMemberIdByCustomer(translated.customerId) : null);
      if (!memberId) return orRecorded(unattributed(event));
      return applyToMember(deps, memberId, translated.build(memberId), now);
    }
  }
}

const unattributed = (event: StripeEvent): IngestOutcome => ({
  outcome: 'unattributed',
  reason: `${event.type} names no member and its customer is linked to none`,
});

function chargeRefunded(parked: ParkedRefund, invoiceId: string): MembershipEvent {
  return { kind: 'charge-refunded', ...parked, invoiceId };
}

async function applyToMember(deps: IngestDeps, memberId: string, domainEvent: MembershipEvent, now: () => Date): Promise<IngestOutcome> {
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
