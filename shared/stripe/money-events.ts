/**
 * Reads the money events of API version `2026-10-28.endive` into ledger entries: invoice.paid,
 * invoice_payment.paid, refund.created|updated|failed, charge.refunded, credit_note.created and
 * charge.dispute.created|closed|funds_withdrawn|funds_reinstated. Like events.ts it works from the
 * payload alone and validates every object first (zod); a payload of another shape raises
 * `StripePayloadError` (5xx, alarm, Stripe retries) instead of being misread.
 *
 * What the payload cannot tell: in this API version neither a Charge nor a Refund names its invoice
 * (an invoice reaches its payment through InvoicePayment, which needs an API call or the
 * `invoice_payment.paid` event). So a refund entry keeps what its payload gives (charge, payment
 * intent) and is matched to its invoice later, at reconciliation, through those ids or through the
 * invoice_payment link entries. Each entry stands on its own: order of arrival never matters.
 */

import type { PlanCatalog } from '../domain/catalog';
import { emptyEntry, type InvoiceLine, type LedgerEntry } from '../domain/finance/ledger';
import { claimByFor } from '../domain/gifts';
import { memberIdSchema } from '../domain/member-id';
import { array, boolean, type Infer, int, looseObject, nullable, optional, record, regex, string, union } from '../validation';
import { STRIPE_API_VERSION } from './api-version';
import { giftPaymentOf, parseObject, type StripeEvent, StripePayloadError } from './events';

const id = (prefix: string) => string().check(regex(new RegExp(`^${prefix}_[A-Za-z0-9_]+$`)));
const expandable = (prefix: string) => union([id(prefix), looseObject({ id: id(prefix) })]);
const refOf = (value: string | { id: string } | null | undefined) => (value == null ? null : typeof value === 'string' ? value : value.id);
const amounts = optional(nullable(array(looseObject({ amount: int() }))));
const currency = string().check(regex(/^[a-z]{3}$/));
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

const invoiceSchema = looseObject({
  id: id('in'),
  customer: nullable(expandable('cus')),
  currency,
  total: int(),
  amount_paid: int(),
  amount_due: optional(int()),
  created: optional(int()),
  total_taxes: amounts,
  total_discount_amounts: amounts,
  billing_reason: nullable(string()),
  status_transitions: looseObject({ paid_at: nullable(int()) }),
  parent: nullable(
    looseObject({
      type: string(),
      subscription_details: optional(
        nullable(looseObject({ subscription: expandable('sub'), metadata: optional(nullable(record(string(), string()))) })),
      ),
    }),
  ),
  lines: looseObject({
    data: array(
      looseObject({
        amount: int(),
        period: looseObject({ start: int(), end: int() }),
        discount_amounts: optional(nullable(array(looseObject({ amount: int() })))),
        pretax_credit_amounts: optional(nullable(array(looseObject({ amount: int(), type: optional(nullable(string())) })))),
        taxes: optional(nullable(array(looseObject({ amount: int(), tax_behavior: optional(nullable(string())) })))),
        parent: optional(
          nullable(
            looseObject({
              type: string(),
              subscription_item_details: optional(nullable(looseObject({ proration: optional(nullable(boolean())) }))),
            }),
          ),
        ),
        pricing: optional(nullable(looseObject({ price_details: optional(nullable(looseObject({ price: expandable('price') }))) }))),
      }),
    ),
  }),
});
type InvoicePayload = Infer<typeof invoiceSchema>;
type LinePayload = InvoicePayload['lines']['data'][number];

/**
 * A line's amount after discounts and without tax. `amount` is before discounts and includes tax
 * only when the price is tax-inclusive. Discounts are listed in `pretax_credit_amounts` (type
 * `discount`; credit-balance entries there are a payment source, not a price cut) or, where that is
 * absent, in `discount_amounts`.
 */
function lineNetCents(line: LinePayload): number {
  const discounts = line.pretax_credit_amounts
    ? line.pretax_credit_amounts.filter((c) => (c.type ?? 'discount') === 'discount')
    : (line.discount_amounts ?? []);
  const inclusiveTax = (line.taxes ?? []).filter((t) => t.tax_behavior === 'inclusive');
  return line.amount - sum(discounts) - sum(inclusiveTax);
}

