/**
 * The money ledger in the single table. Item shapes:
 * - entry:          `{ PK: LEDGER#YYYY-MM, SK: <occurredAt ISO>#<entryId>, type: 'ledger-entry', ...LedgerEntry }`
 * - reconciliation: `{ PK: RECON#YYYY-MM,  SK: <ranAt ISO>#<source>, type: 'reconciliation', ... }`
 * - once-guard:     `{ PK: LEDGER-ONCE#<entryId>, SK: ONCE, type: 'ledger-once' }` for entries keyed by delivery
 * - invoice facts:  `{ PK: INVOICE#<invoiceId>, SK: PAID, type: 'invoice-facts', ...LedgerEntry }`
 * - payment link:   `{ PK: PAYMENT#<pi_… or ch_…>, SK: INVOICE, type: 'payment-link', invoiceId }` (storage/payment-links.ts)
 * - the rollups' facts, routes, indexes and queue entry of the entry (storage/finance-rollups.ts)
 * A month of entries is one (paginated) Query in time order, never a Scan. Entries are written with
 * a condition that the key does not exist: the key derives from the Stripe object alone, so a
 * redelivery (or a second event about the same object) finds it and writes nothing. An entry and
 * every item recording it commit in one transaction, so they exist together or not at all.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { keyedByDelivery, type LedgerEntry } from '../domain/finance/ledger';
import { monthOf } from '../domain/finance/months';
import type { ReconciliationResult } from '../domain/finance/reconciliation';
import { batchGetAll } from './batch-get';
import { rollupFactItems } from './finance-rollups';
import { paymentLinkItem, readPaymentLinks } from './payment-links';
import { queryPages } from './query-prefix';
import type { TransactItem } from './transact';

export const ledgerKeys = {
  entry: (e: Pick<LedgerEntry, 'occurredAt' | 'entryId'>) => ({
    PK: `LEDGER#${monthOf(e.occurredAt)}`,
    SK: `${e.occurredAt}#${e.entryId}`,
  }),
  monthPk: (month: string) => `LEDGER#${month}`,
  reconciliationPk: (month: string) => `RECON#${month}`,
  once: (entryId: string) => ({ PK: `LEDGER-ONCE#${entryId}`, SK: 'ONCE' }),
  invoice: (invoiceId: string) => ({ PK: `INVOICE#${invoiceId}`, SK: 'PAID' }),
  /** GSI `lookup` key of a member's entries: the shopper's export finds them without a Scan (storage/item-registry.ts). */
  memberLookupPk: (memberId: string) => `LEDGER-MEMBER#${memberId}`,
} as const;

export interface LedgerPage {
  entries: LedgerEntry[];
  /** Opaque cursor of the next page; null on the last page. */
  cursor: string | null;
}

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

/** An entry's sort key as `ledgerKeys.entry` builds it: `<occurredAt ISO>#<entry id>` (printable ASCII, well under DynamoDB's 1 KB). */
const ENTRY_SK = /^\d{4}-\d{2}-\d{2}T[0-9:.]+Z#[\x21-\x7e]{1,900}$/;

/**
 * The start key a cursor stands for, rebuilt from its two checked fields: a crafted cursor (other
 * attributes, an empty or oversized key, another partition) is a 400, never a Query DynamoDB refuses.
 */
function startKeyOf(cursor: string, month: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('cursor is not one this API returned');
  }
  const { PK, SK } = (parsed && typeof parsed === 'object' ? parsed : {}) as { PK?: unknown; SK?: unknown };
  if (PK !== ledgerKeys.monthPk(month)) throw new InvalidCursorError('cursor belongs to another month');
  if (typeof SK !== 'string' || !ENTRY_SK.test(SK)) throw new InvalidCursorError('cursor is not one this API returned');
  return { PK, SK };
}

/** Keeps at most this many items of each list in a stored reconciliation (DynamoDB items are ≤ 400 KB). */
const STORED_LIST_LIMIT = 200;

