import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MessageRejected, type SESv2Client, SendingPausedException } from '@aws-sdk/client-sesv2';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { GRANT_CODE_PATTERN } from '#shared/domain/grant-codes';
import { periodKey } from '#shared/domain/savings';
import { type NotificationSender, OutboxSender, type OutgoingMessage, SesSender } from '#shared/notifications/senders';
import { planCatalog } from '#shared/runtime/catalog';
import { workQueue } from '#shared/runtime/compliance';
import { dynamo, membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { keys } from '#shared/storage/keys';
import { type ReminderItem, ReminderStore, reminderKeys } from '#shared/storage/reminder-store';
import { digestOf, type ReminderJobDeps, sendDueReminders } from '#shared/usecases/send-reminders';
import { checkoutSessionObject, invoiceObject, stripeEvent, stripeId, subscriptionObject } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { asFunction } from '../support/iam-recorder';
import { memberItems } from '../support/member-items';
import { bearer, putSavings } from '../support/shopper';

const api = useApi();
const root = fileURLToPath(new URL('../..', import.meta.url));
const DAY = 86_400;
const HOUR = 3600;
// Far from the wall clock, so nothing else in the shared test table is due at these times.
// Finance tests own 2031–2034 of the shared test table; reminders live their lifecycles in 2037.
const BASE = Date.parse('2037-03-01T00:00:00Z') / 1000;
const at = (seconds: number) => new Date(seconds * 1000);

/** Records what each run sends, then delivers into the outbox like a local run. */
class RecordingSender implements NotificationSender {
  readonly channel = 'outbox' as const;
  readonly needsAddress = false;
  readonly sent: Array<OutgoingMessage & { asOf: string }> = [];
  asOf = '';
  constructor(private readonly inner: NotificationSender) {}
  async send(message: OutgoingMessage) {
    this.sent.push({ ...message, asOf: this.asOf });
    return this.inner.send(message);
  }
}

function jobDeps(overrides: Partial<ReminderJobDeps> = {}) {
  const { doc, tables } = dynamo();
  const store = new ReminderStore(doc, tables.main);
  const sender = new RecordingSender(new OutboxSender(store));
  const deps: ReminderJobDeps = {
    catalog: planCatalog(),
    rules: jurisdictionRules(),
    work: workQueue(),
    memberships: membershipRepository(),
    store,
    sender,
    portalUrl: 'https://shop.example/account',
    preferencesUrl: 'https://shop.example/account/email',
    recallCoupon: { amountOffCents: 1500, validDays: 30 },
    ...overrides,
  };
  return { deps, sender: deps.sender as RecordingSender, store };
}

/** Runs the job at `seconds` and returns the kinds sent to `memberId` in that run. */
async function runAt(job: ReturnType<typeof jobDeps>, seconds: number, memberId: string): Promise<string[]> {
  job.sender.asOf = at(seconds).toISOString();
  const before = job.sender.sent.length;
  const result = await sendDueReminders(job.deps, at(seconds));
  expect(result.failed).toBe(0);
  return job.sender.sent
    .slice(before)
    .filter((m) => m.memberId === memberId)
    .map((m) => m.kind);
}

/** Like runAt, for a run that is expected to fail part-way (a simulated crash). */
async function runAtAllowingFailures(job: ReturnType<typeof jobDeps>, asOf: Date, memberId: string): Promise<string[]> {
  job.sender.asOf = asOf.toISOString();
  const before = job.sender.sent.length;
  await sendDueReminders(job.deps, asOf);
  return job.sender.sent
    .slice(before)
    .filter((m) => m.memberId === memberId)
    .map((m) => m.kind);
}

async function post(event: object) {
  const res = await api.postEvent(event);
  expect(res.status, await res.clone().text()).toBe(200);
}

function member(label: string, interval: 'month' | 'year' = 'month') {
  const memberId = uniqueMemberId(label);
  const customer = stripeId('cus');
  const subscription = stripeId('sub');
  const sub = (spec: Partial<Parameters<typeof subscriptionObject>[0]> & { periodStart: number }) =>
    subscriptionObject({ id: subscription, customer, memberId, interval, ...spec });
  return {
    memberId,
    customer,
    subscription,
    checkout: (created: number) =>
      stripeEvent(
        'checkout.session.completed',
        checkoutSessionObject({ memberId, customer, subscription, email: `${memberId}@example.com` }),
        { created },
      ),
    subEvent: (type: string, created: number, spec: Partial<Parameters<typeof subscriptionObject>[0]> & { periodStart: number }) =>
      stripeEvent(type, sub(spec), { created }),
    invoiceEvent: (
      type: 'invoice.paid' | 'invoice.payment_failed',
      created: number,
      periodStart: number,
      periodEnd: number,
      billingReason = 'subscription_cycle',
    ) =>
      stripeEvent(
        type,
        invoiceObject({
          customer,
          subscription,
          memberId,
          billingReason,
          periodStart,
          periodEnd,
          status: type === 'invoice.paid' ? 'paid' : 'open',
        }),
        { created },
      ),
  };
}

/** A member who signed up at `start` and cancelled the next day: benefits end at `end`, then lapse and win-back notices follow. */
async function cancelledMember(label: string, start: number) {
  const m = member(label);
  const end = start + 30 * DAY;
  await post(m.checkout(start));
  await post(
    m.subEvent('customer.subscription.created', start, {
      periodStart: start,
      periodEnd: end,
      cancelAtPeriodEnd: true,
      canceledAt: start + DAY,
    }),
  );
  return { ...m, end };
}

describe('reminders: whole lifecycles with a fake clock', () => {
  it('trial → paid → renewal → failed payment → grace → lapse → win-back: each notice once, on time', async () => {
    const m = member('life');
    const trialEnd = BASE + 30 * DAY;
    await post(m.checkout(BASE));
    await post(
      m.subEvent('customer.subscription.created', BASE, {
        status: 'trialing',
        periodStart: BASE,
        periodEnd: trialEnd,
        trialStart: BASE,
        trialEnd,
      }),
    );
    const job = jobDeps();

    expect(await runAt(job, trialEnd - 3 * DAY - HOUR, m.memberId)).toEqual([]);
    expect(await runAt(job, trialEnd - 3 * DAY, m.memberId)).toEqual(['trial_ending']);
    expect(await runAt(job, trialEnd - 3 * DAY + HOUR, m.memberId)).toEqual([]);

    // Trial converts: first paid period, renewal notice 7 days before its end.
    const p1End = trialEnd + 30 * DAY;
    await post(
      m.subEvent('customer.subscription.updated', trialEnd, {
        status: 'active',
        periodStart: trialEnd,
        periodEnd: p1End,
        trialStart: BASE,
        trialEnd,
      }),
    );
    await post(m.invoiceEvent('invoice.paid', trialEnd + 60, trialEnd, p1End));
    expect(await runAt(job, p1End - 8 * DAY, m.memberId)).toEqual([]);
    expect(await runAt(job, p1End - 7 * DAY, m.memberId)).toEqual(['renewal_upcoming']);

    // The renewal payment fails: a notice now, a warning two days before grace (7 days) runs out.
    const p2End = p1End + 30 * DAY;
    const failedAt = p1End + HOUR;
    await post(m.invoiceEvent('invoice.payment_failed', failedAt, p1End, p2End));
    await post(
      m.subEvent('customer.subscription.updated', failedAt, {
        status: 'past_due',
        periodStart: p1End,
        periodEnd: p2End,
        trialStart: BASE,
        trialEnd,
      }),
    );
    expect(await runAt(job, failedAt + 60, m.memberId)).toEqual(['payment_failed']);
    expect(await runAt(job, failedAt + 4 * DAY, m.memberId)).toEqual([]);
    expect(await runAt(job, failedAt + 5 * DAY, m.memberId)).toEqual(['grace_ending']);
    // Grace ends: benefits end, the member hears it once.
    expect(await runAt(job, failedAt + 7 * DAY + 60, m.memberId)).toEqual(['membership_lapsed']);
    // Stripe gives up later and deletes the subscription: the lapse notice is not sent again.
    await post(
      m.subEvent('customer.subscription.deleted', failedAt + 9 * DAY, {
        status: 'canceled',
        periodStart: p1End,
        periodEnd: p2End,
        trialStart: BASE,
        trialEnd,
        endedAt: failedAt + 9 * DAY,
        canceledAt: failedAt + 9 * DAY,
      }),
    );
    expect(await runAt(job, failedAt + 10 * DAY, m.memberId)).toEqual([]);
    // Win-backs follow the (now known) end: 7 and 30 days after it, with a recall coupon.
    const ended = failedAt + 9 * DAY;
    expect(await runAt(job, ended + 7 * DAY - 60, m.memberId)).toEqual([]);
    expect(await runAt(job, ended + 7 * DAY, m.memberId)).toEqual(['win_back']);
    expect(await runAt(job, ended + 30 * DAY, m.memberId)).toEqual(['win_back']);
    expect(await runAt(job, ended + 400 * DAY, m.memberId)).toEqual([]);

    const winBacks = job.sender.sent.filter((s) => s.memberId === m.memberId && s.kind === 'win_back');
    const codes = winBacks.map((s) => /code ([A-Z0-9-]+)/.exec(s.text)![1]!);
    expect(codes.every((c) => GRANT_CODE_PATTERN.test(c))).toBe(true);
    const items = await memberItems(m.memberId);
    // Only the recall coupon: signup and period grants of the plan are issued alongside.
    const grants = items.filter((i) => i.type === 'grant' && i.grant.grantId === 'win-back');
    expect(grants.map((g) => g.grant.code).sort()).toEqual([...codes].sort());
    expect(grants[0]!.grant).toMatchObject({ kind: 'coupon', amountOffCents: 1500, currency: 'usd', memberId: m.memberId, state: 'open' });

    // Content: the renewal notice says what, how much, when and how to cancel.
    const renewal = job.sender.sent.find((s) => s.memberId === m.memberId && s.kind === 'renewal_upcoming')!;
    expect(renewal.text).toContain('Prime Monthly');
    expect(renewal.text).toContain('$14.99');
    expect(renewal.text).toContain('https://shop.example/account');
    expect(renewal.to).toBe(`${m.memberId}@example.com`);

    // Proof: one per sent notice, with the digest of what was sent.
    const proofs = items.filter((i) => i.type === 'notification');
    expect(proofs.map((p) => p.kind).sort()).toEqual([
      'grace_ending',
      'membership_lapsed',
      'payment_failed',
      'renewal_upcoming',
      'trial_ending',
      'win_back',
      'win_back',
    ]);
    expect(proofs.find((p) => p.kind === 'renewal_upcoming')!.digest).toBe(digestOf(renewal.subject, renewal.text));
    expect(proofs.every((p) => p.to === `${m.memberId}@example.com`)).toBe(true);
    // Nothing of this member is left in the due index; no period of this short membership held an anniversary.
    expect(items.filter((i) => i.dueShard !== undefined)).toEqual([]);
    expect(items.some((i) => i.kind === 'annual_notice')).toBe(false);

    // Erasure removes the address and the outbox text, and keeps the proof of notice.
    expect(await job.store.erasePersonalData(m.memberId)).toBe(14);
    const erased = await memberItems(m.memberId);
    const erasedProofs = erased.filter((i) => i.type === 'notification');
    expect(erasedProofs).toHaveLength(7);
    for (const p of erasedProofs) {
      expect(p.to).toBeUndefined();
      expect(p).toMatchObject({
        kind: expect.any(String),
        sentAt: expect.any(String),
        channel: 'outbox',
        digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    }
    expect(erased.filter((i) => i.type === 'outbox').every((o) => o.to === undefined && o.text === undefined)).toBe(true);
  });

  it('paid after a failed renewal: payment_failed goes out, grace_ending and the lapse do not', async () => {
    const m = member('paid-late');
    const start = BASE + 20 * DAY;
    const p1End = start + 30 * DAY;
    const p2End = p1End + 30 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: p1End }));
    await post(m.invoiceEvent('invoice.paid', start + 60, start, p1End, 'subscription_create'));
    const job = jobDeps();
    expect(await runAt(job, p1End - 7 * DAY, m.memberId)).toEqual(['renewal_upcoming']);
    const failedAt = p1End + HOUR;
    await post(m.invoiceEvent('invoice.payment_failed', failedAt, p1End, p2End));
    await post(m.subEvent('customer.subscription.updated', failedAt, { status: 'past_due', periodStart: p1End, periodEnd: p2End }));
    expect(await runAt(job, failedAt + 60, m.memberId)).toEqual(['payment_failed']);
    // Stripe's retry succeeds on day 3 of the 7-day grace.
    const paidAt = failedAt + 3 * DAY;
    await post(m.invoiceEvent('invoice.paid', paidAt, p1End, p2End));
    await post(m.subEvent('customer.subscription.updated', paidAt, { periodStart: p1End, periodEnd: p2End }));
    expect(await runAt(job, failedAt + 5 * DAY, m.memberId)).toEqual([]);
    expect(await runAt(job, failedAt + 8 * DAY, m.memberId)).toEqual([]);
    // Membership goes on: the next renewal notice is the next thing the member hears.
    expect(await runAt(job, p2End - 7 * DAY, m.memberId)).toEqual(['renewal_upcoming']);
    const items = await memberItems(m.memberId);
    expect(items.find((i) => i.type === 'reminder' && i.kind === 'grace_ending')).toMatchObject({ status: 'dropped', dropReason: 'paid' });
    expect(items.some((i) => i.type === 'reminder' && i.kind === 'membership_lapsed' && i.status !== 'dropped')).toBe(false);
    expect(
      items
        .filter((i) => i.type === 'notification')
        .map((p) => p.kind)
        .sort(),
    ).toEqual(['payment_failed', 'renewal_upcoming', 'renewal_upcoming']);
  });

  it('cancel drops the renewal notice with a reason; resume brings it back; re-subscribe silences the win-back', async () => {
    const m = member('cancel');
    const start = BASE + 3 * DAY;
    const end = start + 30 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: end }));
    await post(m.invoiceEvent('invoice.paid', start + 1, start, end, 'subscription_create'));
    await post(
      m.subEvent('customer.subscription.updated', start + DAY, {
        periodStart: start,
        periodEnd: end,
        cancelAtPeriodEnd: true,
        canceledAt: start + DAY,
      }),
    );
    const job = jobDeps();
    expect(await runAt(job, end - 7 * DAY, m.memberId)).toEqual([]);
    const afterCancel = await api.call('GET', `/v1/admin/members/${m.memberId}/notifications`, { key: KEYS.admin });
    expect(afterCancel.status).toBe(200);
    const body = (await afterCancel.json()) as any;
    expect(body.notifications.find((n: any) => n.kind === 'renewal_upcoming')).toMatchObject({
      status: 'dropped',
      dropReason: 'not_renewing',
      sentAt: null,
    });

    // Resume before the end: the renewal notice is queued again and goes out (late, still before renewal).
    await post(m.subEvent('customer.subscription.updated', end - 6 * DAY, { periodStart: start, periodEnd: end }));
    expect(await runAt(job, end - 6 * DAY + HOUR, m.memberId)).toEqual(['renewal_upcoming']);
    expect(await runAt(job, end + 60, m.memberId)).toEqual([]);

    // Cancel again and let it lapse; lapse notice at the end, then re-subscribe before the win-back.
    await post(
      m.subEvent('customer.subscription.updated', end - 5 * DAY, {
        periodStart: start,
        periodEnd: end,
        cancelAtPeriodEnd: true,
        canceledAt: end - 5 * DAY,
      }),
    );
    expect(await runAt(job, end, m.memberId)).toEqual(['membership_lapsed']);
    const again = member('unused');
    await post(
      stripeEvent(
        'customer.subscription.created',
        subscriptionObject({ id: again.subscription, customer: m.customer, memberId: m.memberId, periodStart: end + 3 * DAY }),
        { created: end + 3 * DAY },
      ),
    );
    expect(await runAt(job, end + 7 * DAY, m.memberId)).toEqual([]);
    const list = (await (await api.call('GET', `/v1/admin/members/${m.memberId}/notifications`, { key: KEYS.admin })).json()) as any;
    expect(list.notifications.find((n: any) => n.kind === 'win_back' && n.status === 'dropped')).toMatchObject({
      dropReason: 'member_came_back',
    });
    expect(list.notifications.find((n: any) => n.kind === 'renewal_upcoming' && n.status === 'sent')).toMatchObject({
      channel: 'outbox',
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      message: { subject: expect.any(String) },
    });
  });

  it('trial_will_end sends the trial notice at once, and the schedule does not send it again', async () => {
    const m = member('trialwill');
    const trialEnd = BASE + 45 * DAY;
    const trialing = { status: 'trialing', periodStart: BASE, periodEnd: trialEnd, trialStart: BASE, trialEnd };
    await post(m.checkout(BASE));
    await post(m.subEvent('customer.subscription.created', BASE, trialing));
    await post(m.subEvent('customer.subscription.trial_will_end', trialEnd - 5 * DAY, trialing));
    const job = jobDeps();
    expect(await runAt(job, trialEnd - 5 * DAY + 60, m.memberId)).toEqual(['trial_ending']);
    expect(await runAt(job, trialEnd - 3 * DAY, m.memberId)).toEqual([]);
    // A late duplicate signal re-queues it; the proof keeps it from going out twice.
    await post(m.subEvent('customer.subscription.trial_will_end', trialEnd - 2 * DAY, trialing));
    expect(await runAt(job, trialEnd - 2 * DAY + 60, m.memberId)).toEqual([]);
  });

  it('win-back respects marketing opt-out; transactional notices ignore it', async () => {
    const m = member('optout');
    const start = BASE + 5 * DAY;
    const end = start + 30 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: end }));
    const res = await api.call('PUT', `/v1/admin/members/${m.memberId}/preferences`, { key: KEYS.admin, body: { marketingOptOut: true } });
    expect(res.status).toBe(200);
    const job = jobDeps();
    expect(await runAt(job, end - 7 * DAY, m.memberId)).toEqual(['renewal_upcoming']);
    await post(m.subEvent('customer.subscription.updated', end - 2 * DAY, { periodStart: start, periodEnd: end, cancelAtPeriodEnd: true }));
    expect(await runAt(job, end, m.memberId)).toEqual(['membership_lapsed']);
    expect(await runAt(job, end + 31 * DAY, m.memberId)).toEqual([]);
    const items = await memberItems(m.memberId);
    expect(items.filter((i) => i.kind === 'win_back').map((i) => i.dropReason)).toEqual(['marketing_opt_out', 'marketing_opt_out']);
    expect(items.some((i) => i.type === 'grant' && i.grant.grantId === 'win-back')).toBe(false);
  });

  it('a win-back coupon is an ordinary grant: listed once the member is back, redeemed and released by its code', async () => {
    const m = await cancelledMember('winback-code', BASE + 100 * DAY);
    const end = m.end;
    const job = jobDeps();
    expect(await runAt(job, end, m.memberId)).toEqual(['membership_lapsed']);
    expect(await runAt(job, end + 7 * DAY, m.memberId)).toEqual(['win_back']);
    const winBack = job.sender.sent.find((s) => s.memberId === m.memberId && s.kind === 'win_back')!;
    const code = /code ([A-Z0-9-]+)/.exec(winBack.text)![1]!;

    // The member comes back on a new subscription: the coupon is theirs to use at checkout.
    const back = stripeId('sub');
    const backAt = end + 10 * DAY;
    await post(
      stripeEvent(
        'customer.subscription.created',
        subscriptionObject({ id: back, customer: m.customer, memberId: m.memberId, periodStart: backAt }),
        { created: backAt },
      ),
    );
    const order = { subtotalCents: 4000, currency: 'usd' };
    const ent = await api.entitlement(m.memberId, order);
    expect(ent.benefits.coupons).toContainEqual(expect.objectContaining({ code, amountOffCents: 1500, currency: 'usd', applicable: true }));
    const redeem = await api.call('POST', `/v1/coupons/${code}/redeem`, { body: { memberId: m.memberId, orderId: 'wb-1', ...order } });
    expect(redeem.status, await redeem.clone().text()).toBe(200);
    // The order is cancelled: the release finds the code's member by the code alone.
    const release = await api.call('POST', `/v1/coupons/${code}/release`, { body: { orderId: 'wb-1' } });
    expect(release.status, await release.clone().text()).toBe(200);
    expect(await release.json()).toEqual({ code, status: 'open', orderId: 'wb-1' });
  });
});

