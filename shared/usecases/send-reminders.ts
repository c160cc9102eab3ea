import { createHash } from 'node:crypto';
import { generateGrantCode } from '../codes';
import { buildGrants, currentSavingsPeriod, savingsView } from '../domain/benefits';
import type { PlanCatalog } from '../domain/catalog';
import type { RulesResolver } from '../domain/compliance-rules';
import { giftDeliveryRelevance } from '../domain/gifts';
import { type HouseholdLink, householdEndingRelevance } from '../domain/household';
import { evaluateMembership, type MembershipRecord } from '../domain/membership';
import { plannedPriceChange } from '../domain/price-change';
import {
  ACKNOWLEDGEMENT_KINDS,
  billingInterval,
  GIFT_NOTICE_KINDS,
  MARKETING_KINDS,
  parsePriceChangeAnchor,
  plannedLapseAt,
  type ReminderContext,
  type ReminderKind,
  reminderRelevance,
  renderReminder,
} from '../domain/reminders';
import { memberRef } from '../member-ref';
import { sendPacer } from '../notifications/pacer';
import { type NotificationSender, SenderUnavailableError, UndeliverableError } from '../notifications/senders';
import { logger } from '../observability';
import type { GiftStore } from '../storage/gifts';
import type { MembershipRepository } from '../storage/membership-repository';
import { DUE_SHARDS, proofRetentionDays, type ReminderItem, type ReminderStore } from '../storage/reminder-store';
import type { WorkQueue } from '../storage/work-queue';

/** The recall coupon of a win-back (configuration: WIN_BACK_COUPON_CENTS, WIN_BACK_COUPON_DAYS). */
export interface RecallCoupon {
  amountOffCents: number;
  validDays: number;
}

export interface ReminderJobDeps {
  catalog: PlanCatalog;
  /** The jurisdiction rules table: notice windows at the re-check, proof retention per member. */
  rules: RulesResolver;
  /** Where a sent price-change notice queues the subscription's move to the new price (the compliance job). */
  work: Pick<WorkQueue, 'enqueue'>;
  memberships: Pick<MembershipRepository, 'getMembership'>;
  /** A household member's link to the owner's membership, for the notices about it (docs/household.md). */
  households?: { link(memberId: string): Promise<HouseholdLink | null> };
  /** The gifts a delivery notice is about (its reason to be sent is the gift's state). */
  gifts?: Pick<GiftStore, 'get'>;
  store: ReminderStore;
  sender: NotificationSender;
  portalUrl: string;
  /** Marketing opt-out page, linked from every marketing notice. */
  preferencesUrl: string;
  recallCoupon: RecallCoupon;
  /** How long a claim protects a reminder; a crashed job's reminders are retried after it. */
  leaseMs?: number;
  /** Reminders handled at once, over all shards (default 16). */
  concurrency?: number;
  /** Milliseconds left before the invocation is stopped (Lambda's `getRemainingTimeInMillis`); none locally. */
  remainingMs?: () => number;
  /** No new claim once fewer milliseconds than this are left, so claimed sends can finish (default 60 s). */
  stopClaimingMs?: number;
  /** Sends per second at most (the SES account's maximum send rate); unpaced when absent. */
  maxSendRate?: number;
  /** The real clock, for leases (`asOf` only decides what is due); tests move it. */
  clock?: () => Date;
  /** Claims of one reminder before it is dropped as `attempts_exhausted` (default 5). */
  maxAttempts?: number;
}

export interface ReminderJobResult {
  asOf: string;
  read: number;
  sent: number;
  dropped: Record<string, number>;
  /** Claimed by another running job, or already sent. */
  skipped: number;
  /** Attempts that failed and are retried after their lease (those that gave up are in `dropped.attempts_exhausted`). */
  failed: number;
  /** Set when the sender could not send anything (SES paused, suspended, quota, missing configuration): the run stopped. */
  senderUnavailable: string | null;
  /** Read but left for the next run untried: the run stopped (out of time, or sender unavailable). */
  deferred: number;
  /** The run stopped claiming because its remaining time fell below `stopClaimingMs`. */
  outOfTime: boolean;
  itemsRead: number;
  readCapacity: number;
}

const SAVINGS_KINDS: ReadonlySet<ReminderKind> = new Set(['renewal_upcoming', 'annual_notice', 'win_back']);
export const DEFAULT_LEASE_MS = 5 * 60_000;
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_STOP_CLAIMING_MS = 60_000;
export const DEFAULT_CONCURRENCY = 16;
const PAGE = 100;

export const digestOf = (subject: string, text: string) => createHash('sha256').update(`${subject}\n\n${text}`).digest('hex');

