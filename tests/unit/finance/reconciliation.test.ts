import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { emptyEntry, type LedgerEntry } from '#shared/domain/finance/ledger';
import { reconcile, reconcileByDay } from '#shared/domain/finance/reconciliation';
import { CsvFormatError, parseBalanceReport, type ReportRow } from '#shared/stripe/balance-report';
import { balanceReportCsv, generateMonth } from '../../support/finance-month';

const collect = async (gen: AsyncIterable<ReportRow>) => {
  const out: ReportRow[] = [];
  for await (const r of gen) out.push(r);
  return out;
};

describe('balance report CSV', () => {
  it('reads rows by header name, with BOM, CRLF, any column order and extra columns', async () => {
    const { rows } = generateMonth({ month: '2026-03', invoices: 5, refundEvery: 2, currencies: ['usd', 'jpy'] });
    const csv = [...balanceReportCsv(rows, { bom: true, eol: '\r\n' })].join('');
    const parsed = await collect(parseBalanceReport(csv));
    expect(parsed.map(({ line: _l, ...r }) => r)).toEqual(rows.map(({ line: _l, ...r }) => r));
    expect(parsed[0]!.line).toBe(2);
    const lf = await collect(parseBalanceReport(Readable.from([...balanceReportCsv(rows, { eol: '\n' })])));
    expect(lf.map((r) => r.grossCents)).toEqual(rows.map((r) => r.grossCents));
  });

  it('names line and column for a wrong file, a missing column, or a non-numeric amount', async () => {
    const fail = async (csv: string) => {
      try {
        await collect(parseBalanceReport(csv));
      } catch (error) {
        expect(error).toBeInstanceOf(CsvFormatError);
        return error as CsvFormatError;
      }
      throw new Error('expected a CsvFormatError');
    };
    expect(await fail('{"not":"a csv"}\n')).toMatchObject({ line: 1 });
    expect(await fail('automatic_payout_id,payout_expected_arrival_date,gross\npo_1,2026-03-01,1.00\n')).toMatchObject({
      line: 1,
      column: 'balance_transaction_id',
    });
    expect(await fail('balance_transaction_id,gross,reporting_category\ntxn_1,1.00,charge\n')).toMatchObject({
      line: 1,
      column: 'currency',
    });
    const head = 'balance_transaction_id,created_utc,currency,gross,reporting_category';
    const bad = await fail(`${head}\r\ntxn_1,2026-03-01 10:00:00,usd,1.00,charge\r\ntxn_2,2026-03-01 10:00:00,usd,twelve,charge\r\n`);
    expect(bad).toMatchObject({ line: 3, column: 'gross' });
    expect(bad.message).toMatch(/line 3, column "gross"/);
    expect(await fail(`${head}\ntxn_1,2026-03-01 10:00:00,usd,1.00,charge\ntxn_2,2026-03-01 10:00:00,usd,1.00\n`)).toMatchObject({
      line: 3,
    });
    expect(await fail(`${head}\ntxn_1,2026-03-01 10:00:00,dollars,1.00,charge\n`)).toMatchObject({ line: 2, column: 'currency' });
    expect(await fail(`${head}\ntxn_1,2026-03-01 10:00:00,usd,1.005,charge\n`)).toMatchObject({ line: 2, column: 'gross' });
    expect(await fail(`${head}\ntxn_1,01/03/2026 10:00,usd,1.00,charge\n`)).toMatchObject({ line: 2, column: 'created_utc' });
    expect(await fail(`${head}\ntxn_1,2026-02-30 10:00:00,usd,1.00,charge\n`)).toMatchObject({ line: 2, column: 'created_utc' });
    expect(await fail(`${head}\ntxn_1,2026-03-01 10:00:00+01:00,usd,1.00,charge\n`)).toMatchObject({ line: 2, column: 'created_utc' });
    expect(await fail('')).toMatchObject({ line: 1 });
  });

  it('requires created_utc, and says how to export it when the file has only the local-time created column', async () => {
    const error = await collect(
      parseBalanceReport(
        'balance_transaction_id,created,currency,gross,reporting_category\r\ntxn_1,2026-03-01 00:30:00,usd,14.99,charge\r\n',
      ),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CsvFormatError);
    expect(error).toMatchObject({ line: 1, column: 'created_utc' });
    expect((error as Error).message).toMatch(/"created_utc".*time zone.*Download the report again with the "created_utc" column/s);
    const missing = await collect(
      parseBalanceReport('balance_transaction_id,currency,gross,reporting_category\r\ntxn_1,usd,14.99,charge\r\n'),
    ).catch((e: unknown) => e);
    expect(missing).toMatchObject({ line: 1, column: 'created_utc' });
    const [row] = await collect(
      parseBalanceReport(
        'balance_transaction_id,created_utc,currency,gross,reporting_category\r\ntxn_1,2026-03-01 00:30:00,usd,14.99,charge\r\n',
      ),
    );
    expect(row!.createdUtc).toBe('2026-03-01T00:30:00.000Z');
  });

  it('does not reject a good file over the fee column, which matching does not use', async () => {
    const csv =
      'balance_transaction_id,created_utc,currency,gross,fee,reporting_category\r\ntxn_1,2026-03-01 10:00:00,usd,14.99,n/a,charge\r\ntxn_2,2026-03-01 11:00:00,usd,-5.00,,refund\r\n';
    expect((await collect(parseBalanceReport(csv))).map((r) => r.grossCents)).toEqual([1499, -500]);
  });
});

