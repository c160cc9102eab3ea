/**
 * A gift's money (docs/finance.md, "Gifts"; policy: docs/gifts.md). Pure: the gift's facts (its sale,
 * its claim if any, the reversals tied to its payment) in, its figures per month out, added to the
 * gift's own finance account (`gift:<purchaseId>`): a gift is nobody's subscription, so it moves no
 * member count, MRR or churn.
 *
 * Policy (ASC 606, a prepaid right to future service, like a gift card):
 * - the sale is billed and collected in its payment month and deferred in full: nothing is delivered
 *   until someone claims it;
 * - claimed, it is recognized ratably over the gifted service, from the day the service starts (the
 *   claim, or the end of a cancelled membership it follows), by the same rule as an invoice
 *   (recognition.ts: by time, largest remainder);
 * - unclaimed by its deadline (`claimBy`), what is left is recognized as breakage in the month the
 *   deadline falls in (ASC 606-10-55-48: the seller does not expect to be entitled to breakage before
 *   the right lapses, because it keeps no history of how many gifts go unclaimed);
 * - a refund (or a lost dispute) of its payment is a reversal like an invoice's (refunds.ts): it comes
 *   off the deferred balance first, so a gift refunded before it was claimed recognizes nothing.
 */
import type { LedgerEntry } from './ledger';
import { monthOf } from './months';
import { type RefundEvent, refundAdjustedSchedule } from './refunds';

export interface GiftMonth {
  month: string;
  recognizedCents: number;
  deferredAtEndCents: number;
  refundedNetCents: number;
  /** Recognized because the gift expired unclaimed (part of `recognizedCents`). */
  breakageCents: number;
}

/**
 * The schedule of a gift sale: over the claimed service, or a single instant at the claim deadline
 * (breakage) while nobody has claimed it. The deadline is fixed at payment, so a gift that is claimed
 * later only ever moves figures of months not over yet.
 */
export function giftSchedule(sale: LedgerEntry, claim: LedgerEntry | null, reversals: readonly RefundEvent[]): GiftMonth[] {
  const claimBy = sale.gift?.claimBy ?? sale.occurredAt;
  const servicePeriod = claim?.servicePeriod ?? { start: claimBy, end: new Date(Date.parse(claimBy) + 1).toISOString() };
  const breakageMonth = claim ? null : monthOf(claimBy);
  return refundAdjustedSchedule({ ...sale, servicePeriod, lines: [] }, reversals).map((m) => ({
    month: m.month,
    recognizedCents: m.recognizedCents,
    deferredAtEndCents: m.deferredAtEndCents,
    refundedNetCents: m.refundedNetCents,
    breakageCents: m.month === breakageMonth ? m.recognizedCents : 0,
  }));
}
