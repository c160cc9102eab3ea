/**
 * Coupon and voucher codes: Crockford-style alphabet without the look-alikes 0/O, 1/I/L and U, since
 * codes get read aloud and typed from emails. 30 symbols × 17 characters ≈ 83 bits, shown as
 * XXXX-XXXX-XXXX-XXXXX. Generation needs the CSPRNG, so it lives in shared/codes.ts.
 */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const GRANT_CODE_LENGTH = 17;

export const GRANT_CODE_PATTERN = /^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{5}$/;

/** Bits of entropy of one code, asserted by a unit test against the issue's ≥ 80 bits. */
export const GRANT_CODE_BITS = GRANT_CODE_LENGTH * Math.log2(CODE_ALPHABET.length);

/** The stored spelling of a code typed by a person: upper case, dashes where they belong; null when it cannot be one. */
export function normalizeGrantCode(raw: string): string | null {
  const compact = raw.toUpperCase().replace(/[\s-]/g, '');
  const code =
    compact.length === GRANT_CODE_LENGTH
      ? `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8, 12)}-${compact.slice(12)}`
      : raw;
  return GRANT_CODE_PATTERN.test(code) ? code : null;
}
