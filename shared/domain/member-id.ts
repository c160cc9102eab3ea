import { regex, string } from '../validation';

/** The shop's own customer id (contract: 1–128 chars of `[A-Za-z0-9_.:-]`). */
export const memberIdSchema = string().check(regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 _ . : -'));
