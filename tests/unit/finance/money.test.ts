import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AmountFormatError, toMinorUnits } from '#shared/domain/finance/money';
import { currencyExponent, formatMinorUnits } from '#shared/domain/money';

describe('minor units per currency', () => {
  it('converts decimal strings without floating point error', () => {
    expect(toMinorUnits('12.99', 'usd')).toBe(1299);
    expect(toMinorUnits('0.29', 'usd')).toBe(29);
    expect(toMinorUnits('-14.99', 'eur')).toBe(-1499);
    expect(toMinorUnits('1,234.50', 'usd')).toBe(123450);
    expect(toMinorUnits('7', 'usd')).toBe(700);
    expect(toMinorUnits('1500', 'jpy')).toBe(1500);
    expect(toMinorUnits('1500.00', 'jpy')).toBe(1500);
    expect(toMinorUnits('1.234', 'kwd')).toBe(1234);
  });

  it('refuses what is not an amount, or has more decimals than the currency', () => {
    for (const bad of ['', 'abc', '12.3.4', '1e5', '$12.00', 'NaN']) expect(() => toMinorUnits(bad, 'usd')).toThrow(AmountFormatError);
    expect(() => toMinorUnits('12.999', 'usd')).toThrow(/2 decimal places/);
    expect(() => toMinorUnits('15.5', 'jpy')).toThrow(/0 decimal places/);
  });

  it('formats and parses back to the same minor units for any amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.constantFrom('usd', 'jpy', 'kwd', 'eur'), (cents, currency) => {
        expect(toMinorUnits(formatMinorUnits(cents, currency), currency)).toBe(cents);
      }),
    );
    expect(formatMinorUnits(-5, 'usd')).toBe('-0.05');
    expect(currencyExponent('JPY')).toBe(0);
  });
});