/**
 * Sends every reminder due at `asOf`: reads only the sparse `due` index, shard by shard; claims each
 * reminder with a conditional write and a lease; re-checks the member's current state; sends; keeps
 * the proof and takes the reminder out of the index. Safe to run concurrently with itself. Stops
 * claiming when the invocation runs short of time or the sender is unavailable, leaving the rest
 * queued; paces sends to `maxSendRate`.
 */
export async function sendDueReminders(deps: ReminderJobDeps, asOf: Date): Promise<ReminderJobResult> {
  const result: ReminderJobResult = {
    asOf: asOf.toISOString(),
    read: 0,
    sent: 0,
    dropped: {},
    skipped: 0,
    failed: 0,
    senderUnavailable: null,
    deferred: 0,
    outOfTime: false,
    itemsRead: 0,
    readCapacity: 0,
  };
  const readsBefore = { ...deps.store.reads };
  const run: Run = {
    deps,
    asOf,
    result,
    limit: limiter(deps.concurrency ?? DEFAULT_CONCURRENCY),
    pace: deps.maxSendRate ? sendPacer(deps.maxSendRate) : async () => undefined,
    mayClaim: () => {
      if (result.senderUnavailable || result.outOfTime) return false;
      if (deps.remainingMs && deps.remainingMs() < (deps.stopClaimingMs ?? DEFAULT_STOP_CLAIMING_MS)) result.outOfTime = true;
      return !result.outOfTime;
    },
  };
  await Promise.all(
    Array.from({ length: DUE_SHARDS }, async (_, shard) => {
      let startKey: Record<string, unknown> | undefined;
      do {
        // Stopped: what is still in the index waits for the next run, unread.
        if (result.senderUnavailable || result.outOfTime) break;
        const page = await deps.store.dueInShard(shard, asOf, PAGE, startKey);
        startKey = page.next;
        result.read += page.items.length;
        await Promise.all(page.items.map((item) => run.limit(() => handleOne(run, item))));
      } while (startKey);
    }),
  );
  result.itemsRead = deps.store.reads.items - readsBefore.items;
  result.readCapacity = deps.store.reads.capacity - readsBefore.capacity;
  return result;
}

interface Run {
  deps: ReminderJobDeps;
  asOf: Date;
  result: ReminderJobResult;
  limit: <T>(task: () => Promise<T>) => Promise<T>;
  pace: () => Promise<void>;
  /** False once the run must stop claiming (out of time, sender unavailable); checked before every claim. */
  mayClaim: () => boolean;
}

/** At most `n` tasks at once, over every shard: the run's concurrency is a total, not per shard. */
function limiter(n: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiter, so `active` never overshoots.
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

class SendFailedError extends Error {
  override name = 'SendFailed';
}

const errorCode = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 300);

