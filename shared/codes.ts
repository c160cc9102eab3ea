import { randomInt } from 'node:crypto';
import { CODE_ALPHABET, GRANT_CODE_LENGTH } from './domain/grant-codes';

/** A fresh coupon or voucher code from the CSPRNG (format and entropy: shared/domain/grant-codes.ts). */
export function generateGrantCode(): string {
  let raw = '';
  for (let i = 0; i < GRANT_CODE_LENGTH; i++) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
}
