/**
 * The shopper's own membership: buy it (Stripe Checkout), manage it (customer portal), cancel or
 * resume it, and see it. The memberId always comes from the verified token, never from the request.
 * Stripe stays the source of truth for billing: cancel/resume call Stripe and the stored membership
 * follows from the resulting webhooks, never from a write here.
 */
import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import { usableGrants } from '../domain/benefits';
import type { PlanCatalog } from '../domain/catalog';
import { evaluateEntitlement } from '../domain/entitlement';
import { evaluateMembership, isoFromEpoch, type MembershipStatus } from '../domain/membership';
import { redirectProblem } from '../domain/redirects';
import {
  accessEndsAfterCancel,
  type BillingSubscription,
  type ConsentRecord,
  checkoutOffer,
  nextCharge,
  type PriceTerms,
  type RefundRefusal,
  refundDecision,
  renewalTermsText,
  resumeAction,
  sweepOpenSessions,
} from '../domain/shopper';
import { ConflictError, InvalidInputError, ProviderFailedError } from '../errors';
import { memberRef } from '../member-ref';
import { logger } from '../observability';
import type { DynamoBenefitsRepository } from '../storage/benefits-repository';
import type { MembershipRepository } from '../storage/membership-repository';
import type { DynamoShopperRepository } from '../storage/shopper-repository';
import type { StripeAccount } from '../stripe/client';
import { callStripe, isStripeError, stripeFailure, stripeUnavailable } from '../stripe/errors';
import { getMemberBenefits } from './benefits';
import { admitShopper, type ShopperRateLimit } from './shopper-limit';

export interface ShopperDeps {
  catalog: PlanCatalog;
  memberships: Pick<MembershipRepository, 'getEntitlementData'>;
  shoppers: Pick<DynamoShopperRepository, 'getStripeCustomerId' | 'linkStripeCustomer' | 'putConsent'>;
  /** Null without a usable Stripe API key: endpoints that must call Stripe answer 503. */
  stripe: () => Promise<StripeAccount | null>;
  /** Every route here may call Stripe: each request counts against the shopper's limit first. */
  rateLimit: ShopperRateLimit;
  /** The shop's origins: where Checkout and the portal may send the shopper back to (domain/redirects.ts). */
  shopOrigins: readonly string[];
}

/** Refuses redirect targets outside the shop (400, each field named) before anything is counted or called. */
export function checkRedirects(origins: readonly string[], fields: Record<string, string>): void {
  const errors = Object.entries(fields).flatMap(([field, value]) => {
    const problem = redirectProblem(value, origins);
    return problem ? [{ path: `/body/${field}`, message: problem }] : [];
  });
  if (errors.length) throw new InvalidInputError(errors, 'Redirect URLs must be pages of the shop.');
}

/** Where an existing member manages their membership (plan change, payment method, cancel). */
export const PORTAL_SESSION_PATH = '/v1/me/portal-session';

const MINUTE_MS = 60_000;
const CHECKOUT_WINDOW_MS = 30 * MINUTE_MS;
const hash = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);

export async function requireStripeAccount(deps: Pick<ShopperDeps, 'stripe'>): Promise<StripeAccount> {
  const account = await deps.stripe();
  if (!account) throw stripeUnavailable();
  return account;
}

export const requireStripe = async (deps: Pick<ShopperDeps, 'stripe'>): Promise<Stripe> => (await requireStripeAccount(deps)).api;

/**
 * A new Stripe customer for a member who has none, linked once. Creation uses an idempotency key
 * derived from the memberId, so concurrent or retried requests get the same customer from Stripe,
 * and the link is stored with a conditional write, so whoever loses the race adopts the winner's.
 */
async function newCustomer(deps: ShopperDeps, stripe: Stripe, memberId: string, now: Date): Promise<string> {
  const customer = await callStripe('customers.create', () =>
    stripe.customers.create({ metadata: { memberId } }, { idempotencyKey: `member-customer:${memberId}` }),
  );
  return deps.shoppers.linkStripeCustomer(memberId, customer.id, now);
}

