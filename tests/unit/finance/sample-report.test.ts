import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBalanceReport, type ReportRow } from '#shared/stripe/balance-report';
import { FINANCE_SAMPLE } from '../../../local/finance-sample';

const text = readFileSync(fileURLToPath(new URL(`../../../${FINANCE_SAMPLE.file}`, import.meta.url)), 'utf8');

describe(`the sample report ${FINANCE_SAMPLE.file}`, () => {
  it('parses as Stripe’s itemized balance change report, in UTC, with customer-facing amounts', async () => {
    const rows: ReportRow[] = [];
    for await (const row of parseBalanceReport(text)) rows.push(row);
    expect(rows.map((r) => [r.reportingCategory, r.grossCents])).toEqual([
      ['charge', 1499],
      ['charge', 1499],
      ['charge', 13900],
      ['charge', 1407],
      ['refund', -500],
      ['fee', -75],
    ]);
    // The first row is 1 November in the account's time zone but 31 October in UTC, the month that counts.
    expect(rows[0]!.createdUtc).toBe('2026-10-31T23:58:10.000Z');
    expect(rows.filter((r) => r.createdUtc.startsWith(FINANCE_SAMPLE.month))).toHaveLength(5);
    expect(rows[3]).toMatchObject({
      currency: 'usd',
      customerFacingCents: 1299,
      customerFacingCurrency: 'eur',
      invoiceId: 'in_1SampleEva1126',
    });
    expect(rows[4]).toMatchObject({ sourceId: 're_3SampleAna1126', customerFacingCents: -500 });
  });
});
