import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toMinorUnits } from '#shared/domain/finance/money';
import { currencyExponent, formatMinorUnits, formatMoney } from '#shared/domain/money';

// Intl separates a currency code from the number with a no-break space.
const NBSP = '\u00a0';

describe('formatMoney', () => {
  it('shows two-decimal currencies with their symbol and cents', () => {
    expect(formatMoney(1499, 'usd')).toBe('$14.99');
    expect(formatMoney(5, 'usd')).toBe('$0.05');
    expect(formatMoney(123456789, 'usd')).toBe('$1,234,567.89');
    expect(formatMoney(-500, 'usd')).toBe('-$5.00');
    expect(formatMoney(1299, 'eur')).toBe('€12.99');
  });

  it('shows a zero-decimal currency (JPY) in whole units: 1500 is ¥1,500, not ¥15', () => {
    expect(formatMoney(1500, 'jpy')).toBe('¥1,500');
    expect(formatMoney(1500, 'JPY')).toBe('¥1,500');
    expect(formatMoney(50000, 'krw')).toBe('₩50,000');
  });

  it('shows a three-decimal currency (KWD) with three decimals', () => {
    expect(formatMoney(1500, 'kwd')).toBe(`KWD${NBSP}1.500`);
    expect(formatMoney(1, 'kwd')).toBe(`KWD${NBSP}0.001`);
    expect(formatMoney(12345678, 'bhd')).toBe(`BHD${NBSP}12,345.678`);
  });

  it('keeps Stripe’s decimals where the locale’s data would round them away', () => {
    // ISO gives UGX no decimals and Stripe agrees; ISK has none in ISO but two in Stripe's amounts.
    expect(formatMoney(1500, 'ugx')).toBe(`UGX${NBSP}1,500`);
    expect(formatMoney(150000, 'isk')).toBe(`ISK${NBSP}1,500.00`);
  });

  it('says the same amount the ledger exports, for any amount and currency', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.constantFrom('usd', 'jpy', 'kwd', 'eur', 'clp', 'omr'), (amount, currency) => {
        const digits = formatMoney(amount, currency).replace(/[^\d.-]/g, '');
        expect(digits).toBe(formatMinorUnits(amount, currency));
        expect(toMinorUnits(digits, currency)).toBe(amount);
        const fraction = digits.split('.')[1] ?? '';
        expect(fraction.length).toBe(currencyExponent(currency));
      }),
    );
  });

  it('falls back to the plain amount and code for a code Intl refuses', () => {
    expect(formatMoney(1500, 'x1')).toBe('15.00 X1');
  });
});
