/**
 * Finance rollups in the single table: the facts of each finance account, the routes of entries that
 * must find their invoice, the month rollups and the work still to project. Item shapes (the one
 * writer and mapper of each is in this module):
 * - account fact:  `{ PK: FINACCT#<account>, SK: INV#<invoiceId> | FAIL#<entryId> | END#<entryId> | GIFT#<entryId>, type: 'finance-fact', entry }`
 *                  (written with the ledger entry) and `SK: TIED#<entryId>, entry, invoiceId` (written when routed)
 * - savings:       `{ PK: FINACCT#<member>, SK: SAVE#<YYYY-MM>#<currency>, type: 'finance-savings', month, currency, cents }` (ADD, benefits)
 * - account state: `{ PK: FINACCT#<account>, SK: STATE#<YYYY>, type: 'finance-state', applied, version }`: what the
 *                  account has added to the rollups of that year's months
 * - route:         `{ PK: FINROUTE#<entryId>, SK: ROUTE, type: 'finance-route', entry, owner, applied, version }`
 * - indexes:       `PAYMENT#<pi|ch>` / `TIED#<entryId>`, `INVOICE#<id>` / `LINK#<pi|ch>` and `NOTE#<creditNoteId>`,
 *                  `REFUNDNOTE#<refundId>` / `NOTE`: where a late link, invoice or credit note finds what waited for it
 * - rollup row:    `{ PK: ROLLUP#<YYYY-MM>, SK: <currency>#<plan>#<shard>, type: 'rollup', currency, plan, shard, <figures> }`
 * - touch index:   `{ PK: ROLLUP-ACCOUNTS#<YYYY-MM>#<lane>, SK: <account> }`: the accounts that contribute to a month (the rebuild reads it)
 * - marker:        `{ PK: ROLLUP-DIRTY#<lane>, SK: ENTRY#<entryId> | ACCOUNT#<account>, at, token, entry? }`: projection still owed
 *
 * A rollup row is one of `ROLLUP_SHARDS` rows per (month, currency, plan): each projection adds to a
 * shard picked at random, and a reader sums them, so renewals that cluster never queue on one item.
 */
import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  type AccountFacts,
  accountKeyOf,
  addAccountEntry,
  type Contributions,
  emptyAccount,
  type Figures,
  parseContributionKey,
} from '../domain/finance/account';
import type { LedgerEntry } from '../domain/finance/ledger';
import { monthOf } from '../domain/finance/months';
import { paymentRefsOf, TIED_KINDS } from '../domain/finance/refunds';
import type { RollupRow } from '../domain/finance/revenue';
import { batchGetAll } from './batch-get';
import { keys } from './keys';
import { readPaymentLinks } from './payment-links';
import { queryPages, queryPartition } from './query-prefix';
import type { TransactItem } from './transact';

/** Rows per (month, currency, plan) that projections spread their additions over. */
export const ROLLUP_SHARDS = 16;
/** Partitions of the work queue and of the touch index. */
export const ROLLUP_LANES = 8;
/** Queue entries read at once: each carries its ledger entry, so a page stays well under a megabyte. */
export const MARKER_PAGE = 100;

export const rollupKeys = {
  accountPk: (account: string) => `FINACCT#${account}`,
  invoiceFact: (invoiceId: string) => `INV#${invoiceId}`,
  failureFact: (entryId: string) => `FAIL#${entryId}`,
  endingFact: (entryId: string) => `END#${entryId}`,
  giftFact: (entryId: string) => `GIFT#${entryId}`,
  tiedFact: (entryId: string) => `TIED#${entryId}`,
  savings: (month: string, currency: string) => `SAVE#${month}#${currency}`,
  state: (year: string) => `STATE#${year}`,
  route: (entryId: string) => ({ PK: `FINROUTE#${entryId}`, SK: 'ROUTE' }),
  paymentTied: (paymentRef: string, entryId: string) => ({ PK: keys.paymentPk(paymentRef), SK: `TIED#${entryId}` }),
  invoicePk: (invoiceId: string) => `INVOICE#${invoiceId}`,
  refundNote: (refundId: string) => ({ PK: `REFUNDNOTE#${refundId}`, SK: 'NOTE' }),
  monthPk: (month: string) => `ROLLUP#${month}`,
  touchPk: (month: string, lane: number) => `ROLLUP-ACCOUNTS#${month}#${lane}`,
  markerPk: (lane: number) => `ROLLUP-DIRTY#${lane}`,
} as const;

