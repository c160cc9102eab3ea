import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { recognitionSchedule } from '#shared/domain/finance/recognition';
import { dynamo } from '#shared/runtime/dynamo';
import { invoiceObject, stripeEvent } from '../../local/stripe-test-events';
import chargeFixture from '../fixtures/stripe/charge.json' with { type: 'json' };
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { creditNoteObject, disputeObject, invoicePaymentObject, refundObject } from '../support/money-events';

const api = useApi();
const t = (iso: string) => Date.parse(iso) / 1000;

/** One member's money story in January–February 2031, with ids made unique by `ns`. */
function story(ns: string) {
  const memberId = uniqueMemberId(`fin${ns}`);
  const ids = {
    customer: `cus_${ns}`,
    subscription: `sub_${ns}`,
    invoice: `in_${ns}`,
    charge: `ch_${ns}`,
    pi: `pi_${ns}`,
    refund: `re_${ns}`,
    dispute: `dp_${ns}`,
    cn: `cn_${ns}`,
  };
  const paidAt = t('2031-01-15T10:00:00Z');
  const invoice = invoiceObject({
    id: ids.invoice,
    customer: ids.customer,
    subscription: ids.subscription,
    memberId,
    billingReason: 'subscription_cycle',
    amountPaid: 1599,
    tax: 100,
    periodStart: t('2031-01-15T00:00:00Z'),
    periodEnd: t('2031-02-15T00:00:00Z'),
    created: paidAt,
  });
  const refund = refundObject({
    id: ids.refund,
    charge: ids.charge,
    paymentIntent: ids.pi,
    amount: 500,
    created: t('2031-01-20T08:00:00Z'),
  });
  const disputeTxn = { id: `txn_dp${ns}`, amount: -1099, created: t('2031-02-03T00:00:00Z') };
  const events = [
    stripeEvent('invoice.paid', invoice, { created: paidAt, id: `evt_paid${ns}` }),
    stripeEvent(
      'invoice_payment.paid',
      invoicePaymentObject({ id: `inpay_${ns}`, invoice: ids.invoice, paymentIntent: ids.pi, amount: 1599, paidAt }),
      { created: paidAt, id: `evt_inpay${ns}` },
    ),
    stripeEvent('refund.created', { ...refund, status: 'pending' }, { created: t('2031-01-20T08:00:00Z'), id: `evt_refc${ns}` }),
    stripeEvent('refund.updated', refund, { created: t('2031-01-20T08:05:00Z'), id: `evt_refu${ns}` }),
    stripeEvent(
      'charge.refunded',
      {
        ...chargeFixture,
        id: ids.charge,
        customer: ids.customer,
        payment_intent: ids.pi,
        amount: 1599,
        amount_refunded: 500,
        refunded: false,
        currency: 'usd',
        refunds: { object: 'list', data: [refund], has_more: false },
      },
      { created: t('2031-01-20T08:00:01Z'), id: `evt_chref${ns}` },
    ),
    stripeEvent(
      'credit_note.created',
      creditNoteObject({ id: ids.cn, invoice: ids.invoice, total: 500, created: t('2031-01-20T08:00:00Z'), refund: ids.refund }),
      { created: t('2031-01-20T08:00:00Z'), id: `evt_cn${ns}` },
    ),
    stripeEvent(
      'charge.dispute.created',
      disputeObject({
        id: ids.dispute,
        charge: ids.charge,
        paymentIntent: ids.pi,
        amount: 1099,
        created: t('2031-02-02T00:00:00Z'),
        status: 'needs_response',
      }),
      { created: t('2031-02-02T00:00:00Z'), id: `evt_dpc${ns}` },
    ),
    stripeEvent(
      'charge.dispute.funds_withdrawn',
      disputeObject({
        id: ids.dispute,
        charge: ids.charge,
        paymentIntent: ids.pi,
        amount: 1099,
        created: t('2031-02-02T00:00:00Z'),
        status: 'needs_response',
        transactions: [disputeTxn],
      }),
      { created: t('2031-02-03T00:00:00Z'), id: `evt_dpw${ns}` },
    ),
    stripeEvent(
      'charge.dispute.closed',
      disputeObject({
        id: ids.dispute,
        charge: ids.charge,
        paymentIntent: ids.pi,
        amount: 1099,
        created: t('2031-02-02T00:00:00Z'),
        status: 'lost',
        transactions: [disputeTxn],
      }),
      { created: t('2031-02-20T00:00:00Z'), id: `evt_dpx${ns}` },
    ),
  ];
  return { memberId, ids, events };
}

