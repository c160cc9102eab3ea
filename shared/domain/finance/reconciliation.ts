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
  /** Where the entry sits in the lookup maps (`txn:` / `obj:` + key), so it can be let go of. */
  keys: string[];
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
  /** How many of each finding there are; the lists below may stop at the run's list limit. */
  counts: { missingInLedger: number; missingInStripe: number; amountMismatches: number };
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
  /** Entries and link ids by the UTC day they occurred, so a day can be let go of (`releaseDay`). */
  private readonly expectedByDay = new Map<string, Expected[]>();
  private readonly linksByDay = new Map<string, string[]>();
  private expectedCount = 0;
  private readonly totals = new Map<string, CurrencyTotals>();
  private readonly settlement = new Map<string, SettlementTotals>();
  private matched = 0;
  private readonly missingInLedger: MissingInLedger[] = [];
  private readonly missingInStripe: MissingInStripe[] = [];
  private readonly amountMismatches: AmountMismatch[] = [];
  private readonly counts = { missingInLedger: 0, missingInStripe: 0, amountMismatches: 0 };
  private readonly ignored: Record<string, number> = {};
  private outsideMonth = 0;
  private readonly from: number;
  private readonly to: number;
  private readonly listLimit: number;

  /** `listLimit` caps each list of findings kept in memory (their counts stay exact): the job of a huge month keeps a sample. */
  constructor(
    readonly month: string,
    options: { listLimit?: number } = {},
  ) {
    this.from = monthStart(month).getTime();
    this.to = monthEnd(month).getTime();
    this.listLimit = options.listLimit ?? Number.POSITIVE_INFINITY;
  }

  /**
   * How many ledger entries expect a balance transaction (paid invoices > 0, refunds, refund
   * failures, dispute funds): the rows a clean month has in the reconciled categories.
   */
  get expectedRows(): number {
    return this.expectedCount;
  }

  private finding<K extends keyof Reconciler['counts']>(kind: K, list: unknown[], item: unknown): void {
    this.counts[kind]++;
    if (list.length < this.listLimit) list.push(item);
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
    const day = entry.occurredAt.slice(0, 10);
    if (entry.kind === 'invoice_payment') {
      if (entry.invoiceId) {
        const ids = this.linksByDay.get(day) ?? [];
        this.linksByDay.set(day, ids);
        for (const id of [entry.paymentIntentId, entry.chargeId]) {
          if (!id) continue;
          this.links.set(id, entry.invoiceId);
          ids.push(id);
        }
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
      keys: [],
    };
    const ofDay = this.expectedByDay.get(day);
    if (ofDay) ofDay.push(e);
    else this.expectedByDay.set(day, [e]);
    this.expectedCount++;
    const t = this.total(e.currency);
    t.ledger.entries++;
    t.ledger.amountCents += e.amountCents;
    const byObject = (key: string) => {
      this.byObject.set(key, e);
      e.keys.push(`obj:${key}`);
    };
    if (entry.balanceTransactionId) {
      this.byTxn.set(entry.balanceTransactionId, e);
      e.keys.push(`txn:${entry.balanceTransactionId}`);
    }
    switch (entry.kind) {
      case 'invoice_paid':
        if (entry.invoiceId) byObject(`charge:in:${entry.invoiceId}`);
        if (entry.chargeId) byObject(`charge:ch:${entry.chargeId}`);
        if (entry.paymentIntentId) byObject(`charge:pi:${entry.paymentIntentId}`);
        break;
      case 'gift_paid':
        // A gift's Checkout payment has no invoice: its payment intent names it.
        if (entry.paymentIntentId) byObject(`charge:pi:${entry.paymentIntentId}`);
        if (entry.chargeId) byObject(`charge:ch:${entry.chargeId}`);
        break;
      case 'refund':
        byObject(`refund:${entry.entryId}`);
        break;
      case 'refund_failed':
        // A refund_failure row's source is the refund that failed.
        if (entry.refundIds[0]) byObject(`refund_failure:${entry.refundIds[0]}`);
        break;
      default:
        if (entry.disputeId) byObject(`${category}:${entry.disputeId}`);
    }
  }

  /**
   * Lets go of the entries and links of a UTC day once no row left to come can match them: those
   * not matched are missing in Stripe from now on. Memory then holds the days in the window only.
   */
  releaseDay(day: string): void {
    for (const e of this.expectedByDay.get(day) ?? []) {
      if (!e.matched) this.finding('missingInStripe', this.missingInStripe, missingInStripeOf(e));
      for (const key of e.keys) {
        const [kind, id] = [key.slice(0, 4), key.slice(4)];
        const map = kind === 'txn:' ? this.byTxn : this.byObject;
        if (map.get(id) === e) map.delete(id);
      }
    }
    this.expectedByDay.delete(day);
    for (const id of this.linksByDay.get(day) ?? []) this.links.delete(id);
    this.linksByDay.delete(day);
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
      this.finding('missingInLedger', this.missingInLedger, {
        balanceTransactionId: row.balanceTransactionId,
        reportingCategory: row.reportingCategory,
        currency: row.currency,
        amountCents: row.grossCents,
        sourceId: row.sourceId,
        invoiceId: row.invoiceId,
        line: row.line > 0 ? row.line : null,
        reason,
      } satisfies MissingInLedger);
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
      this.finding('amountMismatches', this.amountMismatches, {
        balanceTransactionId: row.balanceTransactionId,
        entryId: e.entryId,
        kind: e.kind,
        comparedOn,
        stripe,
        ledger,
      } satisfies AmountMismatch);
      return;
    }
    // Equal: on the customer-facing side the row is worth exactly the entry.
    const t = count({ currency: e.currency, amountCents: e.amountCents });
    this.matched++;
    t.matchedCents += e.amountCents;
  }

  finish(): ReconciliationResult {
    for (const day of [...this.expectedByDay.keys()].sort()) this.releaseDay(day);
    const totals = [...this.totals.values()]
      .map((t) => ({ ...t, differenceCents: t.stripe.amountCents - t.ledger.amountCents }))
      .sort((a, b) => a.currency.localeCompare(b.currency));
    const settlement = [...this.settlement.values()].sort((a, b) => a.currency.localeCompare(b.currency));
    return {
      month: this.month,
      matched: this.matched,
      counts: { ...this.counts },
      missingInLedger: this.missingInLedger,
      missingInStripe: this.missingInStripe,
      amountMismatches: this.amountMismatches,
      ignored: this.ignored,
      outsideMonth: this.outsideMonth,
      totals,
      settlement,
    };
  }
}