/** A stable small hash: which lane a queue entry or an account's touch entries go to. */
export function laneOf(value: string): number {
  let h = 0;
  for (let i = 0; i < value.length; i++) h = (h * 31 + value.charCodeAt(i)) | 0;
  return Math.abs(h) % ROLLUP_LANES;
}

const randomShard = () => Math.floor(Math.random() * ROLLUP_SHARDS);

/** Ledger entry kinds whose recording leaves projection work (the others move no figure). */
const PROJECTED: ReadonlySet<LedgerEntry['kind']> = new Set([
  'invoice_paid',
  'invoice_payment',
  'invoice_payment_failed',
  'subscription_ended',
  'gift_paid',
  'gift_claimed',
  ...TIED_KINDS,
]);

export const toObject = (c: Contributions): Record<string, Figures> => Object.fromEntries(c);
export const toContributions = (o: unknown): Contributions =>
  new Map(Object.entries((o ?? {}) as Record<string, Figures>).map(([k, v]) => [k, { ...v }]));

const strip = (item: Record<string, unknown>) => {
  const { PK: _pk, SK: _sk, type: _type, ...rest } = item;
  return rest;
};

/**
 * The items recording an entry adds for the rollups, in the entry's own transaction (put once):
 * the account's copy of an invoice, failed renewal or ending; the route of a refund-like entry and
 * where a late link finds it; a link's and a credit note's place under their invoice; the marker of
 * the projection it owes.
 */
export function rollupFactItems(entry: LedgerEntry, now: Date): Array<Record<string, unknown>> {
  const items: Array<Record<string, unknown>> = [];
  const account = rollupKeys.accountPk(accountKeyOf(entry));
  if (entry.kind === 'invoice_paid') items.push({ PK: account, SK: rollupKeys.invoiceFact(entry.entryId), type: 'finance-fact', entry });
  if (entry.kind === 'invoice_payment_failed')
    items.push({ PK: account, SK: rollupKeys.failureFact(entry.entryId), type: 'finance-fact', entry });
  if (entry.kind === 'subscription_ended')
    items.push({ PK: account, SK: rollupKeys.endingFact(entry.entryId), type: 'finance-fact', entry });
  if (entry.kind === 'gift_paid' || entry.kind === 'gift_claimed')
    items.push({ PK: account, SK: rollupKeys.giftFact(entry.entryId), type: 'finance-fact', entry });
  if (TIED_KINDS.has(entry.kind)) {
    items.push({ ...rollupKeys.route(entry.entryId), type: 'finance-route', entry, owner: null, applied: {}, version: 0 });
    for (const ref of paymentRefsOf(entry))
      items.push({ ...rollupKeys.paymentTied(ref, entry.entryId), type: 'finance-index', entryId: entry.entryId });
  }
  if (entry.kind === 'invoice_payment' && entry.invoiceId)
    for (const ref of paymentRefsOf(entry))
      items.push({ PK: rollupKeys.invoicePk(entry.invoiceId), SK: `LINK#${ref}`, type: 'finance-index', paymentRef: ref });
  if (entry.kind === 'credit_note' && entry.invoiceId) {
    items.push({
      PK: rollupKeys.invoicePk(entry.invoiceId),
      SK: `NOTE#${entry.entryId}`,
      type: 'finance-index',
      creditNoteId: entry.entryId,
      refundIds: entry.refundIds,
    });
    for (const r of entry.refundIds)
      items.push({ ...rollupKeys.refundNote(r), type: 'finance-index', invoiceId: entry.invoiceId, creditNoteId: entry.entryId });
  }
  if (PROJECTED.has(entry.kind)) items.push(markerItem(`ENTRY#${entry.entryId}`, now, { entry }, ENTRY_TOKEN));
  return items;
}

