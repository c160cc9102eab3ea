/**
 * The membership state machine. Pure: takes the stored record, an event or a clock reading, and
 * returns data. Stripe is the source of truth for billing; this module decides what that means for
 * benefits, and makes event application commutative so delivery order does not matter.
 */

import type { PlanCatalog } from './catalog';
import { type BenefitIssuanceState, isEmptyIssuance, trackIssuance } from './issuance';
import { type StoredJurisdiction, trackJurisdiction } from './jurisdiction';
import type { MembershipEvent, SubscriptionState } from './membership-events';

export type { MembershipEvent, SubscriptionState } from './membership-events';

export const MEMBERSHIP_STATUSES = ['none', 'pending', 'trialing', 'active', 'canceling', 'grace', 'paused', 'lapsed'] as const;
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

const ENTITLED: ReadonlySet<MembershipStatus> = new Set(['trialing', 'active', 'canceling', 'grace']);
export const isEntitledStatus = (status: MembershipStatus): boolean => ENTITLED.has(status);

/** The latest known outcome of a subscription invoice payment. */
export interface PaymentState {
  invoiceId: string;
  subscriptionId: string;
  outcome: 'paid' | 'failed';
  billingReason: string | null;
  /** When Stripe reported the outcome (event time). */
  at: string;
  /** For a paid invoice: the end of the service period it paid for (absent on older records). */
  periodEnd?: string | null;
}

export interface MembershipRecord {
  memberId: string;
  customerId: string | null;
  subscriptionId: string | null;
  /** The latest completed Checkout Session (by `checkoutVersion`), and the first completion time. */
  checkoutSessionId: string | null;
  checkoutCompletedAt: string | null;
  checkoutVersion?: string | null;
  /** The subscription that decides the membership: see `currentSubscription`. */
  subscription: SubscriptionState | null;
  /** Latest snapshot of every subscription the member has had, each with its `snapshotVersion`. */
  subscriptions: Record<string, { state: SubscriptionState; version: string }>;
  payment: PaymentState | null;
  paymentVersion: string | null;
  /** First time any subscription of this member was seen; drives `every: "signup"` grants. */
  firstSubscribedAt: string | null;
  /** Whether the member ever had a trial: a trial is offered once per member, ever. */
  hadTrial: boolean;
  /** Which grants were issued and which invoices were paid or refunded (docs/benefits.md). */
  benefits?: BenefitIssuanceState | null;
  /** Where notices go: the latest Checkout Session's `customer_details.email`; removed by erasure. */
  email?: string | null;
  /** `checkoutVersion` of the session the email came from: a later checkout's address wins. */
  emailVersion?: string | null;
  /** Set once by erasure (docs/erasure.md): from then on no event may store an email again. */
  erasedAt?: string | null;
  /** Country (and US state) of the latest billing address Stripe reported (docs/compliance.md). */
  jurisdiction?: StoredJurisdiction | null;
  /** Gift memberships claimed (docs/gifts.md): ours, not Stripe's; they never renew. */
  giftTerms?: GiftTerm[] | null;
}

/** The months a claimed gift gives, back to back with the member's other gifts. */
export interface GiftTerm {
  purchaseId: string;
  /** The catalog's gift id (`gift-3m`). */
  giftId: string;
  planId: string;
  start: string;
  end: string;
  claimedAt: string;
}

export function emptyMembership(memberId: string): MembershipRecord {
  return {
    memberId,
    customerId: null,
    subscriptionId: null,
    checkoutSessionId: null,
    checkoutCompletedAt: null,
    subscription: null,
    subscriptions: {},
    payment: null,
    paymentVersion: null,
    firstSubscribedAt: null,
    hadTrial: false,
  };
}

const TERMINAL = new Set(['canceled', 'incomplete_expired']);
// Within one second Stripe can emit several snapshots of one subscription (created then updated).
// Ties are broken by how far the lifecycle has progressed, so the outcome never depends on arrival order.
const STATUS_RANK: Record<string, number> = {
  incomplete: 1,
  trialing: 2,
  active: 3,
  past_due: 4,
  unpaid: 5,
  paused: 5,
  canceled: 8,
  incomplete_expired: 8,
};

const pad = (n: number, width: number) => String(Math.max(0, Math.trunc(n))).padStart(width, '0');
const epochSeconds = (iso: string | null) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);
export const isoFromEpoch = (seconds: number) => new Date(seconds * 1000).toISOString();

/**
 * A total order over subscription snapshots: event time first, then period end, lifecycle rank and
 * event id. Taking the maximum is commutative and idempotent, which is what makes shuffled or
 * repeated delivery converge on one state.
 */