async function priceTerms(stripe: Stripe, priceId: string): Promise<PriceTerms> {
  const price = await callStripe('prices.retrieve', () => stripe.prices.retrieve(priceId));
  if (price.unit_amount === null || !price.recurring) {
    logger.error('catalog price is not a recurring fixed price', { priceId });
    throw new ProviderFailedError('stripe', 'misconfigured', 'The plan is not purchasable right now.');
  }
  return {
    priceId: price.id,
    amountCents: price.unit_amount,
    currency: price.currency,
    interval: price.recurring.interval,
    intervalCount: price.recurring.interval_count,
  };
}

/** Every subscription Stripe holds for the customer, ended ones included: they decide the trial. */
async function billingSubscriptions(stripe: Stripe, customer: string): Promise<BillingSubscription[]> {
  return callStripe('subscriptions.list', async () => {
    const all: BillingSubscription[] = [];
    for await (const sub of stripe.subscriptions.list({ customer, status: 'all', limit: 100 })) {
      all.push({ id: sub.id, status: sub.status, pendingCancellation: sub.cancel_at_period_end || sub.cancel_at !== null });
    }
    return all;
  });
}

/** The customer's open Checkout Sessions, newest first. */
async function openSessions(stripe: Stripe, customer: string): Promise<Stripe.Checkout.Session[]> {
  return callStripe('checkout.sessions.list', async () => {
    const all: Stripe.Checkout.Session[] = [];
    for await (const session of stripe.checkout.sessions.list({ customer, status: 'open', limit: 100 })) all.push(session);
    return all;
  });
}

/**
 * Expires an open session. Stripe refuses one that is no longer open (paid or expired meanwhile):
 * nothing to do then; a paid one shows up in the subscription check that follows.
 */
async function expireSession(stripe: Stripe, sessionId: string): Promise<void> {
  try {
    await stripe.checkout.sessions.expire(sessionId, {}, { idempotencyKey: `checkout-session-expire:${sessionId}` });
  } catch (error) {
    if (isStripeError(error) && error.type === 'StripeInvalidRequestError') return;
    stripeFailure(error, 'checkout.sessions.expire');
  }
}

const alreadyMember = (membershipStatus: MembershipStatus) =>
  new ConflictError(
    'already_member',
    'You already have a membership. Manage it (change plan, payment method, cancel) in the customer portal.',
    {
      membershipStatus,
      portalSessionPath: PORTAL_SESSION_PATH,
    },
  );

