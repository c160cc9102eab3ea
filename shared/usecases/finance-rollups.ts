/**
 * Keeps the month rollups equal to the sum of every finance account's contributions, incrementally
 * and exactly once (docs/decisions.md, "Rollups"):
 *
 * 1. A fact is written once, with the marker of the projection it owes, in its own transaction (the
 *    ledger entry's, or a benefit write's): `rollupFactItems`, `savingsRollupWrites`.
 * 2. After the commit, the same request projects it (`projectRecorded`): an account is projected
 *    again from all its facts and only the difference to what it had added is added to the
 *    rollups, in one transaction with the account's new state, conditional on the state's version
 *    (a concurrent projection makes it re-read and try again). A refund-like entry is first routed to
 *    the account of its invoice, which may arrive after it: each of the entries that can complete a
 *    route (the refund, the link, the credit note, the invoice) looks for the others after its own
 *    commit, so whichever commits last sees all of them.
 * 3. Whatever a request did not finish (it died, or a benefit write that leaves projection to the
 *    queue) is done by `projectOwed`, run every minute (the rollups-settle job), from the markers.
 *
 * Projections are functions of the stored facts, so running one twice, or late, or both at once,
 * converges to the same rollups; the property test holds them to a recomputation from the ledger.
 */
import {
  ACCOUNT_KINDS,
  accountKeyOf,
  type Contributions,
  type ProjectionSettings,
  parseContributionKey,
  projectAccount,
  unattributedContributions,
} from '../domain/finance/account';
import type { LedgerEntry } from '../domain/finance/ledger';
import { canOwn, paymentRefsOf, pointedInvoiceId, TIED_KINDS } from '../domain/finance/refunds';
import type { RollupRow } from '../domain/finance/revenue';
import { addContributions, diffContributions } from '../domain/finance/rollup';
import { entryMarker, type Marker, ROLLUP_LANES, type RollupStore, type RouteOwner } from '../storage/finance-rollups';
import type { LedgerWriter } from './record-money-event';

const MAX_ATTEMPTS = 12;

const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));

const yearOf = (key: string) => key.slice(0, 4);
const byYear = (c: Contributions) => {
  const out = new Map<string, Contributions>();
  for (const [key, figures] of c) {
    const year = yearOf(key);
    out.set(year, (out.get(year) ?? new Map()).set(key, figures));
  }
  return out;
};
const sameFigures = (a: Contributions, b: Contributions) => diffContributions(a, b).size === 0;

export class RollupProjector {
  constructor(
    private readonly store: RollupStore,
    private readonly settings: ProjectionSettings,
  ) {}

