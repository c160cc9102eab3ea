import { BINDING_REFUSAL_DETAIL, type Binding, type BindingRefusal, bindingFor, needsMemberCustomers } from '../domain/binding';
import type { PlanCatalog } from '../domain/catalog';
import type { DriftFinding, DriftSource } from '../domain/drift';
import { applyMembershipEvent, isoFromEpoch, type MembershipEvent, type MembershipRecord } from '../domain/membership';
import type { HouseholdRoster } from '../storage/households';
import {
  ConcurrentModificationError,
  CustomerLinkedElsewhereError,
  type ExtraWrite,
  type MembershipRepository,
  type ParkedRefund,
} from '../storage/membership-repository';
import { isIngestedEventType } from '../stripe/event-types';
import { type GiftPaymentFacts, type StripeEvent, type TranslatedEvent, translateStripeEvent } from '../stripe/events';
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
  /** The owner's household members, read with the membership when the plan shares (docs/household.md). */
  household?: HouseholdRoster | null;
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
  /**
   * Where events refused by the binding rules are listed for review (`GET /v1/admin/drift`), and who
   * is ingesting (the webhook, the job's replay or its sweep), for that list.
   */
  findings?: { recordFinding(finding: DriftFinding, at: string): Promise<void> };
  source?: DriftSource;
  /** Who shares the member's membership: their copies change in the same transaction as the membership. */
  households?: { roster(ownerMemberId: string): Promise<HouseholdRoster | null> };
  /** Paid gifts get their code and delivery notice (usecases/gifts.ts); without it a gift payment is only booked. */
  gifts?: { recordPayment(payment: GiftPaymentFacts, now: Date): Promise<'recorded' | 'duplicate' | 'unknown'> };
}

export type IngestOutcome =
  | { outcome: 'ignored'; reason: string }
  /** About a Stripe customer that no member is linked to: not a membership (counted, not retried). */
  | { outcome: 'unattributed'; reason: string }
  | { outcome: 'applied' | 'unchanged'; memberId: string }
  /** Names a member it may not bind to (domain/binding.ts): changed nothing, listed for review. */
  | { outcome: 'refused'; memberId: string; reason: BindingRefusal }
  | { outcome: 'recorded'; ledgerEntries: number };

const MAX_ATTEMPTS = 8;

/**
 * Applies one verified Stripe event. Safe to repeat and to run concurrently with itself or any other
 * event for the same member: the membership is written with an optimistic revision check together
 * with every reaction in one transaction, so a crash leaves either all or nothing.
 */
export async function ingestStripeEvent(deps: IngestDeps, event: StripeEvent): Promise<IngestOutcome> {
  // Before anything reads the payload: a type we do not ingest is ignored whatever its API version.
  if (!isIngestedEventType(event.type)) return { outcome: 'ignored', reason: `event type ${event.type} is not handled` };
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

    case 'gift-paid': {
      const outcome = deps.gifts ? await deps.gifts.recordPayment(translated.payment, now()) : 'unknown';
      return orRecorded({ outcome: 'ignored', reason: `gift payment ${outcome}` });
    }

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
      // Whose it is follows the binding rules: a stored customer link, or our own metadata for a
      // member without a customer yet. A customer linked to nobody bought something else on this
      // Stripe account; a member named only by what a buyer can type is refused and listed.
      for (let attempt = 1; ; attempt++) {
        const binding = await bind(deps, translated);
        if (binding.kind === 'unattributed') return orRecorded(unattributed(event));
        if (binding.kind === 'refused') return refuse(deps, event, translated, binding, now());
        try {
          return await applyToMember(deps, binding.memberId, translated.build(binding.memberId), now);
        } catch (error) {
          // Another member's event linked the customer between our read and our write: decide again.
          if (!(error instanceof CustomerLinkedElsewhereError) || attempt >= 2) throw error;
        }
      }
    }
  }
}

type MembershipTranslation = Extract<TranslatedEvent, { kind: 'membership' }>;

async function bind(deps: IngestDeps, translated: MembershipTranslation): Promise<Binding> {
  const { claim, customerId } = translated;
  const linkedMemberId = customerId ? await deps.memberships.findMemberIdByCustomer(customerId) : null;
  const facts = { claim, customerId, linkedMemberId };
  const memberCustomerIds = claim && needsMemberCustomers(facts) ? await deps.memberships.memberCustomerIds(claim.memberId) : [];
  return bindingFor({ ...facts, memberCustomerIds });
}

async function refuse(
  deps: IngestDeps,
  event: StripeEvent,
  translated: MembershipTranslation,
  binding: Extract<Binding, { kind: 'refused' }>,
  now: Date,
): Promise<IngestOutcome> {
  await deps.findings?.recordFinding(
    {
      memberId: binding.claimedMemberId,
      kind: 'binding_refused',
      action: 'needs_review',
      subject: translated.subject.id,
      stripe: {
        eventId: event.id,
        eventType: event.type,
        object: translated.subject.object,
        id: translated.subject.id,
        customerId: translated.customerId,
        claimedBy: translated.claim?.source ?? null,
      },
      stored: { linkedMemberId: binding.linkedMemberId },
      detail: `${event.type} ${BINDING_REFUSAL_DETAIL[binding.reason]} (${binding.reason})`,
      source: deps.source ?? 'webhook',
      detectedAt: now.toISOString(),
    },
    isoFromEpoch(event.created),
  );
  return { outcome: 'refused', memberId: binding.claimedMemberId, reason: binding.reason };
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
    const household = deps.households && mayShare(deps.catalog, before, after) ? await deps.households.roster(memberId) : null;
    const extra = (deps.reactions ?? []).flatMap((react) =>
      react({ before, after, event: domainEvent, now: at, catalog: deps.catalog, household }),
    );
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

/** Only a member whose plan shares (or shared) can own a household: others skip the roster read. */
const mayShare = (catalog: PlanCatalog, before: MembershipRecord | null, after: MembershipRecord): boolean =>
  catalog.plan(before?.subscription?.planId)?.household !== undefined || catalog.plan(after.subscription?.planId)?.household !== undefined;