export async function createCheckoutSession(
  deps: ShopperDeps,
  memberId: string,
  input: { planId: string; successUrl: string; cancelUrl: string },
  now: Date,
) {
  checkRedirects(deps.shopOrigins, { successUrl: input.successUrl, cancelUrl: input.cancelUrl });
  await admitShopper(deps.rateLimit, memberId, now);
  const plan = deps.catalog.plan(input.planId);
  if (!plan) throw new InvalidInputError([{ path: '/body/planId', message: `unknown plan "${input.planId}"` }]);
  const { record } = await deps.memberships.getEntitlementData(memberId);
  const view = evaluateMembership(record, deps.catalog, now);
  // The stored record alone may already refuse (checkoutOffer is monotonic): no Stripe call then.
  const stored = checkoutOffer({ view, record, plan, stripeSubscriptions: [] });
  if (!stored.allowed) throw alreadyMember(stored.membershipStatus);
  const stripe = await requireStripe(deps);

  // Webhooks can be late: what Stripe holds for the member's customer decides too (trial, 409).
  const knownCustomer = record?.customerId ?? (await deps.shoppers.getStripeCustomerId(memberId));
  const [terms, billing, openBefore] = await Promise.all([
    // New checkouts sell the plan's first price; other ids stay mapped for existing subscriptions.
    priceTerms(stripe, plan.stripePriceIds[0]!),
    knownCustomer ? billingSubscriptions(stripe, knownCustomer) : [],
    knownCustomer ? openSessions(stripe, knownCustomer) : [],
  ]);
  const offer = checkoutOffer({ view, record, plan, stripeSubscriptions: billing });
  if (!offer.allowed) throw alreadyMember(offer.membershipStatus);
  const { trialDays } = offer;
  const customer = knownCustomer ?? (await newCustomer(deps, stripe, memberId, now));
  const renewalTerms = renewalTermsText(plan, terms, trialDays);

  // The session expires an hour after its 30-minute window closes; the window is part of the offer,
  // so the same click in the same window is the same offer.
  const windowStart = Math.floor(now.getTime() / CHECKOUT_WINDOW_MS) * CHECKOUT_WINDOW_MS;
  const offerParams: Stripe.Checkout.SessionCreateParams = {
    mode: 'subscription',
    customer,
    client_reference_id: memberId,
    line_items: [{ price: terms.priceId, quantity: 1 }],
    success_url: input.successUrl,
    cancel_url: input.cancelUrl,
    metadata: { memberId, planId: plan.id },
    subscription_data: {
      metadata: { memberId, planId: plan.id },
      ...(trialDays > 0 ? { trial_period_days: trialDays } : {}),
    },
    custom_text: { submit: { message: renewalTerms } },
    // The billing address decides the member's jurisdiction: which notices, withdrawal right and
    // cancellation rules apply (docs/compliance.md). Checkout otherwise asks only what the card needs.
    billing_address_collection: 'required',
    expires_at: Math.floor((windowStart + CHECKOUT_WINDOW_MS + 60 * MINUTE_MS) / 1000),
  };
  const offerId = hash(offerParams);
  const params = { ...offerParams, metadata: { ...offerParams.metadata, offer: offerId } };

  // A double click, or a retry, finds its offer as the newest open session and reuses it. Otherwise a
  // new session, keyed by the offer and the newest open session: concurrent identical requests see the
  // same and get one session from Stripe, while a key never points back to a session that a later
  // checkout has expired (that would hand out a dead page).
  const newest = openBefore[0];
  const session =
    newest && newest.metadata?.offer === offerId && newest.url
      ? newest
      : await callStripe('checkout.sessions.create', () =>
          stripe.checkout.sessions.create(params, {
            idempotencyKey: `checkout-session:${memberId}:${hash({ offerId, after: newest?.id ?? null })}`,
          }),
        );
  if (!session.url) throw new ProviderFailedError('stripe', 'failed', 'The payment provider returned no checkout page.');

  // Two open sessions could both be paid: two subscriptions. Listed once ours exists, the others are
  // expired, unless a concurrent checkout made a newer one: then ours gives way (sweepOpenSessions).
  const sweep = sweepOpenSessions(
    { id: session.id, created: session.created },
    await openSessions(stripe, customer),
    openBefore.map((s) => s.id),
  );
  if (!sweep.keep) {
    await expireSession(stripe, session.id);
    throw new ConflictError(
      'checkout_superseded',
      'Another checkout for this account was started at the same time; only the newest one can be paid. Try again.',
    );
  }
  for (const id of sweep.expire) await expireSession(stripe, id);
  // An older session paid just before it could be expired: its subscription is there by now.
  const final = checkoutOffer({ view, record, plan, stripeSubscriptions: await billingSubscriptions(stripe, customer) });
  if (!final.allowed) {
    await expireSession(stripe, session.id);
    throw alreadyMember(final.membershipStatus);
  }

  const consent: ConsentRecord = {
    memberId,
    checkoutSessionId: session.id,
    planId: plan.id,
    planName: plan.name,
    priceId: terms.priceId,
    amountCents: terms.amountCents,
    currency: terms.currency,
    interval: terms.interval,
    intervalCount: terms.intervalCount,
    trialDays,
    renewalTerms,
    presentedAt: isoFromEpoch(session.created),
  };
  await deps.shoppers.putConsent(consent);
  logger.info('checkout session created', { memberRef: await memberRef(memberId), planId: plan.id, trialDays, reused: session === newest });
  return { url: session.url, checkoutSessionId: session.id, planId: plan.id, trialDays, renewalTerms };
}

