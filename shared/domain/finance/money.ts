/** Stripe's report amounts (decimal major units) to minor units, with the one currency table (domain/money.ts). */
import { currencyExponent } from '../money';

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
