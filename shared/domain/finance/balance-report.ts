/**
 * Reads Stripe's "Balance change from activity — itemized" CSV (balance_change_from_activity.itemized.3)
 * as finance downloads it, streaming: a row at a time, never the whole file in memory. Columns are
 * found by header name (Stripe's column sets vary with the chosen columns), so order and extra columns
 * do not matter; a UTF-8 BOM and CRLF line ends are accepted. Every error names the line (1 = header)
 * and the column.
 */
import { Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { AmountFormatError, toMinorUnits } from './money';

export interface ReportRow {
  /** Line of the file the row ends on (1 is the header). */
  line: number;
  balanceTransactionId: string;
  createdUtc: string | null;
  /** The settlement currency: what the balance moved in (`currency`, `gross`). */
  currency: string;
  /** `gross` in minor units, signed as Stripe reports it (refunds and disputes negative). */
  grossCents: number;
  /**
   * What the customer was charged or refunded (`customer_facing_amount` / `_currency`), in minor
   * units of its own currency and signed like `gross`. This is what the ledger books, so matching
   * compares it, not `gross`, which is converted when the account settles in another currency.
   * Null when the report leaves it empty (Stripe fills it for charges and refunds).
   */
  customerFacingCents: number | null;
  customerFacingCurrency: string | null;
  reportingCategory: string;
  sourceId: string | null;
  chargeId: string | null;
  paymentIntentId: string | null;
  invoiceId: string | null;
}

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

export const REQUIRED_COLUMNS = ['balance_transaction_id', 'currency', 'gross', 'reporting_category'] as const;
// `fee` is not read: matching needs gross amounts only, so a fee cell finance cannot vouch for (a
// blank, a note) must not reject an otherwise good file.
const OPTIONAL_COLUMNS = ['created_utc', 'source_id', 'charge_id', 'payment_intent_id', 'invoice_id', 'customer_facing_amount', 'customer_facing_currency'] as const;
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
        createdUtc: orNull('created_utc'),
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
    throw new CsvFormatError(line, 'customer_facing_currency', currencyText ? `"${currencyText}" is not a currency code` : 'empty while customer_facing_amount is set');
  }
  if (amountText === '') throw new CsvFormatError(line, 'customer_facing_amount', 'empty while customer_facing_currency is set');
  const cents = Math.abs(parse('customer_facing_amount', currency));
  return { cents: grossCents < 0 ? -cents : cents, currency };
}
