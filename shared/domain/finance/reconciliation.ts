/**
 * Reconciliation of the ledger against Stripe's balance transactions for one month.
 *
 * The ledger side is a Map keyed by the ids a balance transaction can be matched on; the Stripe side
 * is a stream of rows, each matched once and forgotten, so memory is the ledger month plus the
 * differences. A row matches a ledger entry by, in order:
 *   1. balance transaction id (when the ledger knows it, e.g. dispute funds);
 *   2. its object: a `charge` row by invoice id (the report's invoice_id column, or an
 *      invoice_payment link from payment intent/charge to invoice), else by charge / payment intent
 *      id; a `refund` row by refund id (source_id); `dispute` / `dispute_reversal` rows by dispute id.
 * Amounts are compared in minor units of the row's currency, signed as Stripe reports them. Rows of
 * categories the ledger does not track (fees, payouts, transfers, ...) are counted in `ignored`.
 * Outcome categories: matched, missingInLedger (in Stripe, no ledger entry: a lost webhook),
 * missingInStripe (ledger entry with no balance transaction), amountMismatches (matched by id but the
 * amount or currency differs).
 */
import { balanceEffect, reportingCategory, type LedgerEntry } from './ledger';
import type { ReportRow } from './balance-report';

/** The entry fields reconciliation reads: a ledger Query can project just these. */
export const RECONCILIATION_FIELDS = ['entryId', 'kind', 'occurredAt', 'currency', 'amountCents', 'invoiceId', 'chargeId', 'paymentIntentId', 'balanceTransactionId', 'disputeId'] as const;

export const RECONCILED_CATEGORIES = new Set(['charge', 'refund', 'dispute', 'dispute_reversal']);

interface Expected {
  entryId: string;
  kind: LedgerEntry['kind'];
  category: string;
  currency: string;
  /** Signed as on the Stripe balance. */
  amountCents: number;
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
export interface AmountMismatch {
  balanceTransactionId: string;
  entryId: string;
  kind: LedgerEntry['kind'];
  stripe: { amountCents: number; currency: string };
  ledger: { amountCents: number; currency: string };
}
export interface CurrencyTotals {
  currency: string;
  stripe: { rows: number; amountCents: number };
  ledger: { entries: number; amountCents: number };
  matchedCents: number;
  differenceCents: number;
}
export interface ReconciliationResult {
  month: string;
  matched: number;
  missingInLedger: MissingInLedger[];
  missingInStripe: MissingInStripe[];
  amountMismatches: AmountMismatch[];
  ignored: Record<string, number>;
  totals: CurrencyTotals[];
}

export class Reconciler {
  private readonly byTxn = new Map<string, Expected>();
  private readonly byObject = new Map<string, Expected>();
  /** payment intent / charge id → invoice id, from invoice_payment entries. */
  private readonly links = new Map<string, string>();
  private readonly expected: Expected[] = [];
  private readonly totals = new Map<string, CurrencyTotals>();
  private matched = 0;
  private readonly missingInLedger: MissingInLedger[] = [];
  private readonly amountMismatches: AmountMismatch[] = [];
  private readonly ignored: Record<string, number> = {};

  constructor(readonly month: string) {}

  private total(currency: string): CurrencyTotals {
    let t = this.totals.get(currency);
    if (!t) this.totals.set(currency, (t = { currency, stripe: { rows: 0, amountCents: 0 }, ledger: { entries: 0, amountCents: 0 }, matchedCents: 0, differenceCents: 0 }));
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
          row.invoiceId ?? (row.paymentIntentId ? this.links.get(row.paymentIntentId) : undefined) ?? (chargeId ? this.links.get(chargeId) : undefined);
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
    if (!RECONCILED_CATEGORIES.has(row.reportingCategory)) {
      this.ignored[row.reportingCategory] = (this.ignored[row.reportingCategory] ?? 0) + 1;
      return;
    }
    const t = this.total(row.currency);
    t.stripe.rows++;
    t.stripe.amountCents += row.grossCents;
    const e = this.find(row);
    const missing = (reason: MissingInLedger['reason']): void => {
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
    if (!e || e.category !== row.reportingCategory) return missing('no_ledger_entry');
    if (e.matched) return missing('already_matched');
    e.matched = true;
    if (e.amountCents !== row.grossCents || e.currency !== row.currency) {
      this.amountMismatches.push({
        balanceTransactionId: row.balanceTransactionId,
        entryId: e.entryId,
        kind: e.kind,
        stripe: { amountCents: row.grossCents, currency: row.currency },
        ledger: { amountCents: e.amountCents, currency: e.currency },
      });
      return;
    }
    this.matched++;
    t.matchedCents += row.grossCents;
  }

  finish(): ReconciliationResult {
    const missingInStripe: MissingInStripe[] = this.expected
      .filter((e) => !e.matched)
      .map((e) => ({ entryId: e.entryId, kind: e.kind, currency: e.currency, amountCents: e.amountCents, invoiceId: e.invoiceId, occurredAt: e.occurredAt }));
    const totals = [...this.totals.values()]
      .map((t) => ({ ...t, differenceCents: t.stripe.amountCents - t.ledger.amountCents }))
      .sort((a, b) => a.currency.localeCompare(b.currency));
    return {
      month: this.month,
      matched: this.matched,
      missingInLedger: this.missingInLedger,
      missingInStripe,
      amountMismatches: this.amountMismatches,
      ignored: this.ignored,
      totals,
    };
  }
}

/** Convenience for callers holding both sides: streams the rows through a fresh Reconciler. */
export async function reconcile(month: string, ledger: Iterable<LedgerEntry> | AsyncIterable<LedgerEntry>, rows: AsyncIterable<ReportRow> | Iterable<ReportRow>): Promise<ReconciliationResult> {
  const r = new Reconciler(month);
  for await (const entry of ledger) r.addLedgerEntry(entry);
  for await (const row of rows) r.addStripeRow(row);
  return r.finish();
}