export async function createPortalSession(deps: ShopperDeps, memberId: string, input: { returnUrl: string }, now: Date) {
  checkRedirects(deps.shopOrigins, { returnUrl: input.returnUrl });
  await admitShopper(deps.rateLimit, memberId, now);
  const { record } = await deps.memberships.getEntitlementData(memberId);
  const customer = record?.customerId ?? (await deps.shoppers.getStripeCustomerId(memberId));
  if (!customer) {
    throw new ConflictError('no_billing_account', 'There is no billing account yet: buy a membership first.');
  }
  const account = await requireStripeAccount(deps);
  const stripe = account.api;
  // The configuration with plan switching (npm run job -- stripe-portal-setup); else the account default.
  const params: Stripe.BillingPortal.SessionCreateParams = {
    customer,
    return_url: input.returnUrl,
    ...(account.portalConfigurationId ? { configuration: account.portalConfigurationId } : {}),
  };
  // Portal links live five minutes; a repeat within the same minute reuses the fresh one.
  const minute = Math.floor(now.getTime() / MINUTE_MS);
  const session = await callStripe('billingPortal.sessions.create', () =>
    stripe.billingPortal.sessions.create(params, { idempotencyKey: `portal-session:${memberId}:${minute}:${hash(params)}` }),
  );
  return { url: session.url };
}

/** Statuses with a subscription still running, which a cancellation or withdrawal can end. */
export const CANCELABLE: ReadonlySet<MembershipStatus> = new Set(['trialing', 'active', 'canceling', 'grace', 'paused']);

const membershipEnded = () => new ConflictError('membership_ended', 'The membership has already ended.', { membershipStatus: 'lapsed' });

export const periodOf = (sub: Stripe.Subscription) => {
  const item = sub.items.data[0];
  return {
    start: item ? isoFromEpoch(item.current_period_start) : null,
    end: item ? isoFromEpoch(item.current_period_end) : null,
  };
};

/** When Stripe ends a subscription with a pending cancellation, from its answer. */
export function stripeCancelDate(sub: Stripe.Subscription): string | null {
  if (sub.cancel_at) return isoFromEpoch(sub.cancel_at);
  if (sub.status === 'trialing' && sub.trial_end) return isoFromEpoch(sub.trial_end);
  return periodOf(sub).end;
}

/**
 * Updates the subscription; when Stripe refuses because it has ended meanwhile (our stored state
 * waits for the webhook), the shopper gets a 409 saying so rather than a provider failure.
 */
export async function updateSubscription(
  stripe: Stripe,
  subscriptionId: string,
  params: Stripe.SubscriptionUpdateParams,
  idempotencyKey: string,
) {
  try {
    return await stripe.subscriptions.update(subscriptionId, params, { idempotencyKey });
  } catch (error) {
    if (isStripeError(error) && error.type === 'StripeInvalidRequestError') {
      const current = await callStripe('subscriptions.retrieve', () => stripe.subscriptions.retrieve(subscriptionId));
      if (current.status === 'canceled' || current.status === 'incomplete_expired') throw membershipEnded();
    }
    stripeFailure(error, 'subscriptions.update');
  }
}

export interface CancelResult {
  memberId: string;
  outcome: 'cancel_at_period_end' | 'canceled_and_refunded';
  accessEndsAt: string | null;
  refund: { amountCents: number; currency: string } | null;
  refundRefusal: { reason: RefundRefusal; detail: string } | null;
}

/** Cancel also reads the benefits feature's usage records, for the refund policy. */
export interface CancelDeps extends ShopperDeps {
  benefits: Pick<DynamoBenefitsRepository, 'listRedemptions' | 'listUsages'>;
}

/** Metadata `policy` of the refunds this flow makes: how a later request recognises them. */
const UNUSED_PERIOD_POLICY = 'unused-period';

