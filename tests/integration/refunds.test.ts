import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamo, membershipRepository } from '#shared/runtime/dynamo';
import { rollupStore } from '#shared/runtime/finance';
import { keys } from '#shared/storage/keys';
import { invoiceObject, signupEvents, stripeEvent } from '../../local/stripe-test-events';
import { uniqueMemberId, useApi } from '../support/api';
import { creditNoteObject, invoicePaymentObject, refundedChargeObject } from '../support/benefits';

// Refunds made through the Refunds API, the Dashboard or this service's own refund-if-unused reach us
// as charge.refunded, which names the charge's customer and PaymentIntent but not the invoice; the
// invoice comes from invoice_payment.paid, in whichever order the two arrive.
const api = useApi();
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const order = { subtotalCents: 4000, currency: 'usd' };

async function feesPaid(memberId: string): Promise<number> {
  const { doc, tables } = dynamo();
  const out = await doc.send(
    new GetCommand({ TableName: tables.main, Key: { PK: keys.memberPk(memberId), SK: keys.savingsSk }, ConsistentRead: true }),
  );
  return Number(out.Item?.feesPaidCents ?? 0);
}
const periodCoupons = async (memberId: string) =>
  (await api.entitlement(memberId, order)).benefits.coupons.filter((c: any) => c.amountOffCents === 500);

async function payingMember(label: string) {
  const memberId = uniqueMemberId(label);
  const start = nowSeconds() - DAY;
  const signup = signupEvents({ memberId, start });
  for (const e of signup.events) expect((await api.postEvent(e)).status).toBe(200);
  const invoice = signup.events.find((e) => e.type === 'invoice.paid')!.data.object;
  return { memberId, start, invoiceId: invoice.id as string, customer: signup.customer, subscription: signup.subscription };
}

const post = async (type: string, object: Record<string, any>, created = nowSeconds()) =>
  expect((await api.postEvent(stripeEvent(type, object, { created }))).status).toBe(200);

