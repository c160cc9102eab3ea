/**
 * The stripe-sync job: Stripe's truth without relying on webhooks alone (docs/stripe-sync.md).
 *
 * 1. Replay: reads `GET /v1/events` from a stored cursor (30 days back the first time) in windows,
 *    applies each window's events oldest first through the very same idempotent ingestion as the
 *    webhook, and moves the cursor only past events that were applied.
 * 2. Sweep (daily, resumable across runs): walks every subscription on a catalog price and the paid
 *    invoices of the last days, compares each with the stored membership and the ledger, and either
 *    repairs the difference by applying the object as fetched through the same order-safe state
 *    machine, or, where it is ambiguous, lists it for review and changes nothing.
 *
 * Every step checks the run's deadline; a Stripe rate limit or outage ends the step, and the next
 * run resumes where this one stopped.
 */
import { type Binding, bindingFor, needsMemberCustomers } from '../domain/binding';
import type { PlanCatalog } from '../domain/catalog';
import {
  compareSubscription,
  type DriftFinding,
  type DriftKind,
  type DriftSide,
  fetchedSnapshotCreated,
  recordKnowsPaidInvoice,
  SWEEP_INVOICE_DAYS,
  type SweepMode,
  type SweepState,
  subscriptionSide,
  sweepToRun,
} from '../domain/drift';
import {
  advanceCursor,
  compareEvents,
  type EventCursor,
  isAfterCursor,
  MAX_WINDOW_EVENTS,
  nextWindowSeconds,
  type ReplayedEvent,
  replayHorizon,
  startingCursor,
} from '../domain/event-replay';
import { isoFromEpoch, type MembershipRecord, type SubscriptionState } from '../domain/membership';
import { ProviderFailedError, ProviderUnavailableError } from '../errors';
import { logger } from '../observability';
import type { LedgerRepository } from '../storage/ledger-repository';
import type { MembershipRepository } from '../storage/membership-repository';
import type { StoredSweep, StripeSyncStore } from '../storage/stripe-sync-store';
import { eventTypeGroups } from '../stripe/event-types';
import { type StripeEvent, StripePayloadError, stripeEventSchema, translateStripeEvent } from '../stripe/events';
import { type StripePage, type StripeSyncSource, syntheticEvent } from '../stripe/sync-source';
import { type IngestDeps, type IngestOutcome, ingestStripeEvent } from './ingest-stripe-event';

export interface StripeSyncDeps {
  source: StripeSyncSource;
  store: Pick<StripeSyncStore, 'readCursor' | 'saveCursor' | 'readSweep' | 'saveSweep' | 'acquireLease' | 'releaseLease' | 'recordFinding'>;
  /** The webhook's ingestion: one idempotency record per event id, whoever sees the event first. */
  ingest: (event: StripeEvent) => Promise<{ result: IngestOutcome; duplicate: boolean }>;
  /** The same use case without the idempotency record, for the sweep's fetched objects. */
  ingestDeps: IngestDeps;
  catalog: PlanCatalog;
  memberships: Pick<MembershipRepository, 'findMemberIdsByCustomers' | 'getMemberships' | 'memberCustomerIds'>;
  ledger: Pick<LedgerRepository, 'invoices' | 'paymentLinks'>;
  /** Time left in this run; absent: no deadline. */
  remainingMs?: () => number;
  /** Events applied at once, each lane one customer’s events in order (default 16). */
  concurrency?: number;
}

/** Why a step ended before it was done. */
export type StopReason = 'deadline' | 'stripe_busy' | 'stripe_failed' | 'event_failed';

export interface ReplayResult {
  /** Events listed after the cursor, and what became of them. */
  listed: number;
  /** Applied by this run (no webhook had completed them). */
  replayed: number;
  /** Already applied by a webhook delivery or an earlier run. */
  duplicates: number;
  /** Refused by the binding rules and listed for review. */
  refused: number;
  windows: number;
  /** Where the next run starts. */
  cursor: { created: string; after: string | null };
  /** The newest event listed, and its age at the end of the run. */
  newestEventAt: string | null;
  newestEventAgeSeconds: number | null;
  /** Seconds of events lost for good (the cursor was older than Stripe's 30 days). */
  gapSeconds: number;
  caughtUp: boolean;
  stoppedBy: StopReason | null;
  failure: string | null;
}