/** The subscription's latest invoice and what it collected through payment intents. */
export async function latestPaidInvoice(stripe: Stripe, sub: Stripe.Subscription) {
  const invoiceId = typeof sub.latest_invoice === 'string' ? sub.latest_invoice : (sub.latest_invoice?.id ?? null);
  const invoice = invoiceId
    ? await callStripe('invoices.retrieve', () => stripe.invoices.retrieve(invoiceId, { expand: ['payments'] }))
    : null;
  const payments = (invoice?.payments?.data ?? [])
    .filter((p) => p.status === 'paid' && p.payment.type === 'payment_intent' && p.payment.payment_intent)
    .map((p) => ({
      paymentIntent: typeof p.payment.payment_intent === 'string' ? p.payment.payment_intent : p.payment.payment_intent!.id,
      amountCents: p.amount_paid ?? 0,
    }));
  const paidCents = invoice?.status === 'paid' ? payments.reduce((sum, p) => sum + p.amountCents, 0) : 0;
  return { invoice, payments, paidCents };
}

/**
 * The answer of a cancel-with-refund that already went through, or null. When the deletion's answer
 * is lost the shopper sees an error and retries; by then Stripe has ended the subscription and the
 * refunds (ours by `policy` metadata, for the latest invoice, of every paid payment) exist. The retry
 * answers the same success rather than "membership ended".
 */
async function earlierRefundedCancel(stripe: Stripe, memberId: string, sub: Stripe.Subscription, now: Date): Promise<CancelResult | null> {
  if (sub.status !== 'canceled') return null;
  const { invoice, payments } = await latestPaidInvoice(stripe, sub);
  if (!invoice || payments.length === 0) return null;
  let refundedCents = 0;
  for (const payment of payments) {
    const refunds = await callStripe('refunds.list', () => stripe.refunds.list({ payment_intent: payment.paymentIntent, limit: 100 }));
    const ours = refunds.data.filter(
      (r) =>
        r.metadata?.policy === UNUSED_PERIOD_POLICY &&
        r.metadata?.memberId === memberId &&
        r.metadata?.invoiceId === invoice.id &&
        r.status !== 'failed' &&
        r.status !== 'canceled',
    );
    if (ours.length === 0) return null;
    refundedCents += ours.reduce((sum, r) => sum + r.amount, 0);
  }
  return refundedResult(memberId, sub, { amountCents: refundedCents, currency: invoice.currency }, now);
}

/** Benefits ended when Stripe ended the subscription: the same date for the first answer and a retry's. */
const refundedResult = (
  memberId: string,
  ended: Stripe.Subscription,
  refund: { amountCents: number; currency: string },
  now: Date,
): CancelResult => ({
  memberId,
  outcome: 'canceled_and_refunded',
  accessEndsAt: ended.ended_at ? isoFromEpoch(ended.ended_at) : now.toISOString(),
  refund,
  refundRefusal: null,
});

/**
 * Cancels now. The SDK retries a DELETE whose answer was lost, and Stripe refuses to cancel what is
 * already canceled: that refusal, for a subscription Stripe shows canceled, is the success it hides.
 */
export async function cancelNow(
  stripe: Stripe,
  subscriptionId: string,
  comment = 'Cancelled by the member with a refund of an unused period.',
): Promise<Stripe.Subscription> {
  try {
    return await stripe.subscriptions.cancel(subscriptionId, { prorate: false, cancellation_details: { comment } });
  } catch (error) {
    if (isStripeError(error) && error.type === 'StripeInvalidRequestError') {
      const current = await callStripe('subscriptions.retrieve', () => stripe.subscriptions.retrieve(subscriptionId));
      if (current.status === 'canceled') return current;
    }
    stripeFailure(error, 'subscriptions.cancel');
  }
}

