import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { proportionalRefund, splitRefund, withdrawalEndsAt } from '#shared/domain/withdrawal';

const DAY = 86_400_000;
const eu = { withdrawal: { days: 14 } };

describe('withdrawal period', () => {
  it('runs 14 days from the day the contract was concluded, to the end of the last day (UTC)', () => {
    const sub = { startDate: '2026-07-01T22:30:00.000Z', trialStart: null, currentPeriodStart: '2026-07-01T22:30:00.000Z' };
    expect(withdrawalEndsAt(sub, eu)).toBe('2026-07-15T23:59:59.999Z');
    // Stripe's start_date first (the contract), not a renewal's period start.
    expect(withdrawalEndsAt({ ...sub, currentPeriodStart: '2026-08-01T22:30:00.000Z' }, eu)).toBe('2026-07-15T23:59:59.999Z');
    expect(withdrawalEndsAt(sub, { withdrawal: null })).toBeNull();
  });
});

describe('the refund of a withdrawal', () => {
  it('keeps days served / days in the period of the fee, a day begun counting, rounded down to the minor unit', () => {
    const period = { periodStart: '2026-07-01T00:00:00Z', periodEnd: '2026-07-31T00:00:00Z' };
    expect(proportionalRefund({ paidCents: 1499, ...period, at: '2026-07-04T00:00:01Z' })).toEqual({
      paidCents: 1499,
      chargedCents: 199, // 1499 × 4 / 30 = 199.87
      refundCents: 1300,
      daysServed: 4,
      daysInPeriod: 30,
    });
    // A yen has no fraction; the same integer rule applies to every currency's minor unit.
    expect(proportionalRefund({ paidCents: 1500, ...period, at: '2026-07-01T00:00:00Z' })).toMatchObject({
      chargedCents: 0,
      refundCents: 1500,
    });
    expect(proportionalRefund({ paidCents: 0, ...period, at: '2026-07-10T00:00:00Z' })).toMatchObject({ chargedCents: 0, refundCents: 0 });
  });

  it('never refunds more than was paid nor less than nothing, and keeps more the longer the member stayed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 400 }),
        (paid, days, served) => {
          const period = {
            periodStart: '2026-01-01T00:00:00Z',
            periodEnd: new Date(Date.parse('2026-01-01T00:00:00Z') + days * DAY).toISOString(),
          };
          const at = (n: number) => new Date(Date.parse(period.periodStart) + n * DAY).toISOString();
          const r = proportionalRefund({ paidCents: paid, ...period, at: at(served) });
          expect(r.refundCents + r.chargedCents).toBe(paid);
          expect(r.refundCents).toBeGreaterThanOrEqual(0);
          expect(Number.isInteger(r.chargedCents)).toBe(true);
          expect(proportionalRefund({ paidCents: paid, ...period, at: at(served + 1) }).chargedCents).toBeGreaterThanOrEqual(
            r.chargedCents,
          );
        },
      ),
    );
  });

  it('is split over the invoice’s payments, first first, never above what one paid', () => {
    expect(
      splitRefund(1300, [
        { ref: 'pi_1', amountCents: 1000 },
        { ref: 'pi_2', amountCents: 499 },
      ]),
    ).toEqual([
      { ref: 'pi_1', amountCents: 1000 },
      { ref: 'pi_2', amountCents: 300 },
    ]);
    expect(splitRefund(0, [{ ref: 'pi_1', amountCents: 1000 }])).toEqual([]);
  });
});
