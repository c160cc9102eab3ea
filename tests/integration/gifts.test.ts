import { describe, expect, it } from 'vitest';
import { OutboxSender } from '#shared/notifications/senders';
import { planCatalog } from '#shared/runtime/catalog';
import { workQueue } from '#shared/runtime/compliance';
import { giftStore, membershipRepository } from '#shared/runtime/dynamo';
import { ledgerSettler } from '#shared/runtime/finance';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { claimGift } from '#shared/usecases/gifts';
import { sendDueReminders } from '#shared/usecases/send-reminders';
import { stripeEvent } from '../../local/stripe-test-events';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { ScopedReminderStore } from '../support/compliance';
import { refundObject } from '../support/money-events';
import { bearer, subscribedMember, useStripeDouble } from '../support/shopper';

const api = useApi();
const stripe = useStripeDouble();
const DAY_MS = 86_400_000;
const GIFT_PRICE = 4497;
const urls = { successUrl: 'https://shop.example/gift/thanks', cancelUrl: 'https://shop.example/gift' };

async function asShopper(memberId: string, method: string, path: string, body?: unknown) {
  return api.call(method, path, { key: null, headers: await bearer(memberId), ...(body === undefined ? {} : { body }) });
}

async function buy(buyer: string, extra: Record<string, unknown> = {}) {
  stripe().webhook.url = api.url('/webhooks/stripe');
  const res = await asShopper(buyer, 'POST', '/v1/me/gifts/checkout-session', {
    giftId: 'gift-3m',
    recipientEmail: 'friend@example.com',
    ...urls,
    ...extra,
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { url: string; checkoutSessionId: string; purchaseId: string };
}

/** The buyer pays on Checkout: the double completes the session and delivers its event. */
async function pay(checkoutSessionId: string) {
  const { paymentIntent } = stripe().completePaymentSession(checkoutSessionId);
  await stripe().deliveriesSettled();
  return paymentIntent;
}

async function myGifts(buyer: string) {
  const res = await asShopper(buyer, 'GET', '/v1/me/gifts');
  expect(res.status).toBe(200);
  return ((await res.json()) as { bought: Array<Record<string, any>> }).bought;
}

async function boughtAndPaid(buyer: string, extra: Record<string, unknown> = {}) {
  const session = await buy(buyer, extra);
  const paymentIntent = await pay(session.checkoutSessionId);
  const gift = (await myGifts(buyer)).find((g) => g.purchaseId === session.purchaseId)!;
  return { ...session, paymentIntent, gift, code: gift.code as string };
}

const claim = (memberId: string, code: string) => asShopper(memberId, 'POST', '/v1/me/gifts/claim', { code });

/** A gift checkout completed as Stripe reports it, at a chosen time (the double dates events by the wall clock). */
function paidSessionEvent(spec: { session: string; buyer: string; purchaseId: string; pi: string; created: number; amount?: number }) {
  return stripeEvent(
    'checkout.session.completed',
    {
      id: spec.session,
      object: 'checkout.session',
      mode: 'payment',
      status: 'complete',
      payment_status: 'paid',
      amount_total: spec.amount ?? GIFT_PRICE,
      currency: 'usd',
      payment_intent: spec.pi,
      customer: null,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      metadata: { memberId: spec.buyer, purchaseId: spec.purchaseId, giftId: 'gift-3m' },
    },
    { created: spec.created },
  );
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

describe('buying a gift', () => {
  it('goes through Stripe Checkout in payment mode; on payment the gift gets its code, and the sale is in the ledger', async () => {
    const buyer = uniqueMemberId('giver');
    const session = await buy(buyer, { message: 'Happy holidays!' });
    expect(session.url).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    const call = stripe()
      .callsTo('POST', '/v1/checkout/sessions')
      .find((c) => c.params.metadata?.purchaseId === session.purchaseId)!;
    expect(call.idempotencyKey).toBe(`gift-checkout:${session.purchaseId}`);
    expect(call.params).toMatchObject({
      mode: 'payment',
      line_items: [{ price: 'price_prime_gift_3m_usd', quantity: '1' }],
      metadata: { memberId: buyer, purchaseId: session.purchaseId, giftId: 'gift-3m' },
      payment_intent_data: { metadata: { memberId: buyer, purchaseId: session.purchaseId, giftId: 'gift-3m' } },
    });
    expect((await myGifts(buyer))[0]).toMatchObject({ purchaseId: session.purchaseId, status: 'awaiting_payment', code: null });

    const paidAt = Date.now();
    const paymentIntent = await pay(session.checkoutSessionId);
    const [gift] = await myGifts(buyer);
    expect(gift).toMatchObject({
      status: 'unclaimed',
      giftId: 'gift-3m',
      planId: 'prime-monthly',
      months: 3,
      recipientEmail: 'friend@example.com',
    });
    expect(gift!.code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5}$/);
    expect(Date.parse(gift!.claimBy) - Date.parse(gift!.deliverAt)).toBe(365 * DAY_MS);
    expect(Math.abs(Date.parse(gift!.deliverAt) - paidAt)).toBeLessThan(60_000);

    const month = new Date(Date.parse(gift!.deliverAt)).toISOString().slice(0, 7);
    const ledger = (await (await api.call('GET', `/v1/finance/ledger?month=${month}`, { key: KEYS.finance })).json()) as any;
    expect(ledger.entries.find((e: any) => e.entryId === session.checkoutSessionId)).toMatchObject({
      kind: 'gift_paid',
      amountCents: GIFT_PRICE,
      currency: 'usd',
      paymentIntentId: paymentIntent.id,
      planId: 'prime-monthly',
    });
    // A redelivery of the payment keeps the code.
    const again = stripe()
      .all('event')
      .find((e) => e.type === 'checkout.session.completed' && e.data.object.id === session.checkoutSessionId)!;
    expect((await api.postEvent({ ...again, id: `${again.id}_again` })).status).toBe(200);
    expect((await myGifts(buyer))[0]!.code).toBe(gift!.code);
  });

  it('refuses a recurring price, an unknown gift and a delivery date in the past, changing nothing', async () => {
    const buyer = uniqueMemberId('picky');
    const unknown = await asShopper(buyer, 'POST', '/v1/me/gifts/checkout-session', {
      giftId: 'gift-99m',
      recipientEmail: 'a@b.co',
      ...urls,
    });
    expect(unknown.status).toBe(400);
    const past = await asShopper(buyer, 'POST', '/v1/me/gifts/checkout-session', {
      giftId: 'gift-3m',
      recipientEmail: 'a@b.co',
      deliverAt: '2020-01-01T00:00:00Z',
      ...urls,
    });
    expect(past.status).toBe(400);
    // Checkout may only send the buyer back to the shop (issue 12's allow-list).
    const elsewhere = await asShopper(buyer, 'POST', '/v1/me/gifts/checkout-session', {
      giftId: 'gift-3m',
      recipientEmail: 'a@b.co',
      successUrl: 'https://evil.example/phish',
      cancelUrl: urls.cancelUrl,
    });
    expect(elsewhere.status).toBe(400);
    expect(((await elsewhere.json()) as any).errors[0].path).toBe('/body/successUrl');
    expect(await myGifts(buyer)).toEqual([]);
    // The double refuses what Stripe refuses: a subscription price in payment mode.
    const res = await fetch(`${stripe().url}/v1/checkout/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stripe().apiKey}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': 'x1' },
      body: 'mode=payment&success_url=https://a.example&line_items[0][price]=price_prime_monthly_usd&line_items[0][quantity]=1',
    });
    expect(res.status).toBe(400);
  });
});

describe('delivering the code', () => {
  it('emails the recipient at deliverAt, with the code, once', async () => {
    const buyer = uniqueMemberId('sender');
    const deliverAt = new Date(Date.now() + 3 * DAY_MS);
    deliverAt.setUTCMilliseconds(0);
    const { code } = await boughtAndPaid(buyer, { deliverAt: deliverAt.toISOString() });
    // Only this buyer's notices: another file's members are not this test's to send.
    const store = new ScopedReminderStore(new Set([buyer]));
    const sent: Array<{ memberId: string; kind: string; to: string | null; text: string }> = [];
    const outbox = new OutboxSender(store);
    const deps = {
      catalog: planCatalog(),
      rules: jurisdictionRules(),
      work: workQueue(),
      memberships: membershipRepository(),
      gifts: giftStore(),
      store,
      sender: {
        channel: outbox.channel,
        needsAddress: outbox.needsAddress,
        send: async (m: Parameters<OutboxSender['send']>[0]) => {
          sent.push(m);
          return outbox.send(m);
        },
      },
      portalUrl: 'https://shop.example/account',
      preferencesUrl: 'https://shop.example/account/email',
      recallCoupon: { amountOffCents: 1500, validDays: 30 },
    };
    await sendDueReminders(deps, new Date(deliverAt.getTime() - DAY_MS));
    expect(sent.filter((m) => m.memberId === buyer)).toEqual([]);
    await sendDueReminders(deps, new Date(deliverAt.getTime() + 60_000));
    // A far-future run of another test file may have sent it first: the proof of notice says it went out, once.
    const notes = (await (await api.call('GET', `/v1/admin/members/${buyer}/notifications`, { key: KEYS.admin })).json()) as any;
    const delivery = notes.notifications.filter((n: any) => n.kind === 'gift_delivery');
    expect(delivery).toHaveLength(1);
    expect(delivery[0]).toMatchObject({ status: 'sent', dueAt: deliverAt.toISOString() });
    expect(delivery[0].message.text).toContain(code);
    const mine = sent.filter((m) => m.memberId === buyer);
    if (mine.length > 0) expect(mine[0]).toMatchObject({ kind: 'gift_delivery', to: 'friend@example.com' });
  });
});

describe('claiming a gift', () => {
  it('starts a non-renewing membership for a never-member; the entitlement check reads it; claimed once', async () => {
    const { code } = await boughtAndPaid(uniqueMemberId('giver'));
    const recipient = uniqueMemberId('lucky');
    const res = await claim(recipient, code.toLowerCase().replaceAll('-', ''));
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      giftId: 'gift-3m',
      planId: 'prime-monthly',
      membership: { status: 'active', entitled: true, renews: false },
    });
    expect(body.membership.accessEndsAt).toBe(body.endsAt);
    const entitlement = await api.entitlement(recipient);
    expect(entitlement).toMatchObject({ entitled: true, status: 'active', planId: 'prime-monthly', currentPeriodEnd: body.endsAt });
    expect(entitlement.benefits.freeShipping.eligible).toBe(true);
    const mine = (await (await asShopper(recipient, 'GET', '/v1/me/membership')).json()) as any;
    expect(mine).toMatchObject({ status: 'active', entitled: true, planId: 'prime-monthly', accessEndsAt: body.endsAt, nextCharge: null });

    // The same shopper again: the same answer; anybody else: 409.
    expect(await (await claim(recipient, code)).json()).toEqual(body);
    const other = await claim(uniqueMemberId('late'), code);
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ reason: 'gift_already_claimed' });
  });

  it('two shoppers claiming one code at once: exactly one gets it', async () => {
    const { code } = await boughtAndPaid(uniqueMemberId('giver'));
    const [a, b] = [uniqueMemberId('racer'), uniqueMemberId('racer')];
    const answers = await Promise.all([claim(a, code), claim(b, code)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const entitled = await Promise.all([api.entitlement(a), api.entitlement(b)]);
    expect(entitled.filter((e) => e.entitled)).toHaveLength(1);
  });

  it('a second gift extends the first, back to back', async () => {
    const recipient = uniqueMemberId('twice');
    const first = (await (await claim(recipient, (await boughtAndPaid(uniqueMemberId('giver'))).code)).json()) as any;
    const second = (await (await claim(recipient, (await boughtAndPaid(uniqueMemberId('giver'))).code)).json()) as any;
    expect(second.startsAt).toBe(first.endsAt);
    expect((await api.entitlement(recipient)).currentPeriodEnd).toBe(second.endsAt);
  });

  it('refuses a shopper whose membership renews (409), and the code stays usable', async () => {
    const memberId = uniqueMemberId('subscriber');
    await subscribedMember(api, stripe(), { memberId, start: Math.floor(Date.now() / 1000) - 5 * 86_400 });
    const { code } = await boughtAndPaid(uniqueMemberId('giver'));
    const res = await claim(memberId, code);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ reason: 'membership_renewing', membershipStatus: 'active' });
    // Nothing changed: the code still works for someone else.
    expect((await claim(uniqueMemberId('next'), code)).status).toBe(200);
  });

  it('answers 410 once the gift expired unclaimed, and 404 for a code nobody has', async () => {
    const buyer = uniqueMemberId('forgetful');
    const session = await buy(buyer);
    // Paid 366 days ago: the 365-day claim window is over.
    const created = Math.floor(Date.now() / 1000) - 366 * 86_400;
    expect(
      (
        await api.postEvent(
          paidSessionEvent({
            session: session.checkoutSessionId,
            buyer,
            purchaseId: session.purchaseId,
            pi: `pi_old${Date.now()}`,
            created,
          }),
        )
      ).status,
    ).toBe(200);
    const [gift] = await myGifts(buyer);
    expect(gift).toMatchObject({ status: 'expired' });
    const res = await claim(uniqueMemberId('toolate'), gift!.code);
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ reason: 'gift_expired', claimBy: gift!.claimBy });
    const none = await claim(uniqueMemberId('guess'), 'ABCD-EFGH-JKMN-PQRST');
    expect(none.status).toBe(404);
  });
});

describe('refunding a gift', () => {
  it('before it is claimed: Stripe pays it back and the code stops working; a claimed gift is not refundable', async () => {
    const buyer = uniqueMemberId('regretful');
    const { purchaseId, paymentIntent, code } = await boughtAndPaid(buyer);
    const res = await asShopper(buyer, 'POST', `/v1/me/gifts/${purchaseId}/refund`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ purchaseId, status: 'refunded', refundedCents: GIFT_PRICE, currency: 'usd' });
    await stripe().deliveriesSettled();
    const refunds = stripe()
      .all('refund')
      .filter((r) => r.payment_intent === paymentIntent.id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: GIFT_PRICE, metadata: { purchaseId } });
    // Again: the same answer, no second refund.
    expect((await asShopper(buyer, 'POST', `/v1/me/gifts/${purchaseId}/refund`)).status).toBe(200);
    expect(
      stripe()
        .all('refund')
        .filter((r) => r.payment_intent === paymentIntent.id),
    ).toHaveLength(1);
    expect((await myGifts(buyer))[0]).toMatchObject({ status: 'refunded' });
    const late = await claim(uniqueMemberId('hopeful'), code);
    expect(late.status).toBe(410);
    expect(await late.json()).toMatchObject({ reason: 'gift_refunded' });

    const claimed = await boughtAndPaid(buyer);
    expect((await claim(uniqueMemberId('quick'), claimed.code)).status).toBe(200);
    const refused = await asShopper(buyer, 'POST', `/v1/me/gifts/${claimed.purchaseId}/refund`);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ reason: 'gift_not_refundable', giftStatus: 'claimed' });
    // Only the buyer's own gifts.
    expect((await asShopper(uniqueMemberId('stranger'), 'POST', `/v1/me/gifts/${claimed.purchaseId}/refund`)).status).toBe(404);
  });
});

describe('gift revenue, month by month, to the cent', () => {
  // 2045–2046 belong to this test in the shared table. Three 3-month gifts of $44.97, no tax:
  // A paid 10 Jan, claimed 15 Feb 00:00 → 15 May (89 days: Feb 14, Mar 31, Apr 30, May 14):
  //   4497 × 14/89 = 707.39, × 31/89 = 1566.37, × 30/89 = 1515.84, × 14/89 = 707.39 → floors 4495;
  //   the 2 cents left go to April (.84) and February (.39, earlier than May's tie) → 708, 1566, 1516, 707.
  // B paid 5 Jun 12:00, never claimed: deferred until its deadline 365 days later (5 Jun 2046 12:00) → breakage in June 2046.
  // C paid 20 Jun, refunded 2 Jul before anyone claimed it: nothing is ever recognized.
  it('defers until claimed, recognizes ratably from the claim, breakage at the deadline, nothing after a refund', async () => {
    const gifts: Record<string, { buyer: string; purchaseId: string; session: string; pi: string }> = {};
    for (const [name, paid] of [
      ['A', '2045-01-10T12:00:00Z'],
      ['B', '2045-06-05T12:00:00Z'],
      ['C', '2045-06-20T12:00:00Z'],
    ] as const) {
      const buyer = uniqueMemberId(`fin${name}`);
      const session = await buy(buyer);
      const pi = `pi_gift${name}${Date.now()}`;
      gifts[name] = { buyer, purchaseId: session.purchaseId, session: session.checkoutSessionId, pi };
      const event = paidSessionEvent({
        session: session.checkoutSessionId,
        buyer,
        purchaseId: session.purchaseId,
        pi,
        created: seconds(paid),
      });
      expect((await api.postEvent(event)).status).toBe(200);
    }
    const a = gifts.A!;
    const code = (await myGifts(a.buyer))[0]!.code;
    const deps = {
      catalog: planCatalog(),
      gifts: giftStore(),
      memberships: membershipRepository(),
      stripe: async () => null,
      settleLedger: ledgerSettler(),
    };
    const claimed = await claimGift(deps, uniqueMemberId('finRecipient'), code, new Date('2045-02-15T00:00:00Z'));
    expect(claimed).toMatchObject({ startsAt: '2045-02-15T00:00:00.000Z', endsAt: '2045-05-15T00:00:00.000Z' });
    const c = gifts.C!;
    const refund = refundObject({
      id: `re_giftC${Date.now()}`,
      charge: `ch_giftC${Date.now()}`,
      paymentIntent: c.pi,
      amount: GIFT_PRICE,
      created: seconds('2045-07-02T09:00:00Z'),
    });
    expect((await api.postEvent(stripeEvent('refund.created', refund, { created: seconds('2045-07-02T09:00:00Z') }))).status).toBe(200);

    const revenue = async (month: string) => {
      const res = await api.call('GET', `/v1/finance/revenue?month=${month}&currency=usd`, { key: KEYS.finance });
      expect(res.status).toBe(200);
      return ((await res.json()) as any).currencies[0];
    };
    const expected: Array<[string, Record<string, number>]> = [
      [
        '2045-01',
        { billedCents: 4497, recognizedCents: 0, deferredCents: 4497, refundedCents: 0, sold: 1, claimed: 0, expired: 0, breakageCents: 0 },
      ],
      [
        '2045-02',
        { billedCents: 0, recognizedCents: 708, deferredCents: 3789, refundedCents: 0, sold: 0, claimed: 1, expired: 0, breakageCents: 0 },
      ],
      [
        '2045-03',
        { billedCents: 0, recognizedCents: 1566, deferredCents: 2223, refundedCents: 0, sold: 0, claimed: 0, expired: 0, breakageCents: 0 },
      ],
      [
        '2045-04',
        { billedCents: 0, recognizedCents: 1516, deferredCents: 707, refundedCents: 0, sold: 0, claimed: 0, expired: 0, breakageCents: 0 },
      ],
      [
        '2045-05',
        { billedCents: 0, recognizedCents: 707, deferredCents: 0, refundedCents: 0, sold: 0, claimed: 0, expired: 0, breakageCents: 0 },
      ],
      [
        '2045-06',
        { billedCents: 8994, recognizedCents: 0, deferredCents: 8994, refundedCents: 0, sold: 2, claimed: 0, expired: 0, breakageCents: 0 },
      ],
      [
        '2045-07',
        { billedCents: 0, recognizedCents: 0, deferredCents: 4497, refundedCents: 4497, sold: 0, claimed: 0, expired: 0, breakageCents: 0 },
      ],
      [
        '2046-05',
        { billedCents: 0, recognizedCents: 0, deferredCents: 4497, refundedCents: 0, sold: 0, claimed: 0, expired: 0, breakageCents: 0 },
      ],
      [
        '2046-06',
        { billedCents: 0, recognizedCents: 4497, deferredCents: 0, refundedCents: 0, sold: 0, claimed: 0, expired: 1, breakageCents: 4497 },
      ],
    ];
    for (const [month, figures] of expected) {
      const r = await revenue(month);
      const actual = {
        billedCents: r.billedCents,
        recognizedCents: r.recognizedCents,
        deferredCents: r.deferredCents,
        refundedCents: r.refundedCents,
        sold: r.gifts.sold,
        claimed: r.gifts.claimed,
        expired: r.gifts.expired,
        breakageCents: r.gifts.breakageCents,
      };
      expect({ month, ...actual }).toEqual({ month, ...figures });
      // Gifts are nobody's subscription: no member counts or MRR.
      expect(r.members).toEqual({ active: 0, new: 0, churned: 0 });
      expect(r.mrrCents).toBe(0);
    }
    // The refund is C's, not unattributed: it took C's deferred revenue back.
    expect((await revenue('2045-07')).unattributed.refundedCents).toBe(0);
  });
});