  /**
   * Projects an account again: its contributions from all its facts, the difference to what it
   * added before, year by year (each year's state and rollup additions in one transaction).
   */
  async projectAccount(account: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const { facts, chunks } = await this.store.loadAccount(account);
      const next = byYear(projectAccount(facts, this.settings));
      let conflict = false;
      for (const year of [...new Set([...next.keys(), ...chunks.keys()])].sort()) {
        const chunk = chunks.get(year) ?? { applied: new Map(), version: 0 };
        const applied = next.get(year) ?? new Map();
        if (sameFigures(applied, chunk.applied)) continue;
        const before = new Set([...chunk.applied.keys()].map((k) => k.slice(0, 7)));
        const newMonths = [...new Set([...applied.keys()].map((k) => k.slice(0, 7)))].filter((m) => !before.has(m));
        const ok = await this.store.commitAccountChunk({
          account,
          year,
          expectedVersion: chunk.version,
          applied,
          delta: diffContributions(applied, chunk.applied),
          newMonths,
        });
        if (!ok) {
          conflict = true;
          break;
        }
      }
      if (!conflict) return;
      if (attempt >= MAX_ATTEMPTS) throw new Error(`finance account ${account}: projection kept conflicting`);
      await backoff(attempt);
    }
  }

  /** Where a refund-like entry belongs: the account of the invoice it is tied to, or nowhere (unattributed). */
  async ownerOf(entry: LedgerEntry): Promise<RouteOwner | null> {
    const refundId = entry.kind === 'refund' || entry.kind === 'refund_failed' ? (entry.refundIds[0] ?? null) : null;
    const [note, links] = await Promise.all([
      refundId ? this.store.creditNoteInvoice(refundId) : Promise.resolve(null),
      this.store.paymentInvoices(paymentRefsOf(entry)),
    ]);
    const invoiceId = pointedInvoiceId(entry, {
      creditNoteInvoice: (r) => (r === refundId ? (note ?? undefined) : undefined),
      paymentInvoice: (ref) => links.get(ref),
    });
    const invoice = invoiceId ? await this.store.invoice(invoiceId) : null;
    return invoice && canOwn(invoice, entry) ? { account: accountKeyOf(invoice), invoiceId: invoice.entryId } : null;
  }

  /**
   * Files a refund-like entry under its invoice's account (or leaves it unattributed, counted as
   * cash in no plan), then projects the accounts it left and joined.
   */
  async route(entryId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const route = await this.store.getRoute(entryId);
      if (!route) return;
      const owner = await this.ownerOf(route.entry);
      const applied = owner ? new Map() : unattributedContributions(route.entry);
      const sameOwner = owner?.account === route.owner?.account && owner?.invoiceId === route.owner?.invoiceId;
      if (sameOwner && sameFigures(applied, route.applied)) {
        if (owner) await this.projectAccount(owner.account);
        return;
      }
      if (await this.store.moveRoute({ route, owner, applied })) {
        if (route.owner && route.owner.account !== owner?.account) await this.projectAccount(route.owner.account);
        if (owner) await this.projectAccount(owner.account);
        return;
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error(`finance route ${entryId}: kept conflicting`);
      await backoff(attempt);
    }
  }

  /**
   * The projection a recorded ledger entry owes (run after its commit, and again by the queue if the
   * request that recorded it died; running it twice changes nothing).
   */
  async projectRecorded(entry: LedgerEntry): Promise<void> {
    switch (entry.kind) {
      case 'gift_paid':
        // A gift sale's refunds find it through its own payment link (written with it): any that came first waited there.
        await this.projectAccount(accountKeyOf(entry));
        for (const ref of paymentRefsOf(entry)) for (const id of await this.store.tiedByPayment(ref)) await this.route(id);
        return;
      case 'gift_claimed':
        return this.projectAccount(accountKeyOf(entry));
      case 'invoice_paid': {
        await this.projectAccount(accountKeyOf(entry));
        // What waited for this invoice: refunds through its links, and its credit notes and their refunds.
        const waiting = await this.store.waitingOnInvoice(entry.entryId);
        for (const ref of waiting.paymentRefs) for (const id of await this.store.tiedByPayment(ref)) await this.route(id);
        for (const note of waiting.creditNotes) for (const id of [note.id, ...refundAndFailure(note.refundIds)]) await this.route(id);
        return;
      }
      case 'invoice_payment':
        for (const ref of paymentRefsOf(entry)) for (const id of await this.store.tiedByPayment(ref)) await this.route(id);
        return;
      case 'invoice_payment_failed':
      case 'subscription_ended':
        return this.projectAccount(accountKeyOf(entry));
      default:
        if (!TIED_KINDS.has(entry.kind)) return;
        await this.route(entry.entryId);
        // A credit note re-routes the refunds it lists: it ties them to its invoice ahead of any link.
        if (entry.kind === 'credit_note') for (const id of refundAndFailure(entry.refundIds)) await this.route(id);
    }
  }

  /** Does the projection a queue entry stands for, then removes it (unless it was written again meanwhile). */
  async settle(marker: Marker): Promise<void> {
    if (marker.entry) await this.projectRecorded(marker.entry);
    else if (marker.account) await this.projectAccount(marker.account);
    await this.store.clearMarker(marker);
  }
}

const refundAndFailure = (refundIds: readonly string[]) => refundIds.flatMap((r) => [r, `${r}#refund_failed`]);

/**
 * The ledger as the webhook writes it: each entry recorded once, then projected into the rollups in
 * the same request. A duplicate is projected again too: the first delivery may have died between the
 * two (its marker is then still queued, and cleared here).
 */
export class ProjectingLedger implements LedgerWriter {
  constructor(
    private readonly ledger: LedgerWriter,
    private readonly projector: RollupProjector,
  ) {}

  async record(entry: LedgerEntry): Promise<'recorded' | 'duplicate'> {
    const outcome = await this.ledger.record(entry);
    const marker = entryMarker(entry);
    if (marker) await this.projector.settle(marker);
    return outcome;
  }
}