describe('reconciliation', () => {
  it('matches a clean month completely', async () => {
    const { entries, rows } = generateMonth({ month: '2026-03', invoices: 200, refundEvery: 7, currencies: ['usd', 'eur', 'jpy'] });
    const rowsWithFees = [...rows, { ...rows[0]!, balanceTransactionId: 'txn_payout', reportingCategory: 'payout', grossCents: -100000 }];
    const result = await reconcile('2026-03', entries, rowsWithFees);
    expect(result.matched).toBe(rows.length);
    expect(result.missingInLedger).toEqual([]);
    expect(result.missingInStripe).toEqual([]);
    expect(result.amountMismatches).toEqual([]);
    expect(result.ignored).toEqual({ payout: 1 });
    for (const t of result.totals) {
      expect(t.differenceCents).toBe(0);
      expect(t.stripe.amountCents).toBe(t.ledger.amountCents);
    }
    expect(result.totals.map((t) => t.currency)).toEqual(['eur', 'jpy', 'usd']);
  });

  it('matches a month whose rows name no invoice through the invoice_payment links, as the API job must', async () => {
    const { entries, rows } = generateMonth({
      month: '2026-03',
      invoices: 200,
      refundEvery: 7,
      disputeEvery: 13,
      currencies: ['usd', 'eur'],
      invoiceColumn: false,
    });
    expect(rows.every((r) => r.invoiceId === null)).toBe(true);
    expect(entries.filter((e) => e.kind === 'invoice_paid').every((e) => e.chargeId === null && e.paymentIntentId === null)).toBe(true);
    const result = await reconcile('2026-03', entries, rows);
    expect(result).toMatchObject({ matched: rows.length, missingInLedger: [], missingInStripe: [], amountMismatches: [] });
    // Without the links, nothing ties a charge to its invoice.
    const unlinked = await reconcile(
      '2026-03',
      entries.filter((e) => e.kind !== 'invoice_payment'),
      rows,
    );
    expect(unlinked.missingInLedger.filter((m) => m.reportingCategory === 'charge')).toHaveLength(200);
  });

  it('finds every injected fault with zero false positives', async () => {
    const { entries, rows } = generateMonth({ month: '2026-03', invoices: 300, refundEvery: 5, currencies: ['usd', 'eur', 'jpy'] });
    // 1. A dropped invoice: the webhook was lost, Stripe has the charge.
    const dropped = entries.findIndex((e) => e.entryId === 'in_gen00000011');
    const [droppedEntry] = entries.splice(dropped, 1);
    // 2. A changed amount on the Stripe side.
    const changed = rows.find((r) => r.invoiceId === 'in_gen00000020' && r.reportingCategory === 'charge')!;
    changed.grossCents += 1;
    changed.customerFacingCents! += 1;
    // 3. An extra refund in Stripe that the ledger never heard of.
    rows.push({
      ...rows[0]!,
      balanceTransactionId: 'txn_extra_refund',
      reportingCategory: 'refund',
      sourceId: 're_extra',
      grossCents: -300,
      customerFacingCents: -300,
      invoiceId: null,
    });
    // 4. A currency mix: the customer paid the same amount in another currency than the ledger booked.
    const mixed = rows.find((r) => r.invoiceId === 'in_gen00000031' && r.reportingCategory === 'charge')!;
    mixed.customerFacingCurrency = mixed.customerFacingCurrency === 'usd' ? 'eur' : 'usd';
    // 5. An entry the ledger has and Stripe does not.
    entries.push(
      emptyEntry({ entryId: 're_ghost', kind: 'refund', occurredAt: '2026-03-04T00:00:00Z', currency: 'usd', amountCents: 700 }),
    );

    const result = await reconcile('2026-03', entries, rows);
    expect(result.missingInLedger.map((m) => m.balanceTransactionId).sort()).toEqual(['txn_ch00000011', 'txn_extra_refund']);
    expect(result.missingInLedger.find((m) => m.balanceTransactionId === 'txn_ch00000011')).toMatchObject({
      invoiceId: droppedEntry!.invoiceId,
      reason: 'no_ledger_entry',
    });
    expect(result.missingInStripe.map((m) => m.entryId)).toEqual(['re_ghost']);
    expect(result.amountMismatches.map((m) => m.entryId).sort()).toEqual(['in_gen00000020', 'in_gen00000031']);
    expect(result.amountMismatches.find((m) => m.entryId === 'in_gen00000020')).toMatchObject({
      comparedOn: 'customer_facing',
      stripe: { amountCents: changed.customerFacingCents },
      ledger: { amountCents: changed.customerFacingCents! - 1 },
    });
    const comparedRows = rows.length;
    expect(result.matched).toBe(comparedRows - 2 /* missing in ledger */ - 2 /* mismatches */);
  });

  it('matches charges, refunds and disputes in EUR settled in USD on their customer-facing side, with zero false positives', async () => {
    const settlement = { eur: { currency: 'usd', rate: 1.0834 }, jpy: { currency: 'usd', rate: 0.0067 } };
    const { entries, rows } = generateMonth({
      month: '2026-03',
      invoices: 300,
      refundEvery: 7,
      disputeEvery: 11,
      currencies: ['usd', 'eur', 'jpy'],
      settlement,
    });
    // Every row settles in USD; the ledger has USD, EUR and JPY entries.
    expect(new Set(rows.map((r) => r.currency))).toEqual(new Set(['usd']));
    const fx = rows.filter((r) => r.customerFacingCurrency === 'eur' && r.reportingCategory === 'charge');
    expect(fx.length).toBeGreaterThan(50);
    expect(fx.every((r) => r.grossCents !== r.customerFacingCents)).toBe(true);
    expect(rows.some((r) => r.reportingCategory === 'dispute' && r.customerFacingCents === null)).toBe(true);
    // Through the CSV too: the customer-facing columns are read and signed like gross.
    const parsed = await collect(parseBalanceReport([...balanceReportCsv(rows)].join('')));
    const result = await reconcile('2026-03', entries, parsed);
    expect(result).toMatchObject({ matched: rows.length, missingInLedger: [], missingInStripe: [], amountMismatches: [] });
    for (const t of result.totals) expect(t).toMatchObject({ differenceCents: 0, matchedCents: t.ledger.amountCents });
    expect(result.totals.map((t) => t.currency)).toEqual(['eur', 'jpy', 'usd']);
    // What moved on the balance, in the settlement currency, for the books.
    expect(result.settlement).toEqual([{ currency: 'usd', rows: rows.length, grossCents: rows.reduce((a, r) => a + r.grossCents, 0) }]);

    // A converted amount that differs is not a fault; a customer-facing one that differs is.
    const refund = parsed.find((r) => r.reportingCategory === 'refund' && r.customerFacingCurrency === 'eur')!;
    refund.customerFacingCents! -= 1;
    const dispute = parsed.find((r) => r.reportingCategory === 'dispute' && r.customerFacingCents === null)!;
    dispute.grossCents += 1;
    const again = await reconcile('2026-03', entries, parsed);
    expect(again.amountMismatches.map((m) => [m.entryId, m.comparedOn]).sort()).toEqual([
      [`${dispute.sourceId}#dispute_funds_withdrawn`, 'settlement'],
      [refund.sourceId, 'customer_facing'],
    ]);
    expect(again.matched).toBe(rows.length - 2);
  });

  it('reconciles the UTC month only: rows at the edges of the month are placed by created_utc, the others counted as outside', async () => {
    const at = (id: string, createdUtc: string) => ({
      line: 0,
      balanceTransactionId: `txn_${id}`,
      createdUtc,
      currency: 'usd',
      grossCents: 1499,
      customerFacingCents: 1499,
      customerFacingCurrency: 'usd',
      reportingCategory: 'charge',
      sourceId: `ch_${id}`,
      chargeId: `ch_${id}`,
      paymentIntentId: null,
      invoiceId: `in_${id}`,
    });
    const invoice = (id: string, occurredAt: string) =>
      emptyEntry({ entryId: `in_${id}`, kind: 'invoice_paid', occurredAt, currency: 'usd', amountCents: 1499, invoiceId: `in_${id}` });
    // The ledger's March: paid from 1 March 00:00:00 UTC up to, not including, 1 April.
    const ledger = [invoice('first', '2026-03-01T00:00:00.000Z'), invoice('last', '2026-03-31T23:59:59.000Z')];
    const csv = [
      'balance_transaction_id,created_utc,created,currency,gross,reporting_category,invoice_id,customer_facing_amount,customer_facing_currency',
      // 28 Feb 23:59:59 UTC is 1 March in Berlin: the local column would put it in March.
      'txn_before,2026-02-28 23:59:59,2026-03-01 00:59:59,usd,14.99,charge,in_before,14.99,usd',
      'txn_first,2026-03-01 00:00:00,2026-03-01 01:00:00,usd,14.99,charge,in_first,14.99,usd',
      'txn_last,2026-03-31 23:59:59,2026-04-01 01:59:59,usd,14.99,charge,in_last,14.99,usd',
      'txn_after,2026-04-01 00:00:00,2026-04-01 02:00:00,usd,14.99,charge,in_after,14.99,usd',
    ].join('\r\n');
    const result = await reconcile('2026-03', ledger, parseBalanceReport(csv));
    expect(result).toMatchObject({ matched: 2, outsideMonth: 2, missingInLedger: [], missingInStripe: [], amountMismatches: [] });
    // The API job's rows pass through the same filter.
    const api = await reconcile('2026-03', ledger, [at('first', '2026-03-01T00:00:00.000Z'), at('late', '2026-04-01T00:00:00.000Z')]);
    expect(api).toMatchObject({ matched: 1, outsideMonth: 1, missingInStripe: [{ entryId: 'in_last' }] });
  });

  it('matches a charge without invoice id through an invoice payment link, and never matches one row twice', async () => {
    const invoice = emptyEntry({
      entryId: 'in_1',
      kind: 'invoice_paid',
      occurredAt: '2026-03-02T00:00:00Z',
      currency: 'usd',
      amountCents: 1499,
      totalCents: 1499,
      invoiceId: 'in_1',
    });
    const link = emptyEntry({
      entryId: 'inpay_1',
      kind: 'invoice_payment',
      occurredAt: '2026-03-02T00:00:00Z',
      currency: 'usd',
      amountCents: 1499,
      invoiceId: 'in_1',
      paymentIntentId: 'pi_1',
    });
    const row: ReportRow = {
      line: 0,
      balanceTransactionId: 'txn_1',
      createdUtc: '2026-03-02T00:00:00.000Z',
      currency: 'usd',
      grossCents: 1499,
      customerFacingCents: 1499,
      customerFacingCurrency: 'usd',
      reportingCategory: 'charge',
      sourceId: 'ch_1',
      chargeId: 'ch_1',
      paymentIntentId: 'pi_1',
      invoiceId: null,
    };
    const result = await reconcile('2026-03', [invoice, link], [row, { ...row, balanceTransactionId: 'txn_2' }]);
    expect(result.matched).toBe(1);
    expect(result.missingInLedger).toMatchObject([{ balanceTransactionId: 'txn_2', reason: 'already_matched' }]);
  });

  it('matches a refund_failure row to the refund_failed entry, by the failed refund id or the failure balance transaction', async () => {
    const base = {
      line: 0,
      createdUtc: '2026-03-09T00:00:00.000Z',
      currency: 'usd',
      chargeId: 'ch_1',
      paymentIntentId: null,
      invoiceId: null,
    };
    const refund = emptyEntry({
      entryId: 're_1',
      kind: 'refund',
      occurredAt: '2026-03-02T00:00:00Z',
      currency: 'usd',
      amountCents: 500,
      refundIds: ['re_1'],
    });
    const failed = emptyEntry({
      entryId: 're_1#refund_failed',
      kind: 'refund_failed',
      occurredAt: '2026-03-09T00:00:00Z',
      currency: 'usd',
      amountCents: 500,
      refundIds: ['re_1'],
    });
    const failedByTxn = emptyEntry({
      entryId: 're_2#refund_failed',
      kind: 'refund_failed',
      occurredAt: '2026-03-09T00:00:00Z',
      currency: 'usd',
      amountCents: 300,
      refundIds: ['re_2'],
      balanceTransactionId: 'txn_f2',
    });
    const result = await reconcile(
      '2026-03',
      [refund, failed, failedByTxn],
      [
        {
          ...base,
          balanceTransactionId: 'txn_r1',
          grossCents: -500,
          customerFacingCents: -500,
          customerFacingCurrency: 'usd',
          reportingCategory: 'refund',
          sourceId: 're_1',
        },
        // The money of the failed refund comes back: positive, its source the refund.
        {
          ...base,
          balanceTransactionId: 'txn_f1',
          grossCents: 500,
          customerFacingCents: 500,
          customerFacingCurrency: 'usd',
          reportingCategory: 'refund_failure',
          sourceId: 're_1',
        },
        {
          ...base,
          balanceTransactionId: 'txn_f2',
          grossCents: 300,
          customerFacingCents: 300,
          customerFacingCurrency: 'usd',
          reportingCategory: 'refund_failure',
          sourceId: 're_other',
        },
      ],
    );
    expect(result).toMatchObject({ matched: 3, missingInLedger: [], missingInStripe: [], amountMismatches: [], ignored: {} });
    expect(result.totals).toMatchObject([{ currency: 'usd', differenceCents: 0, ledger: { amountCents: 300 } }]);
    // Without the reversal in the ledger, Stripe's refund_failure row is a lost webhook, not ignored.
    const lost = await reconcile(
      '2026-03',
      [refund],
      [
        {
          ...base,
          balanceTransactionId: 'txn_f1',
          grossCents: 500,
          customerFacingCents: 500,
          customerFacingCurrency: 'usd',
          reportingCategory: 'refund_failure',
          sourceId: 're_1',
        },
      ],
    );
    expect(lost.missingInLedger).toMatchObject([{ balanceTransactionId: 'txn_f1', reportingCategory: 'refund_failure' }]);
  });

  it('matches disputes by dispute id and balance transaction id', async () => {
    const withdrawn = emptyEntry({
      entryId: 'dp_1#dispute_funds_withdrawn',
      kind: 'dispute_funds_withdrawn',
      occurredAt: '2026-03-02T00:00:00Z',
      currency: 'usd',
      amountCents: 1499,
      disputeId: 'dp_1',
      balanceTransactionId: 'txn_d1',
    });
    const reinstated = emptyEntry({
      entryId: 'dp_1#dispute_funds_reinstated',
      kind: 'dispute_funds_reinstated',
      occurredAt: '2026-03-09T00:00:00Z',
      currency: 'usd',
      amountCents: 1499,
      disputeId: 'dp_1',
    });
    const base = {
      line: 0,
      createdUtc: '2026-03-09T00:00:00.000Z',
      currency: 'usd',
      customerFacingCents: null,
      customerFacingCurrency: null,
      chargeId: null,
      paymentIntentId: null,
      invoiceId: null,
    };
    const result = await reconcile(
      '2026-03',
      [withdrawn, reinstated],
      [
        { ...base, balanceTransactionId: 'txn_d1', grossCents: -1499, reportingCategory: 'dispute', sourceId: 'dp_other' },
        { ...base, balanceTransactionId: 'txn_d2', grossCents: 1499, reportingCategory: 'dispute_reversal', sourceId: 'dp_1' },
      ],
    );
    expect(result).toMatchObject({ matched: 2, missingInLedger: [], missingInStripe: [], amountMismatches: [] });
  });
});

