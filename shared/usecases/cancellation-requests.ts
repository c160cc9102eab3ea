/**
 * Cancellation without login (docs/compliance.md; § 312k BGB, and offered in every market): anyone can
 * declare a cancellation with a name and an email (and optionally the customer number). The answer
 * never says whether a membership matched: receiving a request does the same work whatever the
 * address — two rate-limit counts and one queued item, no read of any membership (the function may not
 * even read the table) — and the matching happens later, in the compliance job. A match is cancelled
 * at period end (or withdrawn, when the member chose that within the period) and a confirmation with
 * the type, the date and time received and the end date goes to the membership's own address.
 */
import { generateReference } from '../codes';
import type { PlanCatalog } from '../domain/catalog';
import type { RulesResolver } from '../domain/compliance-rules';
import { evaluateMembership, type MembershipRecord } from '../domain/membership';
import { accessEndsAfterCancel } from '../domain/shopper';
import { withdrawalEndsAt } from '../domain/withdrawal';
import { ConflictError, RateLimitedError } from '../errors';
import { memberRef } from '../member-ref';
import { logger } from '../observability';
import { type Declaration, type DeclarationStore, declarationKeys, declarationPut } from '../storage/declarations';
import { emailHash, type MemberLookup, normalizeEmail } from '../storage/member-lookup';
import type { MembershipRepository } from '../storage/membership-repository';
import { acknowledgementPut, proofRetentionDays } from '../storage/reminder-store';
import type { WorkItem, WorkQueue } from '../storage/work-queue';
import type { StripeAccount } from '../stripe/client';
import { CANCELABLE, requireStripe, stripeCancelDate, updateSubscription } from './shopper-membership';
import { completeWithdrawal } from './withdraw-membership';

/**
 * How requests are counted (per client address, per email): one fixed-window implementation today
 * (shared/runtime/compliance.ts, on the counters of storage/rate-limits.ts); anything with this shape can replace it.
 */
