/**
 * The monthly finance report as one self-contained HTML page: inline CSS and SVG charts, no scripts,
 * no fonts, no external resources (the response's CSP forbids them). Every value from data is
 * escaped. One section per currency: amounts in different currencies are never added. Written to be
 * read at a glance: axes on round values with their unit, months as "Nov 2026", each bar and point
 * labelled with its value, a month not yet over marked as such, reconciliation findings with amounts.
 */

import { formatMoney } from '../money';
import type { CohortRetention, FinanceMetrics, MonthMetrics } from './metrics';
import { emptyCurrencyRevenue, type MonthRevenue, type MonthStatus } from './revenue';

export const escapeHtml = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `2026-11` → "Nov 2026". */
export const monthLabel = (month: string): string => `${MONTH_NAMES[Number(month.slice(5, 7)) - 1]} ${month.slice(0, 4)}`;

/** A rate in [0, 1] as a percentage with one decimal; "–" when there is none. */
export const percent = (rate: number | null): string => (rate === null ? '–' : `${(Math.round(rate * 1000) / 10).toFixed(1)}%`);

/**
 * Axis ticks on round values: a step of 1, 2 or 5 × 10^k giving 3 to 6 intervals, from a multiple of
 * the step at or below the smallest value (0 at most) to one at or above the largest, so every bar
 * ends at or below the top gridline and each gridline's label is its exact value. `integer` keeps
 * steps whole (member counts).
 */
export function niceTicks(min: number, max: number, integer = false, emptyTop = 1): number[] {
  const lo0 = Math.min(0, min);
  const hi0 = max > lo0 ? max : lo0 + emptyTop;
  const raw = (hi0 - lo0) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  if (integer) step = Math.max(1, Math.round(step));
  const lo = Math.floor(lo0 / step) * step;
  const hi = Math.ceil(hi0 / step) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

interface Series {
  label: string;
  color: string;
  values: Array<number | null>;
}

interface Axis {
  /** What the values are: a currency, "members", or "%". */
  unit: string;
  format: (v: number) => string;
  /** Compact form for value labels. */
  label: (v: number) => string;
  integer?: boolean;
  /** The top of an axis with nothing but zeros. */
  emptyTop: number;
}

const W = 640;
const H = 250;
const PAD = { left: 70, right: 14, top: 26, bottom: 44 };

function frame(labels: readonly string[], series: readonly Series[], axis: Axis) {
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values), axis.integer, axis.emptyTop);
  const lo = ticks[0]!;
  const hi = ticks.at(-1)!;
  const y = (v: number) => PAD.top + ((hi - v) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const step = (W - PAD.left - PAD.right) / Math.max(1, labels.length);
  const grid = ticks
    .map(
      (v) =>
        `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${v === 0 ? '#999' : '#e2e2e2'}"/><text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="tick">${escapeHtml(axis.format(v))}</text>`,
    )
    .join('');
  const unit = `<text x="${PAD.left - 6}" y="${PAD.top - 12}" text-anchor="end" class="unit">${escapeHtml(axis.unit)}</text>`;
  const xs = labels
    .map((m, i) => {
      const x = (PAD.left + step * (i + 0.5)).toFixed(1);
      const [name, year] = monthLabel(m).split(' ');
      return `<text x="${x}" y="${H - PAD.bottom + 16}" text-anchor="middle" class="tick month" data-month="${escapeHtml(m)}"><tspan x="${x}">${escapeHtml(name)}</tspan><tspan x="${x}" dy="12">${escapeHtml(year)}</tspan></text>`;
    })
    .join('');
  return { y, step, axes: grid + unit + xs, ticks };
}

function legend(series: readonly Series[]): string {
  return `<p class="legend">${series.map((s) => `<span><i style="background:${s.color}"></i>${escapeHtml(s.label)}</span>`).join('')}</p>`;
}

const figure = (id: string, title: string, svg: string, series: readonly Series[]) =>
  `<figure data-chart="${escapeHtml(id)}"><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">${svg}</svg>${legend(series)}</figure>`;