export interface SweepResult {
  sweepId: string;
  phase: SweepState['phase'];
  /** Counted over the whole sweep so far (it may span several runs). */
  checked: number;
  repaired: number;
  needsReview: number;
  /** Found by this run. */
  repairedNow: number;
  needsReviewNow: number;
  stoppedBy: StopReason | null;
}

export interface StripeSyncResult {
  /** Another run holds the job's lease until this time: this one did nothing. */
  skipped?: { heldUntil: string };
  replay?: ReplayResult;
  sweep?: SweepResult | null;
}

/** Stop starting work with less than this left: what is in flight must still finish. */
const STOP_MARGIN_MS = 60_000;
const LOCAL_LEASE_MS = 15 * 60_000;

export async function runStripeSync(
  deps: StripeSyncDeps,
  options: { now: Date; sweep: SweepMode; runId: string },
): Promise<StripeSyncResult> {
  const { now } = options;
  // Real time, not `now` (a run `--as-of` ahead): the lease must lapse when this run's time is up.
  const leaseUntil = new Date(Date.now() + (deps.remainingMs?.() ?? LOCAL_LEASE_MS));
  const lease = await deps.store.acquireLease(options.runId, new Date(), leaseUntil);
  if (!lease.acquired) return { skipped: { heldUntil: lease.heldUntil } };
  try {
    const replay = await replayEvents(deps, now);
    // With Stripe refusing us, the sweep would only be refused too.
    const sweep =
      replay.stoppedBy === 'stripe_busy' || replay.stoppedBy === 'stripe_failed' ? null : await sweepDrift(deps, now, options.sweep);
    return { replay, sweep };
  } finally {
    await deps.store.releaseLease(options.runId, new Date());
  }
}

const outOfTime = (deps: StripeSyncDeps) => deps.remainingMs !== undefined && deps.remainingMs() < STOP_MARGIN_MS;

/** A Stripe failure that a later run may not see: back off. Anything else (our key refused, a bug) fails the run. */
function stripeStop(error: unknown): StopReason | null {
  if (error instanceof ProviderUnavailableError && error.provider === 'stripe' && error.reason === 'busy') return 'stripe_busy';
  if (error instanceof ProviderFailedError && error.provider === 'stripe') return 'stripe_failed';
  return null;
}

// ---- 1. replay ------------------------------------------------------------------------------

interface Listed extends ReplayedEvent {
  event: StripeEvent | null;
  /** Why the listed object is not an event we can read (it stops the replay there). */
  invalid: string | null;
  lane: string;
}

function listedEvent(raw: Record<string, unknown>): Listed {
  const parsed = stripeEventSchema.safeParse(raw);
  const id = String(raw.id ?? '');
  const created = Number(raw.created ?? 0);
  if (!parsed.success) return { id, created, event: null, invalid: 'not a Stripe event envelope', lane: id };
  const object = parsed.data.data.object as Record<string, unknown>;
  const customer = object.customer;
  const customerId = typeof customer === 'string' ? customer : ((customer as { id?: string } | null)?.id ?? null);
  // One lane per customer keeps a member's events in order and off each other's optimistic writes.
  return { id, created, event: parsed.data, invalid: null, lane: customerId ?? String(object.id ?? id) };
}

/** Every event of [from, to), across the type groups; `overflowed` past `cap` (then the window is narrowed). */
async function readWindow(source: StripeSyncSource, from: number, to: number, cap: number) {
  const events: Listed[] = [];
  for (const types of eventTypeGroups()) {
    let startingAfter: string | null = null;
    for (;;) {
      const pageRead: StripePage = await source.listEvents({ types, createdGte: from, createdLt: to, startingAfter });
      events.push(...pageRead.data.map(listedEvent));
      if (events.length > cap) return { events, overflowed: true };
      if (!pageRead.hasMore || pageRead.data.length === 0) break;
      startingAfter = String(pageRead.data.at(-1)!.id);
    }
  }
  return { events, overflowed: false };
}