export interface RateLimiter {
  consume(scope: 'client' | 'email', key: string, now: Date): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

export type CancellationType = 'ordinary' | 'extraordinary' | 'withdrawal';

export interface CancellationRequestInput {
  name: string;
  email: string;
  memberId?: string | undefined;
  reason?: string | undefined;
  type?: CancellationType | undefined;
}

export interface ReceivedCancellation {
  status: 'received';
  reference: string;
  receivedAt: string;
}

/** The request item's fields that name a person: removed once the request is matched (or found to match nothing). */
const PERSONAL_FIELDS = ['name', 'email', 'memberIdGiven', 'reason'] as const;

export async function receiveCancellationRequest(
  deps: { limiter: RateLimiter; queue: Pick<WorkQueue, 'enqueue'> },
  input: CancellationRequestInput,
  client: { address: string; lang: 'en' | 'de' },
  now: Date,
): Promise<ReceivedCancellation> {
  // Both counts always: the work done never depends on the address given.
  const [byClient, byEmail] = await Promise.all([
    deps.limiter.consume('client', client.address, now),
    deps.limiter.consume('email', normalizeEmail(input.email), now),
  ]);
  if (!byClient.allowed || !byEmail.allowed) {
    const wait = Math.max(byClient.allowed ? 0 : byClient.retryAfterSeconds, byEmail.allowed ? 0 : byEmail.retryAfterSeconds);
    throw new RateLimitedError('Too many cancellation requests from here or for this address; try again later.', wait);
  }
  const reference = generateReference('CXL');
  const receivedAt = now.toISOString();
  await deps.queue.enqueue(
    { PK: `CANCELLATION#${reference}`, kind: 'cancellation_request', workId: reference, payload: {}, dueAt: receivedAt, now },
    {
      receivedAt,
      name: input.name.trim(),
      email: input.email.trim(),
      emailHash: emailHash(input.email),
      ...(input.memberId ? { memberIdGiven: input.memberId } : {}),
      ...(input.reason?.trim() ? { reason: input.reason.trim() } : {}),
      cancellationType: input.type ?? 'ordinary',
      lang: client.lang,
    },
  );
  return { status: 'received', reference, receivedAt };
}

export interface ProcessCancellationDeps {
  catalog: PlanCatalog;
  rules: RulesResolver;
  memberships: Pick<MembershipRepository, 'getMembership'>;
  lookup: Pick<MemberLookup, 'memberIdsByEmail'>;
  declarations: Pick<DeclarationStore, 'get' | 'commit' | 'tableName'>;
  queue: Pick<WorkQueue, 'strip'>;
  stripe: () => Promise<StripeAccount | null>;
}

interface RequestFields {
  /** The request's reference is its work id. */
  reference: string;
  receivedAt: string;
  name: string;
  email: string;
  memberIdGiven?: string;
  reason?: string;
  cancellationType: CancellationType;
  lang: 'en' | 'de';
}

/**
 * Matches a received request to memberships (the address on the membership, and the customer number
 * when one was given) and ends each one that is running; returns how many matched. Safe to repeat: the
 * Stripe calls are keyed by the request, the declaration and confirmation are written once.
 */
export async function processCancellationRequest(deps: ProcessCancellationDeps, item: WorkItem, now: Date): Promise<string> {
  const request = { ...(item as unknown as WorkItem & RequestFields), reference: item.workId };
  if (!request.email) return 'already_processed';
  const wanted = normalizeEmail(request.email);
  const candidates = request.memberIdGiven ? [request.memberIdGiven] : await deps.lookup.memberIdsByEmail(request.email);
  let matched = 0;
  for (const memberId of new Set(candidates)) {
    const record = (await deps.memberships.getMembership(memberId))?.record ?? null;
    // The index is eventually consistent and a customer number proves nothing alone: the stored address decides.
    if (!record?.email || normalizeEmail(record.email) !== wanted) continue;
    if (await cancelMatched(deps, request, record, now)) matched++;
  }
  await deps.queue.strip(item, PERSONAL_FIELDS);
  logger.info('cancellation request processed', { matched });
  return matched > 0 ? `matched:${matched}` : 'no_match';
}

async function cancelMatched(deps: ProcessCancellationDeps, request: RequestFields, record: MembershipRecord, now: Date): Promise<boolean> {
  const memberId = record.memberId;
  const sub = record.subscription;
  const view = evaluateMembership(record, deps.catalog, now);
  if (!sub || !CANCELABLE.has(view.status)) return false;
  if (await deps.declarations.get(memberId, declarationKeys.cancellation(request.reference))) return true;
  const rules = deps.rules.rulesFor(record.jurisdiction);
  const received = new Date(request.receivedAt);
  const withdrawalEnd = withdrawalEndsAt(sub, rules);
  // A withdrawal declared in time is one, however late it is processed; otherwise an ordinary cancellation.
  if (request.cancellationType === 'withdrawal' && withdrawalEnd && request.receivedAt <= withdrawalEnd) {
    return withdrawFromRequest(deps, request, record, rules.key, rules.proofRetentionYears, now);
  }
  let endsAt = view.accessEndsAt;
  if (!sub.cancelAtPeriodEnd && sub.cancelAt === null) {
    const stripe = await requireStripe(deps);
    try {
      const updated = await updateSubscription(
        stripe,
        sub.subscriptionId,
        { cancel_at_period_end: true },
        `no-login-cancel:${request.reference}:${sub.subscriptionId}`,
      );
      endsAt = accessEndsAfterCancel(view, stripeCancelDate(updated));
    } catch (error) {
      // Ended in Stripe while our record waits for the webhook: nothing left to cancel.
      if (error instanceof ConflictError && error.reason === 'membership_ended') return false;
      throw error;
    }
  }
  const plan = deps.catalog.plan(sub.planId);
  const declaration: Declaration = {
    memberId,
    reference: request.reference,
    kind: 'cancellation',
    channel: 'no_login',
    receivedAt: received.toISOString(),
    subscriptionId: sub.subscriptionId,
    planId: sub.planId,
    rulesKey: rules.key,
    name: request.name,
    email: request.email,
    cancellationType: request.cancellationType === 'extraordinary' ? 'extraordinary' : 'ordinary',
    reason: request.reason ?? null,
    lang: request.lang,
    status: 'processed',
    processedAt: now.toISOString(),
    outcome: {
      endsAt,
      ...(request.cancellationType === 'withdrawal' ? { withdrawalRefused: 'withdrawal_period_over' } : {}),
    },
  };
  const facts: Record<string, string> = {
    receivedAt: declaration.receivedAt,
    reference: request.reference,
    type: declaration.cancellationType!,
    name: request.name,
    planName: plan?.name ?? 'membership',
    contract: sub.subscriptionId,
    lang: request.lang,
    ...(endsAt ? { endsAt } : {}),
    ...(request.reason ? { reason: request.reason } : {}),
    ...(request.cancellationType === 'withdrawal' ? { withdrawalRefused: 'withdrawal_period_over' } : {}),
  };
  await deps.declarations.commit([
    declarationPut(deps.declarations.tableName, declaration, proofRetentionDays(rules.proofRetentionYears)),
    acknowledgementPut(
      deps.declarations.tableName,
      { memberId, kind: 'cancellation_confirmation', subscriptionId: sub.subscriptionId, anchor: request.reference, facts },
      now,
    ),
  ]);
  logger.info('membership cancelled without login', { memberRef: await memberRef(memberId), rules: rules.key });
  return true;
}

/** The no-login page's withdrawal: recorded like the signed-in one (declaration received, then completed). */
async function withdrawFromRequest(
  deps: ProcessCancellationDeps,
  request: RequestFields,
  record: MembershipRecord,
  rulesKey: string,
  retentionYears: number,
  now: Date,
): Promise<boolean> {
  const sub = record.subscription!;
  let declaration = await deps.declarations.get(record.memberId, declarationKeys.withdrawal(sub.subscriptionId));
  if (!declaration) {
    const received: Declaration = {
      memberId: record.memberId,
      reference: request.reference,
      kind: 'withdrawal',
      channel: 'no_login',
      receivedAt: request.receivedAt,
      subscriptionId: sub.subscriptionId,
      planId: sub.planId,
      rulesKey,
      name: request.name,
      email: request.email,
      cancellationType: null,
      reason: request.reason ?? null,
      lang: request.lang,
      status: 'received',
      processedAt: null,
      outcome: null,
    };
    const { failed } = await deps.declarations.commit([
      declarationPut(deps.declarations.tableName, received, proofRetentionDays(retentionYears)),
    ]);
    declaration = failed.length ? await deps.declarations.get(record.memberId, declarationKeys.withdrawal(sub.subscriptionId)) : received;
  }
  await completeWithdrawal(deps, declaration!, now);
  return true;
}
