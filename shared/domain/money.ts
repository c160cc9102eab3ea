import { regex, string } from '../validation';

/** Lower-case ISO 4217 code, as Stripe and the contract spell it. */
export const currencySchema = string().check(regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 currency code'));

export interface Money {
  amountCents: number;
  currency: string;
}

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

/** 1299 → "12.99"; -5 → "-0.05"; 500 JPY → "500": a plain decimal, for the ledger's spreadsheet column and report files. */
export function formatMinorUnits(cents: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const sign = cents < 0 ? '-' : '';
  const digits = String(Math.abs(cents));
  if (exponent === 0) return sign + digits;
  const padded = digits.padStart(exponent + 1, '0');
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/**
 * Money as a customer reads it, in every email, page and stored term: `1499 usd` → "$14.99",
 * `1500 jpy` → "¥1,500", `1500 kwd` → "KWD 1.500". The decimals are the currency's minor units as
 * Stripe counts them (the table above, the same one finance parses and exports with), never a fixed
 * 100 nor the locale's own idea; the exact decimal string goes to Intl, so no float rounds a cent.
 */
export function formatMoney(amountMinor: number, currency: string, options: { wholeWithoutDecimals?: boolean } = {}): string {
  const code = currency.toUpperCase();
  const exponent = currencyExponent(currency);
  // A chart axis reads "$5", not "$5.00"; an amount with cents always shows them.
  const digits = options.wholeWithoutDecimals && amountMinor % 10 ** exponent === 0 ? 0 : exponent;
  const decimal = (digits === exponent ? formatMinorUnits(amountMinor, currency) : String(amountMinor / 10 ** exponent)) as `${number}`;
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: code,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(decimal);
  } catch {
    // A code Intl refuses (malformed): still the right decimals, and the code as given.
    return `${decimal} ${code}`;
  }
}
