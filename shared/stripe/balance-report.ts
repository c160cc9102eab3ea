/**
 * Reads Stripe's "Balance change from activity — itemized" CSV (balance_change_from_activity.itemized.3)
 * as finance downloads it, streaming: a row at a time, never the whole file in memory. Columns are
 * found by header name (Stripe's column sets vary with the chosen columns), so order and extra columns
 * do not matter; a UTF-8 BOM and CRLF line ends are accepted. Every error names the line (1 = header)
 * and the column.
 */
import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { AmountFormatError, toMinorUnits } from '../domain/finance/money';
import type { ReportRow } from '../domain/finance/reconciliation';

export type { ReportRow } from '../domain/finance/reconciliation';

export class CsvFormatError extends Error {
  override name = 'CsvFormatError';
  constructor(
    readonly line: number,
    readonly column: string,
    readonly problem: string,
  ) {
    super(`line ${line}, column "${column}": ${problem}`);
  }
}

/**
 * `created_utc` is required: months are UTC months, and the Dashboard's `created` column is in the
 * time zone chosen at download (the account's by default), so rows near midnight on the 1st would
 * otherwise be counted in the wrong month.
 */
export const REQUIRED_COLUMNS = ['balance_transaction_id', 'currency', 'gross', 'reporting_category', 'created_utc'] as const;
// `fee` is not read: matching needs gross amounts only, so a fee cell finance cannot vouch for (a
// blank, a note) must not reject an otherwise good file.
const OPTIONAL_COLUMNS = [
  'source_id',
  'charge_id',
  'payment_intent_id',
  'invoice_id',
  'customer_facing_amount',
  'customer_facing_currency',
] as const;
type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];

const CURRENCY = /^[a-z]{3}$/;

function toStream(input: string | Readable | AsyncIterable<string | Buffer>): Readable {
  if (typeof input === 'string') return Readable.from([input]);
  if (input instanceof Readable) return input;
  return Readable.from(input);
}

export async function* parseBalanceReport(input: string | Readable | AsyncIterable<string | Buffer>): AsyncGenerator<ReportRow> {
  const parser = toStream(input).pipe(
    // relax_quotes: a stray quote inside an unquoted field (a JSON file, say) reads as text, so the
    // error names the missing columns instead of a quoting detail.
    parse({ bom: true, info: true, skip_empty_lines: true, relax_column_count: false, relax_quotes: true, trim: false }),
  );
  let index: Record<Column, number> | undefined;
  let header: string[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = info.lines;
      if (!index) {
        header = record.map((h) => h.trim().toLowerCase());
        const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
        if (missing.length === 1 && missing[0] === 'created_utc' && header.includes('created')) {
          throw new CsvFormatError(
            line,
            'created_utc',
            'required column "created_utc" missing: the report has only "created", which is in the time zone chosen at download, so rows near midnight on the 1st cannot be placed in a UTC month. ' +
              'Download the report again with the "created_utc" column selected (Dashboard: Reports → Balance → "Balance change from activity" → Download, itemized, columns), ' +
              'or run balance_change_from_activity.itemized.3 through the Reporting API with created_utc in parameters[columns].',
          );
        }
        if (missing.length) {
          throw new CsvFormatError(
            line,
            missing[0]!,
            `required column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} missing: is this Stripe's "Balance change from activity — itemized" report?`,
          );
        }
        index = Object.fromEntries([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].map((c) => [c, header.indexOf(c)])) as Record<Column, number>;
        continue;
      }
      const cell = (c: Column) => (index![c] >= 0 ? (record[index![c]] ?? '').trim() : '');
      const orNull = (c: Column) => cell(c) || null;
      const id = cell('balance_transaction_id');
      if (!id) throw new CsvFormatError(line, 'balance_transaction_id', 'empty');
      const currency = cell('currency').toLowerCase();
      if (!CURRENCY.test(currency)) throw new CsvFormatError(line, 'currency', `"${cell('currency')}" is not a currency code`);
      const category = cell('reporting_category');
      if (!category) throw new CsvFormatError(line, 'reporting_category', 'empty');
      const amount = (c: 'gross' | 'customer_facing_amount', inCurrency: string) => {
        try {
          return toMinorUnits(cell(c), inCurrency);
        } catch (error) {
          throw new CsvFormatError(line, c, error instanceof AmountFormatError ? error.message : 'not a number');
        }
      };
      const grossCents = amount('gross', currency);
      const facing = customerFacing(line, cell('customer_facing_amount'), cell('customer_facing_currency'), grossCents, amount);
      yield {
        line,
        balanceTransactionId: id,
        createdUtc: utcTimestamp(line, cell('created_utc')),
        currency,
        grossCents,
        customerFacingCents: facing?.cents ?? null,
        customerFacingCurrency: facing?.currency ?? null,
        reportingCategory: category,
        sourceId: orNull('source_id'),
        chargeId: orNull('charge_id'),
        paymentIntentId: orNull('payment_intent_id'),
        invoiceId: orNull('invoice_id'),
      };
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const e = error as CsvError & { lines?: number; index?: number };
      const column = typeof e.index === 'number' && header[e.index] ? header[e.index]! : 'record';
      throw new CsvFormatError(e.lines ?? 0, column, error.message.replace(/^Invalid Record Length: /, 'wrong number of fields: '));
    }
    throw error;
  }
  if (!index) throw new CsvFormatError(1, 'header', 'the file is empty');
}

/**
 * The customer-facing amount of a row, or null when the report leaves it empty. Its direction is
 * taken from `gross` (the balance's view: a refund is negative), so the comparison does not depend
 * on how an export signs this column; its size and currency are the report's.
 */
function customerFacing(
  line: number,
  amountText: string,
  currencyText: string,
  grossCents: number,
  parse: (c: 'customer_facing_amount', currency: string) => number,
): { cents: number; currency: string } | null {
  if (amountText === '' && currencyText === '') return null;
  const currency = currencyText.toLowerCase();
  if (!CURRENCY.test(currency)) {
    throw new CsvFormatError(
      line,
      'customer_facing_currency',
      currencyText ? `"${currencyText}" is not a currency code` : 'empty while customer_facing_amount is set',
    );
  }
  if (amountText === '') throw new CsvFormatError(line, 'customer_facing_amount', 'empty while customer_facing_currency is set');
  const cents = Math.abs(parse('customer_facing_amount', currency));
  return { cents: grossCents < 0 ? -cents : cents, currency };
}

/** Stripe writes `2026-03-01 12:34:56`; an ISO form with `T` and `Z` (or +00:00) is accepted too. */
const UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(?:Z|[+-]00:?00| UTC)?$/;

function utcTimestamp(line: number, text: string): string {
  const m = UTC_TIMESTAMP.exec(text);
  const date = m ? new Date(`${m[1]}T${m[2]}Z`) : null;
  // The round trip rejects dates that do not exist (2026-02-30), which Date would roll over.
  if (!m || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== m[1]) {
    throw new CsvFormatError(line, 'created_utc', text ? `"${text}" is not a UTC date and time (YYYY-MM-DD HH:MM:SS)` : 'empty');
  }
  return date.toISOString();
}
