/**
 * What the membership record remembers about benefit issuance and fees: which grants were issued,
 * which invoices were paid or refunded. Kept apart from benefits.ts because the membership state
 * machine updates it on every event (membership.ts imports this; benefits.ts reads it).
 */
import type { MembershipEvent } from './membership-events';
import { periodKey } from './savings';

/**
 * What the membership record remembers about issuance. Kept on the record (not only in marker
 * items) because the record is written with an optimistic revision check: a duplicate or concurrent
 * `invoice.paid` re-reads it, sees the period already taken, and emits no writes at all — so the
 * transaction never fails on an existing marker.
 */
export interface BenefitIssuanceState {
  /** Plan whose `every: "signup"` grants were issued; set once per member, ever. */
  signupPlanId: string | null;
  /** Period keys whose `every: "period"` grants were issued. */
  periods: string[];
  /** Subscription invoices seen: their period (when it issues grants), whether paid, whether refunded. */
  invoices: Record<string, InvoiceIssuance>;
}

export interface InvoiceIssuance {
  periodKey: string | null;
  paid: boolean;
  refunded: boolean;
  /** What the invoice's payment counted towards fees paid. */
  paidCents?: number;
  /**
   * Money given back on this invoice, by source: a credit note (`cn_`, the part it did not return
   * through a Refund) or a charge (`ch_`, everything refunded on it so far). Sources never overlap,
   * so their sum is what came back.
   */
  refunds?: Record<string, number>;
}

export const emptyIssuance = (): BenefitIssuanceState => ({ signupPlanId: null, periods: [], invoices: {} });
export const isEmptyIssuance = (s: BenefitIssuanceState) =>
  s.signupPlanId === null && s.periods.length === 0 && Object.keys(s.invoices).length === 0;

/**
 * What a paid invoice billed for the membership: its `total` (after discounts and tax, before the
 * customer's credit balance is applied). A renewal settled from the balance has `amount_paid` 0 and
 * still billed its period; a $0 trial or fully discounted invoice billed nothing.
 */
export function invoiceBilledCents(event: { totalCents?: number; amountPaidCents?: number }): number {
  // Events built by hand (tests, bench) may carry only the amount paid.
  return event.totalCents ?? event.amountPaidCents ?? 0;
}

/** Only the invoice that opens a billing period issues that period's grants (not prorations). */
const PERIOD_BILLING_REASONS = new Set(['subscription_create', 'subscription_cycle']);
const SIGNUP_STATUSES = new Set(['trialing', 'active']);

/**
 * Records on the membership what this event means for issuance. Applying an event twice, or events
 * in any order, gives the same state (set unions and flags that only move one way).
 */
export function trackIssuance(previous: BenefitIssuanceState | null | undefined, event: MembershipEvent): BenefitIssuanceState {
  const state = previous ?? emptyIssuance();
  switch (event.kind) {
    case 'subscription-changed': {
      const sub = event.subscription;
      if (state.signupPlanId === null && sub.planId !== null && SIGNUP_STATUSES.has(sub.stripeStatus)) {
        return { ...state, signupPlanId: sub.planId };
      }
      return state;
    }
    case 'invoice-paid': {
      const known = state.invoices[event.invoiceId];
      if (known?.paid) return state;
      // An invoice that billed nothing (a trial) is not a paid billing period: it issues no period grants.
      const issues = PERIOD_BILLING_REASONS.has(event.billingReason ?? '') && event.periodStart != null && invoiceBilledCents(event) > 0;
      const key = issues ? periodKey(event.subscriptionId, event.periodStart!) : null;
      const refunded = known?.refunded ?? false;
      const paidCents = invoiceBilledCents(event);
      const invoices = { ...state.invoices, [event.invoiceId]: { ...known, periodKey: key, paid: true, refunded, paidCents } };
      const periods = key !== null && !refunded && !state.periods.includes(key) ? [...state.periods, key] : state.periods;
      return { ...state, invoices, periods };
    }
    case 'invoice-refunded':
    case 'charge-refunded': {
      const source = event.kind === 'invoice-refunded' ? event.creditNoteId : event.chargeId;
      const cents = event.kind === 'invoice-refunded' ? (event.amountCents ?? 0) : event.refundedCents;
      const known = state.invoices[event.invoiceId];
      const seen = known?.refunds?.[source];
      // A charge's refunded amount only grows: keeping the maximum makes redelivery and order moot.
      if (known?.refunded && seen !== undefined && seen >= cents) return state;
      const entry: InvoiceIssuance = {
        ...known,
        periodKey: known?.periodKey ?? null,
        paid: known?.paid ?? false,
        refunded: true,
        refunds: { ...known?.refunds, [source]: Math.max(seen ?? 0, cents) },
      };
      return { ...state, invoices: { ...state.invoices, [event.invoiceId]: entry } };
    }
    default:
      return state;
  }
}

/**
 * The member's fees paid, as the issuance state stands: each paid membership invoice less what came
 * back on it. A function of the state, so the stored counter moves by the difference a transition
 * makes and ends the same in any event order (a refund of an invoice that is not a paid membership
 * invoice counts for nothing).
 */
export function feesPaidCents(state: BenefitIssuanceState | null | undefined): number {
  let total = 0;
  for (const invoice of Object.values(state?.invoices ?? {})) {
    if (!invoice.paid) continue;
    const billed = invoice.paidCents ?? 0;
    const back = Object.values(invoice.refunds ?? {}).reduce((sum, cents) => sum + cents, 0);
    // A negative invoice (a downgrade's proration credit) lowers fees by its credit; what comes back
    // on a positive one can at most cancel it.
    total += billed < 0 ? billed : Math.max(0, billed - back);
  }
  return total;
}
