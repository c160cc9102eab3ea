/**
 * Reconciliation of the ledger against Stripe's balance transactions for one month.
 *
 * The ledger side is a Map keyed by the ids a balance transaction can be matched on; the Stripe side
 * is a stream of rows, each matched once and forgotten, so memory is the ledger month plus the
 * differences. A row matches a ledger entry by, in order:
 *   1. balance transaction id (when the ledger knows it, e.g. dispute funds);
 *   2. its object: a `charge` row by invoice id (the report's invoice_id column, or an
 *      invoice_payment link from payment intent/charge to invoice), else by charge / payment intent
 *      id; a `refund` row by refund id (source_id), a `refund_failure` row by the failed refund's id
 *      (its source_id); `dispute` / `dispute_reversal` rows by dispute id.
 * Currencies. The ledger books what the customer was charged (the invoice's, refund's or dispute's
 * own currency); a balance transaction moves the account's settlement currency, converted when they
 * differ (a EUR charge on a USD account is a USD row). So a row is compared by its customer-facing
 * amount and currency (the report's `customer_facing_amount` / `_currency`; in the API job, the
 * balance transaction's source object). A row without one (Stripe leaves disputes empty) is compared
 * in the settlement currency, against what the entry's balance transaction moved when the ledger
 * knows it (dispute funds), else against the entry itself. Amounts are in minor units, signed as on
 * the balance (refunds and disputes negative).
 *
 * Rows of categories the ledger does not track (fees, payouts, transfers, ...) are counted in
 * `ignored`. Outcome categories: matched, missingInLedger (in Stripe, no ledger entry: a lost
 * webhook), missingInStripe (ledger entry with no balance transaction), amountMismatches (matched by
 * id but the amount or currency differs). `totals` compare the two sides per customer-facing
 * currency; `settlement` sums what the same rows moved per settlement currency, for finance's books.
 */

import { balanceEffect, type LedgerEntry, reportingCategory } from './ledger';

/** One row of Stripe's itemized balance report, as shared/stripe/balance-report.ts reads it. */
export interface ReportRow {
  /** Line of the file the row ends on (1 is the header). */
  line: number;
  balanceTransactionId: string;
  /** `created_utc` as ISO 8601 UTC: decides which UTC month the row belongs to. */
  createdUtc: string;
  /** The settlement currency: what the balance moved in (`currency`, `gross`). */
  currency: string;
  /** `gross` in minor units, signed as Stripe reports it (refunds and disputes negative). */
  grossCents: number;
  /**
   * What the customer was charged or refunded (`customer_facing_amount` / `_currency`), in minor
   * units of its own currency and signed like `gross`. This is what the ledger books, so matching
   * compares it, not `gross`, which is converted when the account settles in another currency.
   * Null when the report leaves it empty (Stripe fills it for charges and refunds).
   */
  customerFacingCents: number | null;
  customerFacingCurrency: string | null;
  reportingCategory: string;
  sourceId: string | null;
  chargeId: string | null;
  paymentIntentId: string | null;
  invoiceId: string | null;
}

import { monthEnd, monthStart } from './months';

/** The entry fields reconciliation reads: a ledger Query can project just these. */
export const RECONCILIATION_FIELDS = [
  'entryId',
  'kind',
  'occurredAt',
  'currency',
  'amountCents',
  'settlementCurrency',
  'settlementAmountCents',
  'invoiceId',
  'chargeId',
  'paymentIntentId',
  'balanceTransactionId',
  'refundIds',
  'disputeId',
] as const;

export const RECONCILED_CATEGORIES = new Set(['charge', 'refund', 'refund_failure', 'dispute', 'dispute_reversal']);

/** Whether a row is one the ledger has an entry for (the unit of `Reconciler.expectedRows`), not a fee, payout, ... */
export const isReconciledRow = (row: Pick<ReportRow, 'reportingCategory'>) => RECONCILED_CATEGORIES.has(row.reportingCategory);

interface Expected {
  entryId: string;
  kind: LedgerEntry['kind'];
  category: string;
  currency: string;
  /** Signed as on the Stripe balance, in the customer-facing `currency`. */
  amountCents: number;
  /** What the entry's balance transaction moved, signed, when the ledger knows it. */
  settlement: { currency: string; amountCents: number } | null;
  invoiceId: string | null;
  occurredAt: string;
  matched: boolean;
}

export interface MissingInLedger {
  balanceTransactionId: string;
  reportingCategory: string;
  currency: string;
  amountCents: number;
  sourceId: string | null;
  invoiceId: string | null;
  line: number | null;
  reason: 'no_ledger_entry' | 'already_matched';
}
export interface MissingInStripe {
  entryId: string;
  kind: LedgerEntry['kind'];
  currency: string;
  amountCents: number;
  invoiceId: string | null;
  occurredAt: string;
}
/** Which of the row's amounts was compared: the customer-facing one, or the settlement (`gross`). */
export type ComparedOn = 'customer_facing' | 'settlement';