describe('annual_notice: once a year, actually sent', () => {
  it('monthly plan without a trial: the renewal on the anniversary does not drop that year’s notice; one per year', async () => {
    // Signup on a day whose anniversary is a renewal day (no trial: the billing anchor is the signup).
    const m = member('annual-monthly');
    const start = Date.parse('2038-01-10T00:00:00Z') / 1000;
    const anniversary = Date.parse('2039-01-10T00:00:00Z') / 1000;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: start + 31 * DAY }));
    const job = jobDeps();
    // The renewal that opens the second year arrives before the job runs on the anniversary.
    await post(
      m.subEvent('customer.subscription.updated', anniversary - 31 * DAY, { periodStart: anniversary - 31 * DAY, periodEnd: anniversary }),
    );
    const p2End = anniversary + 31 * DAY;
    await post(m.subEvent('customer.subscription.updated', anniversary, { periodStart: anniversary, periodEnd: p2End }));
    await post(m.invoiceEvent('invoice.paid', anniversary + 60, anniversary, p2End));
    expect(await runAt(job, anniversary + 9 * HOUR + 15 * 60, m.memberId)).toEqual([]);
    const mid = anniversary + 15.5 * DAY;
    expect(await runAt(job, mid - 60, m.memberId)).toEqual([]);
    expect(await runAt(job, mid, m.memberId)).toEqual(['annual_notice']);
    // The next renewals plan no second notice for the same year.
    await post(m.subEvent('customer.subscription.updated', p2End, { periodStart: p2End, periodEnd: p2End + 28 * DAY }));
    expect(await runAt(job, p2End + 21 * DAY, m.memberId)).toEqual(['renewal_upcoming']);
    const notice = job.sender.sent.find((s) => s.memberId === m.memberId && s.kind === 'annual_notice')!;
    expect(notice.text).toContain('renews automatically');
    expect(notice.text).toContain('$14.99, charged every month');
    expect(notice.text).toContain('https://shop.example/account');
    // The following year: the renewal on the second anniversary plans (and the job sends) the next one.
    const second = Date.parse('2040-01-10T00:00:00Z') / 1000;
    await post(m.subEvent('customer.subscription.updated', second, { periodStart: second, periodEnd: second + 31 * DAY }));
    expect(await runAt(job, second + 15.5 * DAY, m.memberId)).toEqual(['annual_notice']);
    const items = await memberItems(m.memberId);
    expect(
      items
        .filter((i) => i.type === 'notification' && i.kind === 'annual_notice')
        .map((p) => p.reminderId)
        .sort(),
    ).toEqual([`annual_notice#${m.subscription}#2039-01-10T00:00:00.000Z#0`, `annual_notice#${m.subscription}#2040-01-10T00:00:00.000Z#0`]);
    expect(items.filter((i) => i.kind === 'annual_notice' && i.status === 'dropped')).toEqual([]);
  });

  it('annual plan (interval year): the notice goes out at mid-term, apart from the 30- and 7-day renewal notices', async () => {
    const m = member('annual-year', 'year');
    const start = BASE + 40 * DAY;
    const end = start + 365 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: end }));
    await post(m.invoiceEvent('invoice.paid', start + 60, start, end, 'subscription_create'));
    const job = jobDeps();
    const midTerm = start + 182.5 * DAY;
    expect(await runAt(job, midTerm - 60, m.memberId)).toEqual([]);
    expect(await runAt(job, midTerm, m.memberId)).toEqual(['annual_notice']);
    expect(await runAt(job, end - 30 * DAY, m.memberId)).toEqual(['renewal_upcoming']);
    expect(await runAt(job, end - 7 * DAY, m.memberId)).toEqual(['renewal_upcoming']);
    const notice = job.sender.sent.find((s) => s.memberId === m.memberId && s.kind === 'annual_notice')!;
    expect(notice.text).toContain('$139.00, charged every year');
    // Renewal: the next paid year plans its own mid-term notice.
    await post(m.subEvent('customer.subscription.updated', end, { periodStart: end, periodEnd: end + 365 * DAY }));
    expect(await runAt(job, end + 182.5 * DAY, m.memberId)).toEqual(['annual_notice']);
  });
});

