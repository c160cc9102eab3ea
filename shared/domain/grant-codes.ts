import { randomInt } from 'node:crypto';

/**
 * Crockford-style alphabet without the look-alikes 0/O, 1/I/L and U: codes get read aloud and typed
 * from emails. 30 symbols × 17 characters ≈ 83 bits from the CSPRNG, shown as XXXX-XXXX-XXXX-XXXXX.
 */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 17;

export function generateGrantCode(): string {
  let raw = '';
  for (let i = 0; i < LENGTH; i++) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
}

export const GRANT_CODE_PATTERN = /^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{5}$/;

/** Bits of entropy of one code, asserted by a unit test against the issue's ≥ 80 bits. */
export const GRANT_CODE_BITS = LENGTH * Math.log2(CODE_ALPHABET.length);
