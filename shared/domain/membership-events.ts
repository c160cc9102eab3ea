import type { BillingAddress } from './jurisdiction';

/**
 * What the membership state machine consumes: Stripe's facts translated into domain events
 * (shared/stripe/events.ts builds them). Types only, so every domain module can name them.
 */

/** What we keep of a Stripe subscription snapshot. Times are ISO strings; Stripe's status is an open enum. */
export interface SubscriptionState {
  subscriptionId: string;
  customerId: string;
  stripeStatus: string;
  priceId: string | null;
  planId: string | null;
  /** Recurring price of the plan, for "next charge" and MRR. */
  amountCents: number | null;
  currency: string | null;
  interval: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  trialStart: string | null;
  trialEnd: string | null;
  /** Stripe's `start_date`: the same on every snapshot of the subscription (absent on older stored snapshots). */
  startDate?: string | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: string | null;
  canceledAt: string | null;
  endedAt: string | null;
}

export type MembershipEvent =
  | {
      kind: 'checkout-completed';
      eventId: string;
      created: number;
      memberId: string;
      customerId: string | null;
      subscriptionId: string | null;
      checkoutSessionId: string;
      email?: string | null;
      /** `customer_details.address`: where the member lives, for the law that applies (jurisdiction.ts). */
      address?: BillingAddress | null;
    }
  | {
      /** `customer.updated` / `customer.created`: the Stripe customer's billing address. */
      kind: 'customer-updated';
      eventId: string;
      created: number;
      memberId: string;
      customerId: string;
      address: BillingAddress | null;
    }
  | {
      kind: 'subscription-changed';
      eventId: string;
      created: number;
      memberId: string;
      subscription: SubscriptionState;
      /** From `customer.subscription.trial_will_end`: Stripe's own "the trial ends soon" signal. */
      trialWillEnd?: boolean;
    }
  | {
      kind: 'invoice-paid' | 'invoice-payment-failed';
      eventId: string;
      created: number;
      memberId: string;
      /** Null when the invoice names no customer (possible in this API version). */
      customerId: string | null;
      subscriptionId: string;
      invoiceId: string;
      billingReason: string | null;
      /** Service period of the invoice's subscription line (`lines.data[].period`), ISO times. */
      periodStart?: string | null;
      periodEnd?: string | null;
      amountPaidCents?: number;
      /** The invoice's `total`: what it billed, however it was settled (card or customer balance). */
      totalCents?: number;
      currency?: string | null;
      priceId?: string | null;
    }
  | {
      /** A credit note against a subscription invoice: that period's unredeemed grants are void. */
      kind: 'invoice-refunded';
      eventId: string;
      created: number;
      memberId: string;
      customerId: string;
      invoiceId: string;
      creditNoteId: string;
      /** The credit note's total: taken off the member's fees paid. */
      amountCents?: number;
      currency?: string | null;
    }
  | {
      /** Money returned on a charge that paid a subscription invoice (see `charge.refunded`). */
      kind: 'charge-refunded';
      eventId: string;
      created: number;
      memberId: string;
      customerId: string;
      invoiceId: string;
      chargeId: string;
      /** Everything refunded on the charge so far (Stripe's `amount_refunded`): a maximum, not a delta. */
      refundedCents: number;
      currency: string;
    };

/** What a charge's refunds amount to, as of one event (`amount_refunded` only grows). */
export interface ChargeRefund {
  eventId: string;
  created: number;
  chargeId: string;
  refundedCents: number;
  currency: string;
}
