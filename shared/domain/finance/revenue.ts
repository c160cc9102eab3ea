/**
 * Monthly revenue, read from the month's rollup: the sum of every finance account's contributions
 * (account.ts), per currency (amounts in different currencies are never added) and per plan. Pure:
 * rows in, figures out, whatever the number of members. Definitions are in docs/finance.md; the
 * short version:
 * - billed: invoice totals (incl. tax) of invoices paid in the month; tax and discounts alongside.
 * - collected: what those invoices took by card (`amount_paid`; the rest of billed came from the
 *   customer's balance). refunded: refunds made in the month − refunds that failed in the month;
 *   disputed: dispute funds withdrawn − reinstated; net = collected − refunded − disputed (cash, tax
 *   included). credited: credit notes not refunded to the card (customer balance, outside Stripe):
 *   revenue taken back without cash.
 * - recognized / deferred: ratable by day over each line's period, after reversals (refunds.ts).
 * - members and MRR: the month-end snapshot (account.ts): active = paying members at the end of the
 *   month, new = not paying at the end of the month before (first-time or returning), churned = the
 *   lapses of the month.
 */
import { type Figures, UNATTRIBUTED } from './account';
import { monthEnd, monthStart } from './months';

export { NO_PLAN } from './account';

/** One (currency, plan) row of a month's rollup, its shards summed. */
export interface RollupRow {
  currency: string;
  plan: string;
  figures: Figures;
}

/**
 * Where a month stands at `asOf`: over, running, or not started. A running month's figures are as
 * of now (lapses count once they have happened); a month not started is a projection of what is
 * known now, as if nothing more were paid.
 */
export type MonthStatus = 'closed' | 'in_progress' | 'not_started';

export function monthStatus(month: string, asOf: Date): MonthStatus {
  if (asOf.getTime() >= monthEnd(month).getTime()) return 'closed';
  return asOf.getTime() >= monthStart(month).getTime() ? 'in_progress' : 'not_started';
}

const LAPSED = /^lapsed_(\d\d)_([vi])$/;
const LAPSED_MRR = /^lapsedMrr_(\d\d)$/;

export interface Lapses {
  /** Lapses that have happened by `asOf`: members, by reason, and the MRR they took. */
  members: number;
  voluntary: number;
  involuntary: number;
  mrrCents: number;
  /** Lapses dated later in a running month (or in a month not started): still members now. */
  pendingMembers: number;
  pendingMrrCents: number;
}

/**
 * The lapses of a row that count at `asOf`. A lapse is dated by the day of the member's last covered
 * instant, and counts once that day is over: in the running month those before today (the rest are
 * still members, awaiting renewal); in a closed month all of them; in a month not started all of
 * them too, as a projection (the report says so).
 */
export function lapsesOf(figures: Figures, status: MonthStatus, asOf: Date): Lapses {
  const today = asOf.getUTCDate();
  const counts = (day: number) => status !== 'in_progress' || day < today;
  const out: Lapses = { members: 0, voluntary: 0, involuntary: 0, mrrCents: 0, pendingMembers: 0, pendingMrrCents: 0 };
  for (const [field, value] of Object.entries(figures)) {
    const lapsed = LAPSED.exec(field);
    if (lapsed) {
      if (counts(Number(lapsed[1]))) {
        out.members += value;
        if (lapsed[2] === 'v') out.voluntary += value;
        else out.involuntary += value;
      } else out.pendingMembers += value;
      continue;
    }
    const mrr = LAPSED_MRR.exec(field);
    if (mrr) {
      if (counts(Number(mrr[1]))) out.mrrCents += value;
      else out.pendingMrrCents += value;
    }
  }
  return out;
}

export interface PlanRevenue {
  planId: string;
  invoices: number;
  billedCents: number;
  collectedCents: number;
  taxCents: number;
  /** Refunds of this plan's invoices made in the month (cash, tax included), and how many. */
  refunds: number;
  refundedCents: number;
  /** Reversals (refunds, credits, lost disputes) net of tax, minus failures of earlier refunds: what came out of recognition and deferral. */
  refundedNetOfTaxCents: number;
  creditedCents: number;
  disputedCents: number;
  /** collected − refunded − disputed: cash, tax included, before Stripe's fees. */
  netCents: number;
  recognizedCents: number;
  deferredCents: number;
  mrrCents: number;
  activeMembers: number;
}

export interface CurrencyRevenue {
  currency: string;
  invoices: number;
  billedCents: number;
  collectedCents: number;
  taxCents: number;
  discountCents: number;
  refunds: number;
  refundedCents: number;
  refundedNetOfTaxCents: number;
  creditedCents: number;
  disputedCents: number;
  netCents: number;
  recognizedCents: number;
  deferredCents: number;
  mrrCents: number;
  members: { active: number; new: number; churned: number };
  byPlan: PlanRevenue[];
  /** Gift memberships (gift-revenue.ts): also counted in the totals above and in their plan. */
  gifts: GiftRevenue;
  /** Refunds and dispute funds of the month no invoice in the ledger could be found for (in the totals above, in no plan). */
  unattributed: { refunds: number; refundedCents: number; disputedCents: number };
}