/** Projections settled at once: different accounts rarely meet, and a meeting only retries (version check). */
const SETTLE_CONCURRENCY = 4;

/**
 * The projections still owed (markers older than `before`, so requests in flight finish their own),
 * lane by lane, read a page at a time, a few at once; at most `limit` of them, and none once
 * `shouldStop` says the run's time is up. How many were done, and how many it saw left undone (at
 * least one whenever it stopped with work in hand; it does not read on to count the rest).
 */
export async function projectOwed(
  store: RollupStore,
  projector: RollupProjector,
  options: { before: Date; limit?: number; shouldStop?: () => boolean; onProgress?: (done: number) => void },
): Promise<{ settled: number; remaining: number }> {
  let settled = 0;
  const budgetLeft = () => (options.limit === undefined || settled < options.limit) && !options.shouldStop?.();
  for (let lane = 0; lane < ROLLUP_LANES; lane++) {
    for await (const page of store.markers(lane, options.before)) {
      for (let i = 0; i < page.length; ) {
        if (!budgetLeft()) return { settled, remaining: page.length - i };
        const room = options.limit === undefined ? SETTLE_CONCURRENCY : Math.min(SETTLE_CONCURRENCY, options.limit - settled);
        const batch = page.slice(i, i + room);
        await Promise.all(batch.map((marker) => projector.settle(marker)));
        i += batch.length;
        settled += batch.length;
        options.onProgress?.(settled);
      }
    }
  }
  return { settled, remaining: 0 };
}

export interface RebuildReport {
  month: string;
  /** Accounts whose contributions to the month were recomputed, and the ledger entries of the month read. */
  accounts: number;
  ledgerEntries: number;
  /** Entries of the month whose rollup items were missing (recorded before them, or lost): restored with `repair`. */
  missingFacts: number;
  /** Accounts and routes whose recorded contribution to the month differs from a recomputation from their facts. */
  drifted: number;
  driftedSample: string[];
  /** Stored rollup vs recomputation, per (currency, plan, figure) that differs (after the repair, with `repair`). */
  differences: Array<{ currency: string; plan: string; figure: string; stored: number; recomputed: number }>;
  /** With `repair`: differences no account's re-projection explained, written back as a correction. */
  corrected: number;
  /** Refunds and dispute funds of the month no invoice was found for (per currency): they reduce no revenue, so someone must look. */
  unattributed: Array<{ currency: string; entries: number; amountCents: number }>;
  repaired: boolean;
}

const SAMPLE = 20;
/**
 * Reads in flight at once. A million members are a million account reads and a hundred thousand
 * refunds' routes (a few reads each): one after another, or eight at a time, that is far beyond the
 * job's 15 minutes; 32 at a time is some five minutes at DynamoDB's usual latency.
 */
const REBUILD_CONCURRENCY = 32;

/** `fn` over `items`, at most `n` at once. */
async function inParallel<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * Recomputes a month's rollup from the facts and compares it with what is stored: every account
 * that contributes to the month (the month's touch index, and the owners of the month's ledger
 * entries) is projected from its facts, every refund-like entry of the month routed again. With
 * `repair`, restores missing rollup items of the month's entries and re-projects whatever drifted
 * (through the same exactly-once path), then compares again. Months are rebuilt oldest first: an
 * invoice's facts belong to its payment month.
 */