export function snapshotVersion(created: number, sub: SubscriptionState, eventId: string): string {
  const rank = STATUS_RANK[sub.stripeStatus] ?? 6;
  return `${pad(created, 12)}#${pad(epochSeconds(sub.currentPeriodEnd), 12)}#${rank}#${eventId}`;
}

/** Orders completed checkouts: the later one (then the greater session id) decides session and email. */
export function checkoutVersion(created: number, checkoutSessionId: string): string {
  return `${pad(created, 12)}#${checkoutSessionId}`;
}

export function paymentVersion(created: number, outcome: 'paid' | 'failed', eventId: string): string {
  // On a tie a success wins: Stripe only reports paid after the last failed attempt.
  return `${pad(created, 12)}#${outcome === 'paid' ? 2 : 1}#${eventId}`;
}

/**
 * How much a subscription's status says about the member, for choosing among several: one that has
 * started (trialing, active, past due, paused, ...) over one whose first payment is still open
 * (`incomplete`), over an ended one.
 */
const liveness = (status: string) => (TERMINAL.has(status) ? 0 : status === 'incomplete' ? 1 : 2);

/**
 * Which of a member's subscriptions decides the membership: the newest started one still alive,
 * else the newest awaiting its first payment, else the newest ended one. A newer `incomplete`
 * subscription (a second checkout whose payment is pending or failed) never hides an older paid one.
 * Each subscription keeps its own latest snapshot, so the choice depends only on the set of events
 * seen, never on their order (a late "deleted" of an old subscription cannot displace a newer one).
 */
export function currentSubscription(subscriptions: MembershipRecord['subscriptions']): SubscriptionState | null {
  let best: { state: SubscriptionState; version: string; rank: number } | null = null;
  for (const entry of Object.values(subscriptions)) {
    const rank = liveness(entry.state.stripeStatus);
    if (!best || rank > best.rank || (rank === best.rank && entry.version > best.version)) best = { ...entry, rank };
  }
  return best?.state ?? null;
}

export interface Transition {
  record: MembershipRecord;
  changed: boolean;
}

/** Applies one event to a record. Never rolls a newer state back; applying twice is a no-op. */
export function applyMembershipEvent(current: MembershipRecord | null, event: MembershipEvent): Transition {
  const base = current ?? emptyMembership(event.memberId);
  const next: MembershipRecord = { ...base };
  switch (event.kind) {
    case 'checkout-completed': {
      // Every field is a maximum or minimum over the checkouts seen, so a member who checked out
      // twice ends with the same record in any delivery order.
      const version = checkoutVersion(event.created, event.checkoutSessionId);
      if (!base.checkoutVersion || version > base.checkoutVersion) {
        next.checkoutSessionId = event.checkoutSessionId;
        next.checkoutVersion = version;
        // The subscription's own snapshots decide these once they arrive.
        if (!base.subscription) {
          next.customerId = event.customerId ?? base.customerId;
          next.subscriptionId = event.subscriptionId ?? base.subscriptionId;
        }
      }
      const completedAt = isoFromEpoch(event.created);
      if (base.checkoutCompletedAt === null || completedAt < base.checkoutCompletedAt) next.checkoutCompletedAt = completedAt;
      if (event.email && !base.erasedAt && (!base.emailVersion || version > base.emailVersion)) {
        next.email = event.email;
        next.emailVersion = version;
      }
      const jurisdiction = trackJurisdiction(base.jurisdiction, { address: event.address, source: 'checkout', version });
      if (jurisdiction !== (base.jurisdiction ?? null)) next.jurisdiction = jurisdiction;
      break;
    }
    case 'customer-updated': {
      // The same order as checkouts (event time, then the object id), so the two sources interleave.
      const version = checkoutVersion(event.created, event.eventId);
      const jurisdiction = trackJurisdiction(base.jurisdiction, { address: event.address, source: 'customer', version });
      if (jurisdiction !== (base.jurisdiction ?? null)) next.jurisdiction = jurisdiction;
      break;
    }
    case 'subscription-changed': {
      const sub = event.subscription;
      const version = snapshotVersion(event.created, sub, event.eventId);
      const known = base.subscriptions[sub.subscriptionId];
      if (!known || version > known.version) {
        next.subscriptions = { ...base.subscriptions, [sub.subscriptionId]: { state: sub, version } };
        next.subscription = currentSubscription(next.subscriptions);
        next.subscriptionId = next.subscription?.subscriptionId ?? null;
        next.customerId = next.subscription?.customerId ?? next.customerId;
      }
      next.customerId ??= sub.customerId;
      const startedAt = sub.trialStart ?? sub.currentPeriodStart;
      if (startedAt && (next.firstSubscribedAt === null || startedAt < next.firstSubscribedAt)) next.firstSubscribedAt = startedAt;
      if (sub.trialStart !== null || sub.stripeStatus === 'trialing') next.hadTrial = true;
      break;
    }
    case 'invoice-paid':
    case 'invoice-payment-failed': {
      const outcome = event.kind === 'invoice-paid' ? 'paid' : 'failed';
      const version = paymentVersion(event.created, outcome, event.eventId);
      if (base.paymentVersion === null || version > base.paymentVersion) {
        next.payment = {
          invoiceId: event.invoiceId,
          subscriptionId: event.subscriptionId,
          outcome,
          billingReason: event.billingReason,
          at: isoFromEpoch(event.created),
          ...(event.kind === 'invoice-paid' && event.periodEnd ? { periodEnd: event.periodEnd } : {}),
        };
        next.paymentVersion = version;
      }
      next.customerId ??= event.customerId;
      next.subscriptionId ??= event.subscriptionId;
      break;
    }
    case 'invoice-refunded':
    case 'charge-refunded':
      next.customerId ??= event.customerId;
      break;
  }
  const benefits = trackIssuance(base.benefits, event);
  // Records that never met a benefit event keep their old shape (no empty `benefits` field).
  if (benefits !== base.benefits && !isEmptyIssuance(benefits)) next.benefits = benefits;
  return { record: next, changed: JSON.stringify(next) !== JSON.stringify(base) || current === null };
}