describe('savings in the notices the job sends', () => {
  it('count the current period only: a renewal notice after a period without savings says $0, not last period’s figure', async () => {
    const m = member('savings');
    const start = BASE + 60 * DAY;
    const p1End = start + 30 * DAY;
    const p2End = p1End + 30 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: p1End }));
    // $8.40 saved in the first period; nothing in the second (the counter resets only on the next saving).
    await putSavings({
      memberId: m.memberId,
      periodKey: periodKey(m.subscription, at(start).toISOString()),
      periodSavedCents: 840,
      lifetimeSavedCents: 840,
      feesPaidCents: 1499,
      currency: 'usd',
    });
    const job = jobDeps();
    expect(await runAt(job, p1End - 7 * DAY, m.memberId)).toEqual(['renewal_upcoming']);
    await post(m.subEvent('customer.subscription.updated', p1End, { periodStart: p1End, periodEnd: p2End }));
    expect(await runAt(job, p2End - 7 * DAY, m.memberId)).toEqual(['renewal_upcoming']);
    const [first, second] = job.sender.sent.filter((s) => s.memberId === m.memberId);
    expect(first!.text).toContain('You saved $8.40 this month');
    expect(second!.text).toContain('You saved $0.00 this month');
  });

  it('are read through the one savings reader, and the job counts the read', async () => {
    const { doc, tables } = dynamo();
    const store = new ReminderStore(doc, tables.main);
    const memberId = uniqueMemberId('savings-read');
    expect(await store.savings(memberId)).toBeNull();
    expect(store.reads.bySource.savings).toBe(0);
    const saved = { memberId, periodKey: 'sub_x@2037-01-01T00:00:00.000Z', periodSavedCents: 300, lifetimeSavedCents: 4500 };
    await putSavings({ ...saved, feesPaidCents: 3000, currency: 'jpy' });
    expect(await store.savings(memberId)).toEqual({ ...saved, periodStart: null, feesPaidCents: 3000, currency: 'jpy' });
    expect(store.reads.bySource.savings).toBe(1);
    expect(store.reads.items).toBe(1);
  });
});

