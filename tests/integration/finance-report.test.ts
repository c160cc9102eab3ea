import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyEntry, type LedgerEntry } from '#shared/domain/finance/ledger';
import { monthLabel, percent } from '#shared/domain/finance/report-html';
import { formatMoney } from '#shared/domain/money';
import { projectingLedger } from '#shared/runtime/finance';
import { KEYS, useApi } from '../support/api';
import { contractViolations } from '../support/api-contract';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && !process.env.CI) {
  console.warn(
    `finance-report.test.ts skipped: ${CHROMIUM} is not installed (apt-get install -y chromium). In CI (CI set) this test runs and fails without it.`,
  );
}

const api = useApi();
// A month long over (closed), so what the page shows does not depend on today's date.
const MONTH = '2020-06';
const MONTHS = ['2020-01', '2020-02', '2020-03', '2020-04', '2020-05', '2020-06'];

function invoice(i: number, month: string, currency: string, total: number, planId: string, interval: 'month' | 'year'): LedgerEntry {
  const start = `${month}-0${(i % 9) + 1}T00:00:00.000Z`;
  const end = new Date(Date.parse(start) + (interval === 'year' ? 365 : 30) * 86_400_000).toISOString();
  return emptyEntry({
    entryId: `in_rpt${month.replace('-', '')}${currency}${i}`,
    kind: 'invoice_paid',
    occurredAt: start,
    currency,
    amountCents: total,
    totalCents: total,
    taxCents: 0,
    discountCents: 0,
    invoiceId: `in_rpt${month.replace('-', '')}${currency}${i}`,
    memberId: `rpt-${currency}-${i}`,
    subscriptionId: `sub_rpt_${currency}_${i}`,
    planId,
    interval,
    servicePeriod: { start, end },
  });
}

interface Metrics {
  months: Array<Record<string, any>>;
  cohorts: Array<{ cohort: string; size: number; retention: number[] }>;
}