export interface GiftRevenue {
  sold: number;
  soldCents: number;
  claimed: number;
  expired: number;
  breakageCents: number;
  recognizedCents: number;
  deferredCents: number;
}

export interface MonthRevenue {
  month: string;
  status: MonthStatus;
  currencies: CurrencyRevenue[];
}

const f = (figures: Figures, field: string) => figures[field] ?? 0;

function planRevenue(row: RollupRow, lapses: Lapses): PlanRevenue {
  const x = row.figures;
  const collected = f(x, 'collectedCents');
  const refunded = f(x, 'refundedCents');
  const disputed = f(x, 'disputedCents');
  return {
    planId: row.plan,
    invoices: f(x, 'invoices'),
    billedCents: f(x, 'billedCents'),
    collectedCents: collected,
    taxCents: f(x, 'taxCents'),
    refunds: f(x, 'refunds'),
    refundedCents: refunded,
    refundedNetOfTaxCents: f(x, 'refundedNetOfTaxCents'),
    creditedCents: f(x, 'creditedCents'),
    disputedCents: disputed,
    netCents: collected - refunded - disputed,
    recognizedCents: f(x, 'recognizedCents'),
    deferredCents: f(x, 'deferredCents'),
    mrrCents: f(x, 'mrrEndCents') + lapses.pendingMrrCents,
    activeMembers: f(x, 'membersEnd') + lapses.pendingMembers,
  };
}

/** A currency with nothing in the month. */
export const emptyCurrencyRevenue = (currency: string): CurrencyRevenue => ({
  currency,
  invoices: 0,
  billedCents: 0,
  collectedCents: 0,
  taxCents: 0,
  discountCents: 0,
  refunds: 0,
  refundedCents: 0,
  refundedNetOfTaxCents: 0,
  creditedCents: 0,
  disputedCents: 0,
  netCents: 0,
  recognizedCents: 0,
  deferredCents: 0,
  mrrCents: 0,
  members: { active: 0, new: 0, churned: 0 },
  byPlan: [],
  gifts: { sold: 0, soldCents: 0, claimed: 0, expired: 0, breakageCents: 0, recognizedCents: 0, deferredCents: 0 },
  unattributed: { refunds: 0, refundedCents: 0, disputedCents: 0 },
});

/** Revenue of a month from its rollup rows, as of `asOf` (see `monthStatus`). */
export function revenueFromRollup(month: string, rows: readonly RollupRow[], options: { asOf: Date; currency?: string }): MonthRevenue {
  const status = monthStatus(month, options.asOf);
  const byCurrency = new Map<string, CurrencyRevenue>();
  const cur = (currency: string) => {
    const c = byCurrency.get(currency) ?? emptyCurrencyRevenue(currency);
    byCurrency.set(currency, c);
    return c;
  };
  for (const row of rows) {
    if (options.currency !== undefined && row.currency !== options.currency) continue;
    const c = cur(row.currency);
    if (row.plan === UNATTRIBUTED) {
      c.unattributed.refunds += f(row.figures, 'refunds');
      c.unattributed.refundedCents += f(row.figures, 'refundedCents');
      c.unattributed.disputedCents += f(row.figures, 'disputedCents');
      c.refunds += f(row.figures, 'refunds');
      c.refundedCents += f(row.figures, 'refundedCents');
      c.disputedCents += f(row.figures, 'disputedCents');
      continue;
    }
    const lapses = lapsesOf(row.figures, status, options.asOf);
    const p = planRevenue(row, lapses);
    c.invoices += p.invoices;
    c.billedCents += p.billedCents;
    c.collectedCents += p.collectedCents;
    c.taxCents += p.taxCents;
    c.discountCents += f(row.figures, 'discountCents');
    c.refunds += p.refunds;
    c.refundedCents += p.refundedCents;
    c.refundedNetOfTaxCents += p.refundedNetOfTaxCents;
    c.creditedCents += p.creditedCents;
    c.disputedCents += p.disputedCents;
    c.recognizedCents += p.recognizedCents;
    c.deferredCents += p.deferredCents;
    c.mrrCents += p.mrrCents;
    c.members.active += p.activeMembers;
    c.members.new += f(row.figures, 'newMembers') + f(row.figures, 'reactivatedMembers');
    c.members.churned += lapses.members;
    c.gifts.sold += f(row.figures, 'giftsSold');
    c.gifts.soldCents += f(row.figures, 'giftBilledCents');
    c.gifts.claimed += f(row.figures, 'giftsClaimed');
    c.gifts.expired += f(row.figures, 'giftsExpired');
    c.gifts.breakageCents += f(row.figures, 'giftBreakageCents');
    c.gifts.recognizedCents += f(row.figures, 'giftRecognizedCents');
    c.gifts.deferredCents += f(row.figures, 'giftDeferredCents');
    const { planId: _planId, ...numbers } = p;
    if (Object.values(numbers).some((v) => v !== 0)) c.byPlan.push(p);
  }
  for (const c of byCurrency.values()) {
    c.netCents = c.collectedCents - c.refundedCents - c.disputedCents;
    c.byPlan.sort((a, b) => a.planId.localeCompare(b.planId));
  }
  if (options.currency !== undefined) cur(options.currency);
  return { month, status, currencies: [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency)) };
}
