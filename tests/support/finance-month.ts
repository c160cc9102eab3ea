/**
 * A generated month of money: ledger entries and the balance transactions Stripe would report for
 * them, for reconciliation tests and the benchmark. Deterministic for a given seed.
 *
 * The entries look like what the webhook path records: a paid invoice knows no charge or payment
 * intent (endive's Invoice names neither); an `invoice_payment` link entry ties the invoice to its
 * payment intent; a refund knows its charge and payment intent, not its invoice; dispute funds carry
 * their balance transaction. Rows carry charge and payment intent ids like Stripe's, and the invoice
 * id only when `invoiceColumn` is on (the report has the column, the API does not), so matching can be
 * made to go through the links as the reconcile job's does.
 */

import { emptyEntry, type LedgerEntry } from '#shared/domain/finance/ledger';
import { currencyExponent, formatMinorUnits } from '#shared/domain/money';
import type { ReportRow } from '#shared/stripe/balance-report';

export interface GeneratedMonth {
  entries: LedgerEntry[];
  rows: ReportRow[];
}

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface MonthOptions {
  month: string;
  invoices: number;
  refundEvery?: number;
  /** Every n-th invoice (offset by 3 from the refunds) is disputed and its funds withdrawn. */
  disputeEvery?: number;
  currencies?: string[];
  /**
   * How the account settles a charge currency, e.g. `{ eur: { currency: 'usd', rate: 1.0834 } }`:
   * the report rows (and balance transactions) of EUR charges are then in USD, converted at the rate,
   * while their customer-facing amount stays the EUR one the ledger books. Unlisted currencies settle
   * as themselves.
   */
  settlement?: Record<string, { currency: string; rate: number }>;
  seed?: number;
  /**
   * Goes into every Stripe id (`in_<tag>00000001`, default `gen`). Invoice, payment intent and charge
   * ids are global keys in the store (an invoice's facts, its payment links), as they are at Stripe:
   * months generated into one table need different tags.
   */
  tag?: string;
  /** Whether rows carry `invoice_id` (default true, as the itemized report does). */
  invoiceColumn?: boolean;
  /**
   * Invoices paid in order over the month (the i-th at i/n of 27 days) instead of at random times,
   * so the rows come out in time order, as Stripe lists them: what the day-at-a-time job needs.
   */
  ordered?: boolean;
}

/** `cents` of `from` converted at `rate` into minor units of `to`, rounded as Stripe does (half away from zero). */
export function convert(cents: number, from: string, to: string, rate: number): number {
  const major = (cents / 10 ** currencyExponent(from)) * rate;
  return Math.sign(major) * Math.round(Math.abs(major) * 10 ** currencyExponent(to));
}

export function generateMonth(options: MonthOptions): GeneratedMonth {
  const entries: LedgerEntry[] = [];
  const rows: ReportRow[] = [];
  for (const item of generateMonthLazily(options)) {
    entries.push(...item.entries);
    rows.push(...item.rows);
  }
  return { entries, rows };
}

