import { randomInt } from 'node:crypto';
import { CODE_ALPHABET, GRANT_CODE_LENGTH } from './domain/grant-codes';

/** A fresh coupon or voucher code from the CSPRNG (format and entropy: shared/domain/grant-codes.ts). */
export function generateGrantCode(): string {
  let raw = '';
  for (let i = 0; i < GRANT_CODE_LENGTH; i++) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
}

/**
 * A reference a person can read out or type from an email (`CXL-7K4M-Q2RT-9WZH`): the receipt of a
 * cancellation, withdrawal or save offer. 12 symbols of the grant alphabet ≈ 59 bits, from the CSPRNG,
 * so references cannot be guessed to probe for requests.
 */
export function generateReference(prefix: string): string {
  let raw = '';
  for (let i = 0; i < 12; i++) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `${prefix}-${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
}

/** A gift purchase's id (`gp_` and 20 symbols ≈ 99 bits): in Stripe metadata and the buyer's URLs, never guessable. */
export function generatePurchaseId(): string {
  let raw = '';
  for (let i = 0; i < 20; i++) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `gp_${raw.toLowerCase()}`;
}