/** An entry's marker is written once, with the entry, so it needs no token of its own. */
const ENTRY_TOKEN = 'entry';

/** The queue entry a recorded ledger entry leaves (null when it owes no projection), for the request that recorded it to clear. */
export function entryMarker(entry: LedgerEntry): Marker | null {
  if (!PROJECTED.has(entry.kind)) return null;
  const ref = `ENTRY#${entry.entryId}`;
  return { lane: laneOf(ref), ref, token: ENTRY_TOKEN, at: '', entry };
}

function markerItem(
  ref: string,
  now: Date,
  extra: Record<string, unknown> = {},
  token = randomBytes(8).toString('hex'),
): Record<string, unknown> {
  return { PK: rollupKeys.markerPk(laneOf(ref)), SK: ref, type: 'rollup-marker', at: now.toISOString(), token, ...extra };
}

/**
 * What a benefit write adds for the rollups, in its own transaction: the member's savings of the
 * month (coupon savings and shipping saved; a release takes back, in its own month) and the marker
 * that the member's account is to be projected again. For the benefits use cases (redeem, release,
 * usage, and a hold's commit): each calls it with the saving it just recorded.
 */
export function savingsRollupWrites(tableName: string, memberId: string, at: Date, currency: string, cents: number): TransactItem[] {
  if (cents === 0) return [];
  const month = monthOf(at);
  return [
    {
      Update: {
        TableName: tableName,
        Key: { PK: rollupKeys.accountPk(memberId), SK: rollupKeys.savings(month, currency) },
        UpdateExpression: 'SET #type = :type, #month = :month, currency = :currency ADD cents :cents',
        ExpressionAttributeNames: { '#type': 'type', '#month': 'month' },
        ExpressionAttributeValues: { ':type': 'finance-savings', ':month': month, ':currency': currency, ':cents': cents },
      },
    },
    { Put: { TableName: tableName, Item: markerItem(`ACCOUNT#${memberId}`, at, { account: memberId }) } },
  ];
}

export interface RouteOwner {
  account: string;
  invoiceId: string;
}

export interface RouteRecord {
  entry: LedgerEntry;
  owner: RouteOwner | null;
  /** The unattributed contributions the route has added to the rollups. */
  applied: Contributions;
  version: number;
}

export interface AccountChunk {
  applied: Contributions;
  version: number;
}

export interface LoadedAccount {
  facts: AccountFacts;
  /** By year (`YYYY`): what the account has added to the rollups of that year's months. */
  chunks: Map<string, AccountChunk>;
}

export interface Marker {
  lane: number;
  ref: string;
  token: string;
  at: string;
  entry?: LedgerEntry;
  account?: string;
}

/** A year of an account's state replaced, and the difference added to the rollups. */
export interface ChunkCommit {
  account: string;
  year: string;
  expectedVersion: number;
  applied: Contributions;
  delta: Contributions;
  /** Months the account contributes to for the first time (the touch index). */
  newMonths: readonly string[];
}

/** What a route's move adds to the rollups: its new contributions less those it had added. */
export function routeDelta(route: RouteRecord, applied: Contributions): Contributions {
  const delta = new Map(applied);
  for (const [key, figures] of route.applied) {
    const into = { ...(delta.get(key) ?? {}) };
    for (const [field, value] of Object.entries(figures)) into[field] = (into[field] ?? 0) - value;
    delta.set(key, into);
  }
  return delta;
}