export interface AmountMismatch {
  balanceTransactionId: string;
  entryId: string;
  kind: LedgerEntry['kind'];
  comparedOn: ComparedOn;
  stripe: { amountCents: number; currency: string };
  ledger: { amountCents: number; currency: string };
}
/** Per customer-facing currency, the currency the ledger books. */
export interface CurrencyTotals {
  currency: string;
  stripe: { rows: number; amountCents: number };
  ledger: { entries: number; amountCents: number };
  matchedCents: number;
  differenceCents: number;
}
/** Per settlement currency: what the reconciled rows moved on the Stripe balance (`gross`). */
export interface SettlementTotals {
  currency: string;
  rows: number;
  grossCents: number;
}
export interface ReconciliationResult {
  month: string;
  matched: number;
  missingInLedger: MissingInLedger[];
  missingInStripe: MissingInStripe[];
  amountMismatches: AmountMismatch[];
  ignored: Record<string, number>;
  /**
   * Rows created outside the requested UTC month (a report over a wider range, or a month cut in
   * another time zone): skipped, and counted here so nothing disappears silently.
   */
  outsideMonth: number;
  totals: CurrencyTotals[];
  settlement: SettlementTotals[];
}

export class Reconciler {
  private readonly byTxn = new Map<string, Expected>();
  private readonly byObject = new Map<string, Expected>();
  /** payment intent / charge id → invoice id, from invoice_payment entries. */
  private readonly links = new Map<string, string>();
  private readonly expected: Expected[] = [];
  private readonly totals = new Map<string, CurrencyTotals>();
  private readonly settlement = new Map<string, SettlementTotals>();
  private matched = 0;
  private readonly missingInLedger: MissingInLedger[] = [];
  private readonly amountMismatches: AmountMismatch[] = [];
  private readonly ignored: Record<string, number> = {};
  private outsideMonth = 0;
  private readonly from: number;
  private readonly to: number;

  constructor(readonly month: string) {
    this.from = monthStart(month).getTime();
    this.to = monthEnd(month).getTime();
  }

  /**
   * How many ledger entries expect a balance transaction (paid invoices > 0, refunds, refund
   * failures, dispute funds): the rows a clean month has in the reconciled categories.
   */
  get expectedRows(): number {
    return this.expected.length;
  }

  private total(currency: string): CurrencyTotals {
    let t = this.totals.get(currency);
    if (!t) {
      t = { currency, stripe: { rows: 0, amountCents: 0 }, ledger: { entries: 0, amountCents: 0 }, matchedCents: 0, differenceCents: 0 };
      this.totals.set(currency, t);
    }
    return t;
  }

  addLedgerEntry(entry: LedgerEntry): void {
    if (entry.kind === 'invoice_payment') {
      if (entry.invoiceId) {
        if (entry.paymentIntentId) this.links.set(entry.paymentIntentId, entry.invoiceId);
        if (entry.chargeId) this.links.set(entry.chargeId, entry.invoiceId);
      }
      return;
    }
    const category = reportingCategory(entry.kind);
    // A $0 invoice (trial) moves no money, so Stripe has no balance transaction for it.
    if (!category || entry.amountCents === 0) return;
    const e: Expected = {
      entryId: entry.entryId,
      kind: entry.kind,
      category,
      currency: entry.currency,
      amountCents: balanceEffect(entry.kind) * entry.amountCents,
      settlement:
        entry.settlementCurrency && typeof entry.settlementAmountCents === 'number'
          ? { currency: entry.settlementCurrency, amountCents: balanceEffect(entry.kind) * entry.settlementAmountCents }
          : null,
      invoiceId: entry.invoiceId,
      occurredAt: entry.occurredAt,
      matched: false,
    };
    this.expected.push(e);
    const t = this.total(e.currency);
    t.ledger.entries++;
    t.ledger.amountCents += e.amountCents;
    if (entry.balanceTransactionId) this.byTxn.set(entry.balanceTransactionId, e);
    switch (entry.kind) {
      case 'invoice_paid':
        if (entry.invoiceId) this.byObject.set(`charge:in:${entry.invoiceId}`, e);
        if (entry.chargeId) this.byObject.set(`charge:ch:${entry.chargeId}`, e);
        if (entry.paymentIntentId) this.byObject.set(`charge:pi:${entry.paymentIntentId}`, e);
        break;
      case 'refund':
        this.byObject.set(`refund:${entry.entryId}`, e);
        break;
      case 'refund_failed':
        // A refund_failure row's source is the refund that failed.
        if (entry.refundIds[0]) this.byObject.set(`refund_failure:${entry.refundIds[0]}`, e);
        break;
      default:
        if (entry.disputeId) this.byObject.set(`${category}:${entry.disputeId}`, e);
    }
  }

