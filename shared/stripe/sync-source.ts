/**
 * What the stripe-sync job reads from Stripe: the event list (`GET /v1/events`, 30 days), the
 * subscriptions on a price (`GET /v1/subscriptions?status=all`) and recent paid invoices with their
 * payments. One page per call, so the job decides when to stop (its deadline, a window's size); the
 * SDK retries 429/5xx twice with back-off, and what still fails becomes a typed error
 * (`ProviderUnavailableError` busy or not configured, `ProviderFailedError`), which the job turns into
 * "resume next run". Fetched objects are rendered in our pinned API version, the shape the webhook's
 * events carry, and `syntheticEvent` wraps one so it goes through the same translation.
 */
import type Stripe from 'stripe';
import { STRIPE_API_VERSION } from './api-version';
import { callStripe } from './errors';
import type { StripeEvent } from './events';

export interface StripePage {
  data: Array<Record<string, unknown>>;
  hasMore: boolean;
}

export interface StripeSyncSource {
  /** Events of `types` created in [createdGte, createdLt), newest first as Stripe lists them. */
  listEvents(params: {
    types: readonly string[];
    createdGte: number;
    createdLt: number;
    startingAfter: string | null;
  }): Promise<StripePage>;
  /** Every subscription (ended ones included) on one price, newest first. */
  listSubscriptions(params: { price: string; startingAfter: string | null }): Promise<StripePage>;
  /** Paid invoices created since `createdGte`, with their payments (`payments` expanded). */
  listPaidInvoices(params: { createdGte: number; startingAfter: string | null }): Promise<StripePage>;
}

const PAGE = 100;
const page = (list: { data: unknown[]; has_more: boolean }): StripePage => ({
  data: list.data as Array<Record<string, unknown>>,
  hasMore: list.has_more,
});

export function stripeSyncSource(stripe: Stripe): StripeSyncSource {
  const after = (startingAfter: string | null) => (startingAfter ? { starting_after: startingAfter } : {});
  return {
    listEvents: async ({ types, createdGte, createdLt, startingAfter }) =>
      page(
        await callStripe('events.list', () =>
          stripe.events.list({ types: [...types], created: { gte: createdGte, lt: createdLt }, limit: PAGE, ...after(startingAfter) }),
        ),
      ),
    listSubscriptions: async ({ price, startingAfter }) =>
      page(
        await callStripe('subscriptions.list', () =>
          stripe.subscriptions.list({ price, status: 'all', limit: PAGE, ...after(startingAfter) }),
        ),
      ),
    listPaidInvoices: async ({ createdGte, startingAfter }) =>
      page(
        await callStripe('invoices.list', () =>
          stripe.invoices.list({
            status: 'paid',
            created: { gte: createdGte },
            limit: PAGE,
            expand: ['data.payments'],
            ...after(startingAfter),
          }),
        ),
      ),
  };
}

/**
 * An object fetched from the API as the event that would have carried it: same type, version and
 * shape, so it is read by the same translation and applied by the same state machine. `created` dates
 * the snapshot (see domain/drift.ts); the id, `evt_sync_…`, can never collide with Stripe's.
 */
export function syntheticEvent(type: string, object: Record<string, unknown>, created: number, id: string): StripeEvent {
  return {
    id: `evt_sync_${id}`,
    object: 'event',
    type,
    created,
    api_version: STRIPE_API_VERSION,
    livemode: object.livemode === true,
    data: { object: object as StripeEvent['data']['object'] },
  };
}