describe('reminders: exactly once', () => {
  it('two jobs at once send each due reminder once', async () => {
    const members = Array.from({ length: 12 }, (_, i) => member(`race${i}`));
    const start = BASE + 10 * DAY;
    for (const m of members)
      await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: start + 30 * DAY }));
    const a = jobDeps();
    const b = jobDeps();
    const asOf = start + 23 * DAY;
    a.sender.asOf = b.sender.asOf = at(asOf).toISOString();
    await Promise.all([sendDueReminders(a.deps, at(asOf)), sendDueReminders(b.deps, at(asOf)), sendDueReminders(a.deps, at(asOf))]);
    const ids = new Set(members.map((m) => m.memberId));
    const sent = [...a.sender.sent, ...b.sender.sent].filter((s) => ids.has(s.memberId));
    expect(sent).toHaveLength(members.length);
    expect(new Set(sent.map((s) => s.reminderId)).size).toBe(members.length);
  });

  it('a crash after claiming is retried after the lease runs out, and sent once', async () => {
    const m = member('lease');
    const start = BASE + 12 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: start + 30 * DAY }));
    const asOf = at(start + 23 * DAY);
    const crashing: NotificationSender = {
      channel: 'outbox',
      needsAddress: false,
      send: async () => {
        throw new Error('process died');
      },
    };
    const crashed = jobDeps({ sender: crashing, leaseMs: 5 * 60_000 });
    const first = await sendDueReminders(crashed.deps, asOf);
    expect(first.failed).toBeGreaterThanOrEqual(1);
    const reminder = (await memberItems(m.memberId)).find((i) => i.type === 'reminder' && i.kind === 'renewal_upcoming') as ReminderItem;
    expect(reminder).toMatchObject({ status: 'sending', dueShard: expect.any(String) });

    // While the lease holds, another run leaves it alone.
    const job = jobDeps();
    expect(await runAt(job, asOf.getTime() / 1000, m.memberId)).toEqual([]);
    const later = jobDeps({ clock: () => new Date(Date.now() + 6 * 60_000) });
    expect(await runAt(later, asOf.getTime() / 1000, m.memberId)).toEqual(['renewal_upcoming']);
    expect(await runAt(later, asOf.getTime() / 1000, m.memberId)).toEqual([]);
    const { doc, tables } = dynamo();
    const stored = await doc.send(
      new GetCommand({ TableName: tables.main, Key: { PK: keys.memberPk(m.memberId), SK: reminderKeys.reminderSk(reminder.reminderId) } }),
    );
    expect(stored.Item).toMatchObject({ status: 'sent', attempts: 2, ttl: expect.any(Number) });
    expect(stored.Item!.ttl).toBeGreaterThan(Date.now() / 1000 + 3 * 365 * 86_400);
    expect(stored.Item!.dueShard).toBeUndefined();
  });

  it('a crash after the send succeeded but before the proof is written: the email goes out again after the lease (at-least-once); proof and records once', async () => {
    const m = member('crash-after-send');
    const start = BASE + 16 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: start + 30 * DAY }));
    const asOf = at(start + 23 * DAY);
    const { doc, tables } = dynamo();
    class DiesBeforeProof extends ReminderStore {
      override async recordProof(): Promise<void> {
        throw new Error('process died');
      }
    }
    const crashing = new DiesBeforeProof(doc, tables.main);
    const first = jobDeps({ store: crashing, sender: new RecordingSender(new OutboxSender(crashing)) });
    expect(await runAtAllowingFailures(first, asOf, m.memberId)).toEqual(['renewal_upcoming']);
    expect((await memberItems(m.memberId)).find((i) => i.kind === 'renewal_upcoming' && i.type === 'reminder')).toMatchObject({
      status: 'sending',
    });
    const later = jobDeps({ clock: () => new Date(Date.now() + 6 * 60_000) });
    // The member receives the same notice a second time ...
    expect(await runAt(later, asOf.getTime() / 1000, m.memberId)).toEqual(['renewal_upcoming']);
    const [a, b] = [...first.sender.sent, ...later.sender.sent].filter((x) => x.memberId === m.memberId);
    expect(digestOf(a!.subject, a!.text)).toBe(digestOf(b!.subject, b!.text));
    // ... but the proof of notice and the reminder's record exist once.
    const items = await memberItems(m.memberId);
    expect(items.filter((i) => i.type === 'notification')).toHaveLength(1);
    expect(items.find((i) => i.kind === 'renewal_upcoming' && i.type === 'reminder')).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('a crash after the proof is written but before marking sent: nothing is sent again', async () => {
    const m = member('crash-after-proof');
    const start = BASE + 18 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: start + 30 * DAY }));
    const asOf = at(start + 23 * DAY);
    const { doc, tables } = dynamo();
    class DiesBeforeMarkingSent extends ReminderStore {
      override async finish(...args: Parameters<ReminderStore['finish']>): Promise<boolean> {
        if (args[1].status === 'sent') throw new Error('process died');
        return super.finish(...args);
      }
    }
    const crashing = new DiesBeforeMarkingSent(doc, tables.main);
    const first = jobDeps({ store: crashing, sender: new RecordingSender(new OutboxSender(crashing)) });
    expect(await runAtAllowingFailures(first, asOf, m.memberId)).toEqual(['renewal_upcoming']);
    const later = jobDeps({ clock: () => new Date(Date.now() + 6 * 60_000) });
    expect(await runAt(later, asOf.getTime() / 1000, m.memberId)).toEqual([]);
    const items = await memberItems(m.memberId);
    expect(items.filter((i) => i.type === 'notification')).toHaveLength(1);
    expect(items.find((i) => i.kind === 'renewal_upcoming' && i.type === 'reminder')).toMatchObject({ status: 'sent' });
  });

  it('re-queued while a job is sending it: no second job sends it, during the lease or after', async () => {
    const m = member('inflight');
    const trialEnd = BASE + 20 * DAY;
    const trialing = { status: 'trialing', periodStart: BASE, periodEnd: trialEnd, trialStart: BASE, trialEnd };
    // A Californian (the checkout's address): only the plan's own trial notice is planned.
    await post(m.checkout(BASE));
    await post(m.subEvent('customer.subscription.created', BASE, trialing));
    const asOf = trialEnd - 3 * DAY;
    const reminder = (await memberItems(m.memberId)).find((i) => i.type === 'reminder' && i.kind === 'trial_ending') as ReminderItem;
    // Job A claims it and is about to send ...
    const a = jobDeps();
    const claim = await a.store.claim(reminder, new Date(), 5 * 60_000);
    expect(claim.outcome).toBe('claimed');
    // ... when Stripe's trial_will_end re-queues the same reminder.
    await post(m.subEvent('customer.subscription.trial_will_end', asOf, trialing));
    const requeued = (await memberItems(m.memberId)).find((i) => i.SK === reminder.SK)!;
    expect(requeued).toMatchObject({ status: 'due', leaseUntil: claim.leaseUntil });
    const b = jobDeps();
    expect(await runAt(b, asOf + 60, m.memberId)).toEqual([]);
    // A finishes its send; B, even after A's lease, finds the proof and sends nothing.
    await a.store.recordProof(reminder, {
      reminderId: reminder.reminderId,
      kind: 'trial_ending',
      sentAt: new Date().toISOString(),
      channel: 'outbox',
      digest: 'x'.repeat(64),
      to: null,
      providerMessageId: null,
    });
    await a.store.finish(reminder, { status: 'sent' }, null);
    const bLater = jobDeps({ clock: () => new Date(Date.now() + 10 * 60_000) });
    expect(await runAt(bLater, asOf + 120, m.memberId)).toEqual([]);
    expect((await memberItems(m.memberId)).find((i) => i.SK === reminder.SK)).toMatchObject({ status: 'sent' });
  });

  it('a re-queued reminder that was already sent is taken out of the queue without sending', async () => {
    const m = member('requeue');
    const start = BASE + 14 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: start + 30 * DAY }));
    const job = jobDeps();
    expect(await runAt(job, start + 23 * DAY, m.memberId)).toEqual(['renewal_upcoming']);
    const reminder = (await memberItems(m.memberId)).find((i) => i.type === 'reminder' && i.kind === 'renewal_upcoming')!;
    const { doc, tables } = dynamo();
    await doc.send(
      new UpdateCommand({
        TableName: tables.main,
        Key: { PK: reminder.PK, SK: reminder.SK },
        UpdateExpression: 'SET #s = :due, dueShard = :shard, dueAt = :at',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':due': 'due',
          ':shard': reminderKeys.dueShard(reminder.reminderId),
          ':at': `${reminder.scheduledFor}#${reminder.reminderId}`,
        },
      }),
    );
    expect(await runAt(job, start + 23 * DAY, m.memberId)).toEqual([]);
    const after = (await memberItems(m.memberId)).find((i) => i.type === 'reminder' && i.kind === 'renewal_upcoming')!;
    expect(after.status).toBe('sent');
    expect(after.dueShard).toBeUndefined();
  });
});

