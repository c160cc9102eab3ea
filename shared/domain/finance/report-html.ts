/**
 * The monthly finance report as one self-contained HTML page: inline CSS and SVG charts, no scripts,
 * no fonts, no external resources (the response's CSP forbids them). Every value from data is
 * escaped. One set of charts per currency: amounts in different currencies are never added.
 */

import { formatMoney } from '../money';
import type { CurrencyRevenue, MonthRevenue } from './revenue';

export const escapeHtml = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface Series {
  label: string;
  color: string;
  values: number[];
}

const W = 640;
const H = 220;
const PAD = { left: 64, right: 12, top: 16, bottom: 36 };

function scale(series: Series[]) {
  const all = series.flatMap((s) => s.values);
  const max = Math.max(1, ...all);
  const min = Math.min(0, ...all);
  const y = (v: number) => PAD.top + ((max - v) / (max - min)) * (H - PAD.top - PAD.bottom);
  return { max, min, y };
}

function axes(labels: string[], sc: ReturnType<typeof scale>, format: (v: number) => string): string {
  const step = (W - PAD.left - PAD.right) / labels.length;
  const ticks = [sc.min, (sc.min + sc.max) / 2, sc.max]
    .map(
      (v) =>
        `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${sc.y(v).toFixed(1)}" y2="${sc.y(v).toFixed(1)}" stroke="#e2e2e2"/><text x="${PAD.left - 6}" y="${(sc.y(v) + 4).toFixed(1)}" text-anchor="end" class="tick">${escapeHtml(format(Math.round(v)))}</text>`,
    )
    .join('');
  const xs = labels
    .map(
      (l, i) =>
        `<text x="${(PAD.left + step * (i + 0.5)).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle" class="tick">${escapeHtml(l.slice(2))}</text>`,
    )
    .join('');
  return ticks + xs;
}

function legend(series: Series[]): string {
  return `<p class="legend">${series.map((s) => `<span><i style="background:${s.color}"></i>${escapeHtml(s.label)}</span>`).join('')}</p>`;
}

function barChart(title: string, labels: string[], series: Series[], format: (v: number) => string): string {
  const sc = scale(series);
  const step = (W - PAD.left - PAD.right) / labels.length;
  const bw = (step * 0.8) / series.length;
  const bars = series
    .map((s, si) =>
      s.values
        .map((v, i) => {
          const x = PAD.left + step * i + step * 0.1 + bw * si;
          const y0 = sc.y(0);
          const y1 = sc.y(v);
          return `<rect x="${x.toFixed(1)}" y="${Math.min(y0, y1).toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.abs(y0 - y1).toFixed(1)}" fill="${s.color}"><title>${escapeHtml(`${s.label} ${labels[i]}: ${format(v)}`)}</title></rect>`;
        })
        .join(''),
    )
    .join('');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">${axes(labels, sc, format)}${bars}</svg>${legend(series)}</figure>`;
}

function lineChart(title: string, labels: string[], series: Series[], format: (v: number) => string): string {
  const sc = scale(series);
  const step = (W - PAD.left - PAD.right) / labels.length;
  const lines = series
    .map((s) => {
      const pts = s.values.map((v, i) => `${(PAD.left + step * (i + 0.5)).toFixed(1)},${sc.y(v).toFixed(1)}`);
      const dots = s.values.map(
        (v, i) =>
          `<circle cx="${(PAD.left + step * (i + 0.5)).toFixed(1)}" cy="${sc.y(v).toFixed(1)}" r="3" fill="${s.color}"><title>${escapeHtml(`${s.label} ${labels[i]}: ${format(v)}`)}</title></circle>`,
      );
      return `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots.join('')}`;
    })
    .join('');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">${axes(labels, sc, format)}${lines}</svg>${legend(series)}</figure>`;
}

const zero = (currency: string): CurrencyRevenue => ({
  currency,
  invoices: 0,
  billedCents: 0,
  taxCents: 0,
  discountCents: 0,
  refunds: 0,
  refundedCents: 0,
  refundedNetOfTaxCents: 0,
  disputedCents: 0,
  netCents: 0,
  recognizedCents: 0,
  deferredCents: 0,
  mrrCents: 0,
  members: { active: 0, new: 0, churned: 0 },
  byPlan: [],
  unattributed: { refunds: 0, refundedCents: 0, disputedCents: 0 },
});

export interface ReportInput {
  month: string;
  /** Oldest first, ending with `month`. */
  history: MonthRevenue[];
  generatedAt: string;
  reconciliation: {
    ranAt: string;
    source: string;
    matched: number;
    counts: { missingInLedger: number; missingInStripe: number; amountMismatches: number };
  } | null;
}