async function replayEvents(deps: StripeSyncDeps, now: Date): Promise<ReplayResult> {
  const nowS = Math.floor(now.getTime() / 1000);
  const started = startingCursor(await deps.store.readCursor(), nowS);
  let cursor: EventCursor = started.cursor;
  if (started.gapSeconds > 0) {
    logger.error('stripe-sync: events older than Stripe keeps were never replayed; the drift sweep repairs their effects', {
      gapSeconds: started.gapSeconds,
    });
  }
  const horizon = replayHorizon(nowS);
  const result: ReplayResult = {
    listed: 0,
    replayed: 0,
    duplicates: 0,
    refused: 0,
    windows: 0,
    cursor: { created: isoFromEpoch(cursor.created), after: cursor.after },
    newestEventAt: null,
    newestEventAgeSeconds: null,
    gapSeconds: started.gapSeconds,
    caughtUp: false,
    stoppedBy: null,
    failure: null,
  };
  let newest: number | null = null;
  while (cursor.created < horizon) {
    if (outOfTime(deps)) {
      result.stoppedBy = 'deadline';
      break;
    }
    const windowEnd = Math.min(horizon, cursor.created + cursor.windowSeconds);
    let read: Awaited<ReturnType<typeof readWindow>>;
    try {
      read = await readWindow(
        deps.source,
        cursor.created,
        windowEnd,
        cursor.windowSeconds > 1 ? MAX_WINDOW_EVENTS : Number.POSITIVE_INFINITY,
      );
    } catch (error) {
      const stop = stripeStop(error);
      if (!stop) throw error;
      result.stoppedBy = stop;
      break;
    }
    result.windows++;
    if (read.overflowed) {
      cursor = { ...cursor, windowSeconds: nextWindowSeconds(cursor.windowSeconds, read.events.length, true) };
      continue;
    }
    const pending = read.events.filter((e) => isAfterCursor(e, cursor)).sort(compareEvents);
    for (const e of read.events) newest = newest === null ? e.created : Math.max(newest, e.created);
    result.listed += pending.length;
    const outcome = await applyInLanes(deps, pending, result);
    const next = advanceCursor(cursor, pending, outcome.applied, windowEnd);
    cursor = { ...next, windowSeconds: nextWindowSeconds(cursor.windowSeconds, read.events.length, false) };
    await deps.store.saveCursor(cursor, now);
    if (outcome.stop) {
      result.stoppedBy = outcome.stop.reason;
      result.failure = outcome.stop.detail;
      break;
    }
  }
  result.caughtUp = cursor.created >= horizon;
  result.cursor = { created: isoFromEpoch(cursor.created), after: cursor.after };
  if (newest !== null) {
    result.newestEventAt = isoFromEpoch(newest);
    result.newestEventAgeSeconds = Math.max(0, nowS - newest);
  }
  return result;
}

/**
 * Applies sorted events in lanes (one customer's events in order, lanes side by side). On the first
 * failure, or near the deadline, no lane takes another event; the caller moves the cursor over the
 * applied prefix only, and events applied past a gap are duplicates next run.
 */
async function applyInLanes(deps: StripeSyncDeps, events: readonly Listed[], counts: ReplayResult) {
  const applied = new Set<string>();
  // Set from inside the lanes; an object, so the compiler sees the lanes' writes.
  const ended: { stop: { reason: StopReason; detail: string } | null } = { stop: null };
  const lanes = new Map<string, Listed[]>();
  for (const e of events) {
    const lane = lanes.get(e.lane);
    if (lane) lane.push(e);
    else lanes.set(e.lane, [e]);
  }
  const queue = [...lanes.values()];
  const worker = async () => {
    for (let lane = queue.shift(); lane; lane = queue.shift()) {
      for (const listed of lane) {
        if (ended.stop) return;
        if (outOfTime(deps)) {
          ended.stop ??= { reason: 'deadline', detail: 'the run is out of time' };
          return;
        }
        if (!listed.event) {
          ended.stop ??= { reason: 'event_failed', detail: `${listed.id}: ${listed.invalid}` };
          return;
        }
        try {
          const { result, duplicate } = await deps.ingest(listed.event);
          applied.add(listed.id);
          if (duplicate) counts.duplicates++;
          else if (result.outcome === 'refused') counts.refused++;
          else counts.replayed++;
        } catch (error) {
          const detail = `${listed.id} (${listed.event.type}): ${error instanceof Error ? error.message : String(error)}`;
          logger.error('stripe-sync: an event could not be applied; the next run resumes at it', {
            eventId: listed.id,
            eventType: listed.event.type,
            payloadRejected: error instanceof StripePayloadError,
            reason: error instanceof Error ? error.message : String(error),
          });
          ended.stop ??= { reason: 'event_failed', detail };
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.concurrency ?? 16) }, worker));
  return { applied, stop: ended.stop };
}