const missingInStripeOf = (e: Expected): MissingInStripe => ({
  entryId: e.entryId,
  kind: e.kind,
  currency: e.currency,
  amountCents: e.amountCents,
  invoiceId: e.invoiceId,
  occurredAt: e.occurredAt,
});

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/**
 * Reconciles a month whose Stripe rows come in time order (either way: the API lists newest first,
 * a report file oldest first) with bounded memory: the ledger is read a UTC day at a time, only the
 * days around the rows at hand (a day either side, for a charge made seconds before its invoice was
 * paid across midnight), and a day is let go of once the rows have moved two days past it. Days no
 * row falls on are read and let go of at the end, so their entries show as missing in Stripe. Rows
 * out of time order would make the window wrong, so they stop the run with an error.
 */
export async function reconcileByDay(input: {
  month: string;
  ledgerDay: (day: string) => AsyncIterable<LedgerEntry>;
  rows: AsyncIterable<ReportRow>;
  listLimit?: number;
  /** After each day let go of: how many of the month's days are done. */
  onDay?: (done: number, total: number) => void;
  onLedgerLoaded?: (expectedRows: number) => void;
}): Promise<ReconciliationResult> {
  const r = new Reconciler(input.month, input.listLimit === undefined ? {} : { listLimit: input.listLimit });
  const first = `${input.month}-01`;
  const days: string[] = [];
  for (let d = first; d.slice(0, 7) === input.month; d = addDays(d, 1)) days.push(d);
  const inMonth = new Set(days);
  const loaded = new Set<string>();
  const released = new Set<string>();
  const load = async (day: string) => {
    if (!inMonth.has(day) || loaded.has(day)) return;
    loaded.add(day);
    for await (const e of input.ledgerDay(day)) r.addLedgerEntry(e);
    input.onLedgerLoaded?.(r.expectedRows);
  };
  const release = (day: string) => {
    if (released.has(day)) return;
    r.releaseDay(day);
    released.add(day);
    input.onDay?.(released.size, days.length);
  };
  let direction = 0;
  let last: string | null = null;
  for await (const row of input.rows) {
    const day = row.createdUtc.slice(0, 10);
    if (!inMonth.has(day)) {
      r.addStripeRow(row);
      continue;
    }
    if (last !== null && day !== last) {
      const step = day > last ? 1 : -1;
      if (direction === 0) direction = step;
      else if (step !== direction)
        throw new Error(`balance transactions out of time order (${row.balanceTransactionId} on ${day} after ${last})`);
      for (const d of loaded) if (direction < 0 ? d > addDays(day, 1) : d < addDays(day, -1)) release(d);
    }
    last = day;
    await load(addDays(day, -1));
    await load(day);
    await load(addDays(day, 1));
    r.addStripeRow(row);
  }
  for (const day of days) {
    await load(day);
    release(day);
  }
  return r.finish();
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
