/** The ledger as RFC 4180 CSV: header row, CRLF, quoted where needed, integer cents plus a decimal column. */

import { formatMinorUnits } from '../money';
import type { LedgerEntry } from './ledger';

export const LEDGER_CSV_COLUMNS = [
  'entry_id',
  'kind',
  'occurred_at',
  'currency',
  'amount_cents',
  'amount',
  'total_cents',
  'tax_cents',
  'discount_cents',
  'invoice_id',
  'charge_id',
  'payment_intent_id',
  'balance_transaction_id',
  'refund_ids',
  'dispute_id',
  'subscription_id',
  'customer_id',
  'member_id',
  'plan_id',
  'billing_reason',
  'service_period_start',
  'service_period_end',
  'reason',
  'settlement_currency',
  'settlement_amount_cents',
] as const;

/**
 * Quotes per RFC 4180, and defuses spreadsheet formulas: a text cell starting with = + - @ gets a
 * leading apostrophe (amount columns are numbers and are never touched).
 */
export function csvCell(value: string | number | null, numeric = false): string {
  if (value === null) return '';
  let text = String(value);
  if (!numeric && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const ledgerCsvHeader = () => `${LEDGER_CSV_COLUMNS.join(',')}\r\n`;

export function ledgerCsvRow(e: LedgerEntry): string {
  const cells: Array<[string | number | null, boolean?]> = [
    [e.entryId],
    [e.kind],
    [e.occurredAt],
    [e.currency],
    [e.amountCents, true],
    [formatMinorUnits(e.amountCents, e.currency), true],
    [e.totalCents, true],
    [e.taxCents, true],
    [e.discountCents, true],
    [e.invoiceId],
    [e.chargeId],
    [e.paymentIntentId],
    [e.balanceTransactionId],
    [e.refundIds.join(' ') || null],
    [e.disputeId],
    [e.subscriptionId],
    [e.customerId],
    [e.memberId],
    [e.planId],
    [e.billingReason],
    [e.servicePeriod?.start ?? null],
    [e.servicePeriod?.end ?? null],
    [e.reason],
    [e.settlementCurrency ?? null],
    [e.settlementAmountCents ?? null, true],
  ];
  return `${cells.map(([v, n]) => csvCell(v, n)).join(',')}\r\n`;
}