// ---- 2. sweep -------------------------------------------------------------------------------

interface PageCounts {
  checked: number;
  repaired: number;
  needsReview: number;
}

async function sweepDrift(deps: StripeSyncDeps, now: Date, mode: SweepMode): Promise<SweepResult | null> {
  const stored = await deps.store.readSweep();
  const run = sweepToRun(stored, now, mode);
  if (!run) return null;
  let state: StoredSweep = { ...run, lastCompletedAt: stored?.lastCompletedAt ?? null };
  const prices = deps.catalog.plans.flatMap((p) => p.stripePriceIds);
  const sweepStart = Math.floor(Date.parse(state.sweepId) / 1000);
  const found = { repairedNow: 0, needsReviewNow: 0 };
  let stoppedBy: StopReason | null = null;
  while (state.phase !== 'done') {
    if (outOfTime(deps)) {
      stoppedBy = 'deadline';
      break;
    }
    let counts: PageCounts;
    try {
      if (state.phase === 'subscriptions') {
        if (state.priceIndex >= prices.length) {
          state = { ...state, phase: 'invoices', startingAfter: null };
          await deps.store.saveSweep(state, now);
          continue;
        }
        const read = await deps.source.listSubscriptions({ price: prices[state.priceIndex]!, startingAfter: state.startingAfter });
        counts = await checkSubscriptions(deps, state.sweepId, read.data, now);
        const last = read.data.at(-1)?.id;
        state =
          read.hasMore && last
            ? { ...state, startingAfter: String(last) }
            : { ...state, priceIndex: state.priceIndex + 1, startingAfter: null };
      } else {
        const read = await deps.source.listPaidInvoices({
          createdGte: sweepStart - SWEEP_INVOICE_DAYS * 86_400,
          startingAfter: state.startingAfter,
        });
        counts = await checkInvoices(deps, state.sweepId, read.data, now);
        const last = read.data.at(-1)?.id;
        state =
          read.hasMore && last
            ? { ...state, startingAfter: String(last) }
            : { ...state, phase: 'done', startingAfter: null, completedAt: now.toISOString(), lastCompletedAt: now.toISOString() };
      }
    } catch (error) {
      const stop = stripeStop(error);
      if (!stop) throw error;
      stoppedBy = stop;
      break;
    }
    state = {
      ...state,
      checked: state.checked + counts.checked,
      repaired: state.repaired + counts.repaired,
      needsReview: state.needsReview + counts.needsReview,
    };
    found.repairedNow += counts.repaired;
    found.needsReviewNow += counts.needsReview;
    await deps.store.saveSweep(state, now);
  }
  return {
    sweepId: state.sweepId,
    phase: state.phase,
    checked: state.checked,
    repaired: state.repaired,
    needsReview: state.needsReview,
    ...found,
    stoppedBy,
  };
}

type MembershipTranslation = Extract<ReturnType<typeof translateStripeEvent>, { kind: 'membership' }>;

/** Reads a fetched object as its event would; null (logged, alarmed like the webhook's) when it cannot. */
function translateFetched(deps: StripeSyncDeps, event: StripeEvent): MembershipTranslation | null {
  try {
    const translated = translateStripeEvent(event, deps.catalog);
    return translated.kind === 'membership' ? translated : null;
  } catch (error) {
    if (!(error instanceof StripePayloadError)) throw error;
    logger.error('stripe-sync: a fetched object cannot be read; left as it is', { subject: event.data.object.id, reason: error.message });
    return null;
  }
}

/** The binding of each translated object, with the few reads the rules need, batched per page. */
async function bindAll(deps: StripeSyncDeps, items: ReadonlyArray<{ translated: MembershipTranslation }>): Promise<Binding[]> {
  const customers = items.map((i) => i.translated.customerId).filter((c): c is string => c !== null);
  const links = customers.length ? await deps.memberships.findMemberIdsByCustomers(customers) : new Map<string, string>();
  return Promise.all(
    items.map(async ({ translated: { claim, customerId } }) => {
      const facts = { claim, customerId, linkedMemberId: customerId ? (links.get(customerId) ?? null) : null };
      const memberCustomerIds = claim && needsMemberCustomers(facts) ? await deps.memberships.memberCustomerIds(claim.memberId) : [];
      return bindingFor({ ...facts, memberCustomerIds });
    }),
  );
}

const TERMINAL = new Set(['canceled', 'incomplete_expired']);

