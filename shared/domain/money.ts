import { regex, string } from '../validation';

/** Lower-case ISO 4217 code, as Stripe and the contract spell it. */
export const currencySchema = string().check(regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 currency code'));

export interface Money {
  amountCents: number;
  currency: string;
}