/** What the rollup projection reads and writes (DynamoDB here; an in-memory one in the unit tests). */
export interface RollupStore {
  loadAccount(account: string): Promise<LoadedAccount>;
  /** Replaces a year's chunk and adds `delta` to the rollups, if the chunk is still at `expectedVersion`; false if not. */
  commitAccountChunk(input: ChunkCommit): Promise<boolean>;
  getRoute(entryId: string): Promise<RouteRecord | null>;
  /**
   * Moves a route to `owner` (its entry filed under that account, taken from the previous one) with
   * `applied` as its own contributions, adding the difference to the rollups, if the route is still
   * at its version; false if not.
   */
  moveRoute(input: { route: RouteRecord; owner: RouteOwner | null; applied: Contributions }): Promise<boolean>;
  /** The invoice of the credit note listing this refund. */
  creditNoteInvoice(refundId: string): Promise<string | null>;
  paymentInvoices(paymentRefs: readonly string[]): Promise<Map<string, string>>;
  invoice(invoiceId: string): Promise<LedgerEntry | null>;
  /** Refund-like entries recorded with this payment intent or charge. */
  tiedByPayment(paymentRef: string): Promise<string[]>;
  /** The links and credit notes recorded for an invoice. */
  waitingOnInvoice(invoiceId: string): Promise<{ paymentRefs: string[]; creditNotes: Array<{ id: string; refundIds: string[] }> }>;
  monthRows(month: string): Promise<RollupRow[]>;
  /** Queue entries of a lane written before `before`, a page at a time (a backlog must never be loaded whole). */
  markers(lane: number, before: Date): AsyncIterable<Marker[]>;
  /** Removes a queue entry, unless it was written again since it was read. */
  clearMarker(marker: Marker): Promise<void>;
  /** The accounts that contribute to a month, page by page. */
  accountsOf(month: string): AsyncIterable<string[]>;
  /** Writes whichever of an entry's rollup items are missing (an entry recorded before them, or lost); how many were. */
  restoreFacts(entry: LedgerEntry): Promise<number>;
  /** Adds a correction to the rollups directly: only for a rebuild that found rows no account explains. */
  correct(delta: Contributions): Promise<void>;
}

const failedOnCondition = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict'));