async function handleOne(run: Run, item: ReminderItem): Promise<void> {
  const { deps, asOf, result } = run;
  const log = { kind: item.kind, memberRef: await memberRef(item.memberId) };
  if (!run.mayClaim()) {
    result.deferred++;
    return;
  }
  const maxAttempts = deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const drop = async (lease: string, reason: string, error?: string) => {
    if (await deps.store.finish(item, { status: 'dropped', reason, ...(error ? { error } : {}) }, lease)) {
      result.dropped[reason] = (result.dropped[reason] ?? 0) + 1;
      logger.info('reminder dropped', { ...log, reason, ...(error ? { error } : {}) });
    } else result.skipped++;
  };
  let claim: { leaseUntil: string } | undefined;
  // Attempts counted by earlier claims (the index copy); this claim is one more.
  const attempt = (item.attempts ?? 0) + 1;
  try {
    // The lease runs on the real clock: `asOf` only decides what counts as due.
    const outcome = await deps.store.claim(item, (deps.clock ?? (() => new Date()))(), deps.leaseMs ?? DEFAULT_LEASE_MS);
    if (outcome.outcome !== 'claimed') {
      result.skipped++;
      return;
    }
    claim = outcome;
    // Earlier attempts ended without a verdict (the run crashed or timed out mid-send): give up now.
    if (attempt > maxAttempts) return await drop(claim.leaseUntil, 'attempts_exhausted', item.lastError);
    const stored = await deps.memberships.getMembership(item.memberId);
    deps.store.count('membership', stored ? 1 : 0);
    const record = stored?.record ?? null;
    const preferences = MARKETING_KINDS.has(item.kind) ? await deps.store.preferences(item.memberId) : { marketingOptOut: false };
    // A household notice is about the owner's membership, as the member's copy of it says now; a gift's
    // delivery is about the gift's state.
    const link = item.kind === 'household_ending' ? ((await deps.households?.link(item.memberId)) ?? null) : null;
    let relevance =
      item.kind === 'household_ending'
        ? householdEndingRelevance({ id: item.reminderId, memberId: item.memberId }, link, deps.catalog, asOf)
        : reminderRelevance({ ...item, id: item.reminderId }, record, deps.catalog, asOf, preferences, deps.rules);
    if (item.kind === 'gift_delivery' && deps.gifts)
      relevance = giftDeliveryRelevance(await deps.gifts.get(item.memberId, item.anchor), asOf);
    const to = item.deliverTo ?? link?.email ?? record?.email ?? null;
    if (relevance.send && deps.sender.needsAddress && !to) relevance = { send: false, reason: 'no_address' };
    if (relevance.send && item.kind === 'price_change' && (await announcedBefore(deps, item)))
      relevance = { send: false, reason: 'already_notified' };
    if (!relevance.send) return await drop(claim.leaseUntil, relevance.reason);
    const ctx = link ? householdContext(deps, item, link) : await contextFor(deps, item, record, asOf);
    const message = renderReminder(item.kind, ctx);
    let providerMessageId: string | null;
    await run.pace();
    try {
      ({ providerMessageId } = await deps.sender.send({
        reminderId: item.reminderId,
        memberId: item.memberId,
        kind: item.kind,
        to,
        subject: message.subject,
        text: message.text,
        marketing: MARKETING_KINDS.has(item.kind),
      }));
    } catch (error) {
      // Never delivered, so no proof of notice: dropped with the code of the refusal.
      if (error instanceof UndeliverableError) return await drop(claim.leaseUntil, 'undeliverable', error.reason);
      if (error instanceof SenderUnavailableError) {
        result.senderUnavailable ??= error.reason;
        result.deferred++;
        await deps.store.release(item, claim.leaseUntil, error.reason);
        logger.error('sender unavailable; reminder put back, run stops claiming', { ...log, error: error.reason });
        return;
      }
      // Other sender errors (throttling after the SDK's retries, network) are worth a retry; only
      // the error's name is kept, since provider messages may quote the address.
      throw new SendFailedError(error instanceof Error ? error.name : 'unknown');
    }
    const sentAt = new Date().toISOString();
    // Kept as long as the member's jurisdiction asks (docs/compliance.md).
    const retention = proofRetentionDays(deps.rules.rulesFor(record?.jurisdiction).proofRetentionYears);
    await deps.store.recordProof(
      item,
      {
        reminderId: item.reminderId,
        kind: item.kind,
        sentAt,
        channel: deps.sender.channel,
        digest: digestOf(message.subject, message.text),
        // The confirmation of an erasure must not put the erased address back into a proof.
        to: item.kind === 'erasure_confirmation' ? null : to,
        providerMessageId,
      },
      retention,
    );
    if (item.kind === 'price_change' && record) await queuePriceMove(deps, item, record, asOf);
    // The outbox keeps a copy of what it sent, address included: erased again once the last message is out.
    if (item.kind === 'erasure_confirmation') await deps.store.erasePersonalData(item.memberId);
    await deps.store.finish(item, { status: 'sent' }, null, new Date(), retention);
    result.sent++;
    logger.info('reminder sent', { ...log, channel: deps.sender.channel });
  } catch (error) {
    const code = errorCode(error);
    try {
      if (claim && attempt >= maxAttempts) {
        // The last attempt failed too: stop retrying, keep the reason.
        return await drop(claim.leaseUntil, 'attempts_exhausted', code);
      }
      if (claim) await deps.store.noteFailure(item, claim.leaseUntil, code);
    } catch {
      // Recording the failure failed as well: the lease still brings the reminder back.
    }
    // Left claimed: the lease runs out and a later run retries it.
    result.failed++;
    logger.error('reminder failed; will be retried after its lease', { ...log, attempt, error: code });
  }
}

/**
 * Whether this price change was announced to the member already, under another notice: planning picks
 * the charge a notice announces from the period it plans in, so a notice sent for the renewal after next
 * could be planned again for the one after that before the subscription's move shows in the record.
 */
async function announcedBefore(deps: ReminderJobDeps, item: ReminderItem): Promise<boolean> {
  const { toPriceId } = parsePriceChangeAnchor(item.anchor);
  const sent = await deps.store.proofsOfKind(item.memberId, 'price_change');
  return sent.some(
    (id) => id !== item.reminderId && id.startsWith(`price_change#${item.subscriptionId}#`) && id.includes(`@${toPriceId}#`),
  );
}

/**
 * A sent price-change notice hands the subscription's move to the compliance job: due once the renewal
 * before the new price's first charge has happened (docs/compliance.md). Queued once per notice.
 */