/**
 * Erasure of the member's personal data (the email): the first erasure time is kept, so erasing
 * again changes nothing. Pure; the caller saves it with the optimistic revision.
 */
export function eraseMembership(record: MembershipRecord, now: Date): Transition {
  const next: MembershipRecord = { ...record, email: null, emailVersion: null, erasedAt: record.erasedAt ?? now.toISOString() };
  return { record: next, changed: next.email !== (record.email ?? null) || next.erasedAt !== record.erasedAt };
}

export interface MembershipView {
  memberId: string;
  status: MembershipStatus;
  entitled: boolean;
  planId: string | null;
  currentPeriodEnd: string | null;
  graceEndsAt: string | null;
  /** When benefits end if nothing else happens (cancel date, or end of grace); null while renewing. */
  accessEndsAt: string | null;
}

const DAY_MS = 86_400_000;
const addDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * DAY_MS).toISOString();

/** When the snapshot that decides the subscription was taken (its event time), from its version. */
function snapshotTime(record: MembershipRecord, subscriptionId: string): string {
  const version = record.subscriptions[subscriptionId]?.version;
  return version ? isoFromEpoch(Number(version.slice(0, 12))) : '';
}

/**
 * The failed renewal payment of the deciding subscription, or null. A failed first payment
 * (`subscription_create`) is not a renewal: that subscription never gave access, so there is no
 * grace to start and nothing to remind about. Status, lapse date and reminders all read this one rule.
 */
export function failedRenewal(record: MembershipRecord): PaymentState | null {
  const payment = record.payment;
  const sub = record.subscription;
  if (payment === null || sub === null || payment.outcome !== 'failed') return null;
  if (payment.subscriptionId !== sub.subscriptionId || payment.billingReason === 'subscription_create') return null;
  return payment;
}

function view(record: MembershipRecord | null, status: MembershipStatus, extra?: Partial<MembershipView>): MembershipView {
  const base: MembershipView = {
    memberId: record?.memberId ?? '',
    status,
    entitled: isEntitledStatus(status),
    planId: record?.subscription?.planId ?? null,
    currentPeriodEnd: record?.subscription?.currentPeriodEnd ?? null,
    graceEndsAt: null,
    accessEndsAt: null,
  };
  return extra ? { ...base, ...extra } : base;
}

function graceFrom(record: MembershipRecord, startIso: string, graceDays: number, nowIso: string): MembershipView {
  const graceEndsAt = addDays(startIso, graceDays);
  return nowIso < graceEndsAt ? view(record, 'grace', { graceEndsAt, accessEndsAt: graceEndsAt }) : view(record, 'lapsed');
}

/**
 * The status at `now`, from stored dates only: a cancelled membership reads `lapsed` once its period
 * ends and a failed renewal reads `grace` for the plan's `graceDays`, before any event says so. A
 * claimed gift reads `active` from its start until its end (then `lapsed`) whenever the subscription
 * gives no access: it starts when a cancelled subscription ends (docs/gifts.md).
 * On every entitlement check: no closures or dates are made that the member's case does not need.
 */
