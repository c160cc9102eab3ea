import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateGrantCode } from '#shared/codes';
import { buildGrants } from '#shared/domain/benefits';
import { applyMembershipEvent, type MembershipEvent, type SubscriptionState } from '#shared/domain/membership';
import { AppError, RejectedError } from '#shared/errors';
import { planCatalog } from '#shared/runtime/catalog';
import { benefitsRepository, dynamo, ledgerRepository, membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { grantPut } from '#shared/storage/grants';
import { keys } from '#shared/storage/keys';
import type { MembershipRepository } from '#shared/storage/membership-repository';
import { stripeEventSchema } from '#shared/stripe/events';
import { commitGrant, getMemberBenefits, holdGrant, recordBenefitUsage, redeemGrant, releaseGrant } from '#shared/usecases/benefits';
import { checkEntitlement } from '#shared/usecases/check-entitlement';
import { ingestStripeEvent, type MembershipReaction } from '#shared/usecases/ingest-stripe-event';
import { membershipReactions } from '#shared/usecases/reactions';
import { signupEvents, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';
import { uniqueMemberId } from '../support/api';
import { type Command, commandArb, creditNoteObject } from '../support/benefits';
import { monthlySubscription } from '../support/domain';
import { memberItems } from '../support/member-items';

const DAY = 86_400;
const catalog = planCatalog();
const memberships = membershipRepository();
const benefits = benefitsRepository();
const ledger = ledgerRepository();

const items = memberItems;

describe('issuance under a crash between writes', () => {
  const parse = (e: object) => stripeEventSchema.parse(e);

  it('commits nothing when the transaction fails, and issues exactly once on redelivery', async () => {
    const memberId = uniqueMemberId('crash-before');
    const { events } = signupEvents({ memberId, start: Math.floor(Date.now() / 1000) - DAY });
    // A reaction whose write fails inside the transaction: the membership, grants and markers roll back together.
    const failing: MembershipReaction = ({ after }) => [
      {
        ConditionCheck: {
          TableName: benefits.tableName,
          Key: { PK: keys.memberPk(after.memberId), SK: 'NO-SUCH-ITEM' },
          ConditionExpression: 'attribute_exists(PK)',
        },
      },
    ];
    await expect(
      ingestStripeEvent(
        { catalog, memberships, ledger, reactions: [...membershipReactions(benefits.tableName, jurisdictionRules()), failing] },
        parse(events[1]!),
      ),
    ).rejects.toThrow();
    expect(await items(memberId)).toEqual([]);
    for (const e of events)
      await ingestStripeEvent(
        { catalog, memberships, ledger, reactions: membershipReactions(benefits.tableName, jurisdictionRules()) },
        parse(e),
      );
    const grants = (await items(memberId)).filter((i) => i.type === 'grant');
    expect(grants.map((g) => g.grant.grantId).sort()).toEqual(['express-2', 'express-2', 'monthly-5', 'welcome-10']);
  });

  it('does not issue twice when the process dies after the commit and the event is redelivered', async () => {
    const memberId = uniqueMemberId('crash-after');
    const { events } = signupEvents({ memberId, start: Math.floor(Date.now() / 1000) - DAY });
    let crashes = 0;
    // The real repository, except that the process dies right after each commit.
    const dying: MembershipRepository = Object.assign(Object.create(memberships) as MembershipRepository, {
      async saveMembership(...args: Parameters<MembershipRepository['saveMembership']>) {
        await memberships.saveMembership(...args);
        crashes++;
        throw new Error('process died after commit');
      },
    });
    for (const e of events)
      await expect(
        ingestStripeEvent(
          { catalog, memberships: dying, ledger, reactions: membershipReactions(benefits.tableName, jurisdictionRules()) },
          parse(e),
        ),
      ).rejects.toThrow('died');
    for (const e of [...events, ...events])
      await ingestStripeEvent(
        { catalog, memberships, ledger, reactions: membershipReactions(benefits.tableName, jurisdictionRules()) },
        parse(e),
      );
    expect(crashes).toBe(3);
    const all = await items(memberId);
    expect(all.filter((i) => i.type === 'grant')).toHaveLength(4);
    expect(all.filter((i) => i.type === 'grant-issuance')).toHaveLength(3);
    expect(all.find((i) => i.type === 'savings')?.feesPaidCents).toBe(1499);
  });
});

/**
 * A read replica that lags: eventually consistent reads of the member see the table as it was at
 * `freeze()`, consistent reads see it as it is. DynamoDB Local is always consistent, so this is how a
 * decision taken from a stale read shows up in a test.
 */
function laggingReplica() {
  const frozen = new Map<string, Awaited<ReturnType<MembershipRepository['getEntitlementData']>>>();
  const reads: Array<{ memberId: string; consistent: boolean }> = [];
  const lagging: Pick<MembershipRepository, 'getEntitlementData'> = {
    async getEntitlementData(memberId, options) {
      reads.push({ memberId, consistent: options?.consistent === true });
      const stale = frozen.get(memberId);
      return options?.consistent || !stale ? memberships.getEntitlementData(memberId, options) : structuredClone(stale);
    },
  };
  return {
    deps: { catalog, memberships: lagging, benefits },
    reads,
    freeze: async (memberId: string) => void frozen.set(memberId, await memberships.getEntitlementData(memberId, { consistent: true })),
  };
}

describe('redeem, release and usage decide on consistent reads', () => {
  const parse = (e: object) => stripeEventSchema.parse(e);
  const ingest = (e: object) =>
    ingestStripeEvent({ catalog, memberships, ledger, reactions: membershipReactions(benefits.tableName, jurisdictionRules()) }, parse(e));
  const start = Math.floor(Date.now() / 1000) - DAY;

  async function member(label: string) {
    const memberId = uniqueMemberId(label);
    const signup = signupEvents({ memberId, start });
    for (const e of signup.events) await ingest(e);
    const { grants } = await memberships.getEntitlementData(memberId, { consistent: true });
    const monthly = grants.find((g) => g.grantId === 'monthly-5')!.code;
    return { memberId, monthly, ...signup };
  }
  const order = { subtotalCents: 4000, currency: 'usd' };

  it('a repeat redeem by an order whose earlier redeem was released redeems again, not "already redeemed" from a stale read', async () => {
    const m = await member('stale-redeem');
    const replica = laggingReplica();
    await redeemGrant(replica.deps, { code: m.monthly, memberId: m.memberId, orderId: 'o-a', ...order }, new Date());
    await replica.freeze(m.memberId);
    await releaseGrant(replica.deps, { code: m.monthly, orderId: 'o-a' }, new Date());
    await redeemGrant(replica.deps, { code: m.monthly, memberId: m.memberId, orderId: 'o-a', ...order }, new Date());
    expect((await benefits.getGrant(m.memberId, m.monthly))?.grant).toMatchObject({ state: 'redeemed', redeemedOrderId: 'o-a' });
    expect(replica.reads.every((r) => r.consistent)).toBe(true);
  });

  it('a release after a refund answers void, not the status a stale read remembers', async () => {
    const m = await member('stale-release');
    const replica = laggingReplica();
    await redeemGrant(replica.deps, { code: m.monthly, memberId: m.memberId, orderId: 'o-r', ...order }, new Date());
    await replica.freeze(m.memberId);
    const invoice = (m.events[2] as { data: { object: { id: string } } }).data.object.id;
    await ingest(stripeEvent('credit_note.created', creditNoteObject({ invoice, customer: m.customer }), { created: start + 100 }));
    expect(await releaseGrant(replica.deps, { code: m.monthly, orderId: 'o-r' }, new Date())).toMatchObject({ status: 'void' });
  });

  it('a usage after a renewal counts in the new period, not the period a stale read remembers', async () => {
    const m = await member('stale-usage');
    const replica = laggingReplica();
    await recordBenefitUsage(replica.deps, { memberId: m.memberId, orderId: 'u-1', shippingSavedCents: 300, currency: 'usd' }, new Date());
    await replica.freeze(m.memberId);
    const renewed = subscriptionObject({
      id: m.subscription,
      customer: m.customer,
      memberId: m.memberId,
      periodStart: start + 30 * DAY,
      startDate: start,
    });
    await ingest(stripeEvent('customer.subscription.updated', renewed, { created: start + 30 * DAY }));
    await recordBenefitUsage(replica.deps, { memberId: m.memberId, orderId: 'u-2', shippingSavedCents: 200, currency: 'usd' }, new Date());
    expect((await getMemberBenefits({ memberships, benefits }, m.memberId)).savings).toMatchObject({
      periodSavedCents: 200,
      lifetimeSavedCents: 500,
    });
  });

  it('a usage recorded between the release read and its write is still taken back (the release requires none appeared)', async () => {
    const m = await member('usage-race');
    const deps = { catalog, memberships, benefits };
    await redeemGrant(deps, { code: m.monthly, memberId: m.memberId, orderId: 'o-race', ...order }, new Date());
    await recordBenefitUsage(deps, { memberId: m.memberId, orderId: 'o-race', shippingSavedCents: 700, currency: 'usd' }, new Date());
    // The release's first look at the usage misses it, as if the usage were written just after that read.
    let lookups = 0;
    const racing = Object.assign(Object.create(benefits) as typeof benefits, {
      getUsage: async (memberId: string, orderId: string) => (++lookups === 1 ? null : benefits.getUsage(memberId, orderId)),
    });
    await releaseGrant({ ...deps, benefits: racing }, { code: m.monthly, orderId: 'o-race' }, new Date());
    expect(lookups).toBe(2);
    expect(await benefits.getSavings(m.memberId)).toMatchObject({ periodSavedCents: 0, lifetimeSavedCents: 0 });
    expect(await benefits.getUsage(m.memberId, 'o-race')).toMatchObject({ reversedByCode: m.monthly });
  });

  it('leaves the checkout on the cheaper eventually consistent read', async () => {
    const m = await member('checkout-read');
    const replica = laggingReplica();
    await checkEntitlement(replica.deps, m.memberId, new Date());
    expect(replica.reads).toEqual([{ memberId: m.memberId, consistent: false }]);
  });
});

describe('benefits on DynamoDB (property, fewer runs)', () => {
  it('never gives a code to two orders nor two coupons to one order, never lets an expired or refunded code through, and keeps both counters equal to the stored records', {
    timeout: 120_000,
  }, async () => {
    let run = 0;
    const outcomes = { redeemed: 0, held: 0, committed: 0, released: 0, usages: 0, reversedUsages: 0, expiredRefused: 0, voided: 0 };
    const definition = catalog.plan('prime-monthly')!.benefits.grants[1]!;
    await fc.assert(
      // Every run starts by using a code and reporting a usage for the same order, and a second order holding
      // the second code, so the random tail always has state to race on; it ends 40 days later, when codes have expired.
      fc.asyncProperty(fc.array(commandArb, { minLength: 5, maxLength: 25 }), async (tail) => {
        const commands: Command[] = [
          { op: 'issue' },
          { op: 'issue' },
          { op: 'redeem', grant: 0, order: 0, subtotal: 6000 },
          { op: 'usage', order: 0, cents: 250 },
          { op: 'hold', grant: 1, order: 1, subtotal: 6000 },
          ...tail,
          { op: 'expire', days: 20 },
          { op: 'expire', days: 20 },
        ];
        const memberId = uniqueMemberId(`prop${run++}`);
        const deps = { catalog, memberships, benefits };
        const start = Date.parse('2026-01-01T00:00:00.000Z');
        let clock = start + 3_600_000;
        let periodIndex = 0;
        const periodStart = () => new Date(start + periodIndex * 30 * DAY * 1000).toISOString();
        const currentPeriodKey = () => `sub_prop@${periodStart()}`;
        // Billing periods are 30 days (new-period), but the subscription is paid far ahead so the member stays
        // entitled whatever the clock does: a refused redeem must be refused for the code's sake, not the membership's.
        const subState = (): SubscriptionState =>
          monthlySubscription(periodStart(), new Date(Date.parse(periodStart()) + 3650 * DAY * 1000).toISOString(), {
            subscriptionId: 'sub_prop',
            customerId: `cus_${memberId.replace(/\W/g, '')}`,
          });
        let eventNo = 0;
        const apply = async (event: MembershipEvent) => {
          const stored = await memberships.getMembership(memberId);
          await memberships.saveMembership(applyMembershipEvent(stored?.record ?? null, event).record, stored?.rev ?? 0);
        };
        const created = () => Math.floor(clock / 1000) + eventNo;
        const paidInvoice = () => `in_prop_${periodIndex}`;
        const openPeriod = async () => {
          await apply({
            kind: 'subscription-changed',
            eventId: `evt_${++eventNo}`,
            created: created(),
            memberId,
            subscription: subState(),
          });
          await apply({
            kind: 'invoice-paid',
            eventId: `evt_${++eventNo}`,
            created: created(),
            memberId,
            customerId: subState().customerId,
            subscriptionId: 'sub_prop',
            invoiceId: paidInvoice(),
            billingReason: 'subscription_cycle',
            periodStart: periodStart(),
            amountPaidCents: 1499,
            currency: 'usd',
          });
        };
        await openPeriod();

        // Plain facts, kept by the test: when each code was issued and for which period, who holds it, which periods were refunded.
        const codes: Array<{ code: string; issuedAt: number; periodKey: string }> = [];
        const holder = new Map<string, string>();
        // Standing holds as the service granted them: code → order and until when.
        const holds = new Map<string, { order: string; until: number }>();
        const heldByAnother = (code: string, order: string) => {
          const h = holds.get(code);
          return h !== undefined && h.order !== order && clock < h.until;
        };
        const refunded = new Set<string>();
        const orderOf = (n: number) => `ord-${n}`;
        const expired = (c: (typeof codes)[number]) => clock >= c.issuedAt + definition.validDays * DAY * 1000;
        let probe = 0;
        for (const c of commands) {
          clock += 1; // one command per millisecond keeps the redemption log's order unambiguous
          const now = new Date(clock);
          switch (c.op) {
            case 'issue': {
              const grants = buildGrants(definition, {
                memberId,
                periodKey: currentPeriodKey(),
                issuedAt: now.toISOString(),
                code: generateGrantCode,
              });
              await dynamo().doc.send(new TransactWriteCommand({ TransactItems: grants.map((g) => grantPut(benefits.tableName, g)) }));
              codes.push(...grants.map((g) => ({ code: g.code, issuedAt: clock, periodKey: g.periodKey })));
              break;
            }
            case 'redeem': {
              const code = codes[c.grant]?.code;
              if (!code) break;
              try {
                const res = await redeemGrant(
                  deps,
                  { code, memberId, orderId: orderOf(c.order), subtotalCents: c.subtotal, currency: 'usd' },
                  now,
                );
                const held = holder.get(code);
                expect(held === undefined || held === res.orderId).toBe(true);
                expect(heldByAnother(code, res.orderId)).toBe(false);
                holder.set(code, res.orderId);
                holds.delete(code);
                outcomes.redeemed++;
              } catch (error) {
                if (!(error instanceof AppError)) throw error;
              }
              break;
            }
            case 'hold': {
              const code = codes[c.grant]?.code;
              if (!code) break;
              const orderId = orderOf(c.order);
              try {
                const res = await holdGrant(deps, { code, memberId, orderId, subtotalCents: c.subtotal, currency: 'usd' }, now);
                // Nobody else has it: not redeemed, not held by another order with a hold still standing.
                expect(holder.has(code)).toBe(false);
                expect(heldByAnother(code, orderId)).toBe(false);
                holds.set(code, { order: orderId, until: Date.parse(res.expiresAt) });
                outcomes.held++;
              } catch (error) {
                if (!(error instanceof AppError)) throw error;
              }
              break;
            }
            case 'commit': {
              const code = codes[c.grant]?.code;
              if (!code) break;
              const orderId = orderOf(c.order);
              try {
                await commitGrant(deps, { code, orderId }, now);
                const h = holds.get(code);
                // Only the order's own hold, still standing, commits (or a repeat of its commit).
                expect(holder.get(code) === orderId || (h?.order === orderId && clock < h.until)).toBe(true);
                if (!holder.has(code)) outcomes.committed++;
                holder.set(code, orderId);
                holds.delete(code);
              } catch (error) {
                if (!(error instanceof AppError)) throw error;
                expect(error.kind === 'conflict' || error.kind === 'rejected').toBe(true);
              }
              break;
            }
            case 'wait':
              clock += c.minutes * 60_000;
              break;
            case 'release': {
              const code = codes[c.grant]?.code;
              if (!code) break;
              try {
                await releaseGrant(deps, { code, orderId: orderOf(c.order) }, now);
                if (holder.get(code) === orderOf(c.order)) holder.delete(code);
                if (holds.get(code)?.order === orderOf(c.order)) holds.delete(code);
                outcomes.released++;
              } catch (error) {
                if (!(error instanceof AppError)) throw error;
                expect(error.kind).toBe('conflict');
                expect(holder.get(code)).not.toBe(orderOf(c.order));
              }
              break;
            }
            case 'expire': {
              clock += c.days * DAY * 1000;
              const at = new Date(clock);
              const ent = await checkEntitlement(deps, memberId, at, { subtotalCents: 6000, currency: 'usd' });
              expect(ent.entitled).toBe(true);
              const listed = new Map(ent.benefits.coupons.map((x) => [x.code, x.applicable]));
              for (const x of codes) {
                if (holder.has(x.code) || refunded.has(x.periodKey)) continue;
                // Listed until TTL removes it, applicable only while unexpired; an expired one is refused.
                expect(listed.get(x.code), x.code).toBe(!expired(x));
                if (!expired(x)) continue;
                const refused = await redeemGrant(
                  deps,
                  { code: x.code, memberId, orderId: `late-${probe++}`, subtotalCents: 6000, currency: 'usd' },
                  at,
                ).then(
                  () => null,
                  (error: unknown) => error,
                );
                expect(refused).toBeInstanceOf(RejectedError);
                expect((refused as RejectedError).reason).toBe('expired');
                outcomes.expiredRefused++;
              }
              break;
            }
            case 'refund': {
              await apply({
                kind: 'invoice-refunded',
                eventId: `evt_${++eventNo}`,
                created: created(),
                memberId,
                customerId: subState().customerId,
                invoiceId: paidInvoice(),
                creditNoteId: `cn_${eventNo}`,
              });
              refunded.add(currentPeriodKey());
              // The period's unredeemed codes read void; held ones stay redeemed; other periods' codes are untouched.
              const states = new Map((await getMemberBenefits(deps, memberId)).grants.map((g) => [g.code, g.state]));
              for (const x of codes) {
                const expected = holder.has(x.code) ? 'redeemed' : refunded.has(x.periodKey) ? 'void' : 'open';
                expect(states.get(x.code), x.code).toBe(expected);
                if (expected === 'void') outcomes.voided++;
              }
              break;
            }
            case 'usage':
              try {
                await recordBenefitUsage(deps, { memberId, orderId: orderOf(c.order), shippingSavedCents: c.cents, currency: 'usd' }, now);
                outcomes.usages++;
              } catch (error) {
                if (!(error instanceof AppError)) throw error;
                expect(error.kind).toBe('conflict');
              }
              break;
            case 'new-period':
              periodIndex++;
              clock = Math.max(clock, Date.parse(periodStart()) + 1000);
              await openPeriod();
              break;
          }
        }
        // Ground truth from storage: every grant held by at most one order, counters equal to the records.
        const all = await items(memberId);
        const redemptions = all.filter((i) => i.type === 'grant-redemption');
        const usages = all.filter((i) => i.type === 'benefit-usage');
        const counted = usages.filter((u) => !u.reversedAt);
        outcomes.reversedUsages += usages.length - counted.length;
        const savedIn = (key: string | null) =>
          redemptions.filter((r) => key === null || r.periodKey === key).reduce((s, r) => s + r.savedCents, 0) +
          counted.filter((u) => key === null || u.periodKey === key).reduce((s, u) => s + u.shippingSavedCents, 0);
        // A reversed usage was taken back by the release of a code held by the same order.
        for (const u of usages.filter((x) => x.reversedAt)) {
          expect(
            redemptions.some(
              (r) => r.action === 'release' && r.orderId === u.orderId && r.code === u.reversedByCode && r.at === u.reversedAt,
            ),
          ).toBe(true);
        }
        for (const g of all.filter((i) => i.type === 'grant')) {
          const events = redemptions
            .filter((r) => r.code === g.grant.code)
            .sort((a, b) => a.at.localeCompare(b.at) || a.action.localeCompare(b.action));
          let held: string | null = null;
          for (const e of events) {
            if (e.action === 'redeem') {
              expect(held).toBeNull();
              held = e.orderId;
            } else {
              expect(held).toBe(e.orderId);
              held = null;
            }
          }
          expect(g.grant.redeemedOrderId ?? null).toBe(held);
        }
        // One coupon per order: no order holds two redeemed coupons.
        const redeemedBy = all.filter((i) => i.type === 'grant' && i.grant.state === 'redeemed').map((i) => i.grant.redeemedOrderId);
        expect(new Set(redeemedBy).size).toBe(redeemedBy.length);
        const view = await getMemberBenefits(deps, memberId);
        expect(view.savings.lifetimeSavedCents).toBe(savedIn(null));
        expect(view.savings.periodKey).toBe(currentPeriodKey());
        expect(view.savings.periodSavedCents).toBe(savedIn(currentPeriodKey()));
      }),
      // Twelve runs against DynamoDB Local (the pure property runs many more in the unit tests). Seeded:
      // twelve random runs now and then missed a path the checks below require (a refund with an open code).
      { numRuns: 12, seed: 20261202 },
    );
    // The runs exercised the paths they claim to (not only rejections).
    expect(outcomes.redeemed).toBeGreaterThan(0);
    expect(outcomes.held).toBeGreaterThan(0);
    expect(outcomes.usages).toBeGreaterThan(0);
    expect(outcomes.expiredRefused).toBeGreaterThan(0);
    expect(outcomes.voided).toBeGreaterThan(0);
  });
});
