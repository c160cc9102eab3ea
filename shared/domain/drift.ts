/**
 * Drift between Stripe and what we store, as the stripe-sync job's sweep finds it, and the findings
 * an operator reads (`GET /v1/admin/drift`). Pure: the sweep fetches Stripe's objects and our records
 * and asks these functions what differs and whether it may repair it.
 *
 * A repair applies the object as fetched through the membership state machine, as a snapshot dated
 * by `fetchedSnapshotCreated`: a stored snapshot newer than that date is never rolled back.
 */
import { type MembershipRecord, snapshotVersion } from './membership';
import type { SubscriptionState } from './membership-events';

export const DRIFT_KINDS = [
  /** A subscription's status, period end, plan, cancel flags or customer differ from the stored snapshot. */
  'subscription_state',
  /** The member's record does not know a membership subscription Stripe has for them. */
  'subscription_unknown',
  /** A paid membership invoice is missing from the ledger or from the member's record. */
  'invoice_not_recorded',
  /** A subscription or invoice on a catalog price whose member cannot be determined. */
  'unknown_member',
  /** An object (or event) that names a member it may not bind to (docs/stripe-sync.md, binding rules). */
  'binding_refused',
  /** The member has another live membership subscription: which one counts is for a person to decide. */
  'multiple_live_subscriptions',
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

export const DRIFT_ACTIONS = ['repaired', 'needs_review'] as const;
export type DriftAction = (typeof DRIFT_ACTIONS)[number];

/** Where a finding was made: the daily sweep, a webhook delivery, or the event replay. */
export const DRIFT_SOURCES = ['sweep', 'webhook', 'replay'] as const;
export type DriftSource = (typeof DRIFT_SOURCES)[number];

/** A flat description of one side (what Stripe says, what we store): ids, statuses, dates, flags. */
export type DriftSide = Record<string, string | number | boolean | null>;

export interface DriftFinding {
  memberId: string | null;
  kind: DriftKind;
  action: DriftAction;
  stripe: DriftSide | null;
  stored: DriftSide | null;
  /** The Stripe object (or event) the finding is about. */
  subject: string;
  detail: string;
  source: DriftSource;
  detectedAt: string;
}

/** How far back a fetched snapshot is dated at most: covers a listing read before a webhook applied. */
export const FETCH_MARGIN_SECONDS = 3600;

const epoch = (iso: string | null | undefined) => (iso ? Math.floor(Date.parse(iso) / 1000) : Number.NEGATIVE_INFINITY);

/**
 * The time a subscription fetched at `fetchedAt` counts as, for the snapshot order. The object has no
 * "updated" time; its latest own transition time (start, period start, trial start, cancel request,
 * end) is a moment its state was already true, and an hour before the fetch is one too unless a
 * webhook moved it since. The later of the two: a stored snapshot newer than both (a webhook applied
 * after the page was read, or within the hour of clock skew) wins; anything older is repaired.
 */
export function fetchedSnapshotCreated(sub: SubscriptionState, fetchedAt: number, marginSeconds = FETCH_MARGIN_SECONDS): number {
  const own = [sub.startDate, sub.currentPeriodStart, sub.trialStart, sub.canceledAt, sub.endedAt].map(epoch).filter((t) => t <= fetchedAt);
  return Math.max(fetchedAt - marginSeconds, ...own);
}

const TERMINAL = new Set(['canceled', 'incomplete_expired']);
const started = (status: string) => !TERMINAL.has(status) && status !== 'incomplete';

/** The fields a sweep compares, as an operator reads them. */
export function subscriptionSide(sub: SubscriptionState): DriftSide {
  return {
    subscriptionId: sub.subscriptionId,
    customerId: sub.customerId,
    status: sub.stripeStatus,
    planId: sub.planId,
    currentPeriodEnd: sub.currentPeriodEnd,
    cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
    cancelAt: sub.cancelAt,
  };
}

export type SubscriptionComparison =
  | { kind: 'in_step' }
  /** We hold a newer snapshot than the fetched one: nothing to do (the next sweep looks again). */
  | { kind: 'stored_newer'; differences: string[] }
  | { kind: 'repair'; finding: 'subscription_state' | 'subscription_unknown'; differences: string[] }
  | { kind: 'review'; finding: 'multiple_live_subscriptions'; differences: string[]; otherSubscriptionId: string };

/**
 * Compares a subscription as fetched (dated `created`, see `fetchedSnapshotCreated`, under the
 * synthetic event id `eventId`) with the member's record. `linkMissing`: the customer is not linked
 * to the member yet (the repair writes the link).
 */
export function compareSubscription(
  record: MembershipRecord | null,
  fetched: SubscriptionState,
  dated: { created: number; eventId: string },
  linkMissing = false,
): SubscriptionComparison {
  const known = record?.subscriptions[fetched.subscriptionId];
  const differences = known ? differingFields(known.state, fetched) : ['subscription'];
  if (linkMissing) differences.push('customerLink');
  if (differences.length === 0) return { kind: 'in_step' };
  if (known && known.version >= snapshotVersion(dated.created, fetched, dated.eventId)) return { kind: 'stored_newer', differences };
  const other = Object.values(record?.subscriptions ?? {}).find(
    (s) => s.state.subscriptionId !== fetched.subscriptionId && started(s.state.stripeStatus),
  );
  if (other && started(fetched.stripeStatus)) {
    return { kind: 'review', finding: 'multiple_live_subscriptions', differences, otherSubscriptionId: other.state.subscriptionId };
  }
  return { kind: 'repair', finding: known ? 'subscription_state' : 'subscription_unknown', differences };
}

function differingFields(stored: SubscriptionState, fetched: SubscriptionState): string[] {
  const pairs: Array<[string, unknown, unknown]> = [
    ['status', stored.stripeStatus, fetched.stripeStatus],
    ['currentPeriodEnd', stored.currentPeriodEnd, fetched.currentPeriodEnd],
    ['planId', stored.planId, fetched.planId],
    ['cancelAtPeriodEnd', stored.cancelAtPeriodEnd, fetched.cancelAtPeriodEnd],
    ['cancelAt', stored.cancelAt, fetched.cancelAt],
    ['customerId', stored.customerId, fetched.customerId],
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([name]) => name);
}

/** Whether the member's record has seen this invoice paid (the ledger is checked by the caller). */
export const recordKnowsPaidInvoice = (record: MembershipRecord | null, invoiceId: string): boolean =>
  record?.benefits?.invoices[invoiceId]?.paid === true;

// ---- the sweep's progress, resumable across runs ----------------------------------------------

export const SWEEP_PHASES = ['subscriptions', 'invoices', 'done'] as const;
export type SweepPhase = (typeof SWEEP_PHASES)[number];

export interface SweepState {
  /** The sweep's start time (ISO); names its findings. */
  sweepId: string;
  phase: SweepPhase;
  /** Subscriptions are walked one catalog price after another: which one, and where in its list. */
  priceIndex: number;
  startingAfter: string | null;
  checked: number;
  repaired: number;
  needsReview: number;
  completedAt: string | null;
}

/** How often a sweep starts; a run continues one in progress first. */
export const SWEEP_INTERVAL_SECONDS = 86_400;
/** How far back the sweep lists paid invoices. */
export const SWEEP_INVOICE_DAYS = 3;

export type SweepMode = 'due' | 'now' | 'skip';

/**
 * Whether this run works on a sweep, and which: the one in progress, or a new one when the last
 * started a day ago (or `now` asks for one).
 */
export function sweepToRun(stored: SweepState | null, now: Date, mode: SweepMode): SweepState | null {
  if (mode === 'skip') return null;
  if (stored && stored.phase !== 'done') return stored;
  const due = !stored || mode === 'now' || now.getTime() - Date.parse(stored.sweepId) >= SWEEP_INTERVAL_SECONDS * 1000;
  if (!due) return null;
  return {
    sweepId: now.toISOString(),
    phase: 'subscriptions',
    priceIndex: 0,
    startingAfter: null,
    checked: 0,
    repaired: 0,
    needsReview: 0,
    completedAt: null,
  };
}
