/**
 * DynamoDB's wire values to plain data, for the checkout's hot read only (getEntitlementData).
 * `@aws-sdk/util-dynamodb`'s `unmarshall` is generic (options, number wrapping, sets, binary) and was
 * the largest part of the entitlement handler's own CPU (bench/entitlement.ts, docs/decisions.md);
 * the types our items hold (S, N, BOOL, NULL, M, L) convert here directly, about 3× faster. Anything
 * else, and numbers outside the safe integer range, go to the SDK's converter, so the result is the
 * SDK's in every case (tests/unit/attribute-values.test.ts compares the two on arbitrary values).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToNative } from '@aws-sdk/util-dynamodb';

type Wire = Record<string, unknown>;

export function fromAttributeValue(value: AttributeValue): unknown {
  const v = value as unknown as Wire;
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) {
    const n = Number(v.N);
    // The SDK turns finite numbers beyond the safe range into BigInt (or throws): leave those to it.
    if ((n <= Number.MAX_SAFE_INTEGER && n >= Number.MIN_SAFE_INTEGER) || !Number.isFinite(n)) return n;
    return convertToNative(value);
  }
  if (v.BOOL !== undefined) return Boolean(v.BOOL);
  if (v.NULL !== undefined) return null;
  if (v.M !== undefined) return fromAttributeMap(v.M as Record<string, AttributeValue>);
  if (v.L !== undefined) {
    const list = v.L as AttributeValue[];
    const out = new Array<unknown>(list.length);
    for (let i = 0; i < list.length; i++) out[i] = fromAttributeValue(list[i]!);
    return out;
  }
  return convertToNative(value);
}

/** An item (or a map attribute) as plain data, like `unmarshall(item)`. */
export function fromAttributeMap(map: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(map)) {
    // An attribute named `__proto__` stays an attribute: assigning it would replace the object's prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: fromAttributeValue(map[key]!), enumerable: true, writable: true, configurable: true });
    else out[key] = fromAttributeValue(map[key]!);
  }
  return out;
}