describe.skipIf(!hasChromium && !process.env.CI)('GET /v1/finance/report.html in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    const ledger = projectingLedger();
    const entries: LedgerEntry[] = [];
    for (const [k, month] of MONTHS.entries()) {
      // Members renew monthly and a few join each month, but member 1 leaves after March; one annual member from January.
      for (let i = 0; i < 3 + k; i++)
        if (i !== 1 || month <= '2020-03') entries.push(invoice(i, month, 'usd', 1499, 'prime-monthly', 'month'));
      entries.push(invoice(0, month, 'eur', 1299, 'prime-monthly', 'month'));
    }
    entries.push(invoice(99, '2020-01', 'usd', 13900, 'prime-annual', 'year'));
    // So that every figure of the page has something to show (and to get wrong):
    // two trials end in June, one converts (trial conversion 1 of 2);
    const trial = (n: number, paysAfter: boolean) => {
      const sub = `sub_rpt_trial${n}`;
      const period = { start: '2020-05-20T00:00:00.000Z', end: '2020-06-19T00:00:00.000Z' };
      const common = {
        currency: 'usd',
        memberId: `rpt-usd-trial${n}`,
        subscriptionId: sub,
        planId: 'prime-monthly',
        interval: 'month' as const,
      };
      entries.push(
        emptyEntry({
          ...common,
          entryId: `in_rpttrial${n}`,
          kind: 'invoice_paid',
          occurredAt: period.start,
          amountCents: 0,
          totalCents: 0,
          taxCents: 0,
          invoiceId: `in_rpttrial${n}`,
          billingReason: 'subscription_create',
          servicePeriod: period,
        }),
      );
      if (paysAfter)
        entries.push(
          emptyEntry({
            ...common,
            entryId: `in_rpttrial${n}p`,
            kind: 'invoice_paid',
            occurredAt: period.end,
            amountCents: 1499,
            totalCents: 1499,
            taxCents: 0,
            invoiceId: `in_rpttrial${n}p`,
            billingReason: 'subscription_cycle',
            servicePeriod: { start: period.end, end: '2020-07-19T00:00:00.000Z' },
          }),
        );
    };
    trial(1, true);
    trial(2, false);
    // an annual term paid in June 2019 ends in June and is renewed (annual renewal 1 of 1);
    const annual = (id: string, from: string, to: string) =>
      emptyEntry({
        entryId: id,
        kind: 'invoice_paid',
        occurredAt: from,
        currency: 'usd',
        amountCents: 13900,
        totalCents: 13900,
        taxCents: 0,
        invoiceId: id,
        memberId: 'rpt-usd-annual2',
        subscriptionId: 'sub_rpt_annual2',
        planId: 'prime-annual',
        interval: 'year',
        billingReason: 'subscription_cycle',
        servicePeriod: { start: from, end: to },
      });
    entries.push(annual('in_rptannual2a', '2019-06-05T00:00:00.000Z', '2020-06-05T00:00:00.000Z'));
    entries.push(annual('in_rptannual2b', '2020-06-05T00:00:00.000Z', '2021-06-05T00:00:00.000Z'));
    // member 2's June renewal failed first and was paid after (recovery 1 of 1);
    entries.push(
      emptyEntry({
        entryId: 'in_rpt202006usd2#payment_failed',
        kind: 'invoice_payment_failed',
        occurredAt: '2020-06-03T00:00:00.000Z',
        currency: 'usd',
        amountCents: 1499,
        invoiceId: 'in_rpt202006usd2',
        memberId: 'rpt-usd-2',
        subscriptionId: 'sub_rpt_usd_2',
        planId: 'prime-monthly',
        billingReason: 'subscription_cycle',
        servicePeriod: { start: '2020-06-03T00:00:00.000Z', end: '2020-07-03T00:00:00.000Z' },
      }),
    );
    // 2.00 of member 0's June invoice credited to their balance; member 3's June payment disputed (funds withdrawn).
    entries.push(
      emptyEntry({
        entryId: 'cn_rpt1',
        kind: 'credit_note',
        occurredAt: '2020-06-12T00:00:00.000Z',
        currency: 'usd',
        amountCents: 200,
        totalCents: 200,
        taxCents: 0,
        refundedCents: 0,
        invoiceId: 'in_rpt202006usd0',
      }),
      emptyEntry({
        entryId: 'inpay_rpt3',
        kind: 'invoice_payment',
        occurredAt: '2020-06-04T00:00:00.000Z',
        currency: 'usd',
        amountCents: 1499,
        invoiceId: 'in_rpt202006usd3',
        paymentIntentId: 'pi_rpt3',
      }),
      emptyEntry({
        entryId: 'dp_rpt3#dispute_funds_withdrawn',
        kind: 'dispute_funds_withdrawn',
        occurredAt: '2020-06-20T00:00:00.000Z',
        currency: 'usd',
        amountCents: 1499,
        paymentIntentId: 'pi_rpt3',
        disputeId: 'dp_rpt3',
      }),
    );
    // A refund no invoice can be found for.
    entries.push(
      emptyEntry({
        entryId: 're_rpt1',
        kind: 'refund',
        occurredAt: '2020-06-10T00:00:00.000Z',
        currency: 'usd',
        amountCents: 1499,
        chargeId: 'ch_rpt1',
      }),
    );
    for (const e of entries) await ledger.record(e);
    // A reconciliation of June: one charge matched, one Stripe charge the ledger does not know.
    const csv = [
      'balance_transaction_id,created_utc,currency,gross,reporting_category,source_id,invoice_id,customer_facing_amount,customer_facing_currency',
      'txn_rpt1,2020-06-01 00:00:00,usd,14.99,charge,ch_rpt_a,in_rpt202006usd0,14.99,usd',
      'txn_rpt2,2020-06-02 00:00:00,usd,25.00,charge,ch_rpt_b,,25.00,usd',
    ].join('\r\n');
    const rec = await api.call('POST', `/v1/finance/reconciliations?month=${MONTH}`, {
      key: KEYS.finance,
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(rec.status).toBe(200);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 180_000);
  afterAll(async () => browser?.close());

  it('shows the same figures as the API, on round axes with units, months by name, cohorts as a heat-map, findings with amounts', async () => {
    const revenue = (await (await api.call('GET', `/v1/finance/revenue?month=${MONTH}`, { key: KEYS.finance })).json()) as {
      status: string;
      currencies: Array<Record<string, any>>;
    };
    const metrics = (await (
      await api.call('GET', `/v1/finance/metrics?from=2020-01&to=${MONTH}&currency=usd`, { key: KEYS.finance })
    ).json()) as Metrics;
    const usd = revenue.currencies.find((c) => c.currency === 'usd')!;
    const june = metrics.months.at(-1)!;
    // 7 monthly members renew in June (member 1 left after March), the annual ones (one renewing), and
    // the converted trial: 10 paying, 2 new (member 7 and the trial).
    expect(revenue.status).toBe('closed');
    expect(usd).toMatchObject({
      billedCents: 8 * 1499 + 13900,
      refundedCents: 1499,
      creditedCents: 200,
      disputedCents: 1499,
      members: { active: 10, new: 2, churned: 0 },
    });
    expect(june.members).toMatchObject({ start: 8, end: 10 });
    expect(june).toMatchObject({
      trials: { ended: 2, converted: 1 },
      trialConversionRate: 0.5,
      renewals: { due: 1, renewed: 1 },
      renewalRate: 1,
      paymentRecovery: { failed: 1, recovered: 1, rate: 1 },
    });
    // Member 1 lapsed in April: the LTV has a churn rate to divide by.
    expect(june.ltvCents).toBeGreaterThan(0);

    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${KEYS.finance}` } });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    const res = await page.goto(api.url(`/v1/finance/report.html?month=${MONTH}`));
    expect(res?.status()).toBe(200);
    const answer = { status: res!.status(), contentType: res!.headers()['content-type'] ?? null, body: await res!.text() };
    expect(contractViolations({ method: 'GET', url: res!.url(), ...answer })).toEqual([]);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");

    await expect.poll(() => page.locator('h1').textContent()).toBe('Membership finance report — Jun 2020');
    // A month that is over carries no "not over yet" banner.
    expect(await page.locator('.banner').count()).toBe(0);
    const figure = (currency: string, id: string) => page.locator(`#currency-${currency} [data-figure="${id}"] dd`);
    const money = (cents: number) => formatMoney(cents, 'usd');
    for (const [id, text] of [
      ['billed', money(usd.billedCents)],
      ['collected', money(usd.collectedCents)],
      ['refunded', money(usd.refundedCents)],
      ['net', money(usd.netCents)],
      ['recognized', money(usd.recognizedCents)],
      ['deferred', money(usd.deferredCents)],
      ['mrr', money(usd.mrrCents)],
      ['active', String(usd.members.active)],
      ['new', String(usd.members.new)],
      ['churned', String(usd.members.churned)],
      ['churn-voluntary', percent(june.churnRate.voluntary)],
      ['churn-involuntary', percent(june.churnRate.involuntary)],
      ['credited', money(usd.creditedCents)],
      ['disputed', money(usd.disputedCents)],
      ['arpu', money(june.arpuCents)],
      ['ltv', money(june.ltvCents)],
      ['trial-conversion', percent(june.trialConversionRate)],
      ['renewal-rate', percent(june.renewalRate)],
      ['recovery-rate', percent(june.paymentRecovery.rate)],
      ['savings-share', percent(june.memberValue.shareSavingsAtLeastFee)],
      ['benefit-cost', money(june.benefitCostCents)],
    ] as const) {
      expect(await figure('usd', id).textContent(), id).toBe(text);
    }
    expect(june.mrr.end).toBe(usd.mrrCents);
    expect(await figure('eur', 'billed').textContent()).toBe('€12.99');
    for (const id of ['billed', 'mrr', 'active']) await expect.poll(() => figure('usd', id).isVisible()).toBe(true);

    // Seven charts, each captioned, drawn with real geometry; members titled without a currency.
    const charts = page.locator('#currency-usd figure svg');
    expect(await charts.count()).toBe(7);
    for (let i = 0; i < 7; i++) {
      const box = await charts.nth(i).boundingBox();
      expect(box!.width).toBeGreaterThan(200);
      expect(box!.height).toBeGreaterThan(50);
    }
    expect(await page.locator('#currency-usd figcaption').allInnerTexts()).toEqual([
      'Revenue by month',
      'MRR at month end',
      'MRR movements',
      'Members',
      'Churn rate',
      'Member savings against fees',
      'Refunds and disputes',
    ]);
    // Months read "Jun 2020" (name and year on two lines) along every axis.
    const months = page.locator('#currency-usd [data-chart="members"] text.month');
    expect(await months.count()).toBe(12);
    expect(await months.last().locator('tspan').allTextContents()).toEqual(['Jun', '2020']);
    // The members axis is in whole members, on round steps, and no bar rises above the top gridline.
    const ticks = (await page.locator('#currency-usd [data-chart="members"] text.tick:not(.month)').allTextContents()).map(Number);
    const step = ticks[1]! - ticks[0]!;
    expect(Number.isInteger(step) && [1, 2, 5, 10, 20, 50].includes(step)).toBe(true);
    expect(ticks.every((t, i) => t === ticks[0]! + i * step)).toBe(true);
    const bars = await page
      .locator('#currency-usd [data-chart="members"] rect')
      .evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-value'))));
    expect(Math.max(...bars)).toBeLessThanOrEqual(ticks.at(-1)!);
    expect(await page.locator('#currency-usd [data-chart="members"] text.unit').textContent()).toBe('members');
    expect(await page.locator('#currency-usd [data-chart="mrr"] text.unit').textContent()).toBe('USD');
    // Money ticks are whole amounts with the currency's symbol.
    for (const t of await page.locator('#currency-usd [data-chart="revenue"] text.tick:not(.month)').allTextContents())
      expect(t).toMatch(/^-?\$[\d,]+$/);
    // Each bar carries its value: the June member bar says 8.
    expect(await page.locator('#currency-usd [data-chart="members"] text.value').allTextContents()).toContain('8');

    // The cohort heat-map agrees with the API: January's cohort, its shares month by month.
    const jan = metrics.cohorts.find((c) => c.cohort === '2020-01')!;
    const row = page.locator('#currency-usd tr[data-cohort="2020-01"]');
    expect(await row.locator('th').textContent()).toBe(monthLabel('2020-01'));
    expect(await row.locator('td').first().textContent()).toBe(String(jan.size));
    expect(await row.locator('td.heat').allTextContents()).toEqual(jan.retention.map(percent));
    expect(jan.retention.length).toBe(12);

    // The table of months says what the API says, month by month.
    for (const m of metrics.months) {
      const cellsOf = await page.locator(`#currency-usd table.metrics tr[data-month="${m.month}"] td`).allTextContents();
      const fmt = (v: number | null) => (v === null ? '–' : money(v));
      expect(cellsOf, m.month).toEqual([
        String(m.members.start),
        String(m.members.end),
        String(m.members.new + m.members.reactivated),
        String(m.members.churned),
        percent(m.churnRate.voluntary),
        percent(m.churnRate.involuntary),
        fmt(m.mrr.end),
        fmt(m.mrr.net),
        fmt(m.arpuCents),
        fmt(m.ltvCents),
        percent(m.trialConversionRate),
        percent(m.renewalRate),
        percent(m.paymentRecovery.rate),
        percent(m.memberValue.shareSavingsAtLeastFee),
      ]);
    }
    // Member profitability per plan: the API's byPlan (both plans).
    expect(june.byPlan).toHaveLength(2);
    const profitability = await page
      .locator('#currency-usd table.profitability tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(profitability).toEqual(
      june.byPlan.map((p: Record<string, any>) => [
        p.planId,
        String(p.members),
        money(p.mrrCents),
        money(p.recognizedCents),
        money(p.benefitCostCents),
        money(p.marginCents),
      ]),
    );

    // Two plans, and the refund no invoice could be found for, shown as such.
    expect(await page.locator('#currency-usd table.plans tbody tr').count()).toBe(3);
    expect(await page.locator('#currency-usd tr[data-row="unattributed"] td').nth(3).textContent()).toBe('$14.99');
    // Reconciliation findings with their amounts.
    expect(await page.locator('tr[data-finding="missing-in-ledger"] td').allTextContents()).toEqual(['1', '$25.00']);
    expect(await page.locator('.findings-list li').allTextContents()).toContain('Stripe charge txn_rpt2: $25.00, no ledger entry');
    // Self-contained: the document was the only request.
    expect(requested).toEqual([api.url(`/v1/finance/report.html?month=${MONTH}`)]);
    await context.close();
  });

  it('marks a month not over yet as such, in the banner and in the table of months, as the API does', async () => {
    const now = new Date();
    const month = now.toISOString().slice(0, 7);
    // A member paying this month, so the page has its currency and a row for the month.
    await projectingLedger().record(invoice(0, month, 'gbp', 1199, 'prime-monthly', 'month'));
    const revenue = (await (await api.call('GET', `/v1/finance/revenue?month=${month}`, { key: KEYS.finance })).json()) as {
      status: string;
    };
    expect(revenue.status).toBe('in_progress');
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${KEYS.finance}` } });
    const page = await context.newPage();
    expect((await page.goto(api.url(`/v1/finance/report.html?month=${month}`)))?.status()).toBe(200);
    const banner = page.locator('.banner');
    await expect.poll(() => banner.count()).toBe(1);
    expect(await banner.getAttribute('data-status')).toBe('in_progress');
    expect(await banner.textContent()).toContain(`${monthLabel(month)} is not over yet`);
    expect(await banner.isVisible()).toBe(true);
    // The month's row in the table of months is marked open ("*").
    const row = page.locator(`#currency-gbp table.metrics tr[data-month="${month}"]`);
    expect(await row.getAttribute('class')).toBe('open');
    expect(await row.locator('th').textContent()).toBe(`${monthLabel(month)} *`);
    await context.close();
  });
});