/** The subscription lines of an invoice, with their plan and whether they are prorations. */
function subscriptionLines(inv: InvoicePayload, catalog: PlanCatalog): InvoiceLine[] {
  return inv.lines.data
    .filter((l) => l.parent?.type === 'subscription_item_details')
    .map((l) => {
      const priceId = refOf(l.pricing?.price_details?.price ?? null);
      const plan = catalog.planForPrice(priceId);
      return {
        priceId,
        planId: plan?.id ?? null,
        interval: plan?.interval ?? null,
        amountCents: lineNetCents(l),
        proration: l.parent?.subscription_item_details?.proration === true,
        period: { start: iso(l.period.start), end: iso(l.period.end) },
      };
    });
}

/**
 * The invoice's main line, which names its plan: the largest recurring line (a multi-plan invoice is
 * attributed to the plan that brings most of it; ties to the first listed), else the first
 * subscription line (a proration-only invoice), else none.
 */
function mainLine(lines: InvoiceLine[]): InvoiceLine | null {
  const recurring = lines.filter((l) => !l.proration);
  return (
    recurring.reduce<InvoiceLine | null>((best, l) => (best === null || l.amountCents > best.amountCents ? l : best), null) ??
    lines[0] ??
    null
  );
}

const invoicePaymentSchema = looseObject({
  id: id('inpay'),
  invoice: expandable('in'),
  amount_paid: nullable(int()),
  currency,
  status: string(),
  created: int(),
  payment: looseObject({
    type: string(),
    payment_intent: optional(nullable(expandable('pi'))),
    charge: optional(nullable(expandable('ch'))),
  }),
  status_transitions: optional(nullable(looseObject({ paid_at: nullable(int()) }))),
});

const refundSchema = looseObject({
  id: id('re'),
  amount: int(),
  currency,
  status: nullable(string()),
  created: int(),
  charge: optional(nullable(expandable('ch'))),
  payment_intent: optional(nullable(expandable('pi'))),
  balance_transaction: optional(nullable(expandable('txn'))),
  failure_balance_transaction: optional(nullable(union([id('txn'), looseObject({ id: id('txn'), created: int() })]))),
  failure_reason: optional(nullable(string())),
  reason: optional(nullable(string())),
});
type Refund = Infer<typeof refundSchema>;

const chargeSchema = looseObject({
  id: id('ch'),
  refunds: optional(nullable(looseObject({ data: array(refundSchema) }))),
});

const creditNoteSchema = looseObject({
  id: id('cn'),
  invoice: expandable('in'),
  currency,
  total: int(),
  total_taxes: amounts,
  created: int(),
  status: string(),
  reason: optional(nullable(string())),
  // Credit-note refunds may reference a Refund (`re_`) or a refund of another payment method record.
  refunds: optional(
    nullable(
      array(
        looseObject({
          refund: optional(nullable(union([string(), looseObject({ id: string() })]))),
          amount_refunded: optional(nullable(int())),
        }),
      ),
    ),
  ),
});

const subscriptionEndedSchema = looseObject({
  id: id('sub'),
  customer: nullable(expandable('cus')),
  status: string(),
  currency: optional(nullable(currency)),
  ended_at: optional(nullable(int())),
  canceled_at: optional(nullable(int())),
  metadata: optional(nullable(record(string(), string()))),
  cancellation_details: optional(nullable(looseObject({ reason: optional(nullable(string())) }))),
  items: looseObject({ data: array(looseObject({ price: looseObject({ id: string() }) })) }),
});

const balanceTransaction = looseObject({ id: id('txn'), amount: int(), currency, created: int() });
const disputeSchema = looseObject({
  id: id('dp'),
  amount: int(),
  currency,
  created: int(),
  status: string(),
  reason: optional(nullable(string())),
  charge: expandable('ch'),
  payment_intent: optional(nullable(expandable('pi'))),
  balance_transactions: optional(nullable(array(union([balanceTransaction, id('txn')])))),
});

const sum = (list: Array<{ amount: number }> | null | undefined) => (list ?? []).reduce((a, x) => a + x.amount, 0);

/**
 * Refund statuses whose refund took money off the balance. A failed refund did too: Stripe debited
 * the refund, then credited it back with a `refund_failure` balance transaction, so it is booked as
 * the refund plus its reversal. A canceled refund (only possible while `requires_action`) is not
 * booked; see docs/finance.md.
 */
