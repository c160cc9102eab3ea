import { describe, expect, it } from 'vitest';
import { emptyEntry } from '#shared/domain/finance/ledger';
import { csvCell, ledgerCsvHeader, ledgerCsvRow } from '#shared/domain/finance/ledger-csv';
import { escapeHtml, monthLabel, niceTicks, renderFinanceReport } from '#shared/domain/finance/report-html';
import { metricsOf, revenueOf } from '../../support/finance-rollup';

const d = (day: string) => `${day}T00:00:00.000Z`;
const monthly = (member: string, id: string, from: string, to: string, planId = 'prime-monthly') =>
  emptyEntry({
    entryId: id,
    kind: 'invoice_paid',
    occurredAt: d(from),
    currency: 'usd',
    amountCents: 1499,
    totalCents: 1499,
    taxCents: 0,
    memberId: member,
    subscriptionId: `sub_${member}`,
    planId,
    interval: 'month',
    servicePeriod: { start: d(from), end: d(to) },
  });

/** Five members in November 2026, one of whom leaves in December. */
const entries = [
  ...['a', 'b', 'c', 'd', 'e'].map((m) => monthly(m, `in_${m}1`, '2026-11-03', '2026-12-03')),
  ...['a', 'b', 'c', 'd'].map((m) => monthly(m, `in_${m}2`, '2026-12-03', '2027-01-03')),
];
const input = (month: string, asOf: Date, reconciliation: Parameters<typeof renderFinanceReport>[0]['reconciliation'] = null) => ({
  month,
  history: ['2026-11', '2026-12'].map((m) => revenueOf(m, entries, { asOf })),
  metrics: [metricsOf(entries, { from: '2026-11', to: '2026-12', asOf })],
  generatedAt: asOf.toISOString(),
  reconciliation,
});