describe('refunds through charges', () => {
  it('voids the period and takes the refund off fees paid when the refund arrives before its payment link', async () => {
    const m = await payingMember('refund-first');
    expect(await feesPaid(m.memberId)).toBe(1499);
    expect(await periodCoupons(m.memberId)).toHaveLength(1);
    const paymentIntent = `pi_${m.memberId.replace(/\W/g, '')}`;
    const charge = refundedChargeObject({ customer: m.customer, paymentIntent, refundedCents: 1499 });

    // Nothing yet names the invoice: the refund waits under its payment.
    await post('charge.refunded', charge);
    expect(await feesPaid(m.memberId)).toBe(1499);
    // The payment link arrives and applies it.
    await post('invoice_payment.paid', invoicePaymentObject({ invoice: m.invoiceId, paymentIntent, paidAt: m.start }));
    expect(await feesPaid(m.memberId)).toBe(0);
    expect(await periodCoupons(m.memberId)).toEqual([]);
    // Redelivery of either changes nothing.
    await post('charge.refunded', charge);
    await post('invoice_payment.paid', invoicePaymentObject({ invoice: m.invoiceId, paymentIntent, paidAt: m.start }));
    expect(await feesPaid(m.memberId)).toBe(0);
  });

  it('applies a refund at once when the payment link is known, counts a growing refund once, and never twice with its credit note', async () => {
    const m = await payingMember('link-first');
    const paymentIntent = `pi_${m.memberId.replace(/\W/g, '')}`;
    await post('invoice_payment.paid', invoicePaymentObject({ invoice: m.invoiceId, paymentIntent, paidAt: m.start }));
    const charge = refundedChargeObject({ customer: m.customer, paymentIntent, refundedCents: 300 });
    await post('charge.refunded', charge);
    expect(await feesPaid(m.memberId)).toBe(1199);
    expect(await periodCoupons(m.memberId)).toEqual([]);
    // A second partial refund of the same charge: Stripe reports the cumulative amount.
    await post('charge.refunded', { ...charge, amount_refunded: 500 });
    await post('charge.refunded', charge); // a late, older snapshot
    expect(await feesPaid(m.memberId)).toBe(999);
    // The credit note that made the second refund: its money went back through the charge above.
    await post(
      'credit_note.created',
      creditNoteObject({ invoice: m.invoiceId, customer: m.customer, amount: 200, refundedThroughCharge: 200 }),
    );
    expect(await feesPaid(m.memberId)).toBe(999);
    // A credit note crediting the balance instead gives money back on top.
    await post('credit_note.created', creditNoteObject({ invoice: m.invoiceId, customer: m.customer, amount: 100 }));
    expect(await feesPaid(m.memberId)).toBe(899);
  });

  it('lands a refund once when it races its payment link, whichever commits first', async () => {
    const members = await Promise.all(['race-a', 'race-b', 'race-c', 'race-d'].map(payingMember));
    await Promise.all(
      members.flatMap((m) => {
        const paymentIntent = `pi_${m.memberId.replace(/\W/g, '')}`;
        const charge = refundedChargeObject({ customer: m.customer, paymentIntent, refundedCents: 1499 });
        const link = invoicePaymentObject({ invoice: m.invoiceId, paymentIntent, paidAt: m.start });
        return [post('charge.refunded', charge), post('invoice_payment.paid', link), post('charge.refunded', charge)];
      }),
    );
    for (const m of members) {
      expect(await feesPaid(m.memberId)).toBe(0);
      expect(await periodCoupons(m.memberId)).toEqual([]);
    }
  });

  it('keeps one link per payment, which both the refund path and finance read', async () => {
    const m = await payingMember('one-link');
    const paymentIntent = `pi_${m.memberId.replace(/\W/g, '')}`;
    await post('invoice_payment.paid', invoicePaymentObject({ invoice: m.invoiceId, paymentIntent, paidAt: m.start }));
    const { doc, tables } = dynamo();
    const key = { PK: keys.paymentPk(paymentIntent), SK: 'INVOICE' };
    const link = await doc.send(new GetCommand({ TableName: tables.main, Key: key, ConsistentRead: true }));
    expect(link.Item).toMatchObject({ type: 'payment-link', paymentRef: paymentIntent, invoiceId: m.invoiceId });
    expect(link.Item!.ttl).toBeUndefined();
    expect(await membershipRepository().invoiceForPayment(paymentIntent)).toBe(m.invoiceId);
    expect(await rollupStore().paymentInvoices([paymentIntent])).toEqual(new Map([[paymentIntent, m.invoiceId]]));
    // Without that one item, neither finds the invoice: there is no second copy.
    await doc.send(new DeleteCommand({ TableName: tables.main, Key: key }));
    expect(await membershipRepository().invoiceForPayment(paymentIntent)).toBeNull();
    expect(await rollupStore().paymentInvoices([paymentIntent])).toEqual(new Map());
  });

  it('leaves the membership alone when a member is refunded for something else', async () => {
    const m = await payingMember('other-purchase');
    const paymentIntent = `pi_other_${m.memberId.replace(/\W/g, '')}`;
    // A one-off order paid on the member's customer: no invoice payment of a membership invoice.
    await post('charge.refunded', refundedChargeObject({ customer: m.customer, paymentIntent, amount: 5000, refundedCents: 5000 }));
    // Another product's invoice on the same customer, linked later: not a membership invoice.
    const other = invoiceObject({
      customer: m.customer,
      subscription: `sub_other_${m.memberId.replace(/\W/g, '')}`,
      memberId: null,
      priceId: 'price_wine_club_usd',
      periodStart: m.start,
      periodEnd: m.start + 30 * DAY,
    });
    await post('invoice_payment.paid', invoicePaymentObject({ invoice: other.id, paymentIntent, amount: 5000, paidAt: m.start }));
    expect(await feesPaid(m.memberId)).toBe(1499);
    expect(await periodCoupons(m.memberId)).toHaveLength(1);
  });
});
