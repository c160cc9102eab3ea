import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { type NotificationSender, OutboxSender } from '#shared/notifications/senders';
import { planCatalog } from '#shared/runtime/catalog';
import { workQueue } from '#shared/runtime/compliance';
import { dynamo, membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { shopperRepository } from '#shared/runtime/shopper';
import { ReminderStore } from '#shared/storage/reminder-store';
import { sendDueReminders } from '#shared/usecases/send-reminders';
import { checkoutSessionObject, invoiceObject, stripeEvent, stripeId, subscriptionObject } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { memberItems } from '../support/member-items';

const api = useApi();
const DAY = 86_400;
// Its own year of the shared test table: nothing else is due or booked in 2039.
const BASE = Date.parse('2039-04-01T00:00:00Z') / 1000;

async function ledgerItems(month: string, memberId: string) {
  const { doc, tables } = dynamo();
  const out = await doc.send(
    new QueryCommand({
      TableName: tables.main,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': `LEDGER#${month}` },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).filter((i) => i.memberId === memberId);
}

async function post(event: object) {
  const res = await api.postEvent(event);
  expect(res.status, await res.clone().text()).toBe(200);
}

function jobDeps(store: ReminderStore) {
  return {
    catalog: planCatalog(),
    rules: jurisdictionRules(),
    work: workQueue(),
    memberships: membershipRepository(),
    store,
    sender: new OutboxSender(store),
    portalUrl: 'https://shop.example/account',
    preferencesUrl: 'https://shop.example/account/email',
    recallCoupon: { amountOffCents: 1000, validDays: 30 },
  };
}

/** A paying monthly member with an email on file and a renewal notice due 7 days before the period ends. */
async function activeMemberWithEmail(label = 'erase') {
  const memberId = uniqueMemberId(label);
  const email = `${memberId}@example.com`;
  const customer = stripeId('cus');
  const subscription = stripeId('sub');
  const periodEnd = BASE + 30 * DAY;
  const checkout = stripeEvent('checkout.session.completed', checkoutSessionObject({ memberId, customer, subscription, email }), {
    created: BASE,
  });
  await post(checkout);
  await post(
    stripeEvent(
      'customer.subscription.created',
      subscriptionObject({ id: subscription, customer, memberId, interval: 'month', status: 'active', periodStart: BASE, periodEnd }),
      { created: BASE },
    ),
  );
  await post(
    stripeEvent(
      'invoice.paid',
      invoiceObject({
        customer,
        subscription,
        memberId,
        billingReason: 'subscription_create',
        periodStart: BASE,
        periodEnd,
        status: 'paid',
        created: BASE,
      }),
      { created: BASE + 60 },
    ),
  );
  return { memberId, email, periodEnd, checkout };
}

describe('DELETE /v1/admin/members/{memberId}', () => {
  it('erases the email everywhere, keeps proof, consent and money records, and stays erased', async () => {
    const { memberId, email, periodEnd, checkout } = await activeMemberWithEmail();
    await shopperRepository().putConsent({
      memberId,
      checkoutSessionId: String((checkout as any).data.object.id),
      planId: 'prime-monthly',
      planName: 'Prime',
      priceId: 'price_x',
      amountCents: 1599,
      currency: 'usd',
      interval: 'month',
      intervalCount: 1,
      trialDays: 0,
      renewalTerms: 'renews monthly',
      presentedAt: new Date(BASE * 1000).toISOString(),
    });
    const { doc, tables } = dynamo();
    const run = await sendDueReminders(jobDeps(new ReminderStore(doc, tables.main)), new Date((periodEnd - 7 * DAY) * 1000));
    expect(run.failed).toBe(0);
    expect(JSON.stringify(await memberItems(memberId))).toContain(email);
    const ledgerBefore = await ledgerItems('2039-04', memberId);
    expect(ledgerBefore.length).toBeGreaterThan(0);

    expect((await api.call('DELETE', `/v1/admin/members/${memberId}`, { key: KEYS.checkout })).status).toBe(403);
    expect(JSON.stringify(await memberItems(memberId))).toContain(email);

    const first = await api.call('DELETE', `/v1/admin/members/${memberId}`, { key: KEYS.admin });
    expect(first.status).toBe(200);
    const body = (await first.json()) as any;
    expect(body).toMatchObject({
      memberId,
      erased: ['membership.email', 'notifications.to', 'outbox.text', 'declarations.name', 'declarations.email', 'declarations.reason'],
      kept: { consentRecords: 1 },
    });
    expect(body.noticeItems).toBeGreaterThan(0);
    const second = await api.call('DELETE', `/v1/admin/members/${memberId}`, { key: KEYS.admin });
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual(body);

    // Redelivered checkout (same event, and the same session under a new event id): still no email.
    await post(checkout);
    await post({ ...checkout, id: stripeId('evt') });

    expect(JSON.stringify(await memberItems(memberId))).not.toContain(email);
    const admin = (await (await api.call('GET', `/v1/admin/members/${memberId}`, { key: KEYS.admin })).json()) as any;
    expect(admin.membership.email).toBeNull();
    expect(admin.membership.erasedAt).toBe(body.erasedAt);
    expect(admin.consents).toHaveLength(1);
    expect(admin.status).toBe('active');
    const notes = (await (await api.call('GET', `/v1/admin/members/${memberId}/notifications`, { key: KEYS.admin })).json()) as any;
    const sent = notes.notifications.filter((n: any) => n.status === 'sent');
    expect(sent.map((n: any) => n.kind)).toEqual(['renewal_upcoming']);
    for (const n of sent) expect(n.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(notes)).not.toContain(email);
    expect(await ledgerItems('2039-04', memberId)).toEqual(ledgerBefore);
  });

  // The reminders job reads the member's address, sends, then writes its proof of notice (and, on the
  // local channel, the outbox copy). An erasure landing anywhere in between must not find the address
  // written back afterwards. The sender runs the erasure itself, so the interleaving is exact.
  for (const order of ['erase, then the outbox copy', 'the outbox copy, then erase'] as const) {
    it(`keeps no address when the erasure runs while the job is sending (${order})`, async () => {
      const { memberId, email, periodEnd } = await activeMemberWithEmail();
      const { doc, tables } = dynamo();
      const store = new ReminderStore(doc, tables.main);
      const outbox = new OutboxSender(store);
      const erase = async () => expect((await api.call('DELETE', `/v1/admin/members/${memberId}`, { key: KEYS.admin })).status).toBe(200);
      const sender: NotificationSender = {
        channel: 'outbox',
        needsAddress: false,
        async send(message) {
          expect(message.to).toBe(email);
          if (order === 'erase, then the outbox copy') {
            await erase();
            return outbox.send(message);
          }
          const sent = await outbox.send(message);
          await erase();
          return sent;
        },
      };
      const run = await sendDueReminders({ ...jobDeps(store), sender }, new Date((periodEnd - 7 * DAY) * 1000));
      expect(run).toMatchObject({ sent: 1, failed: 0 });

      const items = await memberItems(memberId);
      expect(JSON.stringify(items)).not.toContain(email);
      const proof = items.find((i) => String(i.SK).startsWith('NOTE#S#'));
      expect(proof).toMatchObject({
        kind: 'renewal_upcoming',
        digest: expect.stringMatching(/^[0-9a-f]{64}$/),
        erasedAt: expect.any(String),
      });
      expect(proof).not.toHaveProperty('to');
      const copy = items.find((i) => String(i.SK).startsWith('NOTE#OUTBOX#'));
      expect(copy).toMatchObject({ erasedAt: expect.any(String) });
      expect(copy).not.toHaveProperty('text');
    });
  }

  it('answers 404 problem+json for a member with nothing stored', async () => {
    const res = await api.call('DELETE', `/v1/admin/members/${uniqueMemberId('nobody')}`, { key: KEYS.admin });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