const BOOKED_REFUND = new Set(['pending', 'succeeded', 'requires_action', 'failed']);

/**
 * The entries of a refund as the payload shows it: the refund itself (keyed by its immutable
 * creation time and id, so every event about it yields the same entry), and, once it has failed,
 * the reversing `refund_failed` entry. The failure has no time of its own in the Refund unless its
 * failure balance transaction is expanded, so it takes the event's; the store writes it once per
 * refund whichever event reports it first (`keyedByDelivery`).
 */
function refundEntries(refund: Refund, event: StripeEvent): LedgerEntry[] {
  if (!BOOKED_REFUND.has(refund.status ?? '')) return [];
  const failure = refund.failure_balance_transaction ?? null;
  const failedAt = refund.status === 'failed' ? failureTime(failure, event) : null;
  const common = {
    currency: refund.currency,
    amountCents: refund.amount,
    chargeId: refOf(refund.charge ?? null),
    paymentIntentId: refOf(refund.payment_intent ?? null),
    refundIds: [refund.id],
  };
  const entries = [
    emptyEntry({
      ...common,
      entryId: refund.id,
      kind: 'refund',
      occurredAt: iso(refund.created),
      balanceTransactionId: refOf(refund.balance_transaction ?? null),
      reason: refund.reason ?? null,
    }),
  ];
  if (failedAt !== null) {
    entries.push(
      emptyEntry({
        ...common,
        entryId: `${refund.id}#refund_failed`,
        kind: 'refund_failed',
        occurredAt: iso(failedAt),
        balanceTransactionId: refOf(failure),
        reason: refund.failure_reason ?? null,
      }),
    );
  }
  return entries;
}

/**
 * When a failed refund failed, from an event that can say so: the failure balance transaction's own
 * time when expanded; else the time of the event that reports the change to `failed` (`refund.failed`,
 * or a `refund.updated` whose `previous_attributes` names `status`, or a refund created failed). Any
 * other event that shows the refund failed (a later `refund.updated` about its metadata, a
 * `charge.refunded` listing it) is not about the failure, and its time would misdate it: it books
 * the refund only, and the failure waits for one of those.
 */
function failureTime(failure: string | { created: number } | null, event: StripeEvent): number | null {
  if (typeof failure === 'object' && failure !== null) return failure.created;
  const previous = event.data.previous_attributes;
  const statusChanged = typeof previous === 'object' && previous !== null && 'status' in previous;
  if (event.type === 'refund.failed' || event.type === 'refund.created' || (event.type === 'refund.updated' && statusChanged))
    return event.created;
  return null;
}

export const MONEY_EVENT_TYPES: ReadonlySet<string> = new Set([
  // A gift's sale (payment-mode Checkout): the only money not paid through an invoice.
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'invoice.paid',
  'invoice_payment.paid',
  'refund.created',
  'refund.updated',
  'refund.failed',
  'charge.refunded',
  'credit_note.created',
  'charge.dispute.created',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
  'invoice.payment_failed',
  'customer.subscription.deleted',
]);

/**
 * The ledger entries a Stripe event carries: none for events that move no money, several for a
 * failed refund (the refund and its reversal) or a charge.refunded listing several refunds.
 */