export async function cancelMembership(
  deps: CancelDeps,
  memberId: string,
  input: { refundIfUnused?: boolean | undefined } | undefined,
  now: Date,
  requestId: string,
): Promise<CancelResult> {
  await admitShopper(deps.rateLimit, memberId, now);
  // Consistent: a refund is paid out on what is read here.
  const { record } = await deps.memberships.getEntitlementData(memberId, { consistent: true });
  const view = evaluateMembership(record, deps.catalog, now);
  const sub = record?.subscription;
  if (!sub || !CANCELABLE.has(view.status)) {
    // The retry of a cancel-with-refund whose answer was lost, after the deletion webhook came in.
    const stripe = input?.refundIfUnused && sub && view.status === 'lapsed' ? ((await deps.stripe())?.api ?? null) : null;
    if (stripe && sub) {
      const ended = await callStripe('subscriptions.retrieve', () => stripe.subscriptions.retrieve(sub.subscriptionId));
      const earlier = await earlierRefundedCancel(stripe, memberId, ended, now);
      if (earlier) return earlier;
    }
    throw new ConflictError('no_membership', 'There is no running membership to cancel.', { membershipStatus: view.status });
  }
  const stripe = await requireStripe(deps);
  let refundRefusal: CancelResult['refundRefusal'] = null;

  if (input?.refundIfUnused) {
    const fresh = await callStripe('subscriptions.retrieve', () => stripe.subscriptions.retrieve(sub.subscriptionId));
    if (fresh.status === 'canceled' || fresh.status === 'incomplete_expired') {
      // Ended in Stripe while our record waits for the webhook: by this very flow (a retry), or not.
      const earlier = await earlierRefundedCancel(stripe, memberId, fresh, now);
      if (earlier) return earlier;
      throw membershipEnded();
    }
    const { invoice, payments, paidCents } = await latestPaidInvoice(stripe, fresh);
    // Read after Stripe's period: usage recorded from here on is the documented limit (docs/shoppers.md).
    const [redemptions, usages] = await Promise.all([
      deps.benefits.listRedemptions(memberId, { consistent: true }),
      deps.benefits.listUsages(memberId, { consistent: true }),
    ]);
    const decision = refundDecision({
      subscriptionId: fresh.id,
      currentPeriodStart: periodOf(fresh).start,
      stripeStatus: fresh.status,
      redemptions,
      usages,
      latestInvoicePaidCents: paidCents,
    });
    if (decision.eligible && invoice) {
      // Refund before cancelling: if the cancel then fails, a retry replays the refund (same key, no
      // second payout) and finishes the cancel; the reverse order could end a membership unrefunded.
      for (const payment of payments) {
        await callStripe('refunds.create', () =>
          stripe.refunds.create(
            {
              payment_intent: payment.paymentIntent,
              amount: payment.amountCents,
              reason: 'requested_by_customer',
              metadata: {
                memberId,
                invoiceId: invoice.id!,
                subscriptionId: fresh.id,
                policy: UNUSED_PERIOD_POLICY,
                periodKey: decision.periodKey,
              },
            },
            { idempotencyKey: `refund-unused-period:${memberId}:${invoice.id}:${payment.paymentIntent}` },
          ),
        );
      }
      const ended = await cancelNow(stripe, fresh.id);
      logger.info('membership cancelled with refund', { memberRef: await memberRef(memberId), amountCents: paidCents });
      return refundedResult(memberId, ended, { amountCents: paidCents, currency: invoice.currency }, now);
    }
    if (!decision.eligible) refundRefusal = { reason: decision.reason, detail: decision.detail };
    else refundRefusal = { reason: 'nothing_paid', detail: 'There is no paid invoice for the current period.' };
  }

  // Setting the flag is naturally idempotent; the key is scoped to this request so SDK retries dedupe,
  // while a later cancel after a resume is a new intent Stripe must not answer from its replay cache.
  const updated = await updateSubscription(
    stripe,
    sub.subscriptionId,
    { cancel_at_period_end: true },
    `cancel-at-period-end:${memberId}:${sub.subscriptionId}:${requestId}`,
  );
  logger.info('membership set to cancel at period end', {
    memberRef: await memberRef(memberId),
    refundRefused: refundRefusal?.reason ?? null,
  });
  return {
    memberId,
    outcome: 'cancel_at_period_end',
    accessEndsAt: accessEndsAfterCancel(view, stripeCancelDate(updated)),
    refund: null,
    refundRefusal,
  };
}

