import { describe, expect, it } from 'vitest';
import { parseCatalog } from '#shared/domain/catalog';
import type { LedgerEntry } from '#shared/domain/finance/ledger';
import { stripeEventSchema } from '#shared/stripe/events';
import { translateMoneyEvent } from '#shared/stripe/money-events';
import catalogJson from '../../../config/plan-catalog.json' with { type: 'json' };
import { stripeEvent } from '../../../local/stripe-test-events';
import { revenueOf } from '../../support/finance-rollup';
import { invoiceWithLines, type LineSpec } from '../../support/money-events';

const catalog = parseCatalog(catalogJson);
const t = (iso: string) => Date.parse(iso) / 1000;
const MONTHLY = 'price_prime_monthly_usd';
const ANNUAL = 'price_prime_annual_usd';

/** An invoice.paid for member m1 with these lines, through the real translation. */
function paid(id: string, paidAt: string, lines: LineSpec[], billingReason = 'subscription_cycle'): LedgerEntry {
  const inv = invoiceWithLines(
    { id, customer: 'cus_m1', subscription: 'sub_m1', memberId: 'm1', billingReason, created: t(paidAt) },
    lines,
  );
  const [entry] = translateMoneyEvent(stripeEventSchema.parse(stripeEvent('invoice.paid', inv, { created: t(paidAt) })), catalog);
  return entry!;
}

const usd = (month: string, invoices: LedgerEntry[]) => revenueOf(month, invoices).currencies.find((c) => c.currency === 'usd')!;

const cycle = (id: string, from: string, to: string, extra: LineSpec[] = []) =>
  paid(id, from, [{ amount: 1499, priceId: MONTHLY, start: t(from), end: t(to) }, ...extra]);

describe('MRR from the recurring price, never from prorations', () => {
  it('a mid-month proration invoice does not replace the plan price (14.99 cycle + 3.50 proration is MRR 14.99, not 3.50)', () => {
    const jan = cycle('in_jan', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z');
    // A quantity change on 15 January, invoiced at once: only proration lines.
    const proration = paid(
      'in_mid',
      '2026-01-15T00:00:00Z',
      [{ amount: 350, priceId: MONTHLY, start: t('2026-01-15T00:00:00Z'), end: t('2026-02-01T00:00:00Z'), proration: true }],
      'subscription_update',
    );
    expect(proration.lines).toMatchObject([{ proration: true, amountCents: 350 }]);
    const revenue = usd('2026-01', [jan, proration]);
    expect(revenue.mrrCents).toBe(1499);
    expect(revenue.members).toEqual({ active: 1, new: 1, churned: 0 });
    expect(revenue.byPlan).toMatchObject([{ planId: 'prime-monthly', mrrCents: 1499, activeMembers: 1 }]);
  });

  it('a cycle invoice carrying prorations counts its recurring line only', () => {
    const feb = cycle('in_feb', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z', [
      { amount: 350, priceId: MONTHLY, start: t('2026-01-15T00:00:00Z'), end: t('2026-02-01T00:00:00Z'), proration: true },
    ]);
    expect(feb.totalCents).toBe(1849);
    expect(usd('2026-02', [feb]).mrrCents).toBe(1499);
  });

  it('an upgrade that restarts the cycle moves MRR to the new plan at once; its proration credit does not count', () => {
    const jan = cycle('in_jan', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z');
    // Monthly → annual on 15 January: credit for the unused half month (listed first), then the annual price.
    const upgrade = paid(
      'in_up',
      '2026-01-15T00:00:00Z',
      [
        { amount: -822, priceId: MONTHLY, start: t('2026-01-15T00:00:00Z'), end: t('2026-02-01T00:00:00Z'), proration: true },
        { amount: 13900, priceId: ANNUAL, start: t('2026-01-15T00:00:00Z'), end: t('2027-01-15T00:00:00Z') },
      ],
      'subscription_update',
    );
    expect(upgrade).toMatchObject({ planId: 'prime-annual', interval: 'year', totalCents: 13900 - 822 });
    for (const month of ['2026-01', '2026-02']) {
      const revenue = usd(month, [jan, upgrade]);
      expect(revenue.mrrCents, month).toBe(Math.round(13900 / 12));
      expect(
        revenue.byPlan.filter((p) => p.activeMembers > 0 || p.mrrCents > 0),
        month,
      ).toMatchObject([{ planId: 'prime-annual', mrrCents: 1158, activeMembers: 1 }]);
    }
  });

  it('picks the invoice whose recurring price starts last, not the one whose prorations reach furthest back', () => {
    // A cycle restart on 15 January at 9.99 (covering to 15 February), then on 1 February the
    // 14.99 price with a proration reaching back to 10 January: February's price is 14.99.
    const restart = paid(
      'in_restart',
      '2026-01-15T00:00:00Z',
      [{ amount: 999, priceId: MONTHLY, start: t('2026-01-15T00:00:00Z'), end: t('2026-02-15T00:00:00Z') }],
      'subscription_update',
    );
    const withProration = cycle('in_feb', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z', [
      { amount: 120, priceId: MONTHLY, start: t('2026-01-10T00:00:00Z'), end: t('2026-02-01T00:00:00Z'), proration: true },
    ]);
    expect(withProration.servicePeriod!.start).toBe('2026-01-10T00:00:00.000Z');
    expect(usd('2026-02', [restart, withProration]).mrrCents).toBe(1499);
  });

  it('counts every recurring line of a multi-line invoice under its own plan, after discounts; the invoice and the member go to the largest line', () => {
    const from = '2026-03-01T00:00:00Z';
    const to = '2026-03-31T00:00:00Z';
    // An add-on price no plan lists (30-day period, pro rata) listed before the plan's price, which carries a 3.00 coupon.
    const inv = paid('in_multi', from, [
      { amount: 500, priceId: 'price_addon_usd', start: t(from), end: t(to) },
      { amount: 1499, priceId: MONTHLY, start: t(from), end: t(to), discount: 300 },
    ]);
    expect(inv).toMatchObject({ planId: 'prime-monthly', totalCents: 1699 });
    const revenue = usd('2026-03', [inv]);
    expect(revenue.mrrCents).toBe(1199 + 500);
    expect(revenue.byPlan.map((p) => [p.planId, p.mrrCents, p.activeMembers])).toEqual([
      ['prime-monthly', 1199, 1],
      ['unassigned', 500, 0],
    ]);
  });
});