describe('failures: bounded retries, SES refusals, an unavailable sender', () => {
  async function renewingMember(label: string, offsetDays: number) {
    const m = member(label);
    const start = BASE + offsetDays * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: start + 30 * DAY }));
    return { m, due: start + 23 * DAY };
  }
  const reminderOf = async (memberId: string) =>
    (await memberItems(memberId)).find((i) => i.type === 'reminder' && i.kind === 'renewal_upcoming')!;
  const sesClient = (fail: (to: string) => Error | null) =>
    ({
      send: async (command: { input: { Destination: { ToAddresses: string[] } } }) => {
        const error = fail(command.input.Destination.ToAddresses[0]!);
        if (error) throw error;
        return { MessageId: 'ses-1' };
      },
    }) as unknown as SESv2Client;

  it('a reminder that keeps failing is dropped after maxAttempts with the last error; the others are sent and the run does not fail', async () => {
    const bad = await renewingMember('retry-bad', 100);
    const good = await renewingMember('retry-good', 100);
    const failing: NotificationSender = {
      channel: 'outbox',
      needsAddress: false,
      send: async (message) => {
        if (message.memberId === bad.m.memberId)
          throw Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'TooManyRequestsException' });
        return { providerMessageId: null };
      },
    };
    let now = Date.now();
    const job = jobDeps({ sender: failing, maxAttempts: 3, clock: () => new Date(now) });
    const first = await sendDueReminders(job.deps, at(bad.due));
    expect(first).toMatchObject({ failed: 1, senderUnavailable: null });
    expect(first.sent).toBeGreaterThanOrEqual(1);
    expect(await reminderOf(good.m.memberId)).toMatchObject({ status: 'sent' });
    expect(await reminderOf(bad.m.memberId)).toMatchObject({
      status: 'sending',
      attempts: 1,
      lastError: 'SendFailed: TooManyRequestsException',
    });
    now += 6 * 60_000;
    expect(await sendDueReminders(job.deps, at(bad.due))).toMatchObject({ failed: 1 });
    now += 6 * 60_000;
    const third = await sendDueReminders(job.deps, at(bad.due));
    expect(third.failed).toBe(0);
    expect(third.dropped.attempts_exhausted).toBe(1);
    expect(await reminderOf(bad.m.memberId)).toMatchObject({
      status: 'dropped',
      dropReason: 'attempts_exhausted',
      attempts: 3,
      lastError: 'SendFailed: TooManyRequestsException',
    });
    expect((await reminderOf(bad.m.memberId)).dueShard).toBeUndefined();
    now += 6 * 60_000;
    expect((await sendDueReminders(job.deps, at(bad.due))).dropped.attempts_exhausted ?? 0).toBe(0);
    const list = (await (await api.call('GET', `/v1/admin/members/${bad.m.memberId}/notifications`, { key: KEYS.admin })).json()) as any;
    expect(list.notifications.find((n: any) => n.kind === 'renewal_upcoming')).toMatchObject({
      status: 'dropped',
      dropReason: 'attempts_exhausted',
      attempts: 3,
      lastError: 'SendFailed: TooManyRequestsException',
    });
  });

  it('attempts cut short by a crash count too: the claim after the last one drops it', async () => {
    const { m, due } = await renewingMember('retry-crash', 102);
    let now = Date.now();
    const crashed = jobDeps({ clock: () => new Date(now), maxAttempts: 2 });
    const reminder = (await reminderOf(m.memberId)) as ReminderItem;
    // Two runs claimed it and died before any verdict (no catch ran: a timeout or a kill).
    for (let i = 0; i < 2; i++) {
      expect((await crashed.store.claim({ ...reminder, attempts: i } as ReminderItem, new Date(now), 60_000)).outcome).toBe('claimed');
      now += 2 * 60_000;
    }
    expect(await runAt(crashed, due, m.memberId)).toEqual([]);
    expect(await reminderOf(m.memberId)).toMatchObject({ status: 'dropped', dropReason: 'attempts_exhausted', attempts: 3 });
  });

  it('an address SES refuses is dropped as undeliverable at once, with the SES error code and no proof of notice', async () => {
    const { m, due } = await renewingMember('ses-rejected', 104);
    const rejected = new MessageRejected({
      message: `Email address is not verified. The following identities failed the check: ${m.memberId}@example.com`,
      $metadata: {},
    });
    const sender = new SesSender(
      sesClient((to) => (to.startsWith(m.memberId) ? rejected : null)),
      'notices@shop.example',
    );
    const job = jobDeps({ sender });
    const result = await sendDueReminders(job.deps, at(due));
    expect(result.dropped.undeliverable).toBe(1);
    expect(result.failed).toBe(0);
    const items = await memberItems(m.memberId);
    expect(items.find((i) => i.type === 'reminder' && i.kind === 'renewal_upcoming')).toMatchObject({
      status: 'dropped',
      dropReason: 'undeliverable',
      lastError: 'MessageRejected',
      attempts: 1,
    });
    expect(items.some((i) => i.type === 'notification')).toBe(false);
    // The address is not kept in the reason.
    expect(JSON.stringify(items.filter((i) => i.type === 'reminder'))).not.toContain('@example.com');
  });

  it('an unavailable sender (sending paused) stops the run and puts the reminder back untried; the next run sends it', async () => {
    const { m, due } = await renewingMember('ses-paused', 106);
    const paused = new SendingPausedException({ message: 'Sending is paused for this account.', $metadata: {} });
    const job = jobDeps({
      sender: new SesSender(
        sesClient(() => paused),
        'notices@shop.example',
      ),
    });
    const result = await sendDueReminders(job.deps, at(due));
    expect(result.senderUnavailable).toBe('SendingPausedException');
    expect(result.deferred).toBeGreaterThanOrEqual(1);
    expect(result.failed).toBe(0);
    const reminder = await reminderOf(m.memberId);
    expect(reminder).toMatchObject({ status: 'due', attempts: 0, lastError: 'SendingPausedException', dueShard: expect.any(String) });
    expect(reminder.leaseUntil).toBeUndefined();
    const resumed = jobDeps();
    expect(await runAt(resumed, due, m.memberId)).toEqual(['renewal_upcoming']);
  });
});

