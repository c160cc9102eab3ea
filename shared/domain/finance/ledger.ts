/**
 * The money ledger: one immutable entry per money event from Stripe. An entry is built only from
 * the Stripe object's immutable facts (ids, amounts, creation/payment times), never from the event's
 * delivery, so the same object delivered twice, or by two different events (refund.created and
 * refund.updated), yields the identical entry under the identical key. Order never matters: an entry
 * does not refer to, or wait for, any other entry (a refund that arrives before its invoice.paid
 * lands in its own month under its own id; the two meet only when read).
 */
export const LEDGER_ENTRY_KINDS = [
  'invoice_paid',
  'invoice_payment',
  'refund',
  'refund_failed',
  'credit_note',
  'dispute_opened',
  'dispute_won',
  'dispute_lost',
  'dispute_funds_withdrawn',
  'dispute_funds_reinstated',
  // Membership facts finance needs beside the money (no money of their own): a renewal that could
  // not be collected, and a subscription that ended and why. MRR and churn read them.
  'invoice_payment_failed',
  'subscription_ended',
  // Gift memberships (docs/gifts.md): the sale (money, Checkout in payment mode) and the claim that
  // starts the gifted service (no money of its own; ours, not Stripe's).
  'gift_paid',
  'gift_claimed',
] as const;
export type LedgerEntryKind = (typeof LEDGER_ENTRY_KINDS)[number];

export interface ServicePeriod {
  start: string;
  end: string;
}

/**
 * A line of a paid invoice that comes from the subscription (its recurring price, or a proration of
 * it). MRR is read from the non-proration lines: a proration is a one-off adjustment of a past or
 * partial period, not a recurring price.
 */
export interface InvoiceLine {
  priceId: string | null;
  /** The catalog plan of the price, null when no plan lists it. */
  planId: string | null;
  /** The plan's billing interval (`month`, `year`), null when unknown. */
  interval: string | null;
  /** Minor units, after discounts and without tax (a proration credit is negative). */
  amountCents: number;
  proration: boolean;
  period: ServicePeriod;
}

export interface LedgerEntry {
  /** Stripe object id; a dispute has several entries, so its id is suffixed with the kind. */
  entryId: string;
  kind: LedgerEntryKind;
  /** When the money moved, from the Stripe object (invoice paid_at, refund created, ...). ISO UTC. */
  occurredAt: string;
  /**
   * The customer-facing (charge) currency: the invoice's, refund's or dispute's own. Never the
   * account's settlement currency, which differs for a charge in EUR settled in USD.
   */
  currency: string;
  /**
   * The object's amount in minor units of `currency`, always ≥ 0. Its direction on the Stripe
   * balance follows from `kind` (see `balanceEffect`). invoice_paid: amount_paid.
   */
  amountCents: number;
  /**
   * What the balance transaction moved in the settlement currency, when the payload carries it
   * (dispute funds: the dispute lists its balance transactions). Always ≥ 0, like `amountCents`.
   */
  settlementCurrency: string | null;
  settlementAmountCents: number | null;
  /** invoice_paid / credit_note: total including tax, tax, discounts. Null elsewhere. */
  totalCents: number | null;
  taxCents: number | null;
  discountCents: number | null;
  invoiceId: string | null;
  chargeId: string | null;
  paymentIntentId: string | null;
  balanceTransactionId: string | null;
  refundIds: string[];
  disputeId: string | null;
  subscriptionId: string | null;
  customerId: string | null;
  memberId: string | null;
  planId: string | null;
  priceId: string | null;
  interval: string | null;
  billingReason: string | null;
  servicePeriod: ServicePeriod | null;
  /**
   * invoice_paid: its subscription lines (empty for a one-off invoice). `planId`/`priceId`/`interval`
   * above are the invoice's main plan: its largest recurring line's. Entries recorded before lines
   * were kept lack the attribute.
   */
  lines?: InvoiceLine[];
  /**
   * credit_note: the part of `amountCents` refunded to the customer's payment method (Σ of its
   * refunds' `amount_refunded`, which the refund entries book as cash); the rest was credited to
   * the customer's balance or refunded outside Stripe. Absent on entries recorded before it was kept,
   * which are read as wholly refunded (the former rule).
   */
  refundedCents?: number;
  /**
   * Dispute reason, refund reason, failure reason: free text from Stripe's enum. subscription_ended:
   * `cancellation_details.reason` (`cancellation_requested`, `payment_failed`, `payment_disputed`).
   */
  reason: string | null;
  /**
   * gift_paid / gift_claimed: the gift (its purchase, catalog gift, months and claim deadline); its
   * finance account is the gift's own (`gift:<purchaseId>`), not the buyer's or the recipient's.
   */
  gift?: GiftFacts;
}

export interface GiftFacts {
  purchaseId: string;
  giftId: string;
  months: number;
  /** Unclaimed by then, the gift expires and its revenue is recognized as breakage. */
  claimBy: string;
}

export const emptyEntry = (
  e: Pick<LedgerEntry, 'entryId' | 'kind' | 'occurredAt' | 'currency' | 'amountCents'> & Partial<LedgerEntry>,
): LedgerEntry => ({
  settlementCurrency: null,
  settlementAmountCents: null,
  totalCents: null,
  taxCents: null,
  discountCents: null,
  invoiceId: null,
  chargeId: null,
  paymentIntentId: null,
  balanceTransactionId: null,
  refundIds: [],
  disputeId: null,
  subscriptionId: null,
  customerId: null,
  memberId: null,
  planId: null,
  priceId: null,
  interval: null,
  billingReason: null,
  servicePeriod: null,
  reason: null,
  ...e,
});

/**
 * Entries whose time, and so whose key, comes from the event rather than from the Stripe object: a
 * refund's failure has no time of its own in the Refund (its failure balance transaction is an id
 * unless expanded), and `refund.updated`, `refund.failed` and `charge.refunded` can each report it
 * with their own `created`. The store writes these once per entry id (a guard item), not once per key.
 */
export const keyedByDelivery = (entry: Pick<LedgerEntry, 'kind'>): boolean => entry.kind === 'refund_failed' || entry.kind === 'gift_paid';

/**
 * Sign of the entry on the Stripe balance, which is what the itemized balance report lists:
 * a paid invoice's charge adds, a refund and withdrawn dispute funds subtract, a failed refund's money
 * comes back (Stripe's `refund_failure`), reinstated funds add.
 * 0 means the entry moves no money by itself (a credit note's money moves through its refunds; a
 * dispute opening or closing moves money through its funds_* entries; an invoice payment only links
 * an invoice to its payment intent).
 */
export function balanceEffect(kind: LedgerEntryKind): 1 | -1 | 0 {
  switch (kind) {
    case 'invoice_paid':
    case 'gift_paid':
    case 'refund_failed':
    case 'dispute_funds_reinstated':
      return 1;
    case 'refund':
    case 'dispute_funds_withdrawn':
      return -1;
    default:
      return 0;
  }
}

/** The Stripe report category a balance-moving entry appears under. */
export function reportingCategory(kind: LedgerEntryKind): 'charge' | 'refund' | 'refund_failure' | 'dispute' | 'dispute_reversal' | null {
  switch (kind) {
    case 'invoice_paid':
    case 'gift_paid':
      return 'charge';
    case 'refund':
      return 'refund';
    case 'refund_failed':
      return 'refund_failure';
    case 'dispute_funds_withdrawn':
      return 'dispute';
    case 'dispute_funds_reinstated':
      return 'dispute_reversal';
    default:
      return null;
  }
}
