import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '#shared/domain/finance/ledger';
import { metricsFromRollups } from '#shared/domain/finance/metrics';
import { addMonths, monthOf, monthsBetween } from '#shared/domain/finance/months';
import { recomputeRollup, rowsOfMonth } from '#shared/domain/finance/rollup';
import { dynamo, ledgerRepository } from '#shared/runtime/dynamo';
import { projectingLedger, rollupStore } from '#shared/runtime/finance';
import { invoiceObject, signupEvents, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { invoicePaymentObject } from '../support/benefits';
import { settings } from '../support/finance-rollup';
import { asFunction } from '../support/iam-recorder';
import { creditNoteObject, refundObject } from '../support/money-events';

const api = useApi();
const t = (iso: string) => Date.parse(iso) / 1000;
const DAY = 86_400;

/** Every ledger entry of the months (this file alone writes 2017 and 2018). */
async function ledgerOf(months: readonly string[]): Promise<LedgerEntry[]> {
  const ledger = ledgerRepository();
  const out: LedgerEntry[] = [];
  for (const m of months) for await (const e of ledger.entries(m)) out.push(e);
  return out;
}

const shuffle = <T>(list: T[]) => list.sort(() => Math.random() - 0.5);

describe('GET /v1/finance/metrics', () => {
  it('needs the finance role, a currency and a range of at most 36 months', async () => {
    expect((await api.call('GET', '/v1/finance/metrics?from=2018-01&to=2018-02&currency=usd', { key: null })).status).toBe(401);
    expect((await api.call('GET', '/v1/finance/metrics?from=2018-01&to=2018-02&currency=usd', { key: KEYS.checkout })).status).toBe(403);
    for (const query of [
      'from=2018-01&to=2018-02',
      'from=2018-03&to=2018-02&currency=usd',
      'from=2018-01&to=2021-01&currency=usd',
      'from=2018-1&to=2018-02&currency=usd',
      'from=2018-01&to=2018-02&currency=USD',
    ]) {
      const res = await api.call('GET', `/v1/finance/metrics?${query}`, { key: KEYS.finance });
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });
});

describe('rollups through the webhook', () => {
  it('equal a recomputation from the ledger when refunds, links, credit notes and invoices race each other, every event twice', async () => {
    const ns = Math.random().toString(36).slice(2, 8);
    const events: Array<Record<string, unknown>> = [];
    // A: monthly from January 2018, renewed twice; 5.00 of the second month refunded, racing its link.
    const a = { member: uniqueMemberId('rollA'), cus: `cus_a${ns}`, sub: `sub_a${ns}` };
    for (const [i, start] of ['2018-01-05', '2018-02-05', '2018-03-05'].entries()) {
      const inv = invoiceObject({
        id: `in_a${i}${ns}`,
        customer: a.cus,
        subscription: a.sub,
        memberId: a.member,
        periodStart: t(`${start}T00:00:00Z`),
        periodEnd: t(`${start}T00:00:00Z`) + 31 * DAY,
        created: t(`${start}T00:00:00Z`),
        billingReason: i ? 'subscription_cycle' : 'subscription_create',
      });
      events.push(stripeEvent('invoice.paid', inv, { created: t(`${start}T00:00:00Z`) }));
      events.push(
        stripeEvent(
          'invoice_payment.paid',
          invoicePaymentObject({ invoice: inv.id, paymentIntent: `pi_a${i}${ns}`, paidAt: t(`${start}T00:00:00Z`) }),
          { created: t(`${start}T00:00:00Z`) },
        ),
      );
    }
    events.push(
      stripeEvent(
        'refund.created',
        refundObject({
          id: `re_a${ns}`,
          charge: `ch_a1${ns}`,
          paymentIntent: `pi_a1${ns}`,
          amount: 500,
          created: t('2018-02-20T00:00:00Z'),
        }),
        { created: t('2018-02-20T00:00:00Z') },
      ),
    );
    // A's next renewal fails, and Stripe ends the subscription for it.
    const failed = invoiceObject({
      id: `in_a3${ns}`,
      customer: a.cus,
      subscription: a.sub,
      memberId: a.member,
      status: 'open',
      periodStart: t('2018-04-05T00:00:00Z'),
      periodEnd: t('2018-05-05T00:00:00Z'),
      created: t('2018-04-05T00:00:00Z'),
    });
    events.push(stripeEvent('invoice.payment_failed', failed, { created: t('2018-04-05T01:00:00Z') }));
    const ended = subscriptionObject({
      id: a.sub,
      customer: a.cus,
      memberId: a.member,
      periodStart: t('2018-03-05T00:00:00Z'),
      status: 'canceled',
      endedAt: t('2018-04-20T00:00:00Z'),
    });
    ended.cancellation_details = { reason: 'payment_failed', comment: null, feedback: null };
    events.push(stripeEvent('customer.subscription.deleted', ended, { created: t('2018-04-20T00:00:00Z') }));
    // B: annual from February 2018, fully refunded in April through a credit note that lists the refund.
    const b = { member: uniqueMemberId('rollB'), cus: `cus_b${ns}`, sub: `sub_b${ns}` };
    const annual = invoiceObject({
      id: `in_b${ns}`,
      customer: b.cus,
      subscription: b.sub,
      memberId: b.member,
      amountPaid: 13900,
      priceId: 'price_prime_annual_usd',
      periodStart: t('2018-02-10T00:00:00Z'),
      periodEnd: t('2019-02-10T00:00:00Z'),
      created: t('2018-02-10T00:00:00Z'),
      billingReason: 'subscription_create',
    });
    events.push(stripeEvent('invoice.paid', annual, { created: t('2018-02-10T00:00:00Z') }));
    events.push(
      stripeEvent(
        'refund.created',
        refundObject({ id: `re_b${ns}`, charge: `ch_b${ns}`, amount: 13900, created: t('2018-04-02T00:00:00Z') }),
        { created: t('2018-04-02T00:00:00Z') },
      ),
    );
    const note = {
      ...creditNoteObject({ id: `cn_b${ns}`, invoice: annual.id, total: 13900, created: t('2018-04-02T00:00:00Z'), refund: `re_b${ns}` }),
      customer: b.cus,
    };
    events.push(stripeEvent('credit_note.created', note, { created: t('2018-04-02T00:00:00Z') }));
    // A refund of a payment no invoice in the ledger was paid with.
    events.push(
      stripeEvent(
        'refund.created',
        refundObject({ id: `re_x${ns}`, charge: `ch_x${ns}`, amount: 250, created: t('2018-03-03T00:00:00Z') }),
        { created: t('2018-03-03T00:00:00Z') },
      ),
    );

    // Shuffled, in concurrent waves, then all of them again at once.
    const order = shuffle([...events]);
    for (let i = 0; i < order.length; i += 3) {
      const answers = await Promise.all(order.slice(i, i + 3).map((e) => api.postEvent(e)));
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    }
    expect((await Promise.all(events.map((e) => api.postEvent(e)))).every((r) => r.status === 200)).toBe(true);

    const months = monthsBetween('2018-01', '2019-03');
    const expected = recomputeRollup(await ledgerOf(months), [], settings);
    const store = rollupStore();
    for (const m of months) expect(await store.monthRows(m), m).toEqual(rowsOfMonth(expected, m));

    // The API answers the same figures: April has A's involuntary lapse (grace ended 12 April,
    // before Stripe gave up on the 20th) and B's voluntary one (its refund on 2 April).
    const metrics = (await (
      await api.call('GET', '/v1/finance/metrics?from=2018-01&to=2018-06&currency=usd', { key: KEYS.finance })
    ).json()) as Record<string, any>;
    const local = metricsFromRollups({
      currency: 'usd',
      from: '2018-01',
      to: '2018-06',
      asOf: new Date(metrics.asOf),
      rowsOf: (m) => rowsOfMonth(expected, m),
    });
    expect(metrics).toEqual(JSON.parse(JSON.stringify(local)));
    expect(metrics.months[3]).toMatchObject({
      month: '2018-04',
      members: { start: 2, end: 0, churned: 2 },
      churned: { voluntary: 1, involuntary: 1 },
    });
    expect(metrics.months[3].paymentRecovery).toEqual({ failed: 1, recovered: 0, rate: 0 });

    // CSV: one row per month, the same figures.
    const csv = await api.call('GET', '/v1/finance/metrics?from=2018-01&to=2018-06&currency=usd', {
      key: KEYS.finance,
      headers: { accept: 'text/csv' },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parse(await csv.text(), { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.month)).toEqual(monthsBetween('2018-01', '2018-06'));
    expect(rows[3]).toMatchObject({
      members_start: '2',
      members_end: '0',
      churned_involuntary: '1',
      mrr_churned_cents: String(metrics.months[3].mrr.churned),
    });
    const revenueCsv = await api.call('GET', '/v1/finance/revenue?month=2018-04&currency=usd', {
      key: KEYS.finance,
      headers: { accept: 'text/csv' },
    });
    const revenue = (await (
      await api.call('GET', '/v1/finance/revenue?month=2018-04&currency=usd', { key: KEYS.finance })
    ).json()) as Record<string, any>;
    const revenueRows = parse(await revenueCsv.text(), { columns: true }) as Array<Record<string, string>>;
    const total = revenueRows.find((r) => r.plan === 'total')!;
    expect(total).toMatchObject({
      month: '2018-04',
      status: 'closed',
      refunded_cents: String(revenue.currencies[0].refundedCents),
      recognized_cents: String(revenue.currencies[0].recognizedCents),
      churned_members: '2',
    });
    expect(revenueRows.map((r) => r.plan)).toEqual([...revenue.currencies[0].byPlan.map((p: { planId: string }) => p.planId), 'total']);
    // March shows the refund no invoice was found for as such.
    const march = (await (await api.call('GET', '/v1/finance/revenue?month=2018-03&currency=usd', { key: KEYS.finance })).json()) as Record<
      string,
      any
    >;
    expect(march.currencies[0].unattributed).toEqual({ refunds: 1, refundedCents: 250, disputedCents: 0 });
  });
});

describe('rollups of benefit savings', () => {
  it('takes a coupon redeem into the member value of its month once the settle job has run, exactly once', async () => {
    const memberId = uniqueMemberId('rollsave');
    for (const e of signupEvents({ memberId, start: Math.floor(Date.now() / 1000) - 3600 }).events)
      expect((await api.postEvent(e)).status).toBe(200);
    const ent = (await (await api.call('POST', '/v1/entitlements/check', { key: KEYS.checkout, body: { memberId } })).json()) as Record<
      string,
      any
    >;
    const code = ent.benefits.coupons.find((c: { amountOffCents: number }) => c.amountOffCents === 500).code as string;
    const body = { memberId, orderId: 'o-roll-1', subtotalCents: 4200, currency: 'usd' };
    expect((await api.call('POST', `/v1/coupons/${code}/redeem`, { key: KEYS.checkout, body })).status).toBe(200);
    // The same order again: the same answer, no second saving.
    expect((await api.call('POST', `/v1/coupons/${code}/redeem`, { key: KEYS.checkout, body })).status).toBe(200);
    const month = monthOf(new Date());
    const store = rollupStore();
    // The redeem left the projection to the queue (the checkout does not wait for it).
    const before = await store.loadAccount(memberId);
    expect(before.facts.savings).toEqual([{ month, currency: 'usd', cents: 500 }]);
    const { handler } = await import('../../functions/jobs/rollups-settle');
    await asFunction('rollups-settle', () => handler({ asOf: new Date(Date.now() + 60_000).toISOString() }));
    const after = await store.loadAccount(memberId);
    const applied = [...(after.chunks.get(month.slice(0, 4))?.applied ?? new Map())].filter(([k]) => k.startsWith(`${month}|usd|`));
    expect(applied).toEqual([
      [
        `${month}|usd|prime-monthly`,
        expect.objectContaining({ benefitCostCents: 500, valueSavingsCents: 500, valueFeesCents: 1499, membersEnd: 1 }),
      ],
    ]);
    // Nothing of this member's is still owed.
    const { doc, tables } = dynamo();
    for (let lane = 0; lane < 8; lane++) {
      const out = await doc.send(
        new QueryCommand({
          TableName: tables.main,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': `ROLLUP-DIRTY#${lane}` },
          ConsistentRead: true,
        }),
      );
      expect((out.Items ?? []).filter((i) => i.account === memberId)).toEqual([]);
    }
  });
});

describe('npm run job -- rollups-rebuild', () => {
  it('reports nothing for a month the projection kept, finds a projection lost with its request, and repairs it', async () => {
    const MONTH = '2017-05';
    const ledger = projectingLedger();
    const entries = (
      await Promise.all(
        [0, 1, 2].map(async (i) => {
          const member = uniqueMemberId(`rebuild${i}`);
          const inv = invoiceObject({
            customer: `cus_rb${i}${member}`.replace(/-/g, ''),
            subscription: `sub_rb${i}`,
            memberId: member,
            periodStart: t(`${MONTH}-0${i + 1}T00:00:00Z`),
            periodEnd: t(`${MONTH}-0${i + 1}T00:00:00Z`) + 30 * DAY,
            created: t(`${MONTH}-0${i + 1}T00:00:00Z`),
          });
          return inv;
        }),
      )
    ).map((inv) => inv);
    const { translateMoneyEvent } = await import('#shared/stripe/money-events');
    const { stripeEventSchema } = await import('#shared/stripe/events');
    const { planCatalog } = await import('#shared/runtime/catalog');
    const ledgerEntries = entries.map(
      (inv) => translateMoneyEvent(stripeEventSchema.parse(stripeEvent('invoice.paid', inv, { created: inv.created })), planCatalog())[0]!,
    );
    for (const e of ledgerEntries.slice(0, 2)) await ledger.record(e);
    const { handler } = await import('../../functions/jobs/rollups-rebuild');
    expect(await asFunction('rollups-rebuild', () => handler({ month: MONTH }))).toMatchObject({
      month: MONTH,
      accounts: 2,
      ledgerEntries: 2,
      drifted: 0,
      differences: [],
      missingFacts: 0,
    });

    // The third is recorded but its request dies before projecting it, and its queue entry is lost.
    await ledgerRepository().record(ledgerEntries[2]!);
    const { doc, tables } = dynamo();
    for (let lane = 0; lane < 8; lane++)
      await doc.send(
        new (await import('@aws-sdk/lib-dynamodb')).DeleteCommand({
          TableName: tables.main,
          Key: { PK: `ROLLUP-DIRTY#${lane}`, SK: `ENTRY#${ledgerEntries[2]!.entryId}` },
        }),
      );
    const found = await handler({ month: MONTH });
    expect(found).toMatchObject({ accounts: 3, ledgerEntries: 3, drifted: 1 });
    expect(found.differences).toContainEqual({
      currency: 'usd',
      plan: 'prime-monthly',
      figure: 'billedCents',
      stored: 2 * 1499,
      recomputed: 3 * 1499,
    });
    expect(await handler({ month: MONTH, repair: 'true' })).toMatchObject({ differences: [], corrected: 0, repaired: true });
    expect(await asFunction('rollups-rebuild', () => handler({ month: MONTH }))).toMatchObject({ drifted: 0, differences: [] });
    const revenue = (await (
      await api.call('GET', `/v1/finance/revenue?month=${MONTH}&currency=usd`, { key: KEYS.finance })
    ).json()) as Record<string, any>;
    expect(revenue.currencies[0]).toMatchObject({ invoices: 3, billedCents: 3 * 1499, members: { active: 3, new: 3 } });
    expect(addMonths(MONTH, 1)).toBe('2017-06');
  });
});