export function renderFinanceReport(input: ReportInput): string {
  const labels = input.history.map((h) => h.month);
  const currencies = [...new Set(input.history.flatMap((h) => h.currencies.map((c) => c.currency)))].sort();
  const at = (currency: string) => input.history.map((h) => h.currencies.find((c) => c.currency === currency) ?? zero(currency));
  const current = (currency: string) => at(currency).at(-1)!;

  const sections = currencies.map((currency) => {
    const rows = at(currency);
    const fmt = (v: number) => formatMoney(v, currency);
    const now = current(currency);
    const c = currency.toUpperCase();
    const figures: Array<[string, string, string]> = [
      ['billed', 'Billed', fmt(now.billedCents)],
      ['refunded', 'Refunded', fmt(now.refundedCents)],
      ['disputed', 'Disputed', fmt(now.disputedCents)],
      ['net', 'Net (cash, before Stripe fees)', fmt(now.netCents)],
      ['recognized', 'Recognized revenue', fmt(now.recognizedCents)],
      ['deferred', 'Deferred revenue at month end', fmt(now.deferredCents)],
      ['mrr', 'MRR', fmt(now.mrrCents)],
      ['active', 'Active members', String(now.members.active)],
      ['new', 'New members', String(now.members.new)],
      ['churned', 'Churned members', String(now.members.churned)],
    ];
    const cells = (values: Array<string | number>) => values.map((v) => `<td>${escapeHtml(String(v))}</td>`).join('');
    const plans =
      now.byPlan
        .map(
          (p) =>
            `<tr>${cells([p.planId, p.invoices, fmt(p.billedCents), fmt(p.refundedCents), fmt(p.disputedCents), fmt(p.netCents), fmt(p.recognizedCents), fmt(p.deferredCents), fmt(p.mrrCents), p.activeMembers])}</tr>`,
        )
        .join('') +
      // Refunds and disputes no invoice was found for: in the totals, in no plan.
      (now.unattributed.refundedCents !== 0 || now.unattributed.disputedCents !== 0
        ? `<tr data-row="unattributed">${cells(['unattributed', '', '', fmt(now.unattributed.refundedCents), fmt(now.unattributed.disputedCents), fmt(-now.unattributed.refundedCents - now.unattributed.disputedCents), '', '', '', ''])}</tr>`
        : '');
    return `<section id="currency-${escapeHtml(currency)}">
<h2>${escapeHtml(c)}</h2>
<dl class="figures">${figures.map(([id, label, value]) => `<div data-figure="${id}"><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`).join('')}</dl>
<div class="charts">
${barChart(
  `Revenue by month (${c})`,
  labels,
  [
    { label: 'Billed', color: '#3b6fb6', values: rows.map((r) => r.billedCents) },
    { label: 'Recognized', color: '#58a55c', values: rows.map((r) => r.recognizedCents) },
  ],
  fmt,
)}
${lineChart(`MRR (${c})`, labels, [{ label: 'MRR', color: '#8a4fbf', values: rows.map((r) => r.mrrCents) }], fmt)}
${barChart(
  `Members (${c})`,
  labels,
  [
    { label: 'Active', color: '#3b6fb6', values: rows.map((r) => r.members.active) },
    { label: 'New', color: '#58a55c', values: rows.map((r) => r.members.new) },
    { label: 'Churned', color: '#d0533f', values: rows.map((r) => r.members.churned) },
  ],
  String,
)}
${barChart(
  `Refunds and disputes (${c})`,
  labels,
  [
    { label: 'Refunded', color: '#d0533f', values: rows.map((r) => r.refundedCents) },
    { label: 'Disputed', color: '#e0a030', values: rows.map((r) => r.disputedCents) },
  ],
  fmt,
)}
</div>
<table><caption>By plan, ${escapeHtml(input.month)}</caption><thead><tr><th>Plan</th><th>Invoices</th><th>Billed</th><th>Refunded</th><th>Disputed</th><th>Net</th><th>Recognized</th><th>Deferred</th><th>MRR</th><th>Active members</th></tr></thead><tbody>${plans || '<tr><td colspan="10">No plan activity</td></tr>'}</tbody></table>
</section>`;
  });

  const rec = input.reconciliation;
  const recText = rec
    ? `Last reconciliation (${escapeHtml(rec.source)}, ${escapeHtml(rec.ranAt)}): ${rec.matched} matched, ${rec.counts.missingInLedger} missing in the ledger, ${rec.counts.missingInStripe} missing in Stripe, ${rec.counts.amountMismatches} amount mismatches.`
    : 'Not reconciled yet.';

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Membership finance report ${escapeHtml(input.month)}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:2rem auto;max-width:1360px;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{border-bottom:2px solid #3b6fb6;padding-bottom:.2rem;margin-top:2rem}
.meta{color:#666;margin:0 0 1rem}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.6rem;margin:0}
.figures div{background:#f4f6fa;border-radius:6px;padding:.5rem .75rem}.figures dt{color:#555;font-size:.85rem}.figures dd{margin:0;font-size:1.2rem;font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1rem;margin-top:1rem}
figure{margin:0;background:#fff;border:1px solid #e5e5e5;border-radius:6px;padding:.5rem}figcaption{font-weight:600;margin-bottom:.3rem}
svg{width:100%;height:auto}.tick{font-size:10px;fill:#666}
.legend span{margin-right:1rem;font-size:.85rem}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
table{border-collapse:collapse;margin-top:1rem;width:100%}th,td{text-align:right;padding:.3rem .6rem;border-bottom:1px solid #eee}th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:600;padding:.3rem 0}
</style></head>
<body>
<h1>Membership finance report — ${escapeHtml(input.month)}</h1>
<p class="meta">Months ${escapeHtml(labels[0] ?? input.month)} to ${escapeHtml(input.month)} (UTC). Generated ${escapeHtml(input.generatedAt)}. ${recText}</p>
${sections.join('\n') || '<p>No money events recorded for this period.</p>'}
<p class="meta">Net is billed − refunded − disputed, tax included, before Stripe's fees. Recognized revenue is net of tax, ratable by day over each invoice's service period (largest-remainder rounding); refunds tied to an invoice come out of its deferred revenue from the refund month. MRR counts annual plans at 1/12. Currencies are never added together.</p>
</body></html>`;
}
