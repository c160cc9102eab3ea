import { describe, expect, it } from 'vitest';
import { parseCatalog } from '#shared/domain/catalog';
import { StripePayloadError, stripeEventSchema } from '#shared/stripe/events';
import { MONEY_EVENT_TYPES, translateMoneyEvent } from '#shared/stripe/money-events';
import catalogJson from '../../../config/plan-catalog.json' with { type: 'json' };
import { invoiceObject, signupEvents, stripeEvent, subscriptionObject } from '../../../local/stripe-test-events';
import { creditNoteObject, disputeObject, refundObject } from '../../support/money-events';

const catalog = parseCatalog(catalogJson);
const ev = (type: string, object: object, created = 1_900_000_000) =>
  stripeEventSchema.parse(stripeEvent(type, object as Record<string, unknown>, { created }));

describe('money events of API version 2026-10-28.endive', () => {
  it('reads a paid subscription invoice: amounts, tax, plan, service period from the lines', () => {
    const inv = invoiceObject({
      id: 'in_1',
      customer: 'cus_1',
      subscription: 'sub_1',
      memberId: 'm-1',
      amountPaid: 15_900,
      tax: 2000,
      priceId: 'price_prime_annual_usd',
      periodStart: 1_900_000_000,
      periodEnd: 1_931_536_000,
      created: 1_900_000_100,
    });
    const [entry] = translateMoneyEvent(ev('invoice.paid', inv), catalog);
    expect(entry).toMatchObject({
      entryId: 'in_1',
      kind: 'invoice_paid',
      amountCents: 15_900,
      totalCents: 15_900,
      taxCents: 2000,
      planId: 'prime-annual',
      interval: 'year',
      subscriptionId: 'sub_1',
      memberId: 'm-1',
      occurredAt: new Date(1_900_000_100_000).toISOString(),
      servicePeriod: { start: new Date(1_900_000_000_000).toISOString(), end: new Date(1_931_536_000_000).toISOString() },
    });
  });

  it('records an invoice without a subscription as a point-in-time sale with no plan', () => {
    const inv: Record<string, any> = {
      ...invoiceObject({ id: 'in_2', customer: 'cus_1', subscription: 'sub_1', periodStart: 1_900_000_000, periodEnd: 1_900_000_000 }),
      parent: null,
    };
    inv.lines.data[0].parent = { type: 'invoice_item_details', invoice_item_details: { invoice_item: 'ii_1' } };
    inv.lines.data[0].pricing = null;
    const [entry] = translateMoneyEvent(ev('invoice.paid', inv), catalog);
    expect(entry).toMatchObject({ planId: null, subscriptionId: null, memberId: null, servicePeriod: null });
  });

  it('books pending and succeeded refunds, not canceled ones; charge.refunded without a refund list adds nothing', () => {
    const pending = translateMoneyEvent(
      ev('refund.created', refundObject({ id: 're_1', charge: 'ch_1', amount: 100, created: 1_900_000_000, status: 'pending' })),
      catalog,
    );
    expect(pending).toMatchObject([{ entryId: 're_1', kind: 'refund', amountCents: 100 }]);
    expect(
      translateMoneyEvent(
        ev('refund.updated', refundObject({ id: 're_1', charge: 'ch_1', amount: 100, created: 1_900_000_000, status: 'canceled' })),
        catalog,
      ),
    ).toEqual([]);
    expect(translateMoneyEvent(ev('charge.refunded', { id: 'ch_1', object: 'charge', refunds: null }), catalog)).toEqual([]);
  });

  it('books a failed refund as the refund and its reversal, dated by the event that reports the failure', () => {
    const failed = refundObject({
      id: 're_1',
      charge: 'ch_1',
      paymentIntent: 'pi_1',
      amount: 100,
      created: 1_900_000_000,
      status: 'failed',
      failure: 'txn_fail',
    });
    const failure = (created: number) => ({
      entryId: 're_1#refund_failed',
      kind: 'refund_failed',
      occurredAt: new Date(created * 1000).toISOString(),
      amountCents: 100,
      balanceTransactionId: 'txn_fail',
      refundIds: ['re_1'],
      chargeId: 'ch_1',
      paymentIntentId: 'pi_1',
      reason: 'expired_or_canceled_card',
    });
    const viaFailed = translateMoneyEvent(ev('refund.failed', failed, 1_900_300_000), catalog);
    expect(viaFailed).toMatchObject([
      { entryId: 're_1', kind: 'refund', occurredAt: new Date(1_900_000_000_000).toISOString(), amountCents: 100 },
      failure(1_900_300_000),
    ]);
    expect(MONEY_EVENT_TYPES.has('refund.failed')).toBe(true);
    // refund.updated reports the failure when its previous_attributes say the status changed.
    const statusChange = stripeEventSchema.parse(
      stripeEvent('refund.updated', failed, { created: 1_900_300_001, previousAttributes: { status: 'pending' } }),
    );
    expect(translateMoneyEvent(statusChange, catalog)).toMatchObject([viaFailed[0]!, failure(1_900_300_001)]);
    // A later refund.updated about something else (its metadata), and charge.refunded listing the
    // refund, show it failed but are not about the failure: their time would misdate it (a failure
    // of 30 May booked in June), so they book the refund alone.
    const metadataChange = stripeEventSchema.parse(
      stripeEvent('refund.updated', failed, { created: 1_902_000_000, previousAttributes: { metadata: {} } }),
    );
    expect(translateMoneyEvent(metadataChange, catalog)).toEqual([viaFailed[0]]);
    expect(translateMoneyEvent(ev('refund.updated', failed, 1_902_000_000), catalog)).toEqual([viaFailed[0]]);
    expect(
      translateMoneyEvent(
        ev('charge.refunded', { id: 'ch_1', object: 'charge', refunds: { object: 'list', data: [failed] } }, 1_902_000_000),
        catalog,
      ),
    ).toEqual([viaFailed[0]]);
    // With the failure balance transaction expanded, its own time fixes the entry's month, whatever the event.
    const expanded = refundObject({
      id: 're_1',
      charge: 'ch_1',
      amount: 100,
      created: 1_900_000_000,
      status: 'failed',
      failure: { id: 'txn_fail', created: 1_900_200_000 },
    });
    for (const type of ['refund.failed', 'refund.updated', 'charge.refunded']) {
      const event =
        type === 'charge.refunded'
          ? ev(type, { id: 'ch_1', object: 'charge', refunds: { object: 'list', data: [expanded] } }, 1_902_000_000)
          : ev(type, expanded, 1_902_000_000);
      expect(translateMoneyEvent(event, catalog)[1], type).toMatchObject({
        occurredAt: new Date(1_900_200_000_000).toISOString(),
        balanceTransactionId: 'txn_fail',
      });
    }
  });

  it("keeps a credit note's card refunds apart from what it credited to the customer's balance", () => {
    const refunded = creditNoteObject({ id: 'cn_1', invoice: 'in_1', total: 1499, created: 1_900_000_000, refund: 're_1' });
    expect(translateMoneyEvent(ev('credit_note.created', refunded), catalog)[0]).toMatchObject({
      kind: 'credit_note',
      amountCents: 1499,
      refundedCents: 1499,
      refundIds: ['re_1'],
    });
    const credit = creditNoteObject({ id: 'cn_2', invoice: 'in_1', total: 500, created: 1_900_000_000 });
    expect(translateMoneyEvent(ev('credit_note.created', credit), catalog)[0]).toMatchObject({
      amountCents: 500,
      refundedCents: 0,
      refundIds: [],
    });
  });

  it('records a failed renewal and an ended subscription as membership facts, with no money and only for memberships', () => {
    const inv = invoiceObject({
      id: 'in_9',
      customer: 'cus_1',
      subscription: 'sub_1',
      memberId: 'm-1',
      status: 'open',
      periodStart: 1_900_000_000,
      periodEnd: 1_902_592_000,
      created: 1_900_000_000,
    });
    const failed = translateMoneyEvent(ev('invoice.payment_failed', inv, 1_900_090_000), catalog);
    expect(failed).toMatchObject([
      {
        entryId: 'in_9#payment_failed',
        kind: 'invoice_payment_failed',
        occurredAt: new Date(1_900_000_000_000).toISOString(),
        invoiceId: 'in_9',
        subscriptionId: 'sub_1',
        memberId: 'm-1',
        planId: 'prime-monthly',
        amountCents: 1499,
      },
    ]);
    // Each retry reports the same invoice: the same entry.
    expect(translateMoneyEvent(ev('invoice.payment_failed', inv, 1_900_400_000), catalog)).toEqual(failed);

    const sub = subscriptionObject({
      id: 'sub_1',
      customer: 'cus_1',
      memberId: 'm-1',
      periodStart: 1_900_000_000,
      status: 'canceled',
      endedAt: 1_902_592_000,
    });
    sub.cancellation_details = { reason: 'cancellation_requested', comment: null, feedback: null };
    expect(translateMoneyEvent(ev('customer.subscription.deleted', sub, 1_902_592_100), catalog)).toMatchObject([
      {
        entryId: 'sub_1#ended',
        kind: 'subscription_ended',
        occurredAt: new Date(1_902_592_000_000).toISOString(),
        subscriptionId: 'sub_1',
        memberId: 'm-1',
        planId: 'prime-monthly',
        reason: 'cancellation_requested',
        amountCents: 0,
      },
    ]);
    const other = subscriptionObject({
      id: 'sub_2',
      memberId: null,
      priceId: 'price_other',
      periodStart: 1_900_000_000,
      status: 'canceled',
    });
    expect(translateMoneyEvent(ev('customer.subscription.deleted', other), catalog)).toEqual([]);
  });

  it('send-test-event --plan annual bills the annual price, not the monthly one', () => {
    const { events } = signupEvents({ memberId: 'm-annual', start: 1_900_000_000, interval: 'year' });
    const paid = events.find((e) => e.type === 'invoice.paid')!;
    expect(translateMoneyEvent(stripeEventSchema.parse(paid), catalog)[0]).toMatchObject({
      amountCents: 13_900,
      totalCents: 13_900,
      planId: 'prime-annual',
      interval: 'year',
      lines: [{ priceId: 'price_prime_annual_usd', amountCents: 13_900, proration: false }],
    });
  });

  it("books dispute funds in the dispute's own amount and currency, with the balance transaction's id, time and settlement amount", () => {
    // A EUR dispute on a USD account: the balance transactions withdraw and reinstate USD.
    const dispute = disputeObject({
      id: 'dp_1',
      charge: 'ch_1',
      amount: 1299,
      currency: 'eur',
      created: 1_900_000_000,
      status: 'won',
      transactions: [
        { id: 'txn_w', amount: -1407, currency: 'usd', created: 1_900_000_050 },
        { id: 'txn_r', amount: 1411, currency: 'usd', created: 1_900_500_000 },
      ],
    });
    expect(translateMoneyEvent(ev('charge.dispute.funds_withdrawn', dispute), catalog)[0]).toMatchObject({
      entryId: 'dp_1#dispute_funds_withdrawn',
      currency: 'eur',
      amountCents: 1299,
      balanceTransactionId: 'txn_w',
      settlementCurrency: 'usd',
      settlementAmountCents: 1407,
      occurredAt: new Date(1_900_000_050_000).toISOString(),
    });
    expect(translateMoneyEvent(ev('charge.dispute.funds_reinstated', dispute), catalog)[0]).toMatchObject({
      entryId: 'dp_1#dispute_funds_reinstated',
      currency: 'eur',
      amountCents: 1299,
      balanceTransactionId: 'txn_r',
      settlementAmountCents: 1411,
    });
    expect(translateMoneyEvent(ev('charge.dispute.closed', dispute), catalog)[0]).toMatchObject({ kind: 'dispute_won' });
  });

  it('refuses a payload of another shape or version instead of misreading it, and ignores other events', () => {
    expect(() =>
      translateMoneyEvent(
        ev('refund.created', { id: 're_1', object: 'refund', amount: '1.00', currency: 'usd', created: 1, status: 'succeeded' }),
        catalog,
      ),
    ).toThrow(StripePayloadError);
    const old = stripeEventSchema.parse(
      stripeEvent('refund.created', refundObject({ id: 're_1', charge: 'ch_1', amount: 100, created: 1 }), {
        created: 1,
        apiVersion: '2025-03-31.basil',
      }),
    );
    expect(() => translateMoneyEvent(old, catalog)).toThrow(/API version/);
    expect(translateMoneyEvent(ev('customer.created', { id: 'cus_1', object: 'customer' }), catalog)).toEqual([]);
  });
});
