import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyEntry, type LedgerEntry } from '#shared/domain/finance/ledger';
import { recognitionSchedule } from '#shared/domain/finance/recognition';
import {
  pointedInvoiceId,
  type RefundEvent,
  refundAdjustedSchedule,
  refundNetOfTax,
  reversalEvents,
  serviceEndAsOf,
} from '#shared/domain/finance/refunds';

const DAY = 86_400_000;

const annual = (o: { total?: number; tax?: number; paidAt?: string } = {}): LedgerEntry =>
  emptyEntry({
    entryId: 'in_annual',
    kind: 'invoice_paid',
    occurredAt: o.paidAt ?? '2026-01-01T00:00:00.000Z',
    currency: 'usd',
    amountCents: o.total ?? 13900,
    totalCents: o.total ?? 13900,
    taxCents: o.tax ?? 0,
    invoiceId: 'in_annual',
    planId: 'prime-annual',
    interval: 'year',
    servicePeriod: { start: '2026-01-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z' },
  });
const refund = (refundId: string, occurredAt: string, amountCents: number, failedAt: string | null = null): RefundEvent => ({
  refundId,
  occurredAt,
  amountCents,
  failedAt,
  cause: 'refund',
});
const base = (invoice: LedgerEntry) =>
  recognitionSchedule({
    netCents: (invoice.totalCents ?? 0) - (invoice.taxCents ?? 0),
    paidAt: invoice.occurredAt,
    servicePeriod: invoice.servicePeriod,
  });

