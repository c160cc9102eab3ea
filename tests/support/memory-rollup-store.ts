/**
 * An in-memory stand-in for the rollups' DynamoDB store, for the unit property test: the same items
 * (built by the same `ledgerItems` / `rollupFactItems`), the same conditions (put once, version
 * checks, ADD into a random shard) applied atomically, and a random pause before every call so
 * projections running at once interleave differently on every run.
 */
import { type Contributions, parseContributionKey } from '#shared/domain/finance/account';
import type { LedgerEntry } from '#shared/domain/finance/ledger';
import type { RollupRow } from '#shared/domain/finance/revenue';
import {
  type ChunkCommit,
  type LoadedAccount,
  laneOf,
  MARKER_PAGE,
  type Marker,
  ROLLUP_LANES,
  ROLLUP_SHARDS,
  type RollupStore,
  type RouteOwner,
  type RouteRecord,
  rollupFactItems,
  rollupKeys,
  rollupRowFromItem,
  routeDelta,
  savingsRollupWrites,
  sumShards,
  toContributions,
  toObject,
} from '#shared/storage/finance-rollups';
import { ledgerItems } from '#shared/storage/ledger-repository';
import type { LedgerWriter } from '#shared/usecases/record-money-event';

type Item = Record<string, any>;
const k = (pk: string, sk: string) => `${pk}\u0000${sk}`;

export class MemoryRollupStore implements RollupStore {
  readonly items = new Map<string, Item>();
  constructor(private readonly random: () => number) {}

  private async pause() {
    const n = Math.floor(this.random() * 3);
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  }
  private get(pk: string, sk: string) {
    return this.items.get(k(pk, sk));
  }
  private put(item: Item) {
    this.items.set(k(item.PK, item.SK), structuredClone(item));
  }
  private partition(pk: string, prefix = ''): Item[] {
    return [...this.items.values()].filter((i) => i.PK === pk && String(i.SK).startsWith(prefix));
  }
  private add(delta: Contributions) {
    const shard = Math.floor(this.random() * ROLLUP_SHARDS);
    for (const [key, figures] of delta) {
      const { month, currency, plan } = parseContributionKey(key);
      const pk = rollupKeys.monthPk(month);
      const sk = `${currency}#${plan}#${shard}`;
      const row = this.get(pk, sk) ?? { PK: pk, SK: sk, type: 'rollup', currency, plan, shard };
      for (const [field, value] of Object.entries(figures)) row[field] = (row[field] ?? 0) + value;
      this.put(row);
    }
  }

  /** The ledger's writer: the entry's items put once, as one transaction (a duplicate writes nothing). */
  readonly ledger: LedgerWriter = {
    record: async (entry: LedgerEntry) => {
      await this.pause();
      // One transaction: every put-once item must be new, or nothing is written.
      const items = ledgerItems(entry, new Date(0));
      if (items.some(({ item, once }) => once && this.get(String(item.PK), String(item.SK)))) return 'duplicate';
      for (const { item } of items) this.put(item);
      return 'recorded';
    },
  };

  /** A benefit write's rollup items (ADD savings, the account's marker), as its transaction would. */
  async recordSavings(memberId: string, at: Date, currency: string, cents: number) {
    await this.pause();
    for (const w of savingsRollupWrites('t', memberId, at, currency, cents)) {
      if (w.Put) this.put({ ...w.Put.Item, token: `${this.random()}` });
      if (w.Update) {
        const key = w.Update.Key as { PK: string; SK: string };
        const item = this.get(key.PK, key.SK) ?? {
          ...key,
          type: 'finance-savings',
          month: at.toISOString().slice(0, 7),
          currency,
          cents: 0,
        };
        item.cents += cents;
        this.put(item);
      }
    }
  }

  async loadAccount(account: string): Promise<LoadedAccount> {
    await this.pause();
    const facts = {
      invoices: [] as LedgerEntry[],
      tied: [] as Array<{ entry: LedgerEntry; invoiceId: string }>,
      failures: [] as LedgerEntry[],
      endings: [] as LedgerEntry[],
      savings: [] as Array<{ month: string; currency: string; cents: number }>,
    };
    const chunks = new Map();
    for (const item of structuredClone(this.partition(rollupKeys.accountPk(account)))) {
      const sk = String(item.SK);
      if (sk.startsWith('TIED#')) facts.tied.push({ entry: item.entry, invoiceId: item.invoiceId });
      else if (sk.startsWith('INV#')) facts.invoices.push(item.entry);
      else if (sk.startsWith('FAIL#')) facts.failures.push(item.entry);
      else if (sk.startsWith('END#')) facts.endings.push(item.entry);
      else if (sk.startsWith('SAVE#')) facts.savings.push({ month: item.month, currency: item.currency, cents: item.cents });
      else if (sk.startsWith('STATE#')) chunks.set(sk.slice(6), { applied: toContributions(item.applied), version: item.version });
    }
    return { facts, chunks };
  }