describe('the reminders job entry point', () => {
  it('is registered as a 15-minute job and sends what is due at --as-of', async () => {
    const { jobFunctions } = await import('../../functions/manifest');
    expect(jobFunctions.find((f) => f.job?.name === 'reminders')).toMatchObject({
      entry: 'functions/jobs/reminders.ts',
      access: expect.arrayContaining(['table:read', 'table:write', 'table:index:due', 'ses:send']),
      job: { schedule: 'rate(15 minutes)' },
    });
    const m = member('entry');
    const start = BASE + 200 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: start + 30 * DAY }));
    const { handler } = await import('../../functions/jobs/reminders');
    const result = await asFunction('reminders', () => handler({ asOf: at(start + 23 * DAY).toISOString() }));
    expect(result.failed).toBe(0);
    expect(result.sent).toBeGreaterThanOrEqual(1);
    const items = await memberItems(m.memberId);
    expect(items.find((i) => i.type === 'outbox')).toMatchObject({
      kind: 'renewal_upcoming',
      to: `${m.memberId}@example.com`,
      subject: expect.stringContaining('renews'),
    });
    await expect(handler({ asOf: 'not-a-time' })).rejects.toThrow(/ISO time/);
  });
});

describe('the job’s deadline, pacing and concurrency', () => {
  async function dueMembers(label: string, count: number, offsetDays: number) {
    const start = BASE + offsetDays * DAY;
    const members = Array.from({ length: count }, (_, i) => member(`${label}${i}`));
    for (const m of members) {
      await post(m.checkout(start));
      await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: start + 30 * DAY }));
    }
    return { members, asOf: at(start + 23 * DAY).toISOString() };
  }
  const renewalOf = async (memberId: string) =>
    (await memberItems(memberId)).find((i) => i.type === 'reminder' && i.kind === 'renewal_upcoming')!;

  it('stops claiming when the Lambda context says time is short; what is left stays queued, untouched, for the next run', async () => {
    const { members, asOf } = await dueMembers('deadline', 6, 300);
    const { handler } = await import('../../functions/jobs/reminders');
    // Under the 60 s reserve from the start: nothing is claimed.
    const short = await asFunction('reminders', () => handler({ asOf }, { getRemainingTimeInMillis: () => 59_000 }));
    expect(short).toMatchObject({ outOfTime: true, sent: 0 });
    expect(short.deferred).toBeGreaterThanOrEqual(members.length);
    for (const m of members) {
      const r = await renewalOf(m.memberId);
      expect(r).toMatchObject({ status: 'due', dueShard: expect.any(String) });
      expect(r.attempts).toBeUndefined();
      expect(r.leaseUntil).toBeUndefined();
    }
    // Time runs short after three claims: those finish, the rest wait; nothing is left half-done.
    let checks = 0;
    const mid = await handler({ asOf }, { getRemainingTimeInMillis: () => (++checks <= 3 ? 120_000 : 1_000) });
    expect(mid.outOfTime).toBe(true);
    expect(mid.sent + Object.values(mid.dropped).reduce((a, b) => a + b, 0) + mid.skipped).toBeLessThanOrEqual(3);
    expect(mid.deferred).toBeGreaterThanOrEqual(members.length - 3);
    const statuses = await Promise.all(members.map(async (m) => (await renewalOf(m.memberId)).status));
    expect(statuses.every((st) => st === 'due' || st === 'sent')).toBe(true);
    // Enough time: the rest goes out.
    const rest = await handler({ asOf }, { getRemainingTimeInMillis: () => 600_000 });
    expect(rest.outOfTime).toBe(false);
    for (const m of members) expect(await renewalOf(m.memberId)).toMatchObject({ status: 'sent' });
  });

  it('paces sends to maxSendRate and keeps at most `concurrency` reminders in hand over all shards', async () => {
    const { members, asOf } = await dueMembers('pace', 10, 310);
    let inFlight = 0;
    let maxInFlight = 0;
    const starts: number[] = [];
    const slow: NotificationSender = {
      channel: 'outbox',
      needsAddress: false,
      send: async () => {
        starts.push(performance.now());
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 30));
        inFlight--;
        return { providerMessageId: null };
      },
    };
    const job = jobDeps({ sender: slow, maxSendRate: 40, concurrency: 3 });
    const t0 = performance.now();
    const result = await sendDueReminders(job.deps, new Date(asOf));
    expect(result.sent).toBeGreaterThanOrEqual(members.length);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    // 40 per second: the k-th send never starts before t0 + k × 25 ms. A busy machine only delays
    // sends (a late one may be followed closely by the next, on its own slot), never brings one forward.
    for (const [k, t] of starts.entries()) expect(t - t0, `send ${k}`).toBeGreaterThanOrEqual(k * 25 - 1);
  });
});