export async function resumeMembership(deps: ShopperDeps, memberId: string, now: Date, requestId: string) {
  await admitShopper(deps.rateLimit, memberId, now);
  const { record } = await deps.memberships.getEntitlementData(memberId, { consistent: true });
  const view = evaluateMembership(record, deps.catalog, now);
  const sub = record?.subscription;
  // Whether a cancellation is pending is Stripe's to say; only a subscription we know has ended (or
  // none at all) is refused without asking.
  if (!sub || sub.stripeStatus === 'canceled' || sub.stripeStatus === 'incomplete_expired') {
    throw new ConflictError('nothing_to_resume', 'There is no membership pending cancellation to resume; buy a new one instead.', {
      membershipStatus: view.status,
    });
  }
  const stripe = await requireStripe(deps);
  const live = await callStripe('subscriptions.retrieve', () => stripe.subscriptions.retrieve(sub.subscriptionId));
  const action = resumeAction({ status: live.status, cancelAtPeriodEnd: live.cancel_at_period_end, cancelAt: live.cancel_at });
  if (action === 'ended') throw membershipEnded();
  const params: Stripe.SubscriptionUpdateParams | null =
    action === 'clear_cancel_at' ? { cancel_at: '' } : action === 'clear_cancel_at_period_end' ? { cancel_at_period_end: false } : null;
  const renewing = params
    ? await updateSubscription(stripe, sub.subscriptionId, params, `resume:${memberId}:${sub.subscriptionId}:${requestId}`)
    : live;
  const renewsAt = renewing.status === 'trialing' && renewing.trial_end ? isoFromEpoch(renewing.trial_end) : periodOf(renewing).end;
  logger.info('membership resumed', { memberRef: await memberRef(memberId), action });
  return { memberId, outcome: 'renewing' as const, renewsAt };
}

export async function getMyMembership(
  deps: Pick<ShopperDeps, 'catalog' | 'memberships'> & { benefits: Pick<DynamoBenefitsRepository, 'getSavings'> },
  memberId: string,
  now: Date,
) {
  const loaded = await deps.memberships.getEntitlementData(memberId);
  const { record, grants } = loaded;
  // The same savings view as the operator's and the reminders': the period counter reads 0 once
  // the member's period has moved on.
  const { savings } = await getMemberBenefits(deps, memberId, loaded);
  const view = { ...evaluateMembership(record, deps.catalog, now), memberId };
  const plan = deps.catalog.plan(view.planId);
  // The shopper sees only codes still usable: not expired, redeemed or voided (the checkout lists expired ones as not applicable).
  const entitlement = evaluateEntitlement(view, plan, usableGrants(record, grants, now), now);
  const sub = record?.subscription ?? null;
  return {
    memberId,
    status: view.status,
    entitled: entitlement.entitled,
    planId: view.planId,
    planName: plan?.name ?? null,
    currentPeriodStart: sub?.currentPeriodStart ?? null,
    currentPeriodEnd: view.currentPeriodEnd,
    trialEnd: sub?.trialEnd ?? null,
    cancelAtPeriodEnd: view.status === 'canceling',
    accessEndsAt: view.accessEndsAt,
    graceEndsAt: view.graceEndsAt,
    nextCharge: nextCharge(view, sub),
    coupons: entitlement.benefits.coupons,
    shippingVouchers: entitlement.benefits.shippingVouchers,
    // A shopper who never subscribed has paid and saved in no currency.
    savings: {
      periodCents: savings.periodSavedCents,
      lifetimeCents: savings.lifetimeSavedCents,
      feesPaidCents: savings.feesPaidCents,
      currency: record ? savings.currency : null,
    },
  };
}
