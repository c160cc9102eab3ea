/**
 * Withdrawal from the contract within the jurisdiction's withdrawal period (EU, UK: 14 days;
 * docs/compliance.md): the membership ends at once and the fee is refunded less a proportionate amount
 * for the days served, through Stripe's Refunds API; an acknowledgement with the declaration's content,
 * date and time goes out through the notices (proof kept).
 *
 * Received first, done after: the declaration is stored (with a safety-net work item) before Stripe is
 * called, so a withdrawal declared in time counts even if Stripe is down; the request answers what
 * Stripe did, and a request that dies half-way is finished by the compliance job. Every Stripe call is
 * keyed, and the amounts derive from the declaration's receipt time alone, so a retry asks for exactly
 * the same refunds and never pays out twice.
 */
import type Stripe from 'stripe';
import { generateReference } from '../codes';
import type { PlanCatalog } from '../domain/catalog';
import type { RulesResolver } from '../domain/compliance-rules';
import { evaluateMembership } from '../domain/membership';
import { proportionalRefund, splitRefund, withdrawalEndsAt } from '../domain/withdrawal';
import { ConflictError } from '../errors';
import { memberRef } from '../member-ref';
import { logger } from '../observability';
import { type Declaration, type DeclarationStore, declarationKeys, declarationProcessed, declarationPut } from '../storage/declarations';
import { keys } from '../storage/keys';
import type { MembershipRepository } from '../storage/membership-repository';
import { acknowledgementPut, proofRetentionDays } from '../storage/reminder-store';
import { workPut } from '../storage/work-queue';
import type { StripeAccount } from '../stripe/client';
import { callStripe } from '../stripe/errors';
import { CANCELABLE, cancelNow, latestPaidInvoice, periodOf, requireStripe } from './shopper-membership';

export interface WithdrawDeps {
  catalog: PlanCatalog;
  rules: RulesResolver;
  memberships: Pick<MembershipRepository, 'getMembership'>;
  declarations: Pick<DeclarationStore, 'get' | 'commit' | 'tableName'>;
  stripe: () => Promise<StripeAccount | null>;
}

export interface WithdrawalResult {
  memberId: string;
  outcome: 'withdrawn';
  reference: string;
  receivedAt: string;
  endedAt: string;
  refund: { amountCents: number; currency: string } | null;
  /** What was kept for the days served (CRD Art. 14(3)). */
  chargeForDaysServed: { amountCents: number; currency: string; daysServed: number; daysInPeriod: number } | null;
}

/** The safety net: the compliance job finishes a withdrawal whose request did not. */
const SAFETY_NET_MS = 10 * 60_000;
/** The `policy` metadata of the refunds this flow makes. */
const WITHDRAWAL_POLICY = 'withdrawal';

export async function withdrawMembership(
  deps: WithdrawDeps,
  memberId: string,
  input: { name?: string | undefined } | undefined,
  now: Date,
): Promise<WithdrawalResult> {
  const record = (await deps.memberships.getMembership(memberId))?.record ?? null;
  const view = evaluateMembership(record, deps.catalog, now);
  const sub = record?.subscription;
  if (!record || !sub)
    throw new ConflictError('no_membership', 'There is no membership to withdraw from.', { membershipStatus: view.status });
  // A retry of a withdrawal already received is finished and answered alike, whatever the clock says now.
  let declaration = await deps.declarations.get(memberId, declarationKeys.withdrawal(sub.subscriptionId));
  if (!declaration) {
    const rules = deps.rules.rulesFor(record.jurisdiction);
    const endsAt = withdrawalEndsAt(sub, rules);
    if (!endsAt) {
      throw new ConflictError(
        'no_withdrawal_right',
        'There is no right of withdrawal for memberships in your country; you can cancel instead.',
        {
          jurisdiction: rules.key,
        },
      );
    }
    if (now.toISOString() > endsAt) {
      throw new ConflictError('withdrawal_period_over', 'The withdrawal period has ended; you can cancel instead.', {
        withdrawalEndsAt: endsAt,
      });
    }
    if (!CANCELABLE.has(view.status)) {
      throw new ConflictError('no_membership', 'There is no running membership to withdraw from.', { membershipStatus: view.status });
    }
    const received: Declaration = {
      memberId,
      reference: generateReference('WDR'),
      kind: 'withdrawal',
      channel: 'self_service',
      receivedAt: now.toISOString(),
      subscriptionId: sub.subscriptionId,
      planId: sub.planId,
      rulesKey: rules.key,
      name: input?.name?.trim() || null,
      email: null,
      cancellationType: null,
      reason: null,
      lang: null,
      status: 'received',
      processedAt: null,
      outcome: null,
    };
    const { failed } = await deps.declarations.commit([
      declarationPut(deps.declarations.tableName, received, proofRetentionDays(rules.proofRetentionYears)),
      workPut(deps.declarations.tableName, {
        PK: keys.memberPk(memberId),
        kind: 'withdrawal',
        workId: `${sub.subscriptionId}@${received.reference}`,
        memberId,
        payload: { subscriptionId: sub.subscriptionId },
        dueAt: new Date(now.getTime() + SAFETY_NET_MS).toISOString(),
        now,
      }),
    ]);
    // A concurrent request for the same contract got there first: finish that one.
    declaration = failed.length ? await deps.declarations.get(memberId, declarationKeys.withdrawal(sub.subscriptionId)) : received;
    logger.info('withdrawal received', { memberRef: await memberRef(memberId), rules: rules.key });
  }
  return completeWithdrawal(deps, declaration!, now);
}