describe('reconciliation a day at a time (the job)', () => {
  const { entries, rows } = generateMonth({
    month: '2026-03',
    invoices: 600,
    refundEvery: 7,
    disputeEvery: 13,
    currencies: ['usd', 'eur'],
    settlement: { eur: { currency: 'usd', rate: 1.0834 } },
    invoiceColumn: false,
  });
  const byDay = (list: readonly LedgerEntry[]) => {
    const days = new Map<string, LedgerEntry[]>();
    for (const e of list) days.set(e.occurredAt.slice(0, 10), [...(days.get(e.occurredAt.slice(0, 10)) ?? []), e]);
    return days;
  };
  const run = async (list: readonly LedgerEntry[], rowList: readonly ReportRow[], order: 'asc' | 'desc') => {
    const days = byDay(list);
    const read: string[] = [];
    const sorted = [...rowList].sort((a, b) => (order === 'asc' ? 1 : -1) * a.createdUtc.localeCompare(b.createdUtc));
    const result = await reconcileByDay({
      month: '2026-03',
      ledgerDay: async function* (day) {
        read.push(day);
        yield* days.get(day) ?? [];
      },
      rows: (async function* () {
        yield* sorted;
      })(),
    });
    return { result, read };
  };

  it('gives the whole-month result in either time order, reading each day of the ledger once', async () => {
    const whole = await reconcile('2026-03', entries, rows);
    for (const order of ['asc', 'desc'] as const) {
      const { result, read } = await run(entries, rows, order);
      expect(result, order).toEqual(whole);
      expect(result).toMatchObject({ matched: rows.length, counts: { missingInLedger: 0, missingInStripe: 0, amountMismatches: 0 } });
      expect(new Set(read).size).toBe(read.length);
      expect(read).toHaveLength(31);
    }
  });

  it('matches a charge made just before midnight to its invoice paid just after, and reports what is missing on either side', async () => {
    // An invoice paid a second after midnight on the 12th whose charge is dated a second before it.
    const link = entries.find((e) => e.kind === 'invoice_payment' && e.occurredAt >= '2026-03-12T00:00:00')!;
    const day = link.occurredAt.slice(0, 10);
    const moved = entries.map((e) =>
      e.entryId === link.invoiceId || e.entryId === link.entryId ? { ...e, occurredAt: `${day}T00:00:01.000Z` } : e,
    );
    const chargeAt = new Date(Date.parse(`${day}T00:00:00Z`) - 1000).toISOString();
    const shifted = rows.map((r) =>
      r.reportingCategory === 'charge' && r.paymentIntentId === link.paymentIntentId ? { ...r, createdUtc: chargeAt } : r,
    );
    expect(shifted.filter((r) => r.createdUtc === chargeAt)).toHaveLength(1);
    const dropped = moved.filter((e) => e.entryId !== entries.find((x) => x.kind === 'refund')!.entryId);
    for (const order of ['asc', 'desc'] as const) {
      const { result } = await run(dropped, shifted, order);
      expect(result.counts, order).toEqual({ missingInLedger: 1, missingInStripe: 0, amountMismatches: 0 });
      expect(result.missingInLedger[0]!.reportingCategory).toBe('refund');
    }
    // A day no transaction falls on still has its entries read, and they show as missing in Stripe.
    const { result } = await run(
      entries,
      rows.filter((r) => !r.createdUtc.startsWith('2026-03-20')),
      'desc',
    );
    expect(result.counts.missingInStripe).toBe(
      entries.filter((e) => e.kind !== 'invoice_payment' && e.occurredAt.startsWith('2026-03-20')).length,
    );
  });

  it('refuses rows out of time order instead of letting go of days too early', async () => {
    const mixed = [...rows].sort((a, b) => a.createdUtc.localeCompare(b.createdUtc));
    mixed.push(mixed[0]!);
    await expect(
      reconcileByDay({
        month: '2026-03',
        ledgerDay: async function* () {},
        rows: (async function* () {
          yield* mixed;
        })(),
      }),
    ).rejects.toThrow(/out of time order/);
  });
});