export class DynamoRollupStore implements RollupStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async loadAccount(account: string): Promise<LoadedAccount> {
    const items = await queryPartition(this.db, this.tableName, rollupKeys.accountPk(account), { consistent: true });
    const facts = emptyAccount();
    const chunks = new Map<string, AccountChunk>();
    for (const item of items) {
      const sk = String(item.SK);
      if (item.type === 'finance-fact' && sk.startsWith('TIED#'))
        facts.tied.push({ entry: item.entry as LedgerEntry, invoiceId: String(item.invoiceId) });
      else if (item.type === 'finance-fact') addAccountEntry(facts, item.entry as LedgerEntry);
      else if (item.type === 'finance-savings')
        facts.savings.push({ month: String(item.month), currency: String(item.currency), cents: Number(item.cents ?? 0) });
      else if (item.type === 'finance-state')
        chunks.set(sk.slice('STATE#'.length), { applied: toContributions(item.applied), version: Number(item.version) });
    }
    return { facts, chunks };
  }

  async commitAccountChunk(input: ChunkCommit): Promise<boolean> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            PK: rollupKeys.accountPk(input.account),
            SK: rollupKeys.state(input.year),
            type: 'finance-state',
            applied: toObject(input.applied),
            version: input.expectedVersion + 1,
          },
          ConditionExpression: input.expectedVersion === 0 ? 'attribute_not_exists(PK)' : 'version = :v',
          ...(input.expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': input.expectedVersion } }),
        },
      },
      ...this.rollupUpdates(input.delta),
      ...input.newMonths.map((month) => ({
        Put: {
          TableName: this.tableName,
          Item: { PK: rollupKeys.touchPk(month, laneOf(input.account)), SK: input.account, type: 'rollup-touch' },
        },
      })),
    ];
    return this.transact(items);
  }

  async getRoute(entryId: string): Promise<RouteRecord | null> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: rollupKeys.route(entryId), ConsistentRead: true }));
    if (!out.Item) return null;
    return {
      entry: out.Item.entry as LedgerEntry,
      owner: (out.Item.owner as RouteOwner | null) ?? null,
      applied: toContributions(out.Item.applied),
      version: Number(out.Item.version ?? 0),
    };
  }

  async moveRoute(input: { route: RouteRecord; owner: RouteOwner | null; applied: Contributions }): Promise<boolean> {
    const { route, owner } = input;
    const entryId = route.entry.entryId;
    const delta = routeDelta(route, input.applied);
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: rollupKeys.route(entryId),
          UpdateExpression: 'SET #owner = :owner, applied = :applied, version = :next',
          ConditionExpression: 'version = :v',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':applied': toObject(input.applied),
            ':next': route.version + 1,
            ':v': route.version,
          },
        },
      },
      ...this.rollupUpdates(delta),
    ];
    if (route.owner && route.owner.account !== owner?.account)
      items.push({
        Delete: { TableName: this.tableName, Key: { PK: rollupKeys.accountPk(route.owner.account), SK: rollupKeys.tiedFact(entryId) } },
      });
    if (owner)
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            PK: rollupKeys.accountPk(owner.account),
            SK: rollupKeys.tiedFact(entryId),
            type: 'finance-fact',
            entry: route.entry,
            invoiceId: owner.invoiceId,
          },
        },
      });
    return this.transact(items);
  }

  async creditNoteInvoice(refundId: string): Promise<string | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: rollupKeys.refundNote(refundId), ConsistentRead: true }),
    );
    return typeof out.Item?.invoiceId === 'string' ? out.Item.invoiceId : null;
  }

  paymentInvoices(paymentRefs: readonly string[]): Promise<Map<string, string>> {
    return readPaymentLinks(this.db, this.tableName, paymentRefs, { consistent: true });
  }

  async invoice(invoiceId: string): Promise<LedgerEntry | null> {
    const [item] = await batchGetAll(this.db, this.tableName, [{ PK: rollupKeys.invoicePk(invoiceId), SK: 'PAID' }], { consistent: true });
    return item ? (strip(item) as unknown as LedgerEntry) : null;
  }

  async tiedByPayment(paymentRef: string): Promise<string[]> {
    const items = await queryPartition(this.db, this.tableName, keys.paymentPk(paymentRef), { skPrefix: 'TIED#', consistent: true });
    return items.map((i) => String(i.entryId));
  }

  async waitingOnInvoice(invoiceId: string) {
    const items = await queryPartition(this.db, this.tableName, rollupKeys.invoicePk(invoiceId), { consistent: true });
    return {
      paymentRefs: items.filter((i) => String(i.SK).startsWith('LINK#')).map((i) => String(i.paymentRef)),
      creditNotes: items
        .filter((i) => String(i.SK).startsWith('NOTE#'))
        .map((i) => ({ id: String(i.creditNoteId), refundIds: (i.refundIds as string[] | undefined) ?? [] })),
    };
  }

  async monthRows(month: string): Promise<RollupRow[]> {
    const items = await queryPartition(this.db, this.tableName, rollupKeys.monthPk(month), { consistent: true });
    return sumShards(items.map(rollupRowFromItem));
  }

  async *markers(lane: number, before: Date): AsyncIterable<Marker[]> {
    for await (const items of queryPages(this.db, this.tableName, rollupKeys.markerPk(lane), { consistent: true, limit: MARKER_PAGE }))
      yield items
        .filter((i) => String(i.at) < before.toISOString())
        .map((i) => ({
          lane,
          ref: String(i.SK),
          token: String(i.token),
          at: String(i.at),
          ...(i.entry ? { entry: i.entry as LedgerEntry } : {}),
          ...(typeof i.account === 'string' ? { account: i.account } : {}),
        }));
  }

  async clearMarker(marker: Marker): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { PK: rollupKeys.markerPk(marker.lane), SK: marker.ref },
          ConditionExpression: 'attribute_not_exists(PK) OR #token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': marker.token },
        }),
      );
    } catch (error) {
      // Written again since it was read: the new work is still owed, keep it.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async *accountsOf(month: string): AsyncIterable<string[]> {
    for (let lane = 0; lane < ROLLUP_LANES; lane++)
      for await (const page of queryPages(this.db, this.tableName, rollupKeys.touchPk(month, lane), { limit: 500 }))
        yield page.map((i) => String(i.SK));
  }

  async restoreFacts(entry: LedgerEntry): Promise<number> {
    let written = 0;
    // Not the queue entry: the caller projects the entry itself.
    for (const item of rollupFactItems(entry, new Date()).filter((i) => i.type !== 'rollup-marker')) {
      try {
        await this.db.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
        written++;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return written;
  }

  async correct(delta: Contributions): Promise<void> {
    const updates = this.rollupUpdates(delta);
    for (let i = 0; i < updates.length; i += 100)
      await this.db.send(new TransactWriteCommand({ TransactItems: updates.slice(i, i + 100) }));
  }

  /** One ADD per (month, currency, plan) row that changes, all into one shard picked at random. */
  private rollupUpdates(delta: Contributions): TransactItem[] {
    const shard = randomShard();
    const out: TransactItem[] = [];
    for (const [key, figures] of delta) {
      const fields = Object.entries(figures).filter(([, v]) => v !== 0);
      if (fields.length === 0) continue;
      const { month, currency, plan } = parseContributionKey(key);
      out.push({
        Update: {
          TableName: this.tableName,
          Key: { PK: rollupKeys.monthPk(month), SK: `${currency}#${plan}#${shard}` },
          UpdateExpression: `SET #type = :type, currency = :currency, #plan = :plan, #shard = :shard ADD ${fields.map((_, i) => `#f${i} :f${i}`).join(', ')}`,
          ExpressionAttributeNames: {
            '#type': 'type',
            '#plan': 'plan',
            '#shard': 'shard',
            ...Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name])),
          },
          ExpressionAttributeValues: {
            ':type': 'rollup',
            ':currency': currency,
            ':plan': plan,
            ':shard': shard,
            ...Object.fromEntries(fields.map(([, value], i) => [`:f${i}`, value])),
          },
        },
      });
    }
    return out;
  }

  private async transact(items: TransactItem[]): Promise<boolean> {
    if (items.length > 100) throw new Error(`a rollup projection of ${items.length} writes is over DynamoDB's 100-item transaction`);
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      if (failedOnCondition(error)) return false;
      throw error;
    }
  }
}