describe('npm run job -- reminders', () => {
  it('runs the job as a script against DYNAMODB_ENDPOINT: sends what is due at --as-of, prints the result and the notice, exits 0; a bad --as-of exits 1', async () => {
    const m = member('npm-job');
    const start = BASE + 320 * DAY;
    await post(m.checkout(start));
    await post(m.subEvent('customer.subscription.created', start, { periodStart: start, periodEnd: start + 30 * DAY }));
    const asOf = at(start + 23 * DAY).toISOString();
    // The test environment's DYNAMODB_ENDPOINT and TABLE_NAME point the script at this run's DynamoDB Local.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.POWERTOOLS_LOG_LEVEL;
    const npm = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn('npm', ['run', '--silent', 'job', '--', 'reminders', ...args], {
          cwd: root,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('exit', (code) => resolve({ code, out }));
      });
    const run = await npm(['--as-of', asOf]);
    expect(run.code, run.out).toBe(0);
    const printed = JSON.parse(run.out.slice(run.out.indexOf('{\n  "job"'))) as {
      job: string;
      result: { asOf: string; sent: number; failed: number };
    };
    expect(printed).toMatchObject({ job: 'reminders', result: { asOf, failed: 0 } });
    expect(printed.result.sent).toBeGreaterThanOrEqual(1);
    // The local log shows the rendered notice.
    expect(run.out).toContain('Your Prime Monthly membership renews on');
    expect(run.out).not.toContain(`${m.memberId}@example.com`);
    expect((await memberItems(m.memberId)).find((i) => i.type === 'notification')).toMatchObject({
      kind: 'renewal_upcoming',
      channel: 'outbox',
    });
    const bad = await npm(['--as-of', 'yesterday']);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('--as-of must be an ISO time');
  }, 60_000);
});