async function checkSubscriptions(
  deps: StripeSyncDeps,
  sweepId: string,
  page: ReadonlyArray<Record<string, unknown>>,
  now: Date,
): Promise<PageCounts> {
  const fetchedAt = Math.floor(now.getTime() / 1000);
  const items: Array<{ translated: MembershipTranslation; sub: SubscriptionState; event: StripeEvent }> = [];
  for (const object of page) {
    const id = String(object.id);
    const first = translateFetched(deps, syntheticEvent('customer.subscription.updated', object, fetchedAt, `${fetchedAt}_${id}`));
    const sub = first?.subscription;
    if (!sub) continue;
    const created = fetchedSnapshotCreated(sub, fetchedAt);
    const event = syntheticEvent('customer.subscription.updated', object, created, `${created}_${id}`);
    items.push({ translated: translateFetched(deps, event)!, sub, event });
  }
  const bindings = await bindAll(deps, items);
  const memberIds = bindings.flatMap((b) => (b.kind === 'member' ? [b.memberId] : []));
  const records = memberIds.length ? await deps.memberships.getMemberships(memberIds) : new Map<string, MembershipRecord>();
  const counts: PageCounts = { checked: items.length, repaired: 0, needsReview: 0 };
  const finding = (f: Omit<DriftFinding, 'source' | 'detectedAt'>) =>
    deps.store.recordFinding({ ...f, source: 'sweep', detectedAt: now.toISOString() }, sweepId);

  for (const [i, { sub, event }] of items.entries()) {
    const binding = bindings[i]!;
    const stripe = subscriptionSide(sub);
    if (binding.kind !== 'member') {
      // An ended subscription nobody can be bound to harms no one: only live ones are worth a look.
      if (TERMINAL.has(sub.stripeStatus)) continue;
      counts.needsReview++;
      await finding(
        binding.kind === 'unattributed'
          ? {
              memberId: null,
              kind: 'unknown_member',
              action: 'needs_review',
              subject: sub.subscriptionId,
              stripe,
              stored: null,
              detail: 'a live subscription on a catalog price whose customer is linked to no member and that names none',
            }
          : {
              memberId: binding.claimedMemberId,
              kind: 'binding_refused',
              action: 'needs_review',
              subject: sub.subscriptionId,
              stripe,
              stored: { linkedMemberId: binding.linkedMemberId },
              detail: `the subscription names a member it may not be bound to (${binding.reason})`,
            },
      );
      continue;
    }
    const record = records.get(binding.memberId) ?? null;
    const storedSub = record?.subscriptions[sub.subscriptionId]?.state ?? null;
    const stored = storedSub ? subscriptionSide(storedSub) : null;
    const comparison = compareSubscription(record, sub, { created: event.created, eventId: event.id }, binding.newLink);
    if (comparison.kind === 'in_step' || comparison.kind === 'stored_newer') continue;
    if (comparison.kind === 'review') {
      counts.needsReview++;
      await finding({
        memberId: binding.memberId,
        kind: comparison.finding,
        action: 'needs_review',
        subject: sub.subscriptionId,
        stripe,
        stored: { ...stored, otherSubscriptionId: comparison.otherSubscriptionId },
        detail: `differs in ${comparison.differences.join(', ')} while the member has another live subscription`,
      });
      continue;
    }
    const outcome = await ingestStripeEvent({ ...deps.ingestDeps, source: 'sweep' }, event);
    if (outcome.outcome === 'applied') {
      counts.repaired++;
      await finding({
        memberId: binding.memberId,
        kind: comparison.finding,
        action: 'repaired',
        subject: sub.subscriptionId,
        stripe,
        stored,
        detail: `applied as fetched: ${comparison.differences.join(', ')} differed`,
      });
    } else if (outcome.outcome === 'refused') {
      counts.needsReview++; // listed by the ingestion itself
    }
  }
  return counts;
}

interface InvoicePayment {
  object: Record<string, unknown>;
  ref: string;
}

function paidPayments(invoice: Record<string, unknown>): InvoicePayment[] {
  const payments = (invoice.payments as { data?: Array<Record<string, unknown>> } | undefined)?.data ?? [];
  return payments.flatMap((object) => {
    const payment = object.payment as { payment_intent?: unknown; charge?: unknown } | undefined;
    const raw = payment?.payment_intent ?? payment?.charge;
    const ref = typeof raw === 'string' ? raw : ((raw as { id?: string } | null)?.id ?? null);
    return object.status === 'paid' && ref ? [{ object, ref }] : [];
  });
}