const strip = <T>(item: Record<string, unknown>): T => {
  const { PK: _pk, SK: _sk, type: _type, lookupPk: _lpk, lookupSk: _lsk, ...rest } = item;
  return rest as T;
};

export interface LedgerItem {
  item: Record<string, unknown>;
  /** Put only if the key is new (everything but the payment links, whose rewrite carries the same invoice id). */
  once: boolean;
}

/**
 * Every item recording one entry writes, in one transaction:
 * - the entry;
 * - a paid invoice's facts under `INVOICE#<id>` so a refund can find the invoice it refunds by id;
 * - an invoice payment's links `PAYMENT#<payment intent>` / `PAYMENT#<charge>` → invoice id, the one
 *   link item the membership's refund path reads as well (storage/payment-links.ts);
 * - what the rollups need of it and the marker of the projection it owes (storage/finance-rollups.ts);
 * - for an entry keyed by its delivery (`keyedByDelivery`), a guard keyed by the entry id alone, so
 *   a second event reporting the same fact at another time finds the guard and writes nothing.
 */
export function ledgerItems(entry: LedgerEntry, now: Date): LedgerItem[] {
  const once = (item: Record<string, unknown>) => ({ item, once: true });
  const items: LedgerItem[] = [
    once({
      ...ledgerKeys.entry(entry),
      type: 'ledger-entry',
      ...entry,
      ...(entry.memberId ? { lookupPk: ledgerKeys.memberLookupPk(entry.memberId), lookupSk: ledgerKeys.entry(entry).SK } : {}),
    }),
  ];
  if (entry.kind === 'invoice_paid') items.push(once({ ...ledgerKeys.invoice(entry.entryId), type: 'invoice-facts', ...entry }));
  if (entry.kind === 'gift_paid') {
    // A gift sale is its own "invoice": refunds and disputes of its payment tie to it through the same
    // link and facts as a membership invoice's (docs/gifts.md, "Money").
    items.push(once({ ...ledgerKeys.invoice(entry.entryId), type: 'invoice-facts', ...entry }));
    for (const id of [entry.paymentIntentId, entry.chargeId]) {
      if (id) items.push({ item: paymentLinkItem({ paymentRef: id, invoiceId: entry.entryId, entryId: entry.entryId }), once: false });
    }
  }
  if (entry.kind === 'invoice_payment' && entry.invoiceId) {
    for (const id of [entry.paymentIntentId, entry.chargeId]) {
      if (id) items.push({ item: paymentLinkItem({ paymentRef: id, invoiceId: entry.invoiceId, entryId: entry.entryId }), once: false });
    }
  }
  items.push(...rollupFactItems(entry, now).map(once));
  if (keyedByDelivery(entry)) items.push(once({ ...ledgerKeys.once(entry.entryId), type: 'ledger-once', at: entry.occurredAt }));
  return items;
}

/** The same items as writes of another transaction (a gift's claim commits its entry with the membership). */
export function ledgerTransactItems(tableName: string, entry: LedgerEntry, now: Date): TransactItem[] {
  return ledgerItems(entry, now).map(({ item: Item, once }) => ({
    Put: { TableName: tableName, Item, ...(once ? { ConditionExpression: 'attribute_not_exists(PK)' } : {}) },
  }));
}