describe('refunds against recognition', () => {
  it('without refunds the schedule is the plain one', () => {
    const invoice = annual();
    expect(refundAdjustedSchedule(invoice, []).map(({ refundedNetCents: _r, ...m }) => m)).toEqual(
      base(invoice).map(({ coversMonth: _c, ...m }) => m),
    );
  });

  it('a refund of the unused part of an annual plan takes the deferred balance to zero and reverses the rest of the refund month', () => {
    const invoice = annual();
    // Cancelled on 20 January, 346 of 365 days refunded.
    const unused = Math.round((13900 * 346) / 365);
    const s = refundAdjustedSchedule(invoice, [refund('re_1', '2026-01-20T00:00:00.000Z', unused)]);
    expect(s[0]).toMatchObject({ month: '2026-01', deferredAtEndCents: 0, refundedNetCents: unused });
    // What is left recognized is the 19 days served.
    expect(s[0]!.recognizedCents).toBe(13900 - unused);
    expect(Math.abs(s[0]!.recognizedCents - (13900 * 19) / 365)).toBeLessThan(1);
    // Nothing more to recognize, and the service ended with the refund.
    for (const m of s.slice(1)) expect(m).toMatchObject({ recognizedCents: 0, deferredAtEndCents: 0, refundedNetCents: 0 });
    const events = [refund('re_1', '2026-01-20T00:00:00.000Z', unused)];
    expect(serviceEndAsOf(invoice, events, '2025-12')).toEqual({ end: '2027-01-01T00:00:00.000Z', endedBy: null });
    expect(serviceEndAsOf(invoice, events, '2026-01')).toEqual({ end: '2026-01-20T00:00:00.000Z', endedBy: 'refund' });
  });

  it('a partial refund shrinks what is left ratably from the refund month; earlier months do not change', () => {
    const invoice = annual();
    const plain = base(invoice);
    const s = refundAdjustedSchedule(invoice, [refund('re_1', '2026-03-10T00:00:00.000Z', 6950)]);
    expect(s.slice(0, 2)).toEqual(plain.slice(0, 2).map(({ coversMonth: _c, ...m }) => ({ ...m, refundedNetCents: 0 })));
    // March: the refund comes out of the deferred balance (March's own recognition stands).
    expect(s[2]).toMatchObject({
      recognizedCents: plain[2]!.recognizedCents,
      deferredAtEndCents: plain[2]!.deferredAtEndCents - 6950,
      refundedNetCents: 6950,
    });
    // April on: about half of what it was, every month, still a member.
    for (let i = 3; i < 12; i++) {
      expect(
        Math.abs(
          s[i]!.recognizedCents - plain[i]!.recognizedCents * ((plain[2]!.deferredAtEndCents - 6950) / plain[2]!.deferredAtEndCents),
        ),
      ).toBeLessThanOrEqual(1);
    }
    // A partial refund keeps the member.
    expect(serviceEndAsOf(invoice, [refund('re_1', '2026-03-10T00:00:00.000Z', 6950)], '2026-12')).toEqual({
      end: '2027-01-01T00:00:00.000Z',
      endedBy: null,
    });
    expect(s.at(-1)).toMatchObject({ month: '2026-12', deferredAtEndCents: 0 });
  });

  it('a refund after the service ended reverses recognized revenue in its month', () => {
    const s = refundAdjustedSchedule(annual(), [refund('re_1', '2027-02-03T00:00:00.000Z', 1000)]);
    expect(s.map((m) => m.month).at(-1)).toBe('2027-02');
    expect(s.at(-2)).toMatchObject({ month: '2027-01', recognizedCents: 0, deferredAtEndCents: 0 });
    expect(s.at(-1)).toMatchObject({ month: '2027-02', recognizedCents: -1000, deferredAtEndCents: 0, refundedNetCents: 1000 });
  });

  it('takes refunds out net of tax, at the invoice tax ratio', () => {
    const invoice = annual({ total: 16680, tax: 2780 });
    expect(refundNetOfTax(invoice, 16680)).toBe(13900);
    expect(refundNetOfTax(invoice, 1000)).toBe(1000 - Math.round((1000 * 2780) / 16680));
    const s = refundAdjustedSchedule(invoice, [refund('re_1', '2026-01-01T00:00:00.000Z', 16680)]);
    expect(s[0]).toMatchObject({ recognizedCents: 0, deferredAtEndCents: 0, refundedNetCents: 13900 });
  });

  it('undoes a failed refund from its failure month', () => {
    const invoice = annual();
    const plain = base(invoice);
    const s = refundAdjustedSchedule(invoice, [refund('re_1', '2026-01-20T00:00:00.000Z', 13176, '2026-03-02T00:00:00.000Z')]);
    expect(s[1]).toMatchObject({ deferredAtEndCents: 0 });
    // March: the refund is gone; the schedule is the plain one again, February's share caught up.
    expect(s[2]).toMatchObject({ deferredAtEndCents: plain[2]!.deferredAtEndCents, refundedNetCents: -13176 });
    expect(s.slice(3)).toEqual(plain.slice(3).map(({ coversMonth: _c, ...m }) => ({ ...m, refundedNetCents: 0 })));
    // 131.76 is the unused part on 20 January (346 of 365 days): the service ended with the refund in
    // January and February, and is back from the failure month. A little less is a goodwill refund.
    expect(serviceEndAsOf(invoice, [refund('re_2', '2026-01-20T00:00:00.000Z', 13000)], '2026-02')!.endedBy).toBeNull();
    const events = [refund('re_1', '2026-01-20T00:00:00.000Z', 13176, '2026-03-02T00:00:00.000Z')];
    expect(serviceEndAsOf(invoice, events, '2026-02')!.endedBy).toBe('refund');
    expect(serviceEndAsOf(invoice, events, '2026-03')).toEqual({ end: '2027-01-01T00:00:00.000Z', endedBy: null });
  });

  it('invariant: recognized so far + deferred = billed net of tax − refunds net of tax, to the cent, every month end', () => {
    const start = Date.parse('2025-01-01T00:00:00Z');
    fc.assert(
      fc.property(
        fc.record({
          total: fc.integer({ min: 1, max: 5_000_000 }),
          taxBps: fc.integer({ min: 0, max: 2500 }),
          startOffset: fc.integer({ min: 0, max: 365 * DAY }),
          length: fc.integer({ min: 1, max: 400 * DAY }),
          paidOffset: fc.integer({ min: -40 * DAY, max: 60 * DAY }),
          refunds: fc.array(
            fc.record({
              share: fc.integer({ min: 1, max: 100 }),
              after: fc.integer({ min: 0, max: 500 * DAY }),
              failsAfter: fc.option(fc.integer({ min: 0, max: 90 * DAY })),
            }),
            { maxLength: 4 },
          ),
        }),
        ({ total, taxBps, startOffset, length, paidOffset, refunds }) => {
          const tax = Math.floor((total * taxBps) / 10_000);
          const periodStart = start + startOffset;
          const paidAt = periodStart + paidOffset;
          const invoice = emptyEntry({
            entryId: 'in_p',
            kind: 'invoice_paid',
            occurredAt: new Date(paidAt).toISOString(),
            currency: 'usd',
            amountCents: total,
            totalCents: total,
            taxCents: tax,
            servicePeriod: { start: new Date(periodStart).toISOString(), end: new Date(periodStart + length).toISOString() },
          });
          // Refunds never exceed what was paid.
          let left = total;
          const events = refunds
            .map((r, i) => {
              const amount = Math.min(left, Math.max(1, Math.floor((total * r.share) / 100)));
              left -= amount;
              const at = paidAt + r.after;
              return refund(
                `re_${i}`,
                new Date(at).toISOString(),
                amount,
                r.failsAfter === null ? null : new Date(at + r.failsAfter).toISOString(),
              );
            })
            .filter((r) => r.amountCents > 0)
            .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
          const net = total - tax;
          const plain = base(invoice);
          const s = refundAdjustedSchedule(invoice, events);
          expect(s[0]!.month).toBe(plain[0]!.month);
          let recognized = 0;
          let refunded = 0;
          const firstEvent = events.map((e) => e.occurredAt.slice(0, 7)).sort()[0] ?? '9999-99';
          const eventMonths = new Set(events.flatMap((e) => [e.occurredAt.slice(0, 7), ...(e.failedAt ? [e.failedAt.slice(0, 7)] : [])]));
          s.forEach((m, i) => {
            // Past the service period the plain schedule has nothing left.
            const { coversMonth: _c, ...plainMonth } = plain[i] ?? {
              month: m.month,
              recognizedCents: 0,
              deferredAtEndCents: 0,
              coversMonth: false,
            };
            recognized += m.recognizedCents;
            refunded += m.refundedNetCents;
            expect(recognized + m.deferredAtEndCents).toBe(net - refunded);
            expect(m.deferredAtEndCents).toBeGreaterThanOrEqual(0);
            expect(m.deferredAtEndCents).toBeLessThanOrEqual(plainMonth.deferredAtEndCents);
            // Refunds never move revenue into or out of a month without refund activity.
            if (!eventMonths.has(m.month) && m.month >= s[0]!.month) expect(m.recognizedCents).toBeGreaterThanOrEqual(0);
            // Before the first refund, nothing changes.
            if (m.month < firstEvent) expect(m).toEqual({ ...plainMonth, refundedNetCents: 0 });
          });
          // In the end everything not refunded is recognized.
          const kept = events.filter((e) => e.failedAt === null).reduce((a, e) => a + refundNetOfTax(invoice, e.amountCents), 0);
          expect(s.at(-1)!.deferredAtEndCents).toBe(0);
          expect(recognized).toBe(net - kept);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('refund attribution', () => {
  const lookup = (notes: Record<string, string>, links: Record<string, string>) => ({
    creditNoteInvoice: (r: string) => notes[r],
    paymentInvoice: (ref: string) => links[ref],
  });

  it('ties a refund to its invoice by its credit note, or by the payment intent or charge link; its failure goes with it', () => {
    const byNote = emptyEntry({
      entryId: 're_a',
      kind: 'refund',
      occurredAt: '2026-01-05T00:00:00Z',
      currency: 'usd',
      amountCents: 100,
      refundIds: ['re_a'],
    });
    const note = emptyEntry({
      entryId: 'cn_a',
      kind: 'credit_note',
      occurredAt: '2026-01-05T00:00:00Z',
      currency: 'usd',
      amountCents: 100,
      invoiceId: 'in_1',
      refundIds: ['re_a'],
    });
    const byPi = emptyEntry({
      entryId: 're_b',
      kind: 'refund',
      occurredAt: '2026-01-06T00:00:00Z',
      currency: 'usd',
      amountCents: 200,
      paymentIntentId: 'pi_1',
      refundIds: ['re_b'],
    });
    const failed = emptyEntry({
      entryId: 're_b#refund_failed',
      kind: 'refund_failed',
      occurredAt: '2026-01-09T00:00:00Z',
      currency: 'usd',
      amountCents: 200,
      paymentIntentId: 'pi_1',
      refundIds: ['re_b'],
    });
    const byCharge = emptyEntry({
      entryId: 're_c',
      kind: 'refund',
      occurredAt: '2026-01-07T00:00:00Z',
      currency: 'usd',
      amountCents: 300,
      chargeId: 'ch_1',
      refundIds: ['re_c'],
    });
    const stranger = emptyEntry({
      entryId: 're_d',
      kind: 'refund',
      occurredAt: '2026-01-08T00:00:00Z',
      currency: 'usd',
      amountCents: 400,
      chargeId: 'ch_unknown',
      refundIds: ['re_d'],
    });
    const dispute = emptyEntry({
      entryId: 'dp_1#dispute_funds_withdrawn',
      kind: 'dispute_funds_withdrawn',
      occurredAt: '2026-01-08T00:00:00Z',
      currency: 'usd',
      amountCents: 1499,
      chargeId: 'ch_1',
      disputeId: 'dp_1',
    });
    const l = lookup({ re_a: 'in_1' }, { pi_1: 'in_1', ch_1: 'in_1' });
    expect([byNote, note, byPi, failed, byCharge, stranger, dispute].map((e) => pointedInvoiceId(e, l))).toEqual([
      'in_1',
      'in_1',
      'in_1',
      'in_1',
      'in_1',
      null,
      'in_1',
    ]);
    // The credit note wins over a link to another invoice.
    expect(pointedInvoiceId(byNote, lookup({ re_a: 'in_1' }, { ch_a: 'in_2' }))).toBe('in_1');
    // Tied to the invoice, in the order they happened, a failure going with its refund.
    expect(reversalEvents([byNote, note, byPi, failed, byCharge, dispute])).toEqual([
      refund('re_a', '2026-01-05T00:00:00Z', 100),
      refund('re_b', '2026-01-06T00:00:00Z', 200, '2026-01-09T00:00:00Z'),
      refund('re_c', '2026-01-07T00:00:00Z', 300),
    ]);
  });

  it("takes a credit note's balance credit and a lost dispute out like refunds; the card-refunded part only through its refund", () => {
    const credit = emptyEntry({
      entryId: 'cn_b',
      kind: 'credit_note',
      occurredAt: '2026-02-01T00:00:00Z',
      currency: 'usd',
      amountCents: 500,
      refundedCents: 200,
      invoiceId: 'in_1',
    });
    const lost = emptyEntry({
      entryId: 'dp_1#dispute_lost',
      kind: 'dispute_lost',
      occurredAt: '2026-03-01T00:00:00Z',
      currency: 'usd',
      amountCents: 1499,
      chargeId: 'ch_1',
    });
    expect(reversalEvents([lost, credit])).toEqual([
      { refundId: 'cn_b', occurredAt: '2026-02-01T00:00:00Z', amountCents: 300, failedAt: null, cause: 'credit' },
      { refundId: 'dp_1#dispute_lost', occurredAt: '2026-03-01T00:00:00Z', amountCents: 1499, failedAt: null, cause: 'dispute' },
    ]);
    // A credit note recorded before its card-refunded part was kept counts as wholly refunded.
    expect(reversalEvents([{ ...credit, refundedCents: undefined }])).toEqual([]);
  });
});