const epochOf = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

async function checkInvoices(
  deps: StripeSyncDeps,
  sweepId: string,
  page: ReadonlyArray<Record<string, unknown>>,
  now: Date,
): Promise<PageCounts> {
  const items: Array<{ translated: MembershipTranslation; event: StripeEvent; invoice: Record<string, unknown> }> = [];
  for (const invoice of page) {
    // An invoice's own payment time dates it exactly, as its `invoice.paid` event would.
    const paidAt = epochOf((invoice.status_transitions as { paid_at?: unknown } | undefined)?.paid_at) ?? epochOf(invoice.created) ?? 0;
    const event = syntheticEvent('invoice.paid', invoice, paidAt, String(invoice.id));
    const translated = translateFetched(deps, event);
    if (translated) items.push({ translated, event, invoice });
  }
  const ids = items.map((i) => String(i.invoice.id));
  const refs = items.flatMap((i) => paidPayments(i.invoice).map((p) => p.ref));
  const [inLedger, links, bindings] = await Promise.all([
    ids.length ? deps.ledger.invoices(ids) : new Map(),
    refs.length ? deps.ledger.paymentLinks(refs) : new Map<string, string>(),
    bindAll(deps, items),
  ]);
  const memberIds = bindings.flatMap((b) => (b.kind === 'member' ? [b.memberId] : []));
  const records = memberIds.length ? await deps.memberships.getMemberships(memberIds) : new Map<string, MembershipRecord>();
  const counts: PageCounts = { checked: items.length, repaired: 0, needsReview: 0 };

  for (const [i, { event, invoice }] of items.entries()) {
    const id = String(invoice.id);
    const binding = bindings[i]!;
    const record = binding.kind === 'member' ? (records.get(binding.memberId) ?? null) : null;
    const missingPayments = paidPayments(invoice).filter((p) => !links.has(p.ref));
    const stored: DriftSide = {
      inLedger: inLedger.has(id),
      inMembership: recordKnowsPaidInvoice(record, id),
      paymentsLinked: paidPayments(invoice).length - missingPayments.length,
    };
    if (stored.inLedger && stored.inMembership && missingPayments.length === 0) continue;
    const stripe: DriftSide = {
      invoiceId: id,
      customerId: items[i]!.translated.customerId,
      amountPaidCents: Number(invoice.amount_paid ?? 0),
      currency: String(invoice.currency ?? ''),
      paidAt: isoFromEpoch(event.created),
    };
    const base = { subject: id, stripe, stored, source: 'sweep' as const, detectedAt: now.toISOString() };
    if (binding.kind !== 'member') {
      counts.needsReview++;
      const kind: DriftKind = binding.kind === 'unattributed' ? 'unknown_member' : 'binding_refused';
      await deps.store.recordFinding(
        {
          ...base,
          memberId: binding.kind === 'refused' ? binding.claimedMemberId : null,
          kind,
          action: 'needs_review',
          detail: 'a paid invoice on a catalog price that is not recorded, whose member cannot be determined: nothing recorded',
        },
        sweepId,
      );
      continue;
    }
    const sweepDeps = { ...deps.ingestDeps, source: 'sweep' as const };
    const outcome = await ingestStripeEvent(sweepDeps, event);
    for (const payment of missingPayments) {
      const paidAt = epochOf((payment.object.status_transitions as { paid_at?: unknown } | undefined)?.paid_at) ?? event.created;
      await ingestStripeEvent(sweepDeps, syntheticEvent('invoice_payment.paid', payment.object, paidAt, String(payment.object.id)));
    }
    if (outcome.outcome === 'refused') {
      counts.needsReview++;
      continue;
    }
    counts.repaired++;
    await deps.store.recordFinding(
      {
        ...base,
        memberId: binding.memberId,
        kind: 'invoice_not_recorded',
        action: 'repaired',
        detail: `recorded as fetched: ${[
          stored.inLedger ? null : 'missing from the ledger',
          stored.inMembership ? null : "missing from the member's record",
          missingPayments.length ? `${missingPayments.length} payment(s) not linked` : null,
        ]
          .filter(Boolean)
          .join(', ')}`,
      },
      sweepId,
    );
  }
  return counts;
}