export async function rebuildMonth(
  deps: {
    store: RollupStore;
    projector: RollupProjector;
    settings: ProjectionSettings;
    entries: (month: string) => AsyncIterable<LedgerEntry>;
    concurrency?: number;
    onProgress?: (accounts: number) => void;
  },
  month: string,
  options: { repair: boolean },
): Promise<RebuildReport> {
  const accounts = new Set<string>();
  const tied: LedgerEntry[] = [];
  let ledgerEntries = 0;
  let missingFacts = 0;
  const drifted: string[] = [];
  const unattributed = new Map<string, { currency: string; entries: number; amountCents: number }>();

  for await (const entry of deps.entries(month)) {
    ledgerEntries++;
    if (options.repair) {
      const restored = await deps.store.restoreFacts(entry);
      if (restored > 0) {
        missingFacts++;
        await deps.projector.projectRecorded(entry);
      }
    }
    if (ACCOUNT_KINDS.has(entry.kind)) accounts.add(accountKeyOf(entry));
    if (TIED_KINDS.has(entry.kind)) tied.push(entry);
  }
  for await (const page of deps.store.accountsOf(month)) for (const a of page) accounts.add(a);

  // Routes: where each refund-like entry of the month belongs now, against where it is filed.
  const concurrency = deps.concurrency ?? REBUILD_CONCURRENCY;
  const expected: Contributions = new Map();
  await inParallel(tied, concurrency, async (entry) => {
    let route = await deps.store.getRoute(entry.entryId);
    if (!route) {
      missingFacts++;
      if (!options.repair) return;
      await deps.store.restoreFacts(entry);
      await deps.projector.route(entry.entryId);
      route = await deps.store.getRoute(entry.entryId);
      if (!route) return;
    }
    const owner = await deps.projector.ownerOf(route.entry);
    if (owner) accounts.add(owner.account);
    const own = owner ? new Map() : unattributedContributions(route.entry);
    if (owner?.account !== route.owner?.account || !sameFigures(own, route.applied)) {
      drifted.push(`route ${entry.entryId}`);
      if (options.repair) await deps.projector.route(entry.entryId);
    }
    addContributions(expected, own);
    const sign = UNATTRIBUTED_SIGN[entry.kind];
    if (!owner && sign) {
      const u = unattributed.get(entry.currency) ?? { currency: entry.currency, entries: 0, amountCents: 0 };
      u.entries++;
      u.amountCents += sign * entry.amountCents;
      unattributed.set(entry.currency, u);
    }
  });

  // Accounts, many at a time: each projected from its facts, its month compared with what it added.
  let done = 0;
  await inParallel([...accounts], concurrency, async (account) => {
    const { facts, chunks } = await deps.store.loadAccount(account);
    const mine = onlyMonth(projectAccount(facts, deps.settings), month);
    const applied = onlyMonth(chunks.get(month.slice(0, 4))?.applied ?? new Map(), month);
    if (!sameFigures(mine, applied)) {
      drifted.push(`account ${account}`);
      if (options.repair) await deps.projector.projectAccount(account);
    }
    addContributions(expected, mine);
    deps.onProgress?.(++done);
  });

  let differences = compare(expected, await deps.store.monthRows(month), month);
  let corrected = 0;
  if (options.repair && differences.length > 0) {
    // Drifted accounts were re-projected above; what still differs was written outside the projection.
    const delta: Contributions = new Map();
    for (const d of differences)
      addContributions(delta, new Map([[`${month}|${d.currency}|${d.plan}`, { [d.figure]: d.recomputed - d.stored }]]));
    await deps.store.correct(delta);
    corrected = differences.length;
    differences = compare(expected, await deps.store.monthRows(month), month);
  }
  return {
    month,
    accounts: accounts.size,
    ledgerEntries,
    missingFacts,
    drifted: drifted.length,
    driftedSample: drifted.slice(0, SAMPLE),
    differences,
    corrected,
    unattributed: [...unattributed.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    repaired: options.repair,
  };
}

/** The money an unattributed entry took out (+) or gave back (−): refunds and dispute funds. */
const UNATTRIBUTED_SIGN: Partial<Record<LedgerEntry['kind'], 1 | -1>> = {
  refund: 1,
  refund_failed: -1,
  dispute_funds_withdrawn: 1,
  dispute_funds_reinstated: -1,
};

function onlyMonth(c: Contributions, month: string): Contributions {
  return new Map([...c].filter(([key]) => key.startsWith(`${month}|`)));
}

function compare(expected: Contributions, rows: readonly RollupRow[], month: string): RebuildReport['differences'] {
  const stored: Contributions = new Map();
  for (const row of rows) stored.set(`${month}|${row.currency}|${row.plan}`, row.figures);
  const out: RebuildReport['differences'] = [];
  for (const [key, figures] of diffContributions(expected, stored)) {
    const { currency, plan } = parseContributionKey(key);
    for (const figure of Object.keys(figures))
      out.push({ currency, plan, figure, stored: stored.get(key)?.[figure] ?? 0, recomputed: expected.get(key)?.[figure] ?? 0 });
  }
  return out.sort((a, b) => `${a.currency}|${a.plan}|${a.figure}`.localeCompare(`${b.currency}|${b.plan}|${b.figure}`));
}
