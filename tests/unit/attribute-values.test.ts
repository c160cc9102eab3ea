import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToNative, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromAttributeMap, fromAttributeValue } from '#shared/storage/attribute-values';

/** Any wire value DynamoDB can return, sets and binary included, numbers of every size. */
const number = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.constantFrom('9007199254740991', '9007199254740992', '-9007199254740993', '1e3', '0.1', '-0'),
);
const { value } = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.record({ S: fc.string() }),
    fc.record({ N: number }),
    fc.record({ BOOL: fc.boolean() }),
    fc.constant({ NULL: true }),
    fc.record({ SS: fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 3 }) }),
    fc.record({ NS: fc.uniqueArray(fc.integer().map(String), { minLength: 1, maxLength: 3 }) }),
    fc.record({ B: fc.uint8Array({ maxLength: 4 }) }),
    fc.record({ L: fc.array(tie('value') as fc.Arbitrary<AttributeValue>, { maxLength: 4 }) }),
    fc.record({ M: fc.dictionary(fc.string(), tie('value') as fc.Arbitrary<AttributeValue>, { maxKeys: 4 }) }),
  ) as fc.Arbitrary<AttributeValue>,
}));

/** The value, or the error message: the SDK refuses some numbers (1e+21 as an integer), and so must we. */
const outcome = (fn: () => unknown) => {
  try {
    return { value: fn() };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

describe('fromAttributeValue (the hot read’s converter)', () => {
  it('gives what the SDK’s unmarshall gives, for any value', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(outcome(() => fromAttributeValue(v))).toEqual(outcome(() => convertToNative(v)));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      // `__proto__` apart: the SDK's unmarshall assigns it, replacing the prototype (tested below).
      fc.property(
        fc.dictionary(
          fc.string().filter((k) => k !== '__proto__'),
          value,
          { maxKeys: 6 },
        ),
        (item) => {
          expect(outcome(() => fromAttributeMap(item))).toEqual(outcome(() => unmarshall(item)));
        },
      ),
      { numRuns: 500 },
    );
    const odd = fromAttributeMap(JSON.parse('{"__proto__":{"S":"x"},"a":{"N":"1"}}'));
    expect(Object.getPrototypeOf(odd)).toBe(Object.prototype);
    expect(Object.keys(odd)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(odd, '__proto__')?.value).toBe('x');
  });

  it('keeps the SDK’s handling of numbers beyond the safe range', () => {
    expect(fromAttributeValue({ N: '12345678901234567890' })).toBe(12345678901234567890n);
    expect(fromAttributeValue({ N: '1499' })).toBe(1499);
    expect(fromAttributeValue({ N: '1e400' })).toBe(Number.POSITIVE_INFINITY);
  });
});