const META = new Set(['PK', 'SK', 'type', 'currency', 'plan', 'shard']);

/** A rollup row item as the domain reads it: its figures are the item's numeric attributes. */
export function rollupRowFromItem(item: Record<string, unknown>): RollupRow {
  const figures: Figures = {};
  for (const [k, v] of Object.entries(item)) if (!META.has(k) && typeof v === 'number' && v !== 0) figures[k] = v;
  return { currency: String(item.currency), plan: String(item.plan), figures };
}

/** Sums the shards of each (currency, plan). */
export function sumShards(rows: readonly RollupRow[]): RollupRow[] {
  const out = new Map<string, RollupRow>();
  for (const row of rows) {
    const key = `${row.currency}|${row.plan}`;
    const into = out.get(key) ?? { currency: row.currency, plan: row.plan, figures: {} };
    for (const [k, v] of Object.entries(row.figures)) {
      const next = (into.figures[k] ?? 0) + v;
      if (next === 0) delete into.figures[k];
      else into.figures[k] = next;
    }
    out.set(key, into);
  }
  // A row whose additions cancelled out (a refund routed from unattributed to its invoice) says nothing.
  return [...out.values()]
    .filter((r) => Object.keys(r.figures).length > 0)
    .sort((a, b) => `${a.currency}|${a.plan}`.localeCompare(`${b.currency}|${b.plan}`));
}