async function ledgerItems(month: string, ns: string) {
  const { doc, tables } = dynamo();
  const items: Record<string, unknown>[] = [];
  for (const pk of [`LEDGER#${month}`]) {
    const out = await doc.send(
      new QueryCommand({
        TableName: tables.main,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
      }),
    );
    items.push(...(out.Items ?? []));
  }
  // Compare stories by shape: replace this story's namespace and member id with placeholders.
  return items
    .filter((i) => JSON.stringify(i).includes(ns))
    .map((i) =>
      JSON.parse(
        JSON.stringify(i)
          .replaceAll(ns, 'NS')
          .replace(/finNS-[a-z0-9]+/g, 'MEMBER'),
      ),
    )
    .sort((a, b) => `${a.PK}${a.SK}`.localeCompare(`${b.PK}${b.SK}`));
}

describe('money events → ledger', () => {
  it('records each money event once, whatever the order and however often it is delivered', async () => {
    const inOrder = story('ordr');
    for (const event of inOrder.events) expect((await api.postEvent(event)).status).toBe(200);

    // Same story, reversed (the refund arrives long before its invoice.paid), every event twice, some concurrently.
    const shuffled = story('shfl');
    const reversed = [...shuffled.events].reverse();
    for (const event of reversed) expect((await api.postEvent(event)).status).toBe(200);
    const again = await Promise.all(reversed.map((e) => api.postEvent(e)));
    expect(again.map((r) => r.status)).toEqual(reversed.map(() => 200));

    for (const month of ['2031-01', '2031-02', '2031-03']) {
      expect(await ledgerItems(month, 'shfl')).toEqual(await ledgerItems(month, 'ordr'));
    }
    const jan = await ledgerItems('2031-01', 'ordr');
    expect(jan.filter((i) => i.type === 'ledger-entry').map((i) => [i.kind, i.entryId])).toEqual([
      ['invoice_paid', 'in_NS'],
      ['invoice_payment', 'inpay_NS'],
      ['credit_note', 'cn_NS'],
      ['refund', 're_NS'],
    ]);
    const refund = jan.find((i) => i.kind === 'refund')!;
    expect(refund).toMatchObject({
      SK: '2031-01-20T08:00:00.000Z#re_NS',
      amountCents: 500,
      chargeId: 'ch_NS',
      paymentIntentId: 'pi_NS',
      currency: 'usd',
    });
    const invoice = jan.find((i) => i.kind === 'invoice_paid')!;
    expect(invoice).toMatchObject({
      amountCents: 1599,
      totalCents: 1599,
      taxCents: 100,
      planId: 'prime-monthly',
      interval: 'month',
      subscriptionId: 'sub_NS',
      memberId: 'MEMBER',
      servicePeriod: { start: '2031-01-15T00:00:00.000Z', end: '2031-02-15T00:00:00.000Z' },
    });
    const feb = await ledgerItems('2031-02', 'ordr');
    expect(
      feb
        .filter((i) => i.type === 'ledger-entry')
        .map((i) => i.kind)
        .sort(),
    ).toEqual(['dispute_funds_withdrawn', 'dispute_lost', 'dispute_opened']);
    expect(feb.find((i) => i.kind === 'dispute_funds_withdrawn')).toMatchObject({
      amountCents: 1099,
      balanceTransactionId: 'txn_dpNS',
      disputeId: 'dp_NS',
    });
    // Recognition: 17 of 31 days in January (8.22 of 14.99 net of tax, 6.77 deferred), the rest in February.

    const res = await api.call('GET', '/v1/finance/revenue?month=2031-01&currency=usd', { key: KEYS.finance });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { currencies: Array<Record<string, any>> };
    expect(body.currencies).toHaveLength(1);
    // Each story's 5.00 refund is tied to its invoice (credit note, and payment intent link) and comes
    // out of its deferred revenue net of tax: 5.00 − 0.31 tax (100/1599 of it) = 4.69 of the 6.77 left.
    expect(body.currencies[0]).toMatchObject({
      currency: 'usd',
      invoices: 2,
      billedCents: 3198,
      taxCents: 200,
      refundedCents: 1000,
      refundedNetOfTaxCents: 938,
      recognizedCents: 1644,
      deferredCents: 2 * (677 - 469),
      mrrCents: 2998,
      members: { active: 2, new: 2, churned: 0 },
    });
    expect(body.currencies[0]).toMatchObject({
      unattributed: { refunds: 0, refundedCents: 0, disputedCents: 0 },
      byPlan: [{ planId: 'prime-monthly', refunds: 2, refundedCents: 1000, refundedNetOfTaxCents: 938, netCents: 3198 - 1000 }],
    });
    // Deferred revenue rolls forward: billed net of tax − refunds net of tax − recognized.
    const janUsd = body.currencies[0]!;
    expect(janUsd.deferredCents).toBe(janUsd.billedCents - janUsd.taxCents - janUsd.refundedNetOfTaxCents - janUsd.recognizedCents);
    const feb2 = (await (await api.call('GET', '/v1/finance/revenue?month=2031-02', { key: KEYS.finance })).json()) as {
      currencies: Array<Record<string, any>>;
    };
    // February: each story's 2.08 left is recognized, and its lost dispute (10.99, 10.30 net of tax)
    // takes back what was recognized, like a refund: nothing of either invoice stays revenue. The
    // members' paid month ended on 15 February, so with a week's grace they lapse in February.
    expect(feb2.currencies[0]).toMatchObject({
      billedCents: 0,
      disputedCents: 2198,
      netCents: -2198,
      refundedNetOfTaxCents: 2 * 1030,
      recognizedCents: 2 * (677 - 469 - 1030),
      deferredCents: 0,
      members: { active: 0, new: 0, churned: 2 },
    });
    // The disputes are tied to the plan through the payment intent.
    expect(feb2.currencies[0]).toMatchObject({
      unattributed: { disputedCents: 0 },
      byPlan: [{ planId: 'prime-monthly', disputedCents: 2198, netCents: -2198 }],
    });
    const mar = (await (await api.call('GET', '/v1/finance/revenue?month=2031-03', { key: KEYS.finance })).json()) as {
      currencies: Array<Record<string, any>>;
    };
    expect(mar.currencies).toEqual([]);
  });

  it('reverses a refund that failed exactly once, however many events report the failure and in whatever order', async () => {
    // Refunded on 28 April (pending), failed on 2 May: refund.updated and refund.failed both say so, a second apart.
    const pending = refundObject({
      id: 're_failsmay',
      charge: 'ch_failsmay',
      amount: 700,
      created: t('2031-04-28T10:00:00Z'),
      status: 'pending',
    });
    const failed = {
      ...pending,
      status: 'failed',
      failure_balance_transaction: 'txn_failsmay',
      failure_reason: 'expired_or_canceled_card',
    };
    const events = [
      stripeEvent('refund.failed', failed, { created: t('2031-05-02T09:00:01Z') }),
      stripeEvent('refund.updated', failed, { created: t('2031-05-02T09:00:00Z'), previousAttributes: { status: 'pending' } }),
      stripeEvent('refund.created', pending, { created: t('2031-04-28T10:00:00Z') }),
    ];
    for (const event of [...events, ...events]) expect((await api.postEvent(event)).status).toBe(200);
    await Promise.all(events.map((e) => api.postEvent(e)));
    expect((await ledgerItems('2031-04', 'failsmay')).map((i) => [i.kind, i.amountCents])).toEqual([['refund', 700]]);
    const may = await ledgerItems('2031-05', 'failsmay');
    expect(may).toHaveLength(1);
    // (ledgerItems writes the story's name as NS.)
    expect(may[0]).toMatchObject({
      kind: 'refund_failed',
      entryId: 're_NS#refund_failed',
      SK: '2031-05-02T09:00:01.000Z#re_NS#refund_failed',
      amountCents: 700,
      balanceTransactionId: 'txn_NS',
      refundIds: ['re_NS'],
    });
    // The refund counts in April; its failure gives the money back in May.
    const revenue = async (month: string) =>
      (
        (await (await api.call('GET', `/v1/finance/revenue?month=${month}&currency=usd`, { key: KEYS.finance })).json()) as {
          currencies: Array<Record<string, any>>;
        }
      ).currencies[0]!;
    const aprilRefunded = (await revenue('2031-04')).refundedCents;
    expect(aprilRefunded).toBeGreaterThanOrEqual(700);
    expect((await revenue('2031-05')).refundedCents).toBe(-700);
  });

  it('takes refunds of an annual plan out of its deferred revenue, per plan, in any event order; a refund with no invoice is unattributed', async () => {
    const ns = Math.random().toString(36).slice(2, 8);
    const at = (iso: string) => t(iso);
    const annual = (who: string) => {
      const inv = invoiceObject({
        id: `in_${who}${ns}`,
        customer: `cus_${who}${ns}`,
        subscription: `sub_${who}${ns}`,
        memberId: uniqueMemberId(`ann${who}`),
        amountPaid: 13900,
        priceId: 'price_prime_annual_usd',
        periodStart: at('2035-01-01T00:00:00Z'),
        periodEnd: at('2036-01-01T00:00:00Z'),
        created: at('2035-01-01T00:00:00Z'),
      });
      return [
        stripeEvent('invoice.paid', inv, { created: at('2035-01-01T00:00:00Z') }),
        stripeEvent(
          'invoice_payment.paid',
          invoicePaymentObject({
            id: `inpay_${who}${ns}`,
            invoice: inv.id,
            paymentIntent: `pi_${who}${ns}`,
            amount: 13900,
            paidAt: at('2035-01-01T00:00:00Z'),
          }),
          { created: at('2035-01-01T00:00:00Z') },
        ),
      ];
    };
    const refundOf = (who: string, amount: number) =>
      stripeEvent(
        'refund.created',
        refundObject({
          id: `re_${who}${ns}`,
          charge: `ch_${who}${ns}`,
          paymentIntent: `pi_${who}${ns}`,
          amount,
          created: at('2035-03-10T12:00:00Z'),
        }),
        { created: at('2035-03-10T12:00:00Z') },
      );
    // Refunds first, invoices and links after: the two meet when read.
    const events = [
      refundOf('half', 6950), // a goodwill refund of half the year
      refundOf('gone', 12_000), // cancelled with a refund of more than is still deferred
      stripeEvent(
        'refund.created',
        refundObject({ id: `re_stray${ns}`, charge: `ch_stray${ns}`, amount: 300, created: at('2035-03-11T00:00:00Z') }),
        { created: at('2035-03-11T00:00:00Z') },
      ),
      ...annual('half'),
      ...annual('gone'),
    ];
    for (const event of events) expect((await api.postEvent(event)).status).toBe(200);

    const revenue = async (month: string) =>
      (
        (await (await api.call('GET', `/v1/finance/revenue?month=${month}&currency=usd`, { key: KEYS.finance })).json()) as {
          currencies: Array<Record<string, any>>;
        }
      ).currencies[0]!;
    const [feb, mar, apr] = [await revenue('2035-02'), await revenue('2035-03'), await revenue('2035-04')];
    const plain = recognitionSchedule({
      netCents: 13900,
      paidAt: '2035-01-01T00:00:00Z',
      servicePeriod: { start: '2035-01-01T00:00:00Z', end: '2036-01-01T00:00:00Z' },
    });
    expect(feb.deferredCents).toBe(2 * plain[1]!.deferredAtEndCents);
    // March: 'half' loses 69.50 of its deferred balance; 'gone' loses all of it and 120.00 − that comes out of revenue recognized so far.
    const goneExcess = 12_000 - plain[2]!.deferredAtEndCents;
    expect(mar).toMatchObject({
      refunds: 3,
      refundedCents: 6950 + 12_000 + 300,
      refundedNetOfTaxCents: 6950 + 12_000,
      deferredCents: plain[2]!.deferredAtEndCents - 6950,
      recognizedCents: 2 * plain[2]!.recognizedCents - goneExcess,
    });
    expect(mar.byPlan).toMatchObject([
      {
        planId: 'prime-annual',
        refunds: 2,
        refundedCents: 18_950,
        refundedNetOfTaxCents: 18_950,
        netCents: -18_950,
        deferredCents: mar.deferredCents,
      },
    ]);
    expect(mar.unattributed).toEqual({ refunds: 1, refundedCents: 300, disputedCents: 0 });
    // Deferred rolls forward exactly: last month's + billed net of tax − refunds net of tax − recognized.
    for (const [before, now] of [
      [feb, mar],
      [mar, apr],
    ] as const)
      expect(now.deferredCents).toBe(
        before.deferredCents + now.billedCents - now.taxCents - now.refundedNetOfTaxCents - now.recognizedCents,
      );
    // April: 'half' still a member at the same price, recognizing about half as much; 'gone' left in March.
    expect(
      Math.abs(apr.recognizedCents - (plain[3]!.recognizedCents * (plain[2]!.deferredAtEndCents - 6950)) / plain[2]!.deferredAtEndCents),
    ).toBeLessThanOrEqual(1);
    expect(apr).toMatchObject({ members: { active: 1, new: 0, churned: 0 }, mrrCents: Math.round(13900 / 12) });
    expect(mar.members).toEqual({ active: 1, new: 0, churned: 1 });
  });

  it('refuses events of other API versions', async () => {
    const failed = refundObject({ id: 're_failedone', charge: 'ch_x', amount: 100, created: t('2031-04-01T00:00:00Z'), status: 'failed' });
    const old = stripeEvent(
      'refund.created',
      { ...failed, id: 're_oldversion', status: 'succeeded' },
      { created: t('2031-04-01T00:00:00Z'), apiVersion: '2024-06-20' },
    );
    expect((await api.postEvent(old)).status).toBe(500);
    expect(await ledgerItems('2031-04', 're_oldversion')).toEqual([]);
  });
});
