/**
 * Monthly reconciliation against the Stripe API (EventBridge Scheduler on the 2nd at 06:00 UTC for the
 * previous month; locally `npm run job -- reconcile --month YYYY-MM`). Pulls the month's balance
 * transactions with the SDK's auto-pagination (newest first, as Stripe lists them), streams them
 * through the same Reconciler as the CSV endpoint with the ledger read a UTC day at a time around
 * them (memory holds a few days, whatever the month's size), and stores the result.
 */
import type Stripe from 'stripe';
import { addMonths, MONTH_PATTERN, monthEnd, monthOf, monthStart } from '#shared/domain/finance/months';
import { isReconciledRow } from '#shared/domain/finance/reconciliation';
import { type JobEvent, jobHandler } from '#shared/jobs/handler';
import { ledgerRepository } from '#shared/runtime/dynamo';
import { progressBar } from '#shared/runtime/progress';
import { stripeApi } from '#shared/runtime/stripe-api';
import type { ReportRow } from '#shared/stripe/balance-report';
import { reconcileMonthByDay } from '#shared/usecases/finance';

const refOf = (v: unknown): string | null =>
  typeof v === 'string' ? v : v && typeof v === 'object' && 'id' in v ? String((v as { id: unknown }).id) : null;

/** Sources whose own amount and currency are what the customer paid or got back (the ledger's view). */
const CUSTOMER_FACING_SOURCES = new Set(['charge', 'refund', 'dispute']);

/**
 * A balance transaction as the itemized report would list it (the API has no invoice column). The
 * transaction's `amount`/`currency` are in the settlement currency; the customer-facing amount and
 * currency the ledger books come from its source object (charge, refund or dispute), which the job
 * lists expanded (`expand[]=data.source`), the way the report's `customer_facing_*` columns do.
 */
export function rowFromBalanceTransaction(txn: Stripe.BalanceTransaction): ReportRow {
  const source = txn.source as unknown;
  const sourceObject =
    source && typeof source === 'object'
      ? (source as { object?: string; amount?: unknown; currency?: unknown; charge?: unknown; payment_intent?: unknown })
      : null;
  const isCharge = sourceObject?.object === 'charge' || (typeof source === 'string' && source.startsWith('ch_'));
  const facing =
    sourceObject &&
    CUSTOMER_FACING_SOURCES.has(sourceObject.object ?? '') &&
    Number.isSafeInteger(sourceObject.amount) &&
    typeof sourceObject.currency === 'string'
      ? { cents: Math.abs(sourceObject.amount as number), currency: sourceObject.currency.toLowerCase() }
      : null;
  return {
    line: 0,
    balanceTransactionId: txn.id,
    createdUtc: new Date(txn.created * 1000).toISOString(),
    currency: txn.currency,
    grossCents: txn.amount,
    // Signed like the balance transaction, as the report's column is.
    customerFacingCents: facing ? (txn.amount < 0 ? -facing.cents : facing.cents) : null,
    customerFacingCurrency: facing?.currency ?? null,
    reportingCategory: txn.reporting_category,
    sourceId: refOf(source),
    chargeId: isCharge ? refOf(source) : refOf(sourceObject?.charge),
    paymentIntentId: refOf(sourceObject?.payment_intent),
    invoiceId: null,
  };
}

export const handler = jobHandler('reconcile', async (event: JobEvent) => {
  const now = event.asOf ? new Date(event.asOf) : new Date();
  const month = event.month ?? addMonths(monthOf(now), -1);
  if (!MONTH_PATTERN.test(month)) throw new Error(`--month must be YYYY-MM, got "${month}"`);
  // The same secret and rules as the shopper routes (a JSON secret; an empty or non-Stripe key is unset).
  const stripe = await stripeApi();
  if (!stripe) throw new Error('STRIPE_SECRET_KEY is not set: the reconcile job needs the Stripe API');

  // Days of the month reconciled (a day is done once the transactions have moved past it), and the
  // charge/refund/dispute transactions read so far (fees, payouts, ... have no entry and are not counted).
  const progress = progressBar(`reconcile ${month}: days done`, process.stderr, { estimated: false });
  let transactions = 0;
  const created = { gte: monthStart(month).getTime() / 1000, lt: monthEnd(month).getTime() / 1000 };
  async function* rows(): AsyncGenerator<ReportRow> {
    // expand data.source: a charge's payment intent links it to its invoice (through invoice_payment entries).
    for await (const txn of stripe!.balanceTransactions.list({ created, limit: 100, expand: ['data.source'] })) {
      const row = rowFromBalanceTransaction(txn);
      if (isReconciledRow(row)) transactions++;
      yield row;
    }
  }
  let days = 0;
  const result = await reconcileMonthByDay(ledgerRepository(), month, rows(), {
    source: 'stripe-api',
    now,
    onDay: (done, total) => {
      if (days === 0) progress.setTotal(total);
      progress.tick(done - days);
      days = done;
    },
  });
  progress.done();
  return {
    month,
    transactions,
    matched: result.matched,
    missingInLedger: result.counts.missingInLedger,
    missingInStripe: result.counts.missingInStripe,
    amountMismatches: result.counts.amountMismatches,
    ignored: result.ignored,
    outsideMonth: result.outsideMonth,
    totals: result.totals,
    settlement: result.settlement,
  };
});
