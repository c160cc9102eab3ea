/**
 * The payment link: which invoice a payment (a PaymentIntent `pi_`, or a bare charge `ch_`) paid.
 * `{ PK: PAYMENT#<pi_… or ch_…>, SK: INVOICE, type: 'payment-link', paymentRef, invoiceId, entryId }`.
 *
 * In this API version only `invoice_payment.paid` says which payment paid which invoice, and two
 * features need to know: the membership ties a `charge.refunded` to its invoice (to void the period's
 * grants and take the refund off fees paid), and finance ties refunds and disputes to invoices (revenue,
 * reconciliation). One item serves both. Its one writer is the ledger: the item commits in the same
 * transaction as the `invoice_payment` entry (`ledgerItems`), and the webhook records money before it
 * applies the membership change, so by the time the membership reads the link it is there.
 *
 * Kept without TTL, like the ledger entries it belongs to: finance reconciles and recomputes revenue
 * for old months, and a refund or dispute may come months after the payment.
 *
 * A refund that arrives before its link waits in the same partition (`REFUND#<charge>`, membership
 * repository), so the payment's link and its waiting refunds sit together.
 */

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from './batch-get';
import { keys } from './keys';

const linkKey = (paymentRef: string) => ({ PK: keys.paymentPk(paymentRef), SK: 'INVOICE' });

/**
 * The link as the ledger writes it. Not conditional: every writer of a payment's link carries the
 * same invoice, so a rewrite changes nothing.
 */
export function paymentLinkItem(link: { paymentRef: string; invoiceId: string; entryId: string }): Record<string, unknown> {
  return { ...linkKey(link.paymentRef), type: 'payment-link', ...link };
}

export function paymentLinkFromItem(item: Record<string, unknown>): { paymentRef: string; invoiceId: string } {
  return { paymentRef: String(item.paymentRef), invoiceId: String(item.invoiceId) };
}

/**
 * Payment → invoice for those of `paymentRefs` that are linked. `consistent` for the membership's
 * refund handshake, which must see a link committed before it reads; finance reads a replica.
 */
export async function readPaymentLinks(
  db: DynamoDBDocumentClient,
  tableName: string,
  paymentRefs: readonly string[],
  options: { consistent: boolean },
): Promise<Map<string, string>> {
  const items = await batchGetAll(db, tableName, [...new Set(paymentRefs)].map(linkKey), options);
  return new Map(items.map(paymentLinkFromItem).map((link) => [link.paymentRef, link.invoiceId]));
}
