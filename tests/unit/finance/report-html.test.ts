import { describe, expect, it } from 'vitest';
import { emptyEntry } from '#shared/domain/finance/ledger';
import { csvCell, ledgerCsvHeader, ledgerCsvRow } from '#shared/domain/finance/ledger-csv';
import { escapeHtml, renderFinanceReport } from '#shared/domain/finance/report-html';

describe('finance report HTML', () => {
  it('escapes every value from data and loads nothing from elsewhere', () => {
    const evil = '<img src=x onerror=alert(1)>"\'&';
    const html = renderFinanceReport({
      month: '2033-06',
      generatedAt: '2033-07-01T00:00:00Z',
      reconciliation: { ranAt: evil, source: evil, matched: 1, counts: { missingInLedger: 0, missingInStripe: 0, amountMismatches: 0 } },
      history: [
        {
          month: '2033-06',
          currencies: [
            {
              currency: 'usd',
              invoices: 1,
              billedCents: 1499,
              taxCents: 0,
              discountCents: 0,
              refunds: 0,
              refundedCents: 0,
              refundedNetOfTaxCents: 0,
              disputedCents: 0,
              netCents: 1499,
              recognizedCents: 0,
              deferredCents: 1499,
              mrrCents: 1499,
              members: { active: 1, new: 1, churned: 0 },
              byPlan: [
                {
                  planId: evil,
                  invoices: 1,
                  billedCents: 1499,
                  taxCents: 0,
                  refunds: 0,
                  refundedCents: 0,
                  refundedNetOfTaxCents: 0,
                  disputedCents: 0,
                  netCents: 1499,
                  recognizedCents: 0,
                  deferredCents: 1499,
                  mrrCents: 1499,
                  activeMembers: 1,
                },
              ],
              unattributed: { refunds: 1, refundedCents: 500, disputedCents: 0 },
            },
          ],
        },
      ],
    });
    expect(html).not.toContain('<img');
    expect(html).toContain(escapeHtml(evil));
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc="|\shref="|@import|url\(/i);
    expect(html).toContain('$14.99');
    // Refunds tied to no invoice are shown as such, not dropped.
    expect(html).toMatch(/<tr data-row="unattributed"><td>unattributed<\/td><td><\/td><td><\/td><td>\$5\.00<\/td>/);
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
