import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyEntry } from '#shared/domain/finance/ledger';
import { allocateLargestRemainder, invoiceRecognitionSchedule, recognitionSchedule } from '#shared/domain/finance/recognition';
import { baseSchedule } from '#shared/domain/finance/refunds';

const DAY = 86_400_000;

describe('largest-remainder allocation', () => {
  it('splits exactly, giving leftover cents to the largest remainders, ties to the earlier part', () => {
    expect(allocateLargestRemainder(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocateLargestRemainder(1499, [17, 14])).toEqual([822, 677]);
    expect(allocateLargestRemainder(-100, [1, 1, 1])).toEqual([-34, -33, -33]);
    expect(allocateLargestRemainder(0, [0, 0])).toEqual([0, 0]);
  });

  it('always sums to the total and stays within one cent of the exact share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e9, max: 1e9 }),
        fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 24 }).filter((w) => w.some((x) => x > 0)),
        (total, weights) => {
          const parts = allocateLargestRemainder(total, weights);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
          const sum = weights.reduce((a, b) => a + b, 0);
          for (const [i, p] of parts.entries()) expect(Math.abs(p - (total * weights[i]!) / sum)).toBeLessThan(1 + 1e-6);
        },
      ),
    );
  });
});

describe('ratable recognition', () => {
  it('spreads a monthly invoice over the days of the two months it covers', () => {
    // 15 Jan → 15 Feb: 17 days in January, 14 in February.
    const s = recognitionSchedule({
      netCents: 1499,
      paidAt: '2026-01-15T00:00:05Z',
      servicePeriod: { start: '2026-01-15T00:00:00Z', end: '2026-02-15T00:00:00Z' },
    });
    expect(s).toEqual([
      { month: '2026-01', recognizedCents: 822, deferredAtEndCents: 677, coversMonth: true },
      { month: '2026-02', recognizedCents: 677, deferredAtEndCents: 0, coversMonth: true },
    ]);
  });

  it('recognizes an annual plan over twelve months, by day', () => {
    const s = recognitionSchedule({
      netCents: 13900,
      paidAt: '2026-01-01T00:00:00Z',
      servicePeriod: { start: '2026-01-01T00:00:00Z', end: '2027-01-01T00:00:00Z' },
    });
    expect(s).toHaveLength(12);
    expect(s[0]).toMatchObject({ month: '2026-01', recognizedCents: Math.round((13900 * 31) / 365) });
    expect(s[1]).toMatchObject({ month: '2026-02', recognizedCents: Math.round((13900 * 28) / 365) });
    expect(s.at(-1)).toMatchObject({ month: '2026-12', deferredAtEndCents: 0 });
  });

  it('catches up service months before a late payment in the payment month', () => {
    const s = recognitionSchedule({
      netCents: 3100,
      paidAt: '2026-02-03T10:00:00Z',
      servicePeriod: { start: '2026-01-01T00:00:00Z', end: '2026-03-03T00:00:00Z' },
    });
    expect(s.map((m) => m.month)).toEqual(['2026-02', '2026-03']);
    expect(s[0]!.recognizedCents).toBe(3100 - s[1]!.recognizedCents);
    expect(s[1]!.recognizedCents).toBe(Math.round((3100 * 2) / 61));
  });

  it('defers a prepaid period that starts in a later month', () => {
    const s = recognitionSchedule({
      netCents: 1000,
      paidAt: '2026-01-20T00:00:00Z',
      servicePeriod: { start: '2026-03-01T00:00:00Z', end: '2026-04-01T00:00:00Z' },
    });
    expect(s).toEqual([
      { month: '2026-01', recognizedCents: 0, deferredAtEndCents: 1000, coversMonth: false },
      { month: '2026-02', recognizedCents: 0, deferredAtEndCents: 1000, coversMonth: false },
      { month: '2026-03', recognizedCents: 1000, deferredAtEndCents: 0, coversMonth: true },
    ]);
  });

  it('recognizes a sale without a service period when paid', () => {
    expect(recognitionSchedule({ netCents: 500, paidAt: '2026-05-31T23:59:59Z', servicePeriod: null })).toEqual([
      { month: '2026-05', recognizedCents: 500, deferredAtEndCents: 0, coversMonth: false },
    ]);
  });

  it('invariant: for any invoice, recognized over all months + deferred = billed net of tax, to the cent, at every month end', () => {
    const base = Date.parse('2024-01-01T00:00:00Z');
    fc.assert(
      fc.property(
        fc.record({
          total: fc.integer({ min: 0, max: 50_000_000 }),
          taxBps: fc.integer({ min: 0, max: 2500 }),
          startOffset: fc.integer({ min: 0, max: 3 * 365 * DAY }),
          length: fc.integer({ min: 1, max: 400 * DAY }),
          paidOffset: fc.integer({ min: -40 * DAY, max: 120 * DAY }),
          currency: fc.constantFrom('usd', 'eur', 'jpy'),
        }),
        ({ total, taxBps, startOffset, length, paidOffset, currency }) => {
          const tax = Math.floor((total * taxBps) / 10_000);
          const start = base + startOffset;
          const entry = emptyEntry({
            entryId: 'in_prop',
            kind: 'invoice_paid',
            occurredAt: new Date(start + paidOffset).toISOString(),
            currency,
            amountCents: total,
            totalCents: total,
            taxCents: tax,
            servicePeriod: { start: new Date(start).toISOString(), end: new Date(start + length).toISOString() },
          });
          const slices = baseSchedule(entry);
          let cumulative = 0;
          for (const s of slices) {
            expect(s.recognizedCents).toBeGreaterThanOrEqual(0);
            cumulative += s.recognizedCents;
            expect(cumulative + s.deferredAtEndCents).toBe(total - tax);
          }
          expect(cumulative).toBe(total - tax);
          expect(slices.at(-1)!.deferredAtEndCents).toBe(0);
          // Consecutive months, starting with the payment month.
          expect(slices[0]!.month).toBe(entry.occurredAt.slice(0, 7));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('recognition line by line', () => {
  const d = (iso: string) => `${iso}T00:00:00.000Z`;
  it('takes a proration credit off the days the old invoice still recognizes, not off the whole new period', () => {
    // Monthly 14.99 for 10 April – 10 May; on 25 April an upgrade to annual 139.00 restarts the
    // cycle, crediting 7.50 for the 15 unused days (25 April – 10 May: 6 in April, 9 in May).
    const old = recognitionSchedule({
      netCents: 1499,
      paidAt: d('2026-04-10'),
      servicePeriod: { start: d('2026-04-10'), end: d('2026-05-10') },
    });
    expect(old.map((m) => m.recognizedCents)).toEqual([1049, 450]);
    const annualLine = { amountCents: 13900, period: { start: d('2026-04-25'), end: d('2027-04-25') } };
    const creditLine = { amountCents: -750, period: { start: d('2026-04-25'), end: d('2026-05-10') } };
    const upgrade = invoiceRecognitionSchedule({
      netCents: 13150,
      paidAt: d('2026-04-25'),
      servicePeriod: { start: d('2026-04-25'), end: d('2027-04-25') },
      lines: [creditLine, annualLine],
    });
    const annualAlone = recognitionSchedule({ netCents: 13900, paidAt: d('2026-04-25'), servicePeriod: annualLine.period });
    // The credit comes off April (−3.00) and May (−4.50); the old invoice's 4.50 of May and the credit cancel out.
    expect(upgrade[0]).toMatchObject({ month: '2026-04', recognizedCents: annualAlone[0]!.recognizedCents - 300 });
    expect(upgrade[1]).toMatchObject({ month: '2026-05', recognizedCents: annualAlone[1]!.recognizedCents - 450 });
    expect(old[1]!.recognizedCents + upgrade[1]!.recognizedCents).toBe(annualAlone[1]!.recognizedCents);
    // May earns the annual plan's 31 days (11.81), where spreading the 131.50 over the year gave 15.67.
    expect(old[1]!.recognizedCents + upgrade[1]!.recognizedCents).toBe(1181);
    const spread = recognitionSchedule({ netCents: 13150, paidAt: d('2026-04-25'), servicePeriod: annualLine.period });
    expect(old[1]!.recognizedCents + spread[1]!.recognizedCents).toBe(1567);
    // Every month end still adds up, and nothing is left at the end.
    let cumulative = 0;
    for (const m of upgrade) {
      cumulative += m.recognizedCents;
      expect(cumulative + m.deferredAtEndCents).toBe(13150);
    }
    expect(upgrade.at(-1)!.deferredAtEndCents).toBe(0);
  });

  it('gives an invoice whose lines share one period exactly the single-period schedule', () => {
    const period = { start: d('2026-03-01'), end: d('2026-03-31') };
    expect(
      invoiceRecognitionSchedule({
        netCents: 1999,
        paidAt: d('2026-03-01'),
        servicePeriod: period,
        lines: [
          { amountCents: 500, period },
          { amountCents: 1499, period },
        ],
      }),
    ).toEqual(recognitionSchedule({ netCents: 1999, paidAt: d('2026-03-01'), servicePeriod: period }));
  });
});