describe('the shopper’s marketing opt-out', () => {
  it('PUT /v1/me/preferences (shopper token) stops win-back emails, which link to it; opting in again restores them', async () => {
    const m = await cancelledMember('me-prefs', BASE + 330 * DAY);
    const end = m.end;
    const headers = await bearer(m.memberId);
    const job = jobDeps();
    expect(await runAt(job, end, m.memberId)).toEqual(['membership_lapsed']);
    expect(await runAt(job, end + 7 * DAY, m.memberId)).toEqual(['win_back']);
    const winBack = job.sender.sent.find((x) => x.memberId === m.memberId && x.kind === 'win_back')!;
    expect(winBack.text).toContain('To stop these emails, change your email preferences at https://shop.example/account/email');

    const optOut = await api.call('PUT', '/v1/me/preferences', { key: null, headers, body: { marketingOptOut: true } });
    expect(optOut.status, await optOut.clone().text()).toBe(200);
    expect(await optOut.json()).toMatchObject({ memberId: m.memberId, marketingOptOut: true, updatedAt: expect.any(String) });
    expect(await runAt(job, end + 30 * DAY, m.memberId)).toEqual([]);
    expect(
      (await memberItems(m.memberId)).find((i) => i.type === 'reminder' && i.kind === 'win_back' && i.offsetDays === -30),
    ).toMatchObject({ dropReason: 'marketing_opt_out' });
    // The operator sees the shopper's choice.
    const seen = (await (await api.call('GET', `/v1/admin/members/${m.memberId}/notifications`, { key: KEYS.admin })).json()) as any;
    expect(seen.marketingOptOut).toBe(true);
    const optIn = await api.call('PUT', '/v1/me/preferences', { key: null, headers, body: { marketingOptOut: false } });
    expect(await optIn.json()).toMatchObject({ marketingOptOut: false });
  });

  it('needs a shopper token, names no member but the token’s, and validates the body', async () => {
    const memberId = uniqueMemberId('me-prefs-auth');
    expect((await api.call('PUT', '/v1/me/preferences', { key: null, body: { marketingOptOut: true } })).status).toBe(401);
    expect((await api.call('PUT', '/v1/me/preferences', { key: KEYS.admin, body: { marketingOptOut: true } })).status).toBe(401);
    const headers = await bearer(memberId);
    for (const body of [{ marketingOptOut: 'yes' }, { marketingOptOut: true, memberId: 'someone-else' }, {}]) {
      const res = await api.call('PUT', '/v1/me/preferences', { key: null, headers, body });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(await memberItems(memberId)).toEqual([]);
    expect(await memberItems('someone-else')).toEqual([]);
    const openapi = (await (await api.call('GET', '/openapi.json', { key: null })).json()) as any;
    expect(openapi.paths['/v1/me/preferences'].put).toMatchObject({ operationId: 'setMyPreferences', security: [expect.any(Object)] });
  });
});

describe('admin notification endpoints', () => {
  it('need the admin role and validate input, changing nothing on bad input', async () => {
    const memberId = uniqueMemberId('adm');
    expect((await api.call('GET', `/v1/admin/members/${memberId}/notifications`, { key: null })).status).toBe(401);
    expect((await api.call('GET', `/v1/admin/members/${memberId}/notifications`, { key: KEYS.checkout })).status).toBe(403);
    const empty = await api.call('GET', `/v1/admin/members/${memberId}/notifications`, { key: KEYS.admin });
    expect(await empty.json()).toEqual({ memberId, marketingOptOut: false, notifications: [] });
    for (const body of [{ marketingOptOut: 'yes' }, { marketingOptOut: true, extra: 1 }, {}]) {
      const res = await api.call('PUT', `/v1/admin/members/${memberId}/preferences`, { key: KEYS.admin, body });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(
      (await api.call('PUT', `/v1/admin/members/${memberId}/preferences`, { key: KEYS.checkout, body: { marketingOptOut: true } })).status,
    ).toBe(403);
    expect(await memberItems(memberId)).toEqual([]);
    expect((await api.call('GET', `/v1/admin/members/bad%20id/notifications`, { key: KEYS.admin })).status).toBe(400);
  });
});