export function evaluateMembership(record: MembershipRecord | null, catalog: PlanCatalog, now: Date): MembershipView {
  const bySubscription = evaluateSubscription(record, catalog, now);
  const terms = record?.giftTerms;
  if (!terms || terms.length === 0 || bySubscription.entitled) return bySubscription;
  return giftView(record!, bySubscription, terms, now.toISOString());
}

/** The latest end of the gift terms that run back to back from the one covering `at`, or null if none covers it. */
export function giftAccessEnd(terms: readonly GiftTerm[], at: string): string | null {
  let end = '';
  for (const term of [...terms].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))) {
    if (end === '') {
      if (term.start <= at && at < term.end) end = term.end;
    } else if (term.start <= end) {
      if (term.end > end) end = term.end;
    } else break;
  }
  return end === '' ? null : end;
}

function giftView(record: MembershipRecord, bySubscription: MembershipView, terms: readonly GiftTerm[], nowIso: string): MembershipView {
  const end = giftAccessEnd(terms, nowIso);
  const current = end === null ? undefined : terms.find((t) => t.start <= nowIso && nowIso < t.end);
  if (end !== null && current) return view(record, 'active', { planId: current.planId, currentPeriodEnd: end, accessEndsAt: end });
  // Every gift is over: a member who never subscribed reads lapsed like any ended membership.
  const last = terms.reduce((a, b) => (b.end > a.end ? b : a));
  if (nowIso >= last.end && (bySubscription.status === 'none' || bySubscription.status === 'lapsed'))
    return view(record, 'lapsed', {
      planId: bySubscription.planId ?? last.planId,
      currentPeriodEnd: bySubscription.currentPeriodEnd ?? last.end,
    });
  return bySubscription;
}

/** The status the member's Stripe subscription alone gives (gifts aside). */
export function evaluateSubscription(record: MembershipRecord | null, catalog: PlanCatalog, now: Date): MembershipView {
  if (!record) return view(record, 'none');
  const sub = record.subscription;
  if (!sub) return view(record, record.checkoutCompletedAt ? 'pending' : 'none');

  const nowIso = now.toISOString();
  const graceDays = catalog.plan(sub.planId)?.graceDays ?? 0;
  const payment = record.payment;
  const renewalFailure = failedRenewal(record);
  // `invoice.paid` is Stripe's signal to extend access: a paid invoice's service period counts even
  // while the subscription snapshot that moves the period (or clears past_due) is still on its way.
  const paidThrough =
    payment !== null && payment.outcome === 'paid' && payment.subscriptionId === sub.subscriptionId ? (payment.periodEnd ?? null) : null;

  switch (sub.stripeStatus) {
    case 'incomplete':
      return view(record, 'pending');
    case 'incomplete_expired':
    case 'canceled':
      return view(record, 'lapsed');
    case 'paused':
      return view(record, 'paused');
    case 'past_due':
    case 'unpaid':
      if (paidThrough !== null && payment!.at >= snapshotTime(record, sub.subscriptionId) && nowIso < paidThrough)
        return view(record, 'active', { currentPeriodEnd: paidThrough });
      // The renewal was attempted at period start; the failure event, when we have it, is more precise.
      return graceFrom(record, renewalFailure?.at ?? sub.currentPeriodStart ?? nowIso, graceDays, nowIso);
    case 'trialing':
    case 'active': {
      if (renewalFailure) return graceFrom(record, renewalFailure.at, graceDays, nowIso);
      const subscriptionPeriodEnd =
        (sub.stripeStatus === 'trialing' ? (sub.trialEnd ?? sub.currentPeriodEnd) : sub.currentPeriodEnd) ?? nowIso;
      const pendingCancelAt = sub.cancelAt ?? (sub.cancelAtPeriodEnd ? subscriptionPeriodEnd : null);
      if (pendingCancelAt !== null) {
        return nowIso < pendingCancelAt ? view(record, 'canceling', { accessEndsAt: pendingCancelAt }) : view(record, 'lapsed');
      }
      if (nowIso < subscriptionPeriodEnd) return view(record, sub.stripeStatus);
      // The renewal was paid but the snapshot with the new period has not arrived yet.
      if (paidThrough !== null && nowIso < paidThrough) return view(record, 'active', { currentPeriodEnd: paidThrough });
      // Auto-renewing and the period is over, but no renewal news yet (Stripe collects about an hour
      // after the period ends and may retry): the plan's grace covers the wait, then it lapses.
      return graceFrom(record, subscriptionPeriodEnd, graceDays, nowIso);
    }
    default:
      // Stripe's enums are open: a status we do not know grants nothing rather than guessing.
      return view(record, 'lapsed');
  }
}
