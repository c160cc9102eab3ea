import { describe, expect, it } from 'vitest';
import { emptyEntry, type LedgerEntry } from '#shared/domain/finance/ledger';
import { monthsBetween } from '#shared/domain/finance/months';
import { recomputeRollup, rowsOfMonth } from '#shared/domain/finance/rollup';
import { ProjectingLedger, projectOwed, RollupProjector, rebuildMonth } from '#shared/usecases/finance-rollups';
import { settings } from '../../support/finance-rollup';
import { MemoryRollupStore } from '../../support/memory-rollup-store';

/**
 * The settle and rebuild jobs at scale. Settle: a backlog of owed projections (a burst of benefit
 * writes, requests that died) is read a page at a time and worked off within a run's count and time
 * budget, never by loading whole queue partitions into a one-minute Lambda. Rebuild: a million
 * accounts and a hundred thousand refunds' routes are read many at a time, not one after another.
 */
const OWED = 200;
const invoices: LedgerEntry[] = Array.from({ length: OWED }, (_, i) =>
  emptyEntry({
    entryId: `in_owed${i}`,
    kind: 'invoice_paid',
    occurredAt: '2019-03-01T00:00:00.000Z',
    currency: 'usd',
    amountCents: 1499,
    totalCents: 1499,
    taxCents: 0,
    invoiceId: `in_owed${i}`,
    memberId: `owed${i}`,
    subscriptionId: `sub_owed${i}`,
    planId: 'prime-monthly',
    interval: 'month',
    billingReason: 'subscription_cycle',
    servicePeriod: { start: '2019-03-01T00:00:00.000Z', end: '2019-04-01T00:00:00.000Z' },
  }),
);

/** A store that counts the queue entries it hands out, however it hands them out. */
async function backlog() {
  let seed = 1;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const store = new MemoryRollupStore(random);
  // Recorded, never projected: every entry leaves its marker.
  for (const e of invoices) await store.ledger.record(e);
  const counted = { read: 0 };
  const markers = store.markers.bind(store);
  store.markers = ((lane: number, before: Date) => {
    const pages = markers(lane, before);
    return (async function* () {
      for await (const page of pages) {
        counted.read += page.length;
        yield page;
      }
    })();
  }) as typeof store.markers;
  return { store, projector: new RollupProjector(store, settings), counted };
}
const later = new Date('2100-01-01T00:00:00Z');

describe('projectOwed (the rollups-settle job)', () => {
  it('reads the queue a page at a time and stops reading at its limit', async () => {
    const { store, projector, counted } = await backlog();
    const run = await projectOwed(store, projector, { before: later, limit: 10 });
    expect(run.settled).toBe(10);
    expect(run.remaining).toBeGreaterThan(0);
    // Not the 200 owed: what it settled and the rest of the page it stopped in.
    expect(counted.read).toBeLessThanOrEqual(10 + 100);
    expect(store.markerCount()).toBe(OWED - 10);
  });

  it('stops when its time is up, leaving the rest to the next run, and runs drain the queue exactly', async () => {
    const { store, projector } = await backlog();
    let checks = 0;
    const run = await projectOwed(store, projector, { before: later, shouldStop: () => ++checks > 3 });
    expect(run.settled).toBeGreaterThan(0);
    expect(run.settled).toBeLessThan(OWED);
    expect(run.remaining).toBeGreaterThan(0);
    let total = run.settled;
    for (let i = 0; i < 100 && store.markerCount() > 0; i++)
      total += (await projectOwed(store, projector, { before: later, limit: 37 })).settled;
    expect(store.markerCount()).toBe(0);
    expect(total).toBe(OWED);
    const expected = recomputeRollup(invoices, [], settings);
    for (const month of monthsBetween('2019-02', '2019-06'))
      expect(await store.monthRows(month), month).toEqual(rowsOfMonth(expected, month));
  });
});

describe('rebuildMonth (the rollups-rebuild job)', () => {
  it("reads many accounts and many refunds' routes at once, and still finds nothing to say about a month kept by the projection", async () => {
    const { store, projector } = await backlog();
    await projectOwed(store, projector, { before: later });
    const refunds = invoices.map((_, i) =>
      emptyEntry({
        entryId: `re_owed${i}`,
        kind: 'refund',
        occurredAt: '2019-03-20T00:00:00.000Z',
        currency: 'usd',
        amountCents: 100,
        chargeId: `ch_owed${i}`,
        refundIds: [`re_owed${i}`],
      }),
    );
    const ledger = new ProjectingLedger(store.ledger, projector);
    for (const r of refunds) await ledger.record(r);
    const inFlight = { now: 0, max: 0, maxRoutes: 0 };
    const track = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, key: 'max' | 'maxRoutes') =>
      (async (...a: A) => {
        inFlight.now++;
        inFlight[key] = Math.max(inFlight[key], inFlight.now);
        try {
          return await fn(...a);
        } finally {
          inFlight.now--;
        }
      }) as (...a: A) => Promise<R>;
    store.loadAccount = track(store.loadAccount.bind(store), 'max');
    store.getRoute = track(store.getRoute.bind(store), 'maxRoutes');
    const all = [...invoices, ...refunds];
    const report = await rebuildMonth(
      {
        store,
        projector,
        settings,
        entries: async function* (m: string) {
          yield* all.filter((e) => e.occurredAt.startsWith(m));
        },
      },
      '2019-03',
      { repair: false },
    );
    expect(report).toMatchObject({ accounts: OWED, ledgerEntries: 2 * OWED, drifted: 0, differences: [], missingFacts: 0 });
    expect(report.unattributed).toEqual([{ currency: 'usd', entries: OWED, amountCents: 100 * OWED }]);
    expect(inFlight.max).toBeGreaterThanOrEqual(16);
    expect(inFlight.maxRoutes).toBeGreaterThanOrEqual(16);
  });
});
