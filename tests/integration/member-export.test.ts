import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { generateReference } from '#shared/codes';
import { planCatalog } from '#shared/runtime/catalog';
import { dynamo, householdStore, membershipRepository } from '#shared/runtime/dynamo';
import { shopperRepository } from '#shared/runtime/shopper';
import { MEMBER_ITEM_TYPES } from '#shared/storage/item-registry';
import { inviteToHousehold, joinHousehold } from '#shared/usecases/household';
import { stripeEvent } from '../../local/stripe-test-events';
import { uniqueMemberId, useApi } from '../support/api';
import { partition, runCompliance, sendNotices } from '../support/compliance';
import { bearer, subscribedMember, useStripeDouble } from '../support/shopper';

const api = useApi();
const stripe = useStripeDouble();
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Every item in the table that is about the member: their partition, or an item naming them. Tests may Scan; the service never does. */
async function everythingAbout(memberId: string): Promise<Array<Record<string, any>>> {
  const { doc, tables } = dynamo();
  const items: Array<Record<string, any>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new ScanCommand({
        TableName: tables.main,
        // The member's finance account and the routes of their refunds hold the member in the entry they copy.
        FilterExpression:
          'PK = :pk OR PK = :fin OR memberId = :m OR subscriberKey = :m OR (begins_with(PK, :route) AND entry.memberId = :m)',
        ExpressionAttributeValues: { ':pk': `MEMBER#${memberId}`, ':fin': `FINACCT#${memberId}`, ':route': 'FINROUTE#', ':m': memberId },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

describe('GET /v1/me/export and DELETE /v1/me', () => {
  it('export holds every item type the member has after a full lifecycle; erasure removes the person and keeps the records, confirmed by email', async () => {
    const memberId = uniqueMemberId('export');
    const email = `${memberId}@example.com`;
    const shopper = { key: null, headers: await bearer(memberId) };
    // Signed up from the UK three days ago: grants, ledger entries, consent acceptance, planned notices.
    const m = await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - 3 * DAY - 100, address: { country: 'GB' }, email });
    await shopperRepository().putConsent({
      memberId,
      checkoutSessionId: 'cs_test_export',
      planId: 'prime-monthly',
      planName: 'Prime Monthly',
      priceId: 'price_prime_monthly_usd',
      amountCents: 1499,
      currency: 'usd',
      interval: 'month',
      intervalCount: 1,
      trialDays: 0,
      renewalTerms: 'Prime Monthly renews automatically.',
      presentedAt: new Date((m.periodEnd - 30 * DAY) * 1000).toISOString(),
    });
    await shopperRepository().linkStripeCustomer(memberId, m.customer, new Date());
    expect((await api.call('PUT', '/v1/me/preferences', { ...shopper, body: { marketingOptOut: true } })).status).toBe(200);
    // An invite to their own household (it stays standing).
    expect((await api.call('POST', '/v1/me/household/invites', { ...shopper, body: { role: 'teen' } })).status).toBe(200);
    // Buys a gift for a friend (its address and message are the friend's and the member's personal data).
    const gift = {
      giftId: 'gift-3m',
      recipientEmail: 'friend@example.com',
      message: 'For you',
      successUrl: 'https://shop.example/ok',
      cancelUrl: 'https://shop.example/no',
    };
    expect((await api.call('POST', '/v1/me/gifts/checkout-session', { ...shopper, body: gift })).status).toBe(200);
    // The checkout redeems a coupon and reports a shipping saving.
    const mine = (await (await api.call('GET', '/v1/me/membership', shopper)).json()) as any;
    const code = mine.coupons[0].code;
    const redeem = { memberId, orderId: `o-${memberId}`, subtotalCents: 6000, currency: 'usd' };
    expect((await api.call('POST', `/v1/coupons/${code}/redeem`, { body: redeem })).status).toBe(200);
    const usage = { memberId, orderId: `o2-${memberId}`, shippingSavedCents: 499, currency: 'usd' };
    expect((await api.call('POST', '/v1/benefit-usage', { body: usage })).status).toBe(200);
    // A renewal notice goes out (proof, outbox copy).
    expect((await sendNotices([memberId], new Date((m.periodEnd - 7 * DAY + 60) * 1000))).map((n) => n.kind)).toContain('renewal_upcoming');
    // Cancels, takes the save offer, then withdraws within 14 days.
    const offer = ((await (await api.call('POST', '/v1/me/membership/cancel', shopper)).json()) as any).saveOffer;
    expect((await api.call('POST', offer.acceptPath, shopper)).status).toBe(200);
    expect((await api.call('POST', '/v1/me/membership/withdraw', { ...shopper, body: { name: 'Jane Export' } })).status).toBe(200);
    expect((await sendNotices([memberId], new Date())).map((n) => n.kind)).toEqual(['withdrawal_ack']);
    // Stripe reports the end; 90 days on, the offer's outcome is recorded.
    const ended = structuredClone(stripe().render(stripe().objects.get(m.subscription)!));
    expect((await api.postEvent(stripeEvent('customer.subscription.deleted', ended, { created: nowSeconds() }))).status).toBe(200);
    await runCompliance({ members: [memberId] }, new Date(Date.now() + 91 * DAY * 1000));
    // Lapsed, they join a friend's household, are removed (the rejoin lock), and after the lock join another.
    const friend = uniqueMemberId('export-friend');
    await subscribedMember(api, stripe(), { memberId: friend, start: nowSeconds() - DAY });
    const invite = await api.call('POST', '/v1/me/household/invites', {
      key: null,
      headers: await bearer(friend),
      body: { role: 'adult' },
    });
    const joined = await api.call('POST', '/v1/me/household/join', {
      ...shopper,
      body: { code: ((await invite.json()) as any).code, email },
    });
    expect(joined.status).toBe(200);
    expect((await api.call('DELETE', `/v1/me/household/members/${memberId}`, { key: null, headers: await bearer(friend) })).status).toBe(
      200,
    );
    const family = uniqueMemberId('export-family');
    await subscribedMember(api, stripe(), { memberId: family, start: nowSeconds() - DAY, interval: 'year' });
    const afterLock = new Date(Date.now() + 181 * DAY * 1000);
    const households = {
      catalog: planCatalog(),
      memberships: membershipRepository(),
      households: householdStore(),
      inviteCode: () => generateReference('HH'),
    };
    const later = await inviteToHousehold(households, family, 'adult', afterLock);
    await joinHousehold(households, memberId, { code: later.code, email }, afterLock);

    const stored = await everythingAbout(memberId);
    const storedTypes = new Set(stored.map((i) => String(i.type)));
    // The lifecycle touched every kind of item a member can have.
    for (const type of Object.keys(MEMBER_ITEM_TYPES)) expect(storedTypes, type).toContain(type);

    const res = await api.call('GET', '/v1/me/export', shopper);
    expect(res.status).toBe(200);
    const exported = (await res.json()) as any;
    expect(exported).toMatchObject({ format: 'membership-export/1', memberId, summary: { jurisdiction: { country: 'GB' }, rules: 'GB' } });
    const exportedTypes = new Set(Object.values(exported.sections).flatMap((s: any) => s.items.map((i: any) => i.itemType)));
    for (const type of storedTypes) expect(exportedTypes, `item type ${type} is stored but not exported`).toContain(type);
    expect(exported.sections.other).toBeUndefined();
    expect(exported.summary.itemCount).toBe(stored.length);
    expect(JSON.stringify(exported)).toContain(email);
    expect(exported.sections.declarations.items[0].data).toMatchObject({ kind: 'withdrawal', name: 'Jane Export' });
    expect(exported.sections.proofsOfNotice.items[0].retainedUntil).toMatch(/^\d{4}-/);

    // Erasure: 202, a confirmation to the erased address, and nothing left that names the person.
    const erase = await api.call('DELETE', '/v1/me', shopper);
    expect(erase.status).toBe(202);
    expect(await erase.json()).toMatchObject({ status: 'erased', confirmation: 'queued' });
    const confirmation = (await sendNotices([memberId], new Date())).find((n) => n.kind === 'erasure_confirmation');
    expect(confirmation).toMatchObject({ to: email });
    expect(confirmation!.text).toContain('Your email address is removed');
    const after = (await (await api.call('GET', '/v1/me/export', shopper)).json()) as any;
    const text = JSON.stringify(after);
    expect(text).not.toContain(email);
    expect(text).not.toContain('Jane Export');
    const items = await partition(memberId);
    // No proof holds an address: removed by the erasure, or written after it without one (`to: null`, a
    // notice the same run found due once the address was gone).
    expect(items.filter((i) => i.type === 'notification' && i.to != null)).toEqual([]);
    // Money records and proofs stay.
    expect(after.sections.ledgerEntries.items.length).toBeGreaterThan(0);
    expect(after.sections.proofsOfNotice.items.map((i: any) => i.data.kind)).toEqual(
      expect.arrayContaining(['erasure_confirmation', 'renewal_upcoming', 'withdrawal_ack']),
    );
    expect(after.sections.declarations.items[0].data).toMatchObject({ kind: 'withdrawal', status: 'processed' });
  });

  it('refuses erasure while the membership still renews, and 404s a shopper with nothing stored', async () => {
    const memberId = uniqueMemberId('export-renewing');
    await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - DAY, address: { country: 'US', state: 'CA' } });
    const renewing = await api.call('DELETE', '/v1/me', { key: null, headers: await bearer(memberId) });
    expect(renewing.status).toBe(409);
    expect(await renewing.json()).toMatchObject({ reason: 'membership_renewing', membershipStatus: 'active' });
    const nobody = { key: null, headers: await bearer(uniqueMemberId('nobody')) };
    expect((await api.call('GET', '/v1/me/export', nobody)).status).toBe(404);
    expect((await api.call('DELETE', '/v1/me', nobody)).status).toBe(404);
  });
});