  async commitAccountChunk(input: ChunkCommit) {
    await this.pause();
    const pk = rollupKeys.accountPk(input.account);
    const current = this.get(pk, rollupKeys.state(input.year));
    if ((current?.version ?? 0) !== input.expectedVersion) return false;
    this.put({
      PK: pk,
      SK: rollupKeys.state(input.year),
      type: 'finance-state',
      applied: toObject(input.applied),
      version: input.expectedVersion + 1,
    });
    this.add(input.delta);
    for (const m of input.newMonths) this.put({ PK: rollupKeys.touchPk(m, laneOf(input.account)), SK: input.account });
    return true;
  }

  async getRoute(entryId: string): Promise<RouteRecord | null> {
    await this.pause();
    const { PK, SK } = rollupKeys.route(entryId);
    const item = this.get(PK, SK);
    return item
      ? { entry: structuredClone(item.entry), owner: item.owner ?? null, applied: toContributions(item.applied), version: item.version }
      : null;
  }

  async moveRoute(input: { route: RouteRecord; owner: RouteOwner | null; applied: Contributions }) {
    await this.pause();
    const { PK, SK } = rollupKeys.route(input.route.entry.entryId);
    const item = this.get(PK, SK);
    if (!item || item.version !== input.route.version) return false;
    const delta = routeDelta(input.route, input.applied);
    this.put({ ...item, owner: input.owner, applied: toObject(input.applied), version: item.version + 1 });
    this.add(delta);
    const id = input.route.entry.entryId;
    if (input.route.owner && input.route.owner.account !== input.owner?.account)
      this.items.delete(k(rollupKeys.accountPk(input.route.owner.account), rollupKeys.tiedFact(id)));
    if (input.owner)
      this.put({
        PK: rollupKeys.accountPk(input.owner.account),
        SK: rollupKeys.tiedFact(id),
        type: 'finance-fact',
        entry: input.route.entry,
        invoiceId: input.owner.invoiceId,
      });
    return true;
  }

  async creditNoteInvoice(refundId: string) {
    await this.pause();
    const { PK, SK } = rollupKeys.refundNote(refundId);
    return this.get(PK, SK)?.invoiceId ?? null;
  }

  async paymentInvoices(refs: readonly string[]) {
    await this.pause();
    const out = new Map<string, string>();
    for (const ref of refs) {
      const link = this.get(`PAYMENT#${ref}`, 'INVOICE');
      if (link) out.set(ref, link.invoiceId);
    }
    return out;
  }

  async invoice(invoiceId: string) {
    await this.pause();
    const item = this.get(rollupKeys.invoicePk(invoiceId), 'PAID');
    if (!item) return null;
    const { PK: _pk, SK: _sk, type: _type, ...entry } = structuredClone(item);
    return entry as LedgerEntry;
  }

  async tiedByPayment(ref: string) {
    await this.pause();
    return this.partition(`PAYMENT#${ref}`, 'TIED#').map((i) => i.entryId);
  }

  async waitingOnInvoice(invoiceId: string) {
    await this.pause();
    const items = this.partition(rollupKeys.invoicePk(invoiceId));
    return {
      paymentRefs: items.filter((i) => String(i.SK).startsWith('LINK#')).map((i) => i.paymentRef),
      creditNotes: items.filter((i) => String(i.SK).startsWith('NOTE#')).map((i) => ({ id: i.creditNoteId, refundIds: i.refundIds })),
    };
  }

  async monthRows(month: string): Promise<RollupRow[]> {
    return sumShards(this.partition(rollupKeys.monthPk(month)).map(rollupRowFromItem));
  }

  async *markers(lane: number, before: Date): AsyncIterable<Marker[]> {
    // Pages of MARKER_PAGE in key order, as the DynamoDB store reads them (the filter applies after the page).
    const all = this.partition(rollupKeys.markerPk(lane)).sort((a, b) => (a.SK < b.SK ? -1 : a.SK > b.SK ? 1 : 0));
    for (let i = 0; i < all.length; i += MARKER_PAGE) {
      await this.pause();
      yield all
        .slice(i, i + MARKER_PAGE)
        .filter((m) => m.at < before.toISOString())
        .map((m) => ({
          lane,
          ref: m.SK,
          token: m.token,
          at: m.at,
          ...(m.entry ? { entry: structuredClone(m.entry) } : {}),
          ...(m.account ? { account: m.account } : {}),
        }));
    }
  }

  async clearMarker(marker: Marker) {
    await this.pause();
    const item = this.get(rollupKeys.markerPk(marker.lane), marker.ref);
    if (item && item.token === marker.token) this.items.delete(k(rollupKeys.markerPk(marker.lane), marker.ref));
  }

  async *accountsOf(month: string) {
    for (let lane = 0; lane < ROLLUP_LANES; lane++) yield this.partition(rollupKeys.touchPk(month, lane)).map((i) => String(i.SK));
  }

  async restoreFacts(entry: LedgerEntry) {
    let written = 0;
    for (const item of rollupFactItems(entry, new Date(0)).filter((i) => i.type !== 'rollup-marker'))
      if (!this.get(String(item.PK), String(item.SK))) {
        this.put(item);
        written++;
      }
    return written;
  }

  async correct(delta: Contributions) {
    this.add(delta);
  }

  /** Queue entries still owed. */
  markerCount() {
    return [...this.items.values()].filter((i) => String(i.PK).startsWith('ROLLUP-DIRTY#')).length;
  }
}