/** The same month, one invoice (and its refund) at a time, for callers that must not hold it all. */
export function* generateMonthLazily(options: MonthOptions): Generator<GeneratedMonth> {
  const random = rng(options.seed ?? 42);
  const currencies = options.currencies ?? ['usd'];
  const start = Date.parse(`${options.month}-01T00:00:00Z`);
  const pad = (n: number) => String(n).padStart(8, '0');
  const tag = options.tag ?? 'gen';
  for (let i = 0; i < options.invoices; i++) {
    const entries: LedgerEntry[] = [];
    const rows: ReportRow[] = [];
    const currency = currencies[i % currencies.length]!;
    const fx = options.settlement?.[currency];
    /** The row side of a customer-facing amount: the settlement currency and the converted amount. */
    const settle = (cents: number) =>
      fx ? { currency: fx.currency, grossCents: convert(cents, currency, fx.currency, fx.rate) } : { currency, grossCents: cents };
    const amount = currency === 'jpy' ? 1500 : 1499 + Math.floor(random() * 20) * 100;
    // Whole seconds, as Stripe's timestamps are.
    const at = random();
    const occurredAt = new Date(start + Math.floor((options.ordered ? i / options.invoices : at) * 27 * 86_400) * 1000).toISOString();
    const invoiceId = `in_${tag}${pad(i)}`;
    const chargeId = `ch_${tag}${pad(i)}`;
    const paymentIntentId = `pi_${tag}${pad(i)}`;
    const rowInvoiceId = options.invoiceColumn === false ? null : invoiceId;
    const servicePeriod = { start: occurredAt, end: new Date(Date.parse(occurredAt) + 30 * 86_400_000).toISOString() };
    entries.push(
      emptyEntry({
        entryId: invoiceId,
        kind: 'invoice_paid',
        occurredAt,
        currency,
        amountCents: amount,
        totalCents: amount,
        taxCents: 0,
        discountCents: 0,
        invoiceId,
        subscriptionId: `sub_${tag}${pad(i)}`,
        memberId: `member-${i}`,
        planId: 'prime-monthly',
        priceId: 'price_prime_monthly_usd',
        interval: 'month',
        billingReason: 'subscription_cycle',
        servicePeriod,
        lines: [
          {
            priceId: 'price_prime_monthly_usd',
            planId: 'prime-monthly',
            interval: 'month',
            amountCents: amount,
            proration: false,
            period: servicePeriod,
          },
        ],
      }),
      // invoice_payment.paid: the only place the webhook learns which payment paid the invoice.
      emptyEntry({
        entryId: `inpay_${tag}${pad(i)}`,
        kind: 'invoice_payment',
        occurredAt,
        currency,
        amountCents: amount,
        invoiceId,
        paymentIntentId,
      }),
    );
    rows.push({
      line: 0,
      balanceTransactionId: `txn_ch${pad(i)}`,
      createdUtc: occurredAt,
      ...settle(amount),
      customerFacingCents: amount,
      customerFacingCurrency: currency,
      reportingCategory: 'charge',
      sourceId: chargeId,
      chargeId,
      paymentIntentId,
      invoiceId: rowInvoiceId,
    });
    if (options.refundEvery && i % options.refundEvery === 0) {
      const refundId = `re_${tag}${pad(i)}`;
      const refunded = Math.min(amount, 500);
      entries.push(
        emptyEntry({
          entryId: refundId,
          kind: 'refund',
          occurredAt,
          currency,
          amountCents: refunded,
          chargeId,
          paymentIntentId,
          refundIds: [refundId],
        }),
      );
      rows.push({
        line: 0,
        balanceTransactionId: `txn_re${pad(i)}`,
        createdUtc: occurredAt,
        ...settle(-refunded),
        customerFacingCents: -refunded,
        customerFacingCurrency: currency,
        reportingCategory: 'refund',
        sourceId: refundId,
        chargeId,
        paymentIntentId,
        invoiceId: rowInvoiceId,
      });
    }
    if (options.disputeEvery && (i + 3) % options.disputeEvery === 0) {
      // Stripe books the dispute in its own currency and withdraws the settlement equivalent; the
      // report leaves the customer-facing columns of dispute rows empty.
      const disputeId = `dp_${tag}${pad(i)}`;
      const withdrawn = settle(-amount);
      entries.push(
        emptyEntry({
          entryId: `${disputeId}#dispute_funds_withdrawn`,
          kind: 'dispute_funds_withdrawn',
          occurredAt,
          currency,
          amountCents: amount,
          disputeId,
          chargeId,
          paymentIntentId,
          balanceTransactionId: `txn_dp${pad(i)}`,
          settlementCurrency: withdrawn.currency,
          settlementAmountCents: -withdrawn.grossCents,
        }),
      );
      rows.push({
        line: 0,
        balanceTransactionId: `txn_dp${pad(i)}`,
        createdUtc: occurredAt,
        ...withdrawn,
        customerFacingCents: null,
        customerFacingCurrency: null,
        reportingCategory: 'dispute',
        sourceId: disputeId,
        chargeId,
        paymentIntentId,
        invoiceId: rowInvoiceId,
      });
    }
    yield { entries, rows };
  }
}

/** Stripe's card fee on a charge (2.9% + 30¢); nothing on refunds. Only the CSV and the API double show it. */
export const feeFor = (r: Pick<ReportRow, 'grossCents' | 'reportingCategory'>) =>
  r.reportingCategory === 'charge' ? Math.round(r.grossCents * 0.029) + 30 : 0;

/** Columns in a different order from Stripe's, with extra ones, as a real export may have. */
const COLUMNS = [
  'created_utc',
  'reporting_category',
  'balance_transaction_id',
  'description',
  'gross',
  'fee',
  'net',
  'currency',
  'customer_facing_amount',
  'customer_facing_currency',
  'source_id',
  'charge_id',
  'payment_intent_id',
  'invoice_id',
  'customer_email',
] as const;

const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

export function* balanceReportCsv(rows: Iterable<ReportRow>, options: { bom?: boolean; eol?: string } = {}): Generator<string> {
  const eol = options.eol ?? '\r\n';
  yield (options.bom ? '\uFEFF' : '') + COLUMNS.join(',') + eol;
  for (const r of rows) {
    const fee = feeFor(r);
    const cells: Record<(typeof COLUMNS)[number], string> = {
      created_utc: r.createdUtc?.replace('T', ' ').slice(0, 19) ?? '',
      reporting_category: r.reportingCategory,
      balance_transaction_id: r.balanceTransactionId,
      description: `Subscription, "${r.sourceId}", thanks`,
      gross: formatMinorUnits(r.grossCents, r.currency),
      fee: formatMinorUnits(fee, r.currency),
      net: formatMinorUnits(r.grossCents - fee, r.currency),
      currency: r.currency,
      customer_facing_amount: r.customerFacingCents === null ? '' : formatMinorUnits(r.customerFacingCents, r.customerFacingCurrency!),
      customer_facing_currency: r.customerFacingCurrency ?? '',
      source_id: r.sourceId ?? '',
      charge_id: r.chargeId ?? '',
      payment_intent_id: r.paymentIntentId ?? '',
      invoice_id: r.invoiceId ?? '',
      customer_email: 'someone@example.com',
    };
    yield COLUMNS.map((c) => quote(cells[c])).join(',') + eol;
  }
}