async function queuePriceMove(deps: ReminderJobDeps, item: ReminderItem, record: MembershipRecord, asOf: Date) {
  const { prev, toPriceId } = parsePriceChangeAnchor(item.anchor);
  const planned = plannedPriceChange(record, deps.catalog.plan(record.subscription?.planId), deps.rules.rulesFor(record.jurisdiction));
  const target = planned?.target ?? prev;
  const dueAt = new Date(Math.max(asOf.getTime(), Date.parse(prev) + 3_600_000)).toISOString();
  await deps.work.enqueue({
    PK: item.PK,
    kind: 'price_move',
    workId: `${item.subscriptionId}@${toPriceId}@${prev}`,
    memberId: item.memberId,
    payload: { subscriptionId: item.subscriptionId, toPriceId, prev, target, noticeId: item.reminderId },
    dueAt,
    now: asOf,
  });
}

const ACK_CONTEXT: Omit<ReminderContext, 'portalUrl' | 'preferencesUrl' | 'facts'> = {
  planName: 'membership',
  interval: null,
  amountCents: null,
  currency: null,
  nextChargeAt: null,
  graceEndsAt: null,
  accessEndsAt: null,
  periodSavedCents: 0,
  lifetimeSavedCents: 0,
  coupon: null,
};

/** A household notice: the shared plan and when it ends (the reminder's anchor). */
function householdContext(deps: ReminderJobDeps, item: ReminderItem, link: HouseholdLink): ReminderContext {
  const plan = deps.catalog.plan(link.owner.subscription?.planId);
  return {
    ...ACK_CONTEXT,
    planName: plan?.name ?? 'membership',
    accessEndsAt: item.anchor,
    portalUrl: deps.portalUrl,
    preferencesUrl: deps.preferencesUrl,
  };
}

async function contextFor(
  deps: ReminderJobDeps,
  item: ReminderItem,
  record: MembershipRecord | null,
  asOf: Date,
): Promise<ReminderContext> {
  // An acknowledgement says what its facts say, with or without a membership left.
  if (ACKNOWLEDGEMENT_KINDS.has(item.kind) || GIFT_NOTICE_KINDS.has(item.kind) || !record?.subscription) {
    return { ...ACK_CONTEXT, portalUrl: deps.portalUrl, preferencesUrl: deps.preferencesUrl, facts: item.facts ?? {} };
  }
  const sub = record.subscription;
  const plan = deps.catalog.plan(sub.planId);
  const view = evaluateMembership(record, deps.catalog, asOf);
  // The same period view as the shopper's and the operator's: a period counter left over from an
  // earlier period (it only resets on the next saving) reads 0, not last period's figure.
  const stored = SAVINGS_KINDS.has(item.kind) ? await deps.store.savings(item.memberId) : null;
  const savings = savingsView(stored, item.memberId, currentSavingsPeriod(record), sub.currency);
  const nextChargeAt = sub.stripeStatus === 'trialing' ? (sub.trialEnd ?? sub.currentPeriodEnd) : sub.currentPeriodEnd;
  let coupon: ReminderContext['coupon'] = null;
  if (item.kind === 'win_back') {
    const code = await deps.store.couponCodeFor(item, generateGrantCode());
    const currency = sub.currency ?? 'usd';
    const { amountOffCents, validDays } = deps.recallCoupon;
    const [grant] = buildGrants(
      { id: 'win-back', kind: 'coupon', amountOffCents, currency, minSubtotalCents: 0, validDays },
      { memberId: item.memberId, periodKey: `win-back@${item.reminderId}`, issuedAt: asOf.toISOString(), code: () => code },
    );
    await deps.store.issueGrant(grant!);
    coupon = { code, amountOffCents, currency, expiresAt: grant!.expiresAt };
  }
  return {
    planName: plan?.name ?? sub.planId ?? 'membership',
    interval: billingInterval(plan, sub),
    amountCents: sub.amountCents,
    currency: sub.currency,
    nextChargeAt,
    graceEndsAt: view.graceEndsAt,
    accessEndsAt: plannedLapseAt(record, plan) ?? item.scheduledFor,
    portalUrl: deps.portalUrl,
    preferencesUrl: deps.preferencesUrl,
    periodSavedCents: savings.periodSavedCents,
    lifetimeSavedCents: savings.lifetimeSavedCents,
    coupon,
    priceChange: item.kind === 'price_change' ? priceChangeOf(deps, record, plan) : null,
  };
}

function priceChangeOf(
  deps: ReminderJobDeps,
  record: MembershipRecord,
  plan: ReturnType<PlanCatalog['plan']>,
): ReminderContext['priceChange'] {
  const change = plan?.priceChange;
  const planned = plannedPriceChange(record, plan, deps.rules.rulesFor(record.jurisdiction));
  return change && planned ? { amountCents: change.amountCents, currency: change.currency, firstChargeAt: planned.target } : null;
}
