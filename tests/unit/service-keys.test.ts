import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearerToken, parseHashedKeySecret, parseServiceKeyPairs, roleForKey } from '#shared/security/service-keys';

describe('service keys', () => {
  const keys = parseServiceKeyPairs('checkout=ck_checkout_1, finance=fk_finance_1,admin=ak_admin_12');

  it('finds the role of a presented key and nothing for an unknown or near-miss key', () => {
    expect(roleForKey('ck_checkout_1', keys)).toBe('checkout');
    expect(roleForKey('fk_finance_1', keys)).toBe('finance');
    expect(roleForKey('ck_checkout_', keys)).toBeNull();
    expect(roleForKey('ck_checkout_1 ', keys)).toBeNull();
    expect(roleForKey('', keys)).toBeNull();
  });

  it('keeps only hashes in memory', () => {
    expect(JSON.stringify(keys)).not.toContain('ck_checkout_1');
  });

  it('refuses malformed configuration with a clear message', () => {
    expect(() => parseServiceKeyPairs('root=abcdefgh')).toThrow(/role=key/);
    expect(() => parseServiceKeyPairs('checkout=short')).toThrow(/8\+ characters/);
  });

  it('reads the hashed Secrets Manager document', () => {
    const hex = createHash('sha256').update('ck_from_secret_1').digest('hex');
    const fromSecret = parseHashedKeySecret(JSON.stringify({ checkout: [hex] }));
    expect(roleForKey('ck_from_secret_1', fromSecret)).toBe('checkout');
    expect(() => parseHashedKeySecret(JSON.stringify({ checkout: ['ck_plaintext'] }))).toThrow(/sha256/);
  });

  it('parses only Bearer credentials', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
