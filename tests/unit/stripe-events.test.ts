import { readFileSync } from 'node:fs';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '#shared/domain/catalog';
import { STRIPE_API_VERSION } from '#shared/stripe/api-version';
import { foreignEventReason } from '#shared/stripe/event-origin';
import { eventTypeGroups, INGESTED_EVENT_TYPES } from '#shared/stripe/event-types';
import { StripePayloadError, stripeEventSchema, translateStripeEvent } from '#shared/stripe/events';
import { checkoutSessionObject, invoiceObject, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';

const catalog = parseCatalog(JSON.parse(readFileSync(new URL('../../config/plan-catalog.json', import.meta.url), 'utf8')));
const T = 1_790_000_000;
const translate = (event: object) => translateStripeEvent(stripeEventSchema.parse(event), catalog);

describe('Stripe event translation', () => {
  it('pins the same API version as the installed SDK', () => {
    expect(STRIPE_API_VERSION).toBe(Stripe.API_VERSION);
  });

  it('reads the billing period from the subscription item, as this API version puts it', () => {
    const sub = subscriptionObject({ id: 'sub_1', customer: 'cus_1', memberId: 'm-1', periodStart: T, periodEnd: T + 30 * 86_400 });
    const translated = translate(stripeEvent('customer.subscription.updated', sub, { created: T }));
    expect(translated.kind).toBe('membership');
    if (translated.kind !== 'membership') return;
    expect(translated.claim).toEqual({ memberId: 'm-1', source: 'metadata' });
    const event = translated.build('m-1');
    expect(event).toMatchObject({
      kind: 'subscription-changed',
      subscription: {
        subscriptionId: 'sub_1',
        planId: 'prime-monthly',
        currentPeriodStart: new Date(T * 1000).toISOString(),
        currentPeriodEnd: new Date((T + 30 * 86_400) * 1000).toISOString(),
        amountCents: 1499,
      },
    });
  });

  it('reaches the subscription of an invoice through parent.subscription_details', () => {
    const inv = invoiceObject({ customer: 'cus_1', subscription: 'sub_9', memberId: 'm-9', periodStart: T, periodEnd: T + 1 });
    const translated = translate(stripeEvent('invoice.paid', inv, { created: T }));
    expect(translated.kind === 'membership' && translated.build('m-9')).toMatchObject({
      kind: 'invoice-paid',
      subscriptionId: 'sub_9',
      memberId: 'm-9',
    });
    const oneOff = { ...inv, parent: null };
    expect(translate(stripeEvent('invoice.paid', oneOff, { created: T }))).toMatchObject({ kind: 'ignored' });
  });

  it('takes the member a checkout names from our metadata, else from client_reference_id (a claim a buyer can make), and ignores one-off payments', () => {
    const session = checkoutSessionObject({ memberId: 'm-2', customer: 'cus_2', subscription: 'sub_2' });
    const translated = translate(stripeEvent('checkout.session.completed', session, { created: T }));
    expect(translated).toMatchObject({ claim: { memberId: 'm-2', source: 'metadata' } });
    const paymentLink = { ...session, metadata: {}, client_reference_id: 'm-2' };
    expect(translate(stripeEvent('checkout.session.completed', paymentLink, { created: T }))).toMatchObject({
      claim: { memberId: 'm-2', source: 'client_reference_id' },
    });
    expect(translated.kind === 'membership' && translated.build('m-2')).toMatchObject({
      kind: 'checkout-completed',
      customerId: 'cus_2',
      subscriptionId: 'sub_2',
    });
    expect(translate(stripeEvent('checkout.session.completed', { ...session, mode: 'payment' }, { created: T }))).toMatchObject({
      kind: 'ignored',
    });
    // A subscription checkout this service did not create (no memberId) is someone else's product.
    expect(
      translate(stripeEvent('checkout.session.completed', { ...session, client_reference_id: null, metadata: {} }, { created: T })),
    ).toMatchObject({ kind: 'ignored' });
  });

  it('tells a membership subscription from another product: catalog price or our memberId', () => {
    const foreign = subscriptionObject({ periodStart: T, memberId: null, priceId: 'price_wine_club_usd' });
    expect(translate(stripeEvent('customer.subscription.updated', foreign, { created: T }))).toMatchObject({ kind: 'ignored' });
    // Ours (memberId metadata) with a price the catalog lost: a configuration error, retried and alarmed.
    const orphaned = subscriptionObject({ periodStart: T, memberId: 'm-3', priceId: 'price_retired_usd' });
    expect(() => translate(stripeEvent('customer.subscription.updated', orphaned, { created: T }))).toThrow(StripePayloadError);
    // A catalog price without metadata is a membership whose member is found through the customer link.
    const linked = translate(
      stripeEvent('customer.subscription.updated', subscriptionObject({ periodStart: T, memberId: null }), { created: T }),
    );
    expect(linked).toMatchObject({ kind: 'membership', claim: null });
    const otherInvoice = invoiceObject({
      customer: 'cus_4',
      subscription: 'sub_4',
      memberId: null,
      priceId: 'price_wine_club_usd',
      periodStart: T,
      periodEnd: T + 30 * 86_400,
    });
    expect(translate(stripeEvent('invoice.paid', otherInvoice, { created: T }))).toMatchObject({ kind: 'ignored' });
  });

  it('refuses events of another API version and payloads of another shape instead of misreading them', () => {
    const sub = subscriptionObject({ periodStart: T });
    expect(() => translate(stripeEvent('customer.subscription.updated', sub, { created: T, apiVersion: '2025-01-27.acacia' }))).toThrow(
      /API version/,
    );
    const legacy = structuredClone(sub);
    delete legacy.items.data[0].current_period_start;
    legacy.current_period_start = T;
    expect(() => translate(stripeEvent('customer.subscription.updated', legacy, { created: T }))).toThrow(
      /items\/data\/0\/current_period_start/,
    );
    expect(() =>
      translate(
        stripeEvent('customer.subscription.updated', subscriptionObject({ periodStart: T, priceId: 'price_not_in_catalog' }), {
          created: T,
        }),
      ),
    ).toThrow(/no catalog plan/);
  });

  it('ignores event types it does not handle, whatever their API version', () => {
    expect(translate(stripeEvent('customer.source.updated', { object: 'card', id: 'card_1' }, { created: T }))).toMatchObject({
      kind: 'ignored',
    });
    const older = stripeEvent('customer.source.updated', { object: 'card', id: 'card_1' }, { created: T, apiVersion: '2020-08-27' });
    expect(translate(older)).toMatchObject({ kind: 'ignored' });
  });

  it('reads a paid invoice whose customer is null (possible in this version) without refusing it', () => {
    const inv = {
      ...invoiceObject({ customer: 'cus_1', subscription: 'sub_9', memberId: 'm-9', periodStart: T, periodEnd: T + 1 }),
      customer: null,
    };
    const translated = translate(stripeEvent('invoice.paid', inv, { created: T }));
    expect(translated).toMatchObject({ kind: 'membership', customerId: null, claim: { memberId: 'm-9' } });
    expect(translated.kind === 'membership' && translated.build('m-9')).toMatchObject({ kind: 'invoice-paid', customerId: null });
  });

  it('reads whether an event is of another account (Connect) or mode', () => {
    const event = stripeEventSchema.parse(
      stripeEvent('customer.subscription.updated', subscriptionObject({ periodStart: T }), { created: T }),
    );
    expect(foreignEventReason(event, { livemode: false, accountId: null })).toBeNull();
    expect(foreignEventReason(event, { livemode: null, accountId: null })).toBeNull();
    expect(foreignEventReason(event, { livemode: true, accountId: null })).toMatch(/test-mode event/);
    expect(foreignEventReason({ ...event, account: 'acct_other' }, { livemode: false, accountId: null })).toMatch(/connected account/);
    expect(foreignEventReason({ ...event, account: 'acct_ours' }, { livemode: false, accountId: 'acct_ours' })).toBeNull();
  });

  it('lists every ingested type once, in groups an events list request accepts', () => {
    expect(new Set(INGESTED_EVENT_TYPES).size).toBe(INGESTED_EVENT_TYPES.length);
    const groups = eventTypeGroups();
    expect(groups.flat()).toEqual(INGESTED_EVENT_TYPES);
    for (const group of groups) expect(group.length).toBeLessThanOrEqual(20);
    expect(eventTypeGroups(Array.from({ length: 41 }, (_, i) => `t${i}`)).map((g) => g.length)).toEqual([20, 20, 1]);
  });

  it('reads a customer’s address as a fact about whoever the customer is linked to, never binding by metadata', () => {
    const customer = { object: 'customer', id: 'cus_1', address: { country: 'de', state: null }, metadata: { memberId: 'm-1' } };
    const translated = translate(stripeEvent('customer.updated', customer, { created: T }));
    expect(translated).toMatchObject({ kind: 'membership', claim: null, customerId: 'cus_1' });
    if (translated.kind !== 'membership') throw new Error('not a membership event');
    expect(translated.build('m-2')).toMatchObject({ kind: 'customer-updated', memberId: 'm-2', address: { country: 'de' } });
  });
});