/** Refunds and ends the membership of a received withdrawal, once; used by the request and the compliance job. */
export async function completeWithdrawal(deps: WithdrawDeps, declaration: Declaration, now: Date): Promise<WithdrawalResult> {
  if (declaration.status === 'processed') return resultOf(declaration);
  const stripe = await requireStripe(deps);
  const subscriptionId = declaration.subscriptionId!;
  const fresh = await callStripe('subscriptions.retrieve', () => stripe.subscriptions.retrieve(subscriptionId));
  const { invoice, payments, paidCents } = await latestPaidInvoice(stripe, fresh);
  const period = periodOf(fresh);
  const currency = invoice?.currency ?? fresh.currency;
  const refund =
    invoice && period.start && period.end
      ? proportionalRefund({ paidCents, periodStart: period.start, periodEnd: period.end, at: declaration.receivedAt })
      : proportionalRefund({
          paidCents: 0,
          periodStart: declaration.receivedAt,
          periodEnd: declaration.receivedAt,
          at: declaration.receivedAt,
        });
  // Refund before ending: if the cancel then fails, the retry replays the refunds (same keys) and ends it.
  for (const part of splitRefund(
    refund.refundCents,
    payments.map((p) => ({ ref: p.paymentIntent, amountCents: p.amountCents })),
  )) {
    await createRefund(stripe, declaration, invoice!.id!, part);
  }
  const ended =
    fresh.status === 'canceled'
      ? fresh
      : await cancelNow(stripe, subscriptionId, `Withdrawal ${declaration.reference} within the withdrawal period.`);
  const endedAt = ended.ended_at ? new Date(ended.ended_at * 1000).toISOString() : now.toISOString();
  const outcome = {
    endedAt,
    currency,
    paidCents: refund.paidCents,
    chargedCents: refund.chargedCents,
    refundCents: refund.refundCents,
    daysServed: refund.daysServed,
    daysInPeriod: refund.daysInPeriod,
    invoiceId: invoice?.id ?? null,
  };
  const plan = deps.catalog.plan(declaration.planId);
  const facts: Record<string, string> = {
    receivedAt: declaration.receivedAt,
    reference: declaration.reference,
    planName: plan?.name ?? 'membership',
    contract: subscriptionId,
    endedAt,
    currency,
    paidCents: String(refund.paidCents),
    chargedCents: String(refund.chargedCents),
    refundCents: String(refund.refundCents),
    daysServed: String(refund.daysServed),
    daysInPeriod: String(refund.daysInPeriod),
    ...(declaration.name ? { name: declaration.name } : {}),
  };
  const table = deps.declarations.tableName;
  await deps.declarations.commit([
    declarationProcessed(table, declaration, outcome, now),
    acknowledgementPut(
      table,
      { memberId: declaration.memberId, kind: 'withdrawal_ack', subscriptionId, anchor: declaration.receivedAt, facts },
      now,
    ),
  ]);
  logger.info('withdrawal completed', { memberRef: await memberRef(declaration.memberId), refundCents: refund.refundCents });
  return resultOf({ ...declaration, status: 'processed', outcome });
}

async function createRefund(stripe: Stripe, declaration: Declaration, invoiceId: string, part: { ref: string; amountCents: number }) {
  await callStripe('refunds.create', () =>
    stripe.refunds.create(
      {
        payment_intent: part.ref,
        amount: part.amountCents,
        reason: 'requested_by_customer',
        metadata: {
          memberId: declaration.memberId,
          invoiceId,
          subscriptionId: declaration.subscriptionId ?? '',
          policy: WITHDRAWAL_POLICY,
          reference: declaration.reference,
        },
      },
      { idempotencyKey: `withdrawal-refund:${declaration.memberId}:${declaration.subscriptionId}:${part.ref}` },
    ),
  );
}

function resultOf(declaration: Declaration): WithdrawalResult {
  const o = declaration.outcome ?? {};
  const currency = String(o.currency ?? 'usd');
  const refundCents = Number(o.refundCents ?? 0);
  const paidCents = Number(o.paidCents ?? 0);
  return {
    memberId: declaration.memberId,
    outcome: 'withdrawn',
    reference: declaration.reference,
    receivedAt: declaration.receivedAt,
    endedAt: String(o.endedAt ?? declaration.receivedAt),
    refund: refundCents > 0 ? { amountCents: refundCents, currency } : null,
    chargeForDaysServed:
      paidCents > 0
        ? {
            amountCents: Number(o.chargedCents ?? 0),
            currency,
            daysServed: Number(o.daysServed ?? 0),
            daysInPeriod: Number(o.daysInPeriod ?? 0),
          }
        : null,
  };
}