export class LedgerRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Writes an entry and the items recording it once (a redelivery finds it and writes nothing). */
  async record(entry: LedgerEntry): Promise<'recorded' | 'duplicate'> {
    const items = ledgerItems(entry, new Date());
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: items.map(({ item: Item, once }) => ({
            Put: { TableName: this.tableName, Item, ...(once ? { ConditionExpression: 'attribute_not_exists(PK)' } : {}) },
          })),
        }),
      );
      return 'recorded';
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed')
      ) {
        return 'duplicate';
      }
      throw error;
    }
  }

  /** One month, page by page, in time order. */
  async *pages(
    month: string,
    options: { cursor?: string; pageSize?: number; fields?: readonly string[] } = {},
  ): AsyncGenerator<LedgerPage> {
    const projection = options.fields
      ? {
          ProjectionExpression: options.fields.map((_, i) => `#f${i}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(options.fields.map((f, i) => [`#f${i}`, f])),
        }
      : {};
    let startKey: Record<string, unknown> | undefined = options.cursor ? startKeyOf(options.cursor, month) : undefined;
    do {
      let out: QueryCommandOutput;
      try {
        out = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': ledgerKeys.monthPk(month) },
            ExclusiveStartKey: startKey,
            Limit: options.pageSize ?? 1000,
            ...projection,
          }),
        );
      } catch (error) {
        // Whatever a cursor still holds that DynamoDB refuses is the client's cursor, not our failure.
        if (options.cursor && error instanceof Error && error.name === 'ValidationException') {
          throw new InvalidCursorError('cursor is not one this API returned');
        }
        throw error;
      }
      startKey = out.LastEvaluatedKey;
      yield {
        entries: (out.Items ?? []).map((i) => strip<LedgerEntry>(i)),
        cursor: startKey ? Buffer.from(JSON.stringify({ PK: startKey.PK, SK: startKey.SK })).toString('base64url') : null,
      };
    } while (startKey);
  }

  /** One UTC day (`YYYY-MM-DD`) of a month, in time order: the ledger side of reconciliation, a day at a time. */
  async *dayEntries(day: string, fields?: readonly string[]): AsyncGenerator<LedgerEntry> {
    const pages = queryPages(this.db, this.tableName, ledgerKeys.monthPk(day.slice(0, 7)), {
      skPrefix: `${day}T`,
      limit: 1000,
      ...(fields ? { fields } : {}),
    });
    for await (const page of pages) for (const item of page) yield strip<LedgerEntry>(item);
  }

  /** With `fields`, only those attributes are read (reconciliation needs ids and amounts only). */
  async *entries(month: string, fields?: readonly string[]): AsyncGenerator<LedgerEntry> {
    for await (const page of this.pages(month, fields ? { fields } : {})) yield* page.entries;
  }

  /** Payment intent / charge id → invoice id, for those the ledger has an invoice payment of (the drift sweep). */
  async paymentLinks(ids: readonly string[]): Promise<Map<string, string>> {
    return readPaymentLinks(this.db, this.tableName, ids, { consistent: false });
  }

  /** Paid invoices by id (their `invoice_paid` entries), for those the ledger holds (the drift sweep). */
  async invoices(ids: readonly string[]): Promise<Map<string, LedgerEntry>> {
    const items = await batchGetAll(this.db, this.tableName, ids.map(ledgerKeys.invoice));
    return new Map(items.map((i) => [String(i.entryId), strip<LedgerEntry>(i)]));
  }

  async saveReconciliation(result: ReconciliationResult, source: 'report-csv' | 'stripe-api', ranAt: Date): Promise<void> {
    const cap = <T>(list: T[]) => list.slice(0, STORED_LIST_LIMIT);
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          PK: ledgerKeys.reconciliationPk(result.month),
          SK: `${ranAt.toISOString()}#${source}`,
          type: 'reconciliation',
          source,
          ranAt: ranAt.toISOString(),
          month: result.month,
          matched: result.matched,
          counts: result.counts,
          missingInLedger: cap(result.missingInLedger),
          missingInStripe: cap(result.missingInStripe),
          amountMismatches: cap(result.amountMismatches),
          ignored: result.ignored,
          outsideMonth: result.outsideMonth,
          totals: result.totals,
          settlement: result.settlement,
        },
      }),
    );
  }

  async latestReconciliation(month: string): Promise<Record<string, unknown> | null> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': ledgerKeys.reconciliationPk(month) },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    return out.Items?.[0] ? strip(out.Items[0]) : null;
  }
}