export function translateMoneyEvent(event: StripeEvent, catalog: PlanCatalog): LedgerEntry[] {
  if (!MONEY_EVENT_TYPES.has(event.type)) return [];
  if (event.api_version !== STRIPE_API_VERSION) {
    throw new StripePayloadError(
      `event rendered in API version ${event.api_version ?? 'unknown'}, expected ${STRIPE_API_VERSION}`,
      event.id,
      event.type,
    );
  }
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      // Only a paid gift checkout is money of ours: a subscription checkout's money is its invoice.
      const gift = giftPaymentOf(event, catalog);
      if (!gift) return [];
      return [
        emptyEntry({
          entryId: gift.checkoutSessionId,
          kind: 'gift_paid',
          occurredAt: gift.paidAt,
          currency: gift.currency,
          amountCents: gift.amountCents,
          totalCents: gift.amountCents,
          taxCents: gift.taxCents,
          paymentIntentId: gift.paymentIntentId,
          memberId: gift.buyerMemberId,
          planId: gift.planId,
          gift: {
            purchaseId: gift.purchaseId,
            giftId: gift.giftId,
            months: gift.months,
            claimBy: claimByFor(gift.paidAt, gift.claimValidDays),
          },
        }),
      ];
    }
    case 'invoice.paid': {
      const inv = parseObject(invoiceSchema, event);
      const details = inv.parent?.type === 'subscription_details' ? (inv.parent.subscription_details ?? null) : null;
      const lines = subscriptionLines(inv, catalog);
      // The service period is the span of the subscription lines (prorations included); a one-off
      // invoice has none and is recognized when paid.
      const servicePeriod = lines.length
        ? {
            start: lines.map((l) => l.period.start).reduce((a, b) => (b < a ? b : a)),
            end: lines.map((l) => l.period.end).reduce((a, b) => (b > a ? b : a)),
          }
        : null;
      const main = mainLine(lines);
      const priceId = main ? main.priceId : refOf(inv.lines.data[0]?.pricing?.price_details?.price ?? null);
      const plan = catalog.planForPrice(priceId);
      const memberId = details?.metadata?.memberId;
      const tax = sum(inv.total_taxes);
      return [
        emptyEntry({
          entryId: inv.id,
          kind: 'invoice_paid',
          // paid_at is fixed once paid, so every delivery of this payment yields the same key.
          occurredAt: iso(inv.status_transitions.paid_at ?? event.created),
          currency: inv.currency,
          amountCents: inv.amount_paid,
          totalCents: inv.total,
          taxCents: tax,
          discountCents: sum(inv.total_discount_amounts),
          invoiceId: inv.id,
          subscriptionId: details ? refOf(details.subscription) : null,
          customerId: refOf(inv.customer),
          memberId: memberId && memberIdSchema.safeParse(memberId).success ? memberId : null,
          planId: plan?.id ?? null,
          priceId,
          interval: plan?.interval ?? null,
          billingReason: inv.billing_reason,
          servicePeriod,
          lines,
        }),
      ];
    }
    case 'invoice.payment_failed': {
      const inv = parseObject(invoiceSchema, event);
      const details = inv.parent?.type === 'subscription_details' ? (inv.parent.subscription_details ?? null) : null;
      // Only a subscription's invoice is a membership fact; a one-off invoice that fails is no one's churn.
      if (!details) return [];
      const lines = subscriptionLines(inv, catalog);
      const main = mainLine(lines);
      const plan = catalog.planForPrice(main?.priceId ?? null);
      const memberId = details.metadata?.memberId;
      return [
        emptyEntry({
          entryId: `${inv.id}#payment_failed`,
          kind: 'invoice_payment_failed',
          // The invoice's own creation (the renewal date), not the attempt's: every failed attempt
          // reports the same invoice, and keys the same entry.
          occurredAt: iso(inv.created ?? event.created),
          currency: inv.currency,
          amountCents: inv.amount_due ?? inv.total,
          totalCents: inv.total,
          invoiceId: inv.id,
          subscriptionId: refOf(details.subscription),
          customerId: refOf(inv.customer),
          memberId: memberId && memberIdSchema.safeParse(memberId).success ? memberId : null,
          planId: plan?.id ?? null,
          priceId: main?.priceId ?? null,
          interval: plan?.interval ?? null,
          billingReason: inv.billing_reason,
          servicePeriod: lines.length
            ? {
                start: lines.map((l) => l.period.start).reduce((a, b) => (b < a ? b : a)),
                end: lines.map((l) => l.period.end).reduce((a, b) => (b > a ? b : a)),
              }
            : null,
        }),
      ];
    }
    case 'customer.subscription.deleted': {
      const sub = parseObject(subscriptionEndedSchema, event);
      const memberId = sub.metadata?.memberId;
      const validMember = memberId && memberIdSchema.safeParse(memberId).success ? memberId : null;
      const plan = sub.items.data.map((i) => catalog.planForPrice(i.price.id)).find((p) => p !== undefined) ?? null;
      // Another product's subscription on the same account is no membership's ending.
      if (!validMember && !plan) return [];
      const endedAt = sub.ended_at ?? sub.canceled_at ?? event.created;
      return [
        emptyEntry({
          entryId: `${sub.id}#ended`,
          kind: 'subscription_ended',
          occurredAt: iso(endedAt),
          currency: sub.currency ?? 'usd',
          amountCents: 0,
          subscriptionId: sub.id,
          customerId: refOf(sub.customer),
          memberId: validMember,
          planId: plan?.id ?? null,
          interval: plan?.interval ?? null,
          reason: sub.cancellation_details?.reason ?? null,
        }),
      ];
    }
    case 'invoice_payment.paid': {
      const p = parseObject(invoicePaymentSchema, event);
      if (p.status !== 'paid') return [];
      return [
        emptyEntry({
          entryId: p.id,
          kind: 'invoice_payment',
          occurredAt: iso(p.status_transitions?.paid_at ?? p.created),
          currency: p.currency,
          amountCents: p.amount_paid ?? 0,
          invoiceId: refOf(p.invoice),
          paymentIntentId: refOf(p.payment.payment_intent ?? null),
          chargeId: refOf(p.payment.charge ?? null),
        }),
      ];
    }
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed':
      return refundEntries(parseObject(refundSchema, event), event);
    case 'charge.refunded': {
      // Charges carry their refunds only when Stripe includes the list; refund.created reports each anyway.
      const charge = parseObject(chargeSchema, event);
      return (charge.refunds?.data ?? []).flatMap((r) => refundEntries({ ...r, charge: r.charge ?? charge.id }, event));
    }
    case 'credit_note.created': {
      const cn = parseObject(creditNoteSchema, event);
      return [
        emptyEntry({
          entryId: cn.id,
          kind: 'credit_note',
          occurredAt: iso(cn.created),
          currency: cn.currency,
          amountCents: cn.total,
          totalCents: cn.total,
          taxCents: sum(cn.total_taxes),
          invoiceId: refOf(cn.invoice),
          refundIds: (cn.refunds ?? []).map((r) => refOf(r.refund ?? null)).filter((r): r is string => r !== null),
          // What went back to the card; the rest of the total is a credit to the customer's balance
          // (or a refund outside Stripe): revenue is reduced all the same, cash is not.
          ...((cn.refunds ?? []).every((r) => typeof r.amount_refunded === 'number')
            ? { refundedCents: (cn.refunds ?? []).reduce((a, r) => a + (r.amount_refunded ?? 0), 0) }
            : {}),
          reason: cn.reason ?? null,
        }),
      ];
    }
    default: {
      const dispute = parseObject(disputeSchema, event);
      const base = {
        currency: dispute.currency,
        amountCents: dispute.amount,
        disputeId: dispute.id,
        chargeId: refOf(dispute.charge),
        paymentIntentId: refOf(dispute.payment_intent ?? null),
        reason: dispute.reason ?? null,
      };
      if (event.type === 'charge.dispute.created') {
        return [emptyEntry({ ...base, entryId: `${dispute.id}#dispute_opened`, kind: 'dispute_opened', occurredAt: iso(dispute.created) })];
      }
      if (event.type === 'charge.dispute.closed') {
        const kind = dispute.status === 'won' ? 'dispute_won' : dispute.status === 'lost' ? 'dispute_lost' : null;
        return kind ? [emptyEntry({ ...base, entryId: `${dispute.id}#${kind}`, kind, occurredAt: iso(event.created) })] : [];
      }
      const withdrawn = event.type === 'charge.dispute.funds_withdrawn';
      const kind = withdrawn ? 'dispute_funds_withdrawn' : 'dispute_funds_reinstated';
      const txn = (dispute.balance_transactions ?? [])
        .filter((t): t is { id: string; amount: number; currency: string; created: number } => typeof t !== 'string')
        .filter((t) => (withdrawn ? t.amount < 0 : t.amount > 0))
        .sort((a, b) => a.created - b.created)[0];
      return [
        emptyEntry({
          ...base,
          entryId: `${dispute.id}#${kind}`,
          kind,
          // Booked like invoices and refunds, in the dispute's own (customer-facing) amount and
          // currency. The balance transaction adds what Stripe's report lists for it: its id, its
          // time and what it moved in the settlement currency (a EUR dispute on a USD account
          // withdraws USD).
          occurredAt: iso(txn?.created ?? event.created),
          balanceTransactionId: txn?.id ?? null,
          settlementCurrency: txn?.currency ?? null,
          settlementAmountCents: txn ? Math.abs(txn.amount) : null,
        }),
      ];
    }
  }
}
