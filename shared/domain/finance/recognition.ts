/**
 * Ratable revenue recognition. An invoice's amount net of tax is earned evenly over its service
 * period, measured in time (for periods that start and end at midnight UTC this is exactly "by
 * day"; a period starting at 14:37 is prorated to the second, which is the same rule with finer days).
 *
 * Rounding — largest remainder (Hamilton's method), so months never lose or invent a cent:
 *   1. each service month m gets floor(net × seconds_m / seconds_total) cents;
 *   2. the cents still missing (fewer than the number of months) go one each to the months with the
 *      largest remainders (net × seconds_m mod seconds_total), ties to the earlier month.
 * The shares add up to `net` exactly, and each differs from its exact proportional share by < 1 cent.
 *
 * Catch-up: nothing is recognized before the invoice is paid. Service months before the payment
 * month (an invoice paid late, after retries) are recognized in the payment month, so a closed
 * month's figures never change when a late payment arrives.
 *
 * A slice exists for every month from min(payment month, first service month) to the last service
 * month, so the deferred balance at any month end is the sum of that month's slices.
 */
import { addMonths, monthEnd, monthOf, monthStart, monthsBetween } from './months';

export interface RecognitionInput {
  netCents: number;
  paidAt: string;
  /** Service period [start, end); null (or empty) means a point-in-time sale, recognized when paid. */
  servicePeriod: { start: string; end: string } | null;
}

export interface ScheduleMonth {
  month: string;
  recognizedCents: number;
  /** net − everything recognized up to and including this month. */
  deferredAtEndCents: number;
  /** Whether the service period covers part of this month (for member counts). */
  coversMonth: boolean;
}

/** Splits `total` into integer parts proportional to `weights` by the largest-remainder rule. */
export function allocateLargestRemainder(total: number, weights: readonly number[]): number[] {
  if (!Number.isSafeInteger(total)) throw new RangeError('total must be a safe integer');
  const sign = total < 0 ? -1n : 1n;
  const amount = BigInt(Math.abs(total));
  const w = weights.map((x) => {
    if (!Number.isSafeInteger(x) || x < 0) throw new RangeError('weights must be non-negative safe integers');
    return BigInt(x);
  });
  const sum = w.reduce((a, b) => a + b, 0n);
  if (sum === 0n) {
    if (amount !== 0n) throw new RangeError('cannot allocate a non-zero total over zero weights');
    return weights.map(() => 0);
  }
  const floors = w.map((x) => (amount * x) / sum);
  const remainders = w.map((x, i) => ({ i, r: (amount * x) % sum }));
  let missing = amount - floors.reduce((a, b) => a + b, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (missing === 0n) break;
    floors[i]! += 1n;
    missing -= 1n;
  }
  return floors.map((x) => Number(x * sign));
}

export function recognitionSchedule(input: RecognitionInput): ScheduleMonth[] {
  const paidMonth = monthOf(input.paidAt);
  const start = input.servicePeriod ? Date.parse(input.servicePeriod.start) : NaN;
  const end = input.servicePeriod ? Date.parse(input.servicePeriod.end) : NaN;
  if (!(end > start)) {
    return [{ month: paidMonth, recognizedCents: input.netCents, deferredAtEndCents: 0, coversMonth: input.servicePeriod !== null }];
  }
  const firstService = monthOf(new Date(start));
  const lastService = monthOf(new Date(end - 1));
  const serviceMonths = monthsBetween(firstService, lastService);
  const seconds = serviceMonths.map((m) => {
    const from = Math.max(start, monthStart(m).getTime());
    const to = Math.min(end, monthEnd(m).getTime());
    // Whole milliseconds are exact integers; the ratio is what matters.
    return Math.max(0, to - from);
  });
  const shares = allocateLargestRemainder(input.netCents, seconds);
  const shareOf = new Map(serviceMonths.map((m, i) => [m, shares[i]!]));

  const first = paidMonth < firstService ? paidMonth : firstService;
  const last = paidMonth > lastService ? paidMonth : lastService;
  let cumulative = 0;
  let caughtUp = 0;
  const out: ScheduleMonth[] = [];
  for (const month of monthsBetween(first, last)) {
    let recognized = 0;
    if (month < paidMonth) caughtUp += shareOf.get(month) ?? 0;
    else if (month === paidMonth) recognized = caughtUp + (shareOf.get(month) ?? 0);
    else recognized = shareOf.get(month) ?? 0;
    cumulative += month < paidMonth ? 0 : recognized;
    // Before payment nothing is billed, so nothing is deferred either.
    const deferred = month < paidMonth ? 0 : input.netCents - cumulative;
    out.push({
      month,
      recognizedCents: recognized,
      deferredAtEndCents: deferred,
      coversMonth: shareOf.has(month) && seconds[serviceMonths.indexOf(month)]! > 0,
    });
  }
  // Months before payment carry no money (their share was caught up in the payment month).
  return out.filter((s) => s.month >= paidMonth);
}

export const previousMonth = (month: string) => addMonths(month, -1);

/** A part of an invoice earned over its own period: a subscription line (a proration credit is negative). */
export interface RecognitionLine {
  amountCents: number;
  period: { start: string; end: string };
}

/**
 * An invoice's schedule when its lines cover different periods: each line is earned over its own
 * period, so a proration credit for the unused days of the old price (negative, dated over those
 * days) comes off exactly the months the old invoice still recognizes, instead of being spread over
 * the new period. Lines with the same period are summed first, so an invoice whose lines share one
 * period (the usual cycle invoice) gets exactly `recognitionSchedule`'s figures. What the lines do
 * not explain (net − Σ lines: one-off items on a subscription invoice) is spread over the whole
 * service period, as before. Each part is rounded by the largest remainder on its own, so the parts
 * still add up to the net exactly.
 */
export function invoiceRecognitionSchedule(input: RecognitionInput & { lines?: readonly RecognitionLine[] }): ScheduleMonth[] {
  const lines = input.lines ?? [];
  const periods = new Map<string, { period: RecognitionLine['period']; amountCents: number }>();
  for (const l of lines) {
    const key = `${l.period.start}/${l.period.end}`;
    const group = periods.get(key) ?? { period: l.period, amountCents: 0 };
    group.amountCents += l.amountCents;
    periods.set(key, group);
  }
  if (periods.size <= 1) return recognitionSchedule(input);
  const explained = lines.reduce((a, l) => a + l.amountCents, 0);
  const parts = [...periods.values()].map((g) =>
    recognitionSchedule({ netCents: g.amountCents, paidAt: input.paidAt, servicePeriod: g.period }),
  );
  if (input.netCents !== explained) parts.push(recognitionSchedule({ ...input, netCents: input.netCents - explained }));
  const span = recognitionSchedule(input);
  const last = [span.at(-1)!.month, ...parts.map((p) => p.at(-1)!.month)].reduce((a, b) => (b > a ? b : a));
  let cumulative = 0;
  return monthsBetween(monthOf(input.paidAt), last).map((month) => {
    const recognized = parts.reduce((a, p) => a + (p.find((s) => s.month === month)?.recognizedCents ?? 0), 0);
    cumulative += recognized;
    return {
      month,
      recognizedCents: recognized,
      deferredAtEndCents: input.netCents - cumulative,
      coversMonth: span.find((s) => s.month === month)?.coversMonth ?? false,
    };
  });
}