  private find(row: ReportRow): Expected | undefined {
    const direct = this.byTxn.get(row.balanceTransactionId);
    if (direct) return direct;
    switch (row.reportingCategory) {
      case 'charge': {
        const chargeId = row.chargeId ?? row.sourceId;
        const invoiceId =
          row.invoiceId ??
          (row.paymentIntentId ? this.links.get(row.paymentIntentId) : undefined) ??
          (chargeId ? this.links.get(chargeId) : undefined);
        return (
          (invoiceId ? this.byObject.get(`charge:in:${invoiceId}`) : undefined) ??
          (chargeId ? this.byObject.get(`charge:ch:${chargeId}`) : undefined) ??
          (row.paymentIntentId ? this.byObject.get(`charge:pi:${row.paymentIntentId}`) : undefined)
        );
      }
      default:
        return row.sourceId ? this.byObject.get(`${row.reportingCategory}:${row.sourceId}`) : undefined;
    }
  }

  addStripeRow(row: ReportRow): void {
    const created = Date.parse(row.createdUtc);
    if (!(created >= this.from && created < this.to)) {
      this.outsideMonth++;
      return;
    }
    if (!isReconciledRow(row)) {
      this.ignored[row.reportingCategory] = (this.ignored[row.reportingCategory] ?? 0) + 1;
      return;
    }
    let st = this.settlement.get(row.currency);
    if (!st) {
      st = { currency: row.currency, rows: 0, grossCents: 0 };
      this.settlement.set(row.currency, st);
    }
    st.rows++;
    st.grossCents += row.grossCents;
    const facing =
      row.customerFacingCurrency !== null && row.customerFacingCents !== null
        ? { currency: row.customerFacingCurrency, amountCents: row.customerFacingCents }
        : null;
    /** The row on the totals' (customer-facing) side; a settlement-only row counts in its own currency. */
    const count = (side: { currency: string; amountCents: number }) => {
      const t = this.total(side.currency);
      t.stripe.rows++;
      t.stripe.amountCents += side.amountCents;
      return t;
    };
    const e = this.find(row);
    const missing = (reason: MissingInLedger['reason']): void => {
      count(facing ?? { currency: row.currency, amountCents: row.grossCents });
      this.missingInLedger.push({
        balanceTransactionId: row.balanceTransactionId,
        reportingCategory: row.reportingCategory,
        currency: row.currency,
        amountCents: row.grossCents,
        sourceId: row.sourceId,
        invoiceId: row.invoiceId,
        line: row.line > 0 ? row.line : null,
        reason,
      });
    };
    if (!e || e.category !== row.reportingCategory) {
      missing('no_ledger_entry');
      return;
    }
    if (e.matched) {
      missing('already_matched');
      return;
    }
    e.matched = true;
    // Customer-facing against the entry; without it, the settlement amount against what the entry's
    // balance transaction moved (never a settlement amount against a customer-facing one).
    const comparedOn: ComparedOn = facing ? 'customer_facing' : 'settlement';
    const stripe = facing ?? { currency: row.currency, amountCents: row.grossCents };
    const ledger = facing
      ? { currency: e.currency, amountCents: e.amountCents }
      : (e.settlement ?? { currency: e.currency, amountCents: e.amountCents });
    if (stripe.amountCents !== ledger.amountCents || stripe.currency !== ledger.currency) {
      count(stripe);
      this.amountMismatches.push({
        balanceTransactionId: row.balanceTransactionId,
        entryId: e.entryId,
        kind: e.kind,
        comparedOn,
        stripe,
        ledger,
      });
      return;
    }
    // Equal: on the customer-facing side the row is worth exactly the entry.
    const t = count({ currency: e.currency, amountCents: e.amountCents });
    this.matched++;
    t.matchedCents += e.amountCents;
  }

  finish(): ReconciliationResult {
    const missingInStripe: MissingInStripe[] = this.expected
      .filter((e) => !e.matched)
      .map((e) => ({
        entryId: e.entryId,
        kind: e.kind,
        currency: e.currency,
        amountCents: e.amountCents,
        invoiceId: e.invoiceId,
        occurredAt: e.occurredAt,
      }));
    const totals = [...this.totals.values()]
      .map((t) => ({ ...t, differenceCents: t.stripe.amountCents - t.ledger.amountCents }))
      .sort((a, b) => a.currency.localeCompare(b.currency));
    const settlement = [...this.settlement.values()].sort((a, b) => a.currency.localeCompare(b.currency));
    return {
      month: this.month,
      matched: this.matched,
      missingInLedger: this.missingInLedger,
      missingInStripe,
      amountMismatches: this.amountMismatches,
      ignored: this.ignored,
      outsideMonth: this.outsideMonth,
      totals,
      settlement,
    };
  }
}

/** Convenience for callers holding both sides: streams the rows through a fresh Reconciler. */
export async function reconcile(
  month: string,
  ledger: Iterable<LedgerEntry> | AsyncIterable<LedgerEntry>,
  rows: AsyncIterable<ReportRow> | Iterable<ReportRow>,
): Promise<ReconciliationResult> {
  const r = new Reconciler(month);
  for await (const entry of ledger) r.addLedgerEntry(entry);
  for await (const row of rows) r.addStripeRow(row);
  return r.finish();
}