function barChart(id: string, title: string, labels: readonly string[], series: readonly Series[], axis: Axis): string {
  const f = frame(labels, series, axis);
  const bw = (f.step * 0.8) / series.length;
  const bars = series
    .map((s, si) =>
      s.values
        .map((v, i) => {
          if (v === null) return '';
          const x = PAD.left + f.step * i + f.step * 0.1 + bw * si;
          const y0 = f.y(0);
          const y1 = f.y(v);
          const top = Math.min(y0, y1);
          const label =
            v === 0
              ? ''
              : `<text x="${(x + bw / 2).toFixed(1)}" y="${(v >= 0 ? top - 3 : top + Math.abs(y0 - y1) + 10).toFixed(1)}" text-anchor="middle" class="value">${escapeHtml(axis.label(v))}</text>`;
          return `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.abs(y0 - y1).toFixed(1)}" fill="${s.color}" data-value="${v}"><title>${escapeHtml(`${s.label}, ${monthLabel(labels[i]!)}: ${axis.format(v)}`)}</title></rect>${label}`;
        })
        .join(''),
    )
    .join('');
  return figure(id, title, f.axes + bars, series);
}

function lineChart(id: string, title: string, labels: readonly string[], series: readonly Series[], axis: Axis): string {
  const f = frame(labels, series, axis);
  const lines = series
    .map((s) => {
      const points = s.values.map((v, i) => (v === null ? null : { x: PAD.left + f.step * (i + 0.5), y: f.y(v), v, i }));
      const drawn = points.filter((p) => p !== null);
      const path = drawn.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
      const dots = drawn.map(
        (p) =>
          `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="3" fill="${s.color}" data-value="${p.v}"><title>${escapeHtml(`${s.label}, ${monthLabel(labels[p.i]!)}: ${axis.format(p.v)}`)}</title></circle><text x="${p.x.toFixed(1)}" y="${(p.y - 7).toFixed(1)}" text-anchor="middle" class="value">${escapeHtml(axis.label(p.v))}</text>`,
      );
      return `<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots.join('')}`;
    })
    .join('');
  return figure(id, title, f.axes + lines, series);
}

export interface ReportReconciliation {
  ranAt: string;
  source: string;
  matched: number;
  counts: { missingInLedger: number; missingInStripe: number; amountMismatches: number };
  missingInLedger?: Array<{ balanceTransactionId: string; reportingCategory: string; currency: string; amountCents: number }>;
  missingInStripe?: Array<{ entryId: string; kind: string; currency: string; amountCents: number }>;
  amountMismatches?: Array<{
    balanceTransactionId: string;
    entryId: string;
    stripe: { amountCents: number; currency: string };
    ledger: { amountCents: number; currency: string };
  }>;
  totals?: Array<{
    currency: string;
    matchedCents: number;
    differenceCents: number;
    stripe: { amountCents: number };
    ledger: { amountCents: number };
  }>;
}

export interface ReportInput {
  month: string;
  /** Oldest first, ending with `month`. */
  history: MonthRevenue[];
  /** Per currency, over the same months. */
  metrics: FinanceMetrics[];
  generatedAt: string;
  reconciliation: ReportReconciliation | null;
}

const STATUS_NOTE: Record<MonthStatus, string> = {
  closed: '',
  in_progress:
    'is not over yet: its figures are as of the time this report was generated. Members whose paid period ends later this month still count; recognized revenue is the whole month’s.',
  not_started:
    'has not started: its figures are a projection of what is known now, as if nothing more were paid: members whose paid period and grace end in it show as churned until they renew.',
};

const cells = (values: ReadonlyArray<string | number>) => values.map((v) => `<td>${escapeHtml(String(v))}</td>`).join('');
const moneyAxis = (currency: string): Axis => ({
  unit: currency.toUpperCase(),
  format: (v) => formatMoney(v, currency, { wholeWithoutDecimals: true }),
  label: (v) => formatMoney(v, currency, { wholeWithoutDecimals: true }),
  // Cents are whole: an axis never steps by a fraction of one.
  integer: true,
  emptyTop: 1000,
});
const countAxis: Axis = { unit: 'members', format: (v) => String(v), label: (v) => String(v), integer: true, emptyTop: 5 };
const rateAxis: Axis = { unit: '%', format: (v) => `${Math.round(v * 1000) / 10}%`, label: (v) => percent(v), emptyTop: 0.1 };