describe('finance report HTML', () => {
  it('escapes every value from data and loads nothing from elsewhere', () => {
    const evil = '<img src=x onerror=alert(1)>"\'&';
    const data = input('2026-12', new Date('2027-02-01T00:00:00Z'), {
      ranAt: evil,
      source: evil,
      matched: 1,
      counts: { missingInLedger: 1, missingInStripe: 0, amountMismatches: 0 },
      missingInLedger: [{ balanceTransactionId: evil, reportingCategory: evil, currency: 'usd', amountCents: 500 }],
    });
    data.history[1]!.currencies[0]!.byPlan[0]!.planId = evil;
    data.history[1]!.currencies[0]!.unattributed = { refunds: 1, refundedCents: 500, disputedCents: 0 };
    const html = renderFinanceReport(data);
    expect(html).not.toContain('<img');
    expect(html).toContain(escapeHtml(evil));
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc="|\shref="|@import|url\(/i);
    expect(html).toContain('$14.99');
    // Refunds tied to no invoice are shown as such, not dropped.
    expect(html).toMatch(/<tr data-row="unattributed"><td>unattributed<\/td><td><\/td><td><\/td><td>\$5\.00<\/td>/);
  });

  it('puts axis ticks on round values, so a bar never rises above the top gridline, and counts on whole numbers', () => {
    expect(niceTicks(0, 5, true)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(niceTicks(0, 7, true)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(0, 67_213)).toEqual([0, 20_000, 40_000, 60_000, 80_000]);
    expect(niceTicks(-1499, 5655)).toEqual([-2000, 0, 2000, 4000, 6000]);
    expect(niceTicks(0, 0.2)).toEqual([0, 0.05, 0.1, 0.15, 0.2]);
    for (const [lo, hi] of [
      [0, 1],
      [0, 3],
      [0, 9],
      [0, 133],
      [-7, 42],
      [0, 1_234_567],
    ] as const) {
      const t = niceTicks(lo, hi);
      expect(t[0]!).toBeLessThanOrEqual(Math.min(0, lo));
      expect(t.at(-1)!).toBeGreaterThanOrEqual(hi);
      expect(t.length).toBeGreaterThanOrEqual(3);
      expect(t.length).toBeLessThanOrEqual(7);
    }
  });

  it('names months as "Dec 2026", titles members without a currency, labels values and units, and marks a month not over', () => {
    expect(monthLabel('2026-11')).toBe('Nov 2026');
    const html = renderFinanceReport(input('2026-12', new Date('2026-12-08T12:00:00Z')));
    expect(html).toContain('<figcaption>Members</figcaption>');
    expect(html).not.toMatch(/Members \(USD\)/);
    expect(html).toMatch(/<tspan x="[\d.]+">Dec<\/tspan><tspan x="[\d.]+" dy="12">2026<\/tspan>/);
    expect(html).toContain('class="unit">USD</text>');
    expect(html).toContain('class="unit">members</text>');
    expect(html).toMatch(/class="value">\$74\.95<\/text>/);
    expect(html).toContain('data-status="in_progress"');
    expect(html).toContain('Dec 2026 is not over yet');
    // On 8 December e's lapse (3 December + 7 days of grace) is still to come: five paying members, no churn yet.
    expect(html).toMatch(/data-figure="active"><dt>[^<]+<\/dt><dd>5<\/dd>/);
    const closed = renderFinanceReport(input('2026-12', new Date('2027-02-01T00:00:00Z')));
    expect(closed).not.toContain('data-status=');
    expect(closed).toMatch(/data-figure="active"><dt>[^<]+<\/dt><dd>4<\/dd>/);
    expect(closed).toMatch(/data-figure="churn-voluntary"><dt>[^<]+<\/dt><dd>20\.0%<\/dd>/);
  });

  it('draws cohort retention as a heat-map and lists reconciliation findings with their amounts', () => {
    const html = renderFinanceReport(
      input('2026-12', new Date('2027-02-01T00:00:00Z'), {
        ranAt: '2027-01-02T06:00:00Z',
        source: 'stripe-api',
        matched: 8,
        counts: { missingInLedger: 1, missingInStripe: 1, amountMismatches: 1 },
        missingInLedger: [{ balanceTransactionId: 'txn_1', reportingCategory: 'charge', currency: 'usd', amountCents: 1499 }],
        missingInStripe: [{ entryId: 're_1', kind: 'refund', currency: 'usd', amountCents: -500 }],
        amountMismatches: [
          {
            balanceTransactionId: 'txn_2',
            entryId: 'in_2',
            stripe: { amountCents: 1399, currency: 'usd' },
            ledger: { amountCents: 1499, currency: 'usd' },
          },
        ],
        totals: [
          { currency: 'usd', matchedCents: 11992, differenceCents: 1399, stripe: { amountCents: 14890 }, ledger: { amountCents: 13491 } },
        ],
      }),
    );
    // The November cohort: five members, four still paying a month later (December is over).
    expect(html).toMatch(
      /<tr data-cohort="2026-11"><th>Nov 2026<\/th><td>5<\/td><td class="heat" style="background:hsl\(140, 45%, \d+%\)" data-share="0.8">80\.0%<\/td>/,
    );
    expect(html).toContain('<tr data-finding="missing-in-ledger"><th>In Stripe, not in the ledger</th><td>1</td><td>$14.99</td></tr>');
    expect(html).toContain('<tr data-finding="missing-in-stripe"><th>In the ledger, not in Stripe</th><td>1</td><td>-$5.00</td></tr>');
    expect(html).toContain('$13.99 vs $14.99');
    expect(html).toContain('<td>$13.99</td></tr>');
  });
});

describe('ledger CSV', () => {
  it('quotes per RFC 4180 and defuses spreadsheet formulas in text cells only', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell(-5, true)).toBe('-5');
    expect(csvCell(null)).toBe('');
    const row = ledgerCsvRow(
      emptyEntry({
        entryId: 're_1',
        kind: 'refund',
        occurredAt: '2033-01-01T00:00:00.000Z',
        currency: 'jpy',
        amountCents: 1500,
        refundIds: ['re_1'],
      }),
    );
    expect(row.endsWith('\r\n')).toBe(true);
    expect(row.split(',')).toHaveLength(ledgerCsvHeader().split(',').length);
    expect(row).toContain(',jpy,1500,1500,');
  });
});
