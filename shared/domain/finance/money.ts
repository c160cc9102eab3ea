/**
 * Minor units per currency. Stripe amounts are integers in the currency's smallest unit; its CSV
 * reports print decimal major units. Zero-decimal currencies (JPY, KRW, ...) have no fraction and
 * three-decimal ones (BHD, KWD, ...) have three (https://docs.stripe.com/currencies).
 */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export function currencyExponent(currency: string): number {
  const c = currency.toLowerCase();
  if (ZERO_DECIMAL.has(c)) return 0;
  if (THREE_DECIMAL.has(c)) return 3;
  return 2;
}

export class AmountFormatError extends Error {
  override name = 'AmountFormatError';
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * "12.99" in major units → 1299 minor units, by string arithmetic (never through a float, which
 * would turn 0.29 into 28.999...). More fraction digits than the currency has are refused unless
 * they are zeros: silently rounding someone's money is worse than an error.
 */
export function toMinorUnits(decimal: string, currency: string): number {
  const text = decimal.trim().replaceAll(',', '');
  const m = DECIMAL.exec(text);
  if (!m) throw new AmountFormatError(`"${decimal}" is not a decimal amount`);
  const exponent = currencyExponent(currency);
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  if (fraction.length > exponent) {
    throw new AmountFormatError(`"${decimal}" has more than ${exponent} decimal places for ${currency.toUpperCase()}`);
  }
  const value = Number(m[2]) * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0');
  if (!Number.isSafeInteger(value)) throw new AmountFormatError(`"${decimal}" is too large`);
  return m[1] === '-' && value !== 0 ? -value : value;
}

/** 1299 → "12.99"; -5 → "-0.05"; 500 JPY → "500". For the spreadsheet column and the report. */
export function formatMinorUnits(cents: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const sign = cents < 0 ? '-' : '';
  const digits = String(Math.abs(cents));
  if (exponent === 0) return sign + digits;
  const padded = digits.padStart(exponent + 1, '0');
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}