function heatColor(share: number): string {
  // White (0) to a deep green (1): a darker cell kept more of its cohort.
  const l = Math.round(97 - share * 57);
  return `hsl(140, 45%, ${l}%)`;
}

function cohortTable(cohorts: readonly CohortRetention[]): string {
  if (cohorts.length === 0) return '<p class="meta">No cohort started paying in these months.</p>';
  const head = Array.from({ length: 12 }, (_, i) => `<th>+${i + 1}</th>`).join('');
  const rows = cohorts
    .map(
      (c) =>
        `<tr data-cohort="${escapeHtml(c.cohort)}"><th>${escapeHtml(monthLabel(c.cohort))}</th><td>${c.size}</td>${Array.from(
          { length: 12 },
          (_, i) => {
            const share = c.retention[i];
            return share === undefined
              ? '<td class="pending"></td>'
              : `<td class="heat" style="background:${heatColor(share)}" data-share="${share}">${escapeHtml(percent(share))}</td>`;
          },
        ).join('')}</tr>`,
    )
    .join('');
  return `<table class="cohorts"><caption>Cohort retention: share of each month’s new members still paying 1–12 months later</caption><thead><tr><th>Cohort</th><th>Members</th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

function metricsTable(months: readonly MonthMetrics[], currency: string): string {
  const fmt = (v: number | null) => (v === null ? '–' : formatMoney(v, currency));
  const rows = months
    .map(
      (m) =>
        `<tr data-month="${escapeHtml(m.month)}"${m.status === 'closed' ? '' : ` class="open"`}><th>${escapeHtml(monthLabel(m.month))}${m.status === 'closed' ? '' : ' *'}</th>${cells(
          [
            m.members.start,
            m.members.end,
            m.members.new + m.members.reactivated,
            m.members.churned,
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
          ],
        )}</tr>`,
    )
    .join('');
  return `<table class="metrics"><caption>Members and growth by month (* not over yet)</caption><thead><tr><th>Month</th><th>Members at start</th><th>at end</th><th>New</th><th>Churned</th><th>Voluntary churn</th><th>Involuntary churn</th><th>MRR</th><th>MRR change</th><th>ARPU</th><th>LTV (est.)</th><th>Trial conversion</th><th>Annual renewal</th><th>Failed payments recovered</th><th>Savings ≥ fee</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function section(currency: string, input: ReportInput): string {
  const labels = input.history.map((h) => h.month);
  const rows = input.history.map((h) => h.currencies.find((c) => c.currency === currency) ?? emptyCurrencyRevenue(currency));
  const metrics = input.metrics.find((m) => m.currency === currency);
  const metricRows = labels.map((m) => metrics?.months.find((x) => x.month === m) ?? null);
  const now = rows.at(-1)!;
  const nowMetrics = metricRows.at(-1) ?? null;
  const c = currency.toUpperCase();
  const money = (v: number) => formatMoney(v, currency);
  const figures: Array<[string, string, string]> = [
    ['billed', 'Billed', money(now.billedCents)],
    ['collected', 'Collected', money(now.collectedCents)],
    ['refunded', 'Refunded', money(now.refundedCents)],
    ['credited', 'Credited to balances', money(now.creditedCents)],
    ['disputed', 'Disputed', money(now.disputedCents)],
    ['net', 'Net cash (before Stripe fees)', money(now.netCents)],
    ['recognized', 'Recognized revenue', money(now.recognizedCents)],
    ['deferred', 'Deferred revenue at month end', money(now.deferredCents)],
    ['mrr', 'MRR at month end', money(now.mrrCents)],
    ['active', 'Paying members at month end', String(now.members.active)],
    ['new', 'New and returning members', String(now.members.new)],
    ['churned', 'Churned members', String(now.members.churned)],
  ];
  if (nowMetrics) {
    figures.push(
      ['churn-voluntary', 'Voluntary churn', percent(nowMetrics.churnRate.voluntary)],
      ['churn-involuntary', 'Involuntary churn', percent(nowMetrics.churnRate.involuntary)],
      ['arpu', 'ARPU (per month)', nowMetrics.arpuCents === null ? '–' : money(nowMetrics.arpuCents)],
      ['ltv', 'LTV (estimate)', nowMetrics.ltvCents === null ? '–' : money(nowMetrics.ltvCents)],
      ['trial-conversion', 'Trial conversion', percent(nowMetrics.trialConversionRate)],
      ['renewal-rate', 'Annual renewal rate', percent(nowMetrics.renewalRate)],
      ['recovery-rate', 'Failed payments recovered', percent(nowMetrics.paymentRecovery.rate)],
      ['savings-share', 'Members saving at least their fee', percent(nowMetrics.memberValue.shareSavingsAtLeastFee)],
      ['benefit-cost', 'Benefit cost', money(nowMetrics.benefitCostCents)],
    );
  }
  const m = (pick: (x: MonthMetrics) => number | null) => metricRows.map((x) => (x ? pick(x) : null));
  const plans =
    now.byPlan
      .map(
        (p) =>
          `<tr>${cells([p.planId, p.invoices, money(p.billedCents), money(p.refundedCents), money(p.creditedCents), money(p.disputedCents), money(p.netCents), money(p.recognizedCents), money(p.deferredCents), money(p.mrrCents), p.activeMembers])}</tr>`,
      )
      .join('') +
    // Refunds and disputes no invoice was found for: in the totals, in no plan.
    (now.unattributed.refundedCents !== 0 || now.unattributed.disputedCents !== 0
      ? `<tr data-row="unattributed">${cells(['unattributed', '', '', money(now.unattributed.refundedCents), '', money(now.unattributed.disputedCents), money(-now.unattributed.refundedCents - now.unattributed.disputedCents), '', '', '', ''])}</tr>`
      : '');
  const profitability = (nowMetrics?.byPlan ?? [])
    .map(
      (p) =>
        `<tr>${cells([p.planId, p.members, money(p.mrrCents), money(p.recognizedCents), money(p.benefitCostCents), money(p.marginCents)])}</tr>`,
    )
    .join('');
  return `<section id="currency-${escapeHtml(currency)}">
<h2>${escapeHtml(c)}</h2>
<dl class="figures">${figures.map(([id, label, value]) => `<div data-figure="${id}"><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`).join('')}</dl>
<div class="charts">
${barChart(
  'revenue',
  'Revenue by month',
  labels,
  [
    { label: 'Billed', color: '#3b6fb6', values: rows.map((r) => r.billedCents) },
    { label: 'Recognized', color: '#58a55c', values: rows.map((r) => r.recognizedCents) },
  ],
  moneyAxis(currency),
)}
${lineChart('mrr', 'MRR at month end', labels, [{ label: 'MRR', color: '#8a4fbf', values: rows.map((r) => r.mrrCents) }], moneyAxis(currency))}
${barChart(
  'mrr-movements',
  'MRR movements',
  labels,
  [
    { label: 'New and reactivated', color: '#58a55c', values: m((x) => x.mrr.new + x.mrr.reactivation) },
    { label: 'Expansion', color: '#3b6fb6', values: m((x) => x.mrr.expansion) },
    { label: 'Contraction', color: '#e0a030', values: m((x) => -x.mrr.contraction) },
    { label: 'Churned', color: '#d0533f', values: m((x) => -x.mrr.churned) },
  ],
  moneyAxis(currency),
)}
${barChart(
  'members',
  'Members',
  labels,
  [
    { label: 'Paying at month end', color: '#3b6fb6', values: rows.map((r) => r.members.active) },
    { label: 'New and returning', color: '#58a55c', values: rows.map((r) => r.members.new) },
    { label: 'Churned', color: '#d0533f', values: rows.map((r) => r.members.churned) },
  ],
  countAxis,
)}
${lineChart(
  'churn',
  'Churn rate',
  labels,
  [
    { label: 'Voluntary', color: '#e0a030', values: m((x) => x.churnRate.voluntary) },
    { label: 'Involuntary', color: '#d0533f', values: m((x) => x.churnRate.involuntary) },
  ],
  rateAxis,
)}
${barChart(
  'member-value',
  'Member savings against fees',
  labels,
  [
    { label: 'Savings delivered', color: '#58a55c', values: m((x) => x.memberValue.savingsCents) },
    { label: 'Fees (MRR)', color: '#8a4fbf', values: m((x) => x.memberValue.feesCents) },
  ],
  moneyAxis(currency),
)}
${barChart(
  'refunds',
  'Refunds and disputes',
  labels,
  [
    { label: 'Refunded', color: '#d0533f', values: rows.map((r) => r.refundedCents) },
    { label: 'Disputed', color: '#e0a030', values: rows.map((r) => r.disputedCents) },
  ],
  moneyAxis(currency),
)}
</div>
${metrics ? metricsTable(metrics.months, currency) : ''}
${metrics ? cohortTable(metrics.cohorts) : ''}
<table class="plans"><caption>By plan, ${escapeHtml(monthLabel(input.month))}</caption><thead><tr><th>Plan</th><th>Invoices</th><th>Billed</th><th>Refunded</th><th>Credited</th><th>Disputed</th><th>Net cash</th><th>Recognized</th><th>Deferred</th><th>MRR</th><th>Paying members</th></tr></thead><tbody>${plans || '<tr><td colspan="11">No plan activity</td></tr>'}</tbody></table>
<table class="profitability"><caption>Member profitability, ${escapeHtml(monthLabel(input.month))}: fee revenue against what the benefits cost</caption><thead><tr><th>Plan</th><th>Paying members</th><th>MRR</th><th>Recognized fees</th><th>Benefit cost</th><th>Margin</th></tr></thead><tbody>${profitability || '<tr><td colspan="6">No plan activity</td></tr>'}</tbody></table>
</section>`;
}

const LISTED = 10;

function reconciliationSection(rec: ReportReconciliation | null): string {
  if (!rec) return '<section id="reconciliation"><h2>Reconciliation with Stripe</h2><p>Not reconciled yet.</p></section>';
  const fmt = (cents: number, currency: string) => formatMoney(cents, currency);
  const sums = (list: ReadonlyArray<{ currency: string; amountCents: number }>) => {
    const by = new Map<string, number>();
    for (const x of list) by.set(x.currency, (by.get(x.currency) ?? 0) + x.amountCents);
    return [...by].map(([cur, cents]) => fmt(cents, cur)).join(', ') || '–';
  };
  const inLedger = rec.missingInLedger ?? [];
  const inStripe = rec.missingInStripe ?? [];
  const mismatches = rec.amountMismatches ?? [];
  const more = (count: number, listed: number) =>
    count > listed ? `<p class="meta">and ${count - listed} more (the job's stored result lists the first 200).</p>` : '';
  const findings = [
    `<tr data-finding="missing-in-ledger"><th>In Stripe, not in the ledger</th><td>${rec.counts.missingInLedger}</td><td>${escapeHtml(sums(inLedger))}</td></tr>`,
    `<tr data-finding="missing-in-stripe"><th>In the ledger, not in Stripe</th><td>${rec.counts.missingInStripe}</td><td>${escapeHtml(sums(inStripe))}</td></tr>`,
    `<tr data-finding="amount-mismatches"><th>Amounts that differ</th><td>${rec.counts.amountMismatches}</td><td>${escapeHtml(
      mismatches
        .map((x) => `${fmt(x.stripe.amountCents, x.stripe.currency)} vs ${fmt(x.ledger.amountCents, x.ledger.currency)}`)
        .slice(0, 3)
        .join('; ') || '–',
    )}</td></tr>`,
  ].join('');
  const totals = (rec.totals ?? [])
    .map(
      (t) =>
        `<tr data-currency="${escapeHtml(t.currency)}"><th>${escapeHtml(t.currency.toUpperCase())}</th>${cells([fmt(t.stripe.amountCents, t.currency), fmt(t.ledger.amountCents, t.currency), fmt(t.matchedCents, t.currency), fmt(t.differenceCents, t.currency)])}</tr>`,
    )
    .join('');
  const detail = [
    ...inLedger
      .slice(0, LISTED)
      .map(
        (x) =>
          `<li>Stripe ${escapeHtml(x.reportingCategory)} ${escapeHtml(x.balanceTransactionId)}: ${escapeHtml(fmt(x.amountCents, x.currency))}, no ledger entry</li>`,
      ),
    ...inStripe
      .slice(0, LISTED)
      .map(
        (x) =>
          `<li>Ledger ${escapeHtml(x.kind)} ${escapeHtml(x.entryId)}: ${escapeHtml(fmt(x.amountCents, x.currency))}, no Stripe transaction</li>`,
      ),
    ...mismatches
      .slice(0, LISTED)
      .map(
        (x) =>
          `<li>${escapeHtml(x.balanceTransactionId)} / ${escapeHtml(x.entryId)}: Stripe ${escapeHtml(fmt(x.stripe.amountCents, x.stripe.currency))}, ledger ${escapeHtml(fmt(x.ledger.amountCents, x.ledger.currency))}</li>`,
      ),
  ].join('');
  return `<section id="reconciliation"><h2>Reconciliation with Stripe</h2>
<p class="meta">Last run ${escapeHtml(rec.ranAt)} (${escapeHtml(rec.source)}): ${rec.matched} transactions matched.</p>
<table class="findings"><thead><tr><th>Finding</th><th>Count</th><th>Amount</th></tr></thead><tbody>${findings}</tbody></table>
${totals ? `<table class="totals"><caption>Per currency</caption><thead><tr><th>Currency</th><th>Stripe</th><th>Ledger</th><th>Matched</th><th>Difference</th></tr></thead><tbody>${totals}</tbody></table>` : ''}
${detail ? `<ul class="findings-list">${detail}</ul>${more(rec.counts.missingInLedger, Math.min(LISTED, inLedger.length))}` : ''}
</section>`;
}

export function renderFinanceReport(input: ReportInput): string {
  const labels = input.history.map((h) => h.month);
  const currencies = [
    ...new Set([
      ...input.history.flatMap((h) => h.currencies.map((c) => c.currency)),
      ...input.metrics.filter((m) => m.months.some((x) => x.members.start || x.members.end)).map((m) => m.currency),
    ]),
  ].sort();
  const status = input.history.at(-1)?.status ?? 'closed';
  const banner =
    status === 'closed'
      ? ''
      : `<p class="banner" data-status="${status}"><strong>${escapeHtml(monthLabel(input.month))} ${escapeHtml(STATUS_NOTE[status])}</strong></p>`;
  const sections = currencies.map((currency) => section(currency, input));

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Membership finance report ${escapeHtml(monthLabel(input.month))}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:2rem auto;max-width:1360px;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{border-bottom:2px solid #3b6fb6;padding-bottom:.2rem;margin-top:2rem}
.meta{color:#666;margin:0 0 1rem}.banner{background:#fff4d6;border:1px solid #e0a030;border-radius:6px;padding:.6rem .8rem}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.6rem;margin:0}
.figures div{background:#f4f6fa;border-radius:6px;padding:.5rem .75rem}.figures dt{color:#555;font-size:.85rem}.figures dd{margin:0;font-size:1.2rem;font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1rem;margin-top:1rem}
figure{margin:0;background:#fff;border:1px solid #e5e5e5;border-radius:6px;padding:.5rem}figcaption{font-weight:600;margin-bottom:.3rem}
svg{width:100%;height:auto}.tick{font-size:10px;fill:#555}.unit{font-size:10px;fill:#333;font-weight:600}.value{font-size:9px;fill:#333}
.legend span{margin-right:1rem;font-size:.85rem}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
table{border-collapse:collapse;margin-top:1rem;width:100%}th,td{text-align:right;padding:.3rem .6rem;border-bottom:1px solid #eee}th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:600;padding:.3rem 0}
tr.open{color:#8a6d1f}.cohorts td.heat{text-align:center;font-size:.85rem}.cohorts td.pending{background:#fafafa}
</style></head>
<body>
<h1>Membership finance report — ${escapeHtml(monthLabel(input.month))}</h1>
<p class="meta">Months ${escapeHtml(monthLabel(labels[0] ?? input.month))} to ${escapeHtml(monthLabel(input.month))} (UTC). Generated ${escapeHtml(input.generatedAt)}.</p>
${banner}
${sections.join('\n') || '<p>No money events recorded for this period.</p>'}
${reconciliationSection(input.reconciliation)}
<p class="meta">Net cash is collected − refunded − disputed, tax included, before Stripe's fees. Recognized revenue is net of tax, ratable by day over each invoice line's period; refunds, credits to balances and lost disputes come out of an invoice's deferred revenue from their month. Members and MRR are taken at each month end; MRR counts annual plans at 1/12. Currencies are never added together. Formulas: docs/finance.md.</p>
</body></html>`;
}
