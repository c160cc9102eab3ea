import { describe, expect, it } from 'vitest';
import type { IssuedGrant } from '#shared/domain/grants';
import { periodKey } from '#shared/domain/savings';
import { invoiceObject, stripeEvent, subscriptionObject } from '../../local/stripe-test-events';
import { uniqueMemberId, useApi } from '../support/api';
import { bearer, putGrant, putSavings, subscribedMember, useStripeDouble } from '../support/shopper';

const api = useApi();
const stripe = useStripeDouble();
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

async function me(memberId: string) {
  const res = await api.call('GET', '/v1/me/membership', { key: null, headers: await bearer(memberId) });
  expect(res.status).toBe(200);
  return (await res.json()) as any;
}
async function cancel(memberId: string, body?: object) {
  return api.call('POST', '/v1/me/membership/cancel', { key: null, headers: await bearer(memberId), ...(body ? { body } : {}) });
}
async function resume(memberId: string) {
  return api.call('POST', '/v1/me/membership/resume', { key: null, headers: await bearer(memberId) });
}

/** The shop's checkout redeems one of the member's open coupons for an order (the benefits API). */
async function redeemCoupon(memberId: string, orderId: string): Promise<string> {
  const code = (await me(memberId)).coupons[0].code as string;
  const res = await api.call('POST', `/v1/coupons/${code}/redeem`, { body: { memberId, orderId, subtotalCents: 6000, currency: 'usd' } });
  expect(res.status).toBe(200);
  return code;
}
async function recordShippingSaving(memberId: string, orderId: string) {
  const res = await api.call('POST', '/v1/benefit-usage', { body: { memberId, orderId, shippingSavedCents: 699, currency: 'usd' } });
  expect(res.status).toBe(200);
}

/** Stripe renews the subscription (new period, paid invoice) and its webhooks have not arrived yet. */
function renewInStripe(subscriptionId: string, periodStart: number) {
  const sub = stripe().objects.get(subscriptionId)!;
  const item = sub.items.data[0];
  Object.assign(item, { current_period_start: periodStart, current_period_end: periodStart + 30 * DAY });
  const { invoice, paymentIntent } = stripe().paidInvoice(
    invoiceObject({
      customer: sub.customer,
      subscription: sub.id,
      memberId: sub.metadata.memberId,
      periodStart,
      periodEnd: periodStart + 30 * DAY,
      created: periodStart,
    }),
  );
  sub.latest_invoice = invoice.id;
  return { invoice, paymentIntent };
}

/**
 * Delivers what Stripe would send after a change: the subscription as the double now holds it. Each
 * delivery is a second later than the last, as Stripe's event times would be for changes a person makes.
 */
let clock = nowSeconds();
async function deliverSubscription(type: string, subscriptionId: string) {
  const object = structuredClone(stripe().render(stripe().objects.get(subscriptionId)!));
  clock = Math.max(clock + 1, nowSeconds());
  const res = await api.postEvent(stripeEvent(type, object, { created: clock }));
  expect(res.status).toBe(200);
}

const grant = (memberId: string, overrides: Partial<IssuedGrant>): IssuedGrant => ({
  code: `C${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
  memberId,
  grantId: 'monthly-5',
  kind: 'coupon',
  amountOffCents: 500,
  currency: 'usd',
  minSubtotalCents: 2500,
  serviceLevel: null,
  issuedAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 20 * DAY * 1000).toISOString(),
  periodKey: 'signup',
  state: 'open',
  redeemedOrderId: null,
  redeemedAt: null,
  ...overrides,
});

describe('GET /v1/me/membership', () => {
  it('reads none for a shopper who never subscribed', async () => {
    expect(await me(uniqueMemberId('none'))).toMatchObject({
      status: 'none',
      entitled: false,
      planId: null,
      nextCharge: null,
      coupons: [],
      shippingVouchers: [],
      savings: { periodCents: 0, lifetimeCents: 0, feesPaidCents: 0, currency: null },
    });
  });

  it('shows plan, dates, next charge, open coupons and vouchers, and savings of the current period vs fees', async () => {
    const memberId = uniqueMemberId('seen');
    const start = nowSeconds() - 2 * DAY;
    const { subscription, periodEnd } = await subscribedMember(api, stripe(), { memberId, start });
    const coupon = grant(memberId, {});
    const voucher = grant(memberId, {
      kind: 'shipping-voucher',
      grantId: 'express-2',
      amountOffCents: null,
      currency: null,
      minSubtotalCents: null,
      serviceLevel: 'next-day',
    });
    await putGrant(coupon);
    await putGrant(voucher);
    const redeemed = grant(memberId, { state: 'redeemed', redeemedAt: new Date().toISOString(), redeemedOrderId: 'o-1' });
    await putGrant(redeemed);
    await putSavings({
      memberId,
      periodKey: periodKey(subscription, iso(start)),
      periodSavedCents: 899,
      lifetimeSavedCents: 8400,
      feesPaidCents: 1499,
      currency: 'usd',
    });

    const view = await me(memberId);
    expect(view).toMatchObject({
      memberId,
      status: 'active',
      entitled: true,
      planId: 'prime-monthly',
      planName: 'Prime Monthly',
      currentPeriodStart: iso(start),
      currentPeriodEnd: iso(periodEnd),
      cancelAtPeriodEnd: false,
      nextCharge: { amountCents: 1499, currency: 'usd', date: iso(periodEnd) },
      savings: { periodCents: 899, lifetimeCents: 8400, feesPaidCents: 1499, currency: 'usd' },
    });
    // Open codes only: the planted ones and those the signup issued; never the redeemed one.
    const coupons = view.coupons.map((c: any) => c.code);
    expect(coupons).toContain(coupon.code);
    expect(coupons.length).toBeGreaterThan(1);
    expect(coupons).not.toContain(redeemed.code);
    expect(view.shippingVouchers.map((v: any) => v.code)).toContain(voucher.code);

    // Savings counted for an earlier period are not this period's.
    await putSavings({
      memberId,
      periodKey: periodKey(subscription, iso(start - 30 * DAY)),
      periodSavedCents: 899,
      lifetimeSavedCents: 8400,
      feesPaidCents: 1499,
      currency: 'usd',
    });
    expect((await me(memberId)).savings.periodCents).toBe(0);
  });

  it('rejects query fields, a memberId among them', async () => {
    const res = await api.call('GET', '/v1/me/membership?memberId=someone', { key: null, headers: await bearer(uniqueMemberId('q')) });
    expect(res.status).toBe(400);
  });
});

describe('POST /v1/me/membership/cancel and /resume', () => {
  it('cancels at period end through Stripe; the stored state follows the webhook; resume undoes it', async () => {
    const memberId = uniqueMemberId('cancel');
    const start = nowSeconds() - 3 * DAY;
    const { subscription, periodEnd } = await subscribedMember(api, stripe(), { memberId, start });

    const res = await cancel(memberId);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      memberId,
      outcome: 'cancel_at_period_end',
      accessEndsAt: iso(periodEnd),
      refund: null,
      refundRefusal: null,
      // A Californian (the test shoppers' address): one save offer comes with the cancel (docs/compliance.md).
      saveOffer: expect.objectContaining({ percentOff: 50, durationInMonths: 1 }),
    });
    const call = stripe().callsTo('POST', `/v1/subscriptions/${subscription}`).at(-1)!;
    expect(call.params).toEqual({ cancel_at_period_end: 'true' });
    expect(call.idempotencyKey).toMatch(new RegExp(`^cancel-at-period-end:${memberId}:${subscription}:`));
    // No second source of truth: nothing changes locally until Stripe says so.
    expect((await me(memberId)).status).toBe('active');
    await deliverSubscription('customer.subscription.updated', subscription);
    expect(await me(memberId)).toMatchObject({
      status: 'canceling',
      cancelAtPeriodEnd: true,
      accessEndsAt: iso(periodEnd),
      nextCharge: null,
    });

    const resumed = await resume(memberId);
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toEqual({ memberId, outcome: 'renewing', renewsAt: iso(periodEnd) });
    expect(stripe().callsTo('POST', `/v1/subscriptions/${subscription}`).at(-1)!.params).toEqual({ cancel_at_period_end: 'false' });
    await deliverSubscription('customer.subscription.updated', subscription);
    expect(await me(memberId)).toMatchObject({ status: 'active', nextCharge: { amountCents: 1499, date: iso(periodEnd) } });

    // Cancel → resume → cancel again: each is a new intent that reaches Stripe (no stale replay).
    expect((await cancel(memberId)).status).toBe(200);
    expect(stripe().objects.get(subscription)!.cancel_at_period_end).toBe(true);
  });

  it('with refundIfUnused and nothing used this period: refunds the latest invoice in full and cancels now', async () => {
    const memberId = uniqueMemberId('refund');
    const start = nowSeconds() - 5 * DAY;
    const { subscription, invoice, paymentIntent } = await subscribedMember(api, stripe(), { memberId, start });
    // A coupon redeemed for an order that was then cancelled (released) is not a benefit used.
    const code = await redeemCoupon(memberId, 'o-cancelled');
    expect((await api.call('POST', `/v1/coupons/${code}/release`, { body: { orderId: 'o-cancelled' } })).status).toBe(200);

    const res = await cancel(memberId, { refundIfUnused: true });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      memberId,
      outcome: 'canceled_and_refunded',
      refund: { amountCents: 1499, currency: 'usd' },
      refundRefusal: null,
    });

    const refunds = stripe()
      .all('refund')
      .filter((r) => r.payment_intent === paymentIntent.id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({
      amount: 1499,
      reason: 'requested_by_customer',
      metadata: { memberId, invoiceId: invoice.id, subscriptionId: subscription },
    });
    expect(stripe().callsTo('POST', '/v1/refunds').at(-1)!.idempotencyKey).toBe(
      `refund-unused-period:${memberId}:${invoice.id}:${paymentIntent.id}`,
    );
    const invoiceRead = stripe().callsTo('GET', `/v1/invoices/${invoice.id}`).at(-1)!;
    expect(invoiceRead.params.expand).toEqual(['payments']);
    expect(stripe().objects.get(subscription)!.status).toBe('canceled');
    expect(stripe().callsTo('DELETE', `/v1/subscriptions/${subscription}`)).toHaveLength(1);

    await deliverSubscription('customer.subscription.deleted', subscription);
    expect((await me(memberId)).status).toBe('lapsed');
  });

  it('with refundIfUnused after a saving this period: cancels at period end and says why', async () => {
    const memberId = uniqueMemberId('used');
    const start = nowSeconds() - 5 * DAY;
    const { subscription, periodEnd } = await subscribedMember(api, stripe(), { memberId, start });
    await recordShippingSaving(memberId, 'o-shipped');
    const refunds = stripe().all('refund').length;

    const res = await cancel(memberId, { refundIfUnused: true });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      outcome: 'cancel_at_period_end',
      accessEndsAt: iso(periodEnd),
      refund: null,
      refundRefusal: { reason: 'benefit_used' },
    });
    expect(stripe().all('refund').length).toBe(refunds);
    expect(stripe().objects.get(subscription)).toMatchObject({ status: 'active', cancel_at_period_end: true });
  });

  it('with refundIfUnused after a coupon redeemed this period: no refund', async () => {
    const memberId = uniqueMemberId('redeemed');
    const { subscription } = await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - 5 * DAY });
    await redeemCoupon(memberId, 'o-1');
    const res = await cancel(memberId, { refundIfUnused: true });
    expect(await res.json()).toMatchObject({ outcome: 'cancel_at_period_end', refundRefusal: { reason: 'grant_redeemed' } });
    expect(stripe().objects.get(subscription)!.status).toBe('active');
    expect(stripe().callsTo('DELETE', `/v1/subscriptions/${subscription}`)).toHaveLength(0);
  });

  it('a renewal Stripe has made but not yet reported: a saving recorded since counts, though our record still names the old period', async () => {
    const memberId = uniqueMemberId('renewedlate');
    const start = nowSeconds() - 30 * DAY - 120;
    const { subscription, periodEnd } = await subscribedMember(api, stripe(), { memberId, start });
    const renewal = renewInStripe(subscription, periodEnd);
    // Our record still shows the old period (now over, in grace until the renewal webhook).
    expect(await me(memberId)).toMatchObject({ status: 'grace', currentPeriodStart: iso(start) });
    await recordShippingSaving(memberId, 'o-after-renewal');

    const res = await cancel(memberId, { refundIfUnused: true });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'cancel_at_period_end', refund: null, refundRefusal: { reason: 'benefit_used' } });
    expect(
      stripe()
        .all('refund')
        .filter((r) => r.payment_intent === renewal.paymentIntent.id),
    ).toEqual([]);
    expect(stripe().objects.get(subscription)!.status).toBe('active');
  });

  it('a renewal not yet reported: a coupon redeemed in the previous period does not block the refund of the new one', async () => {
    const memberId = uniqueMemberId('oldredeem');
    // The period (and its coupons) end in five minutes; a coupon is redeemed before the renewal.
    const start = nowSeconds() - 30 * DAY + 300;
    const { subscription } = await subscribedMember(api, stripe(), { memberId, start });
    await redeemCoupon(memberId, 'o-last-period');
    // Stripe renews after the redemption (from the next whole second on).
    renewInStripe(subscription, nowSeconds() + 1);
    const res = await cancel(memberId, { refundIfUnused: true });
    expect(await res.json()).toMatchObject({ outcome: 'canceled_and_refunded', refund: { amountCents: 1499 } });
  });

  it('in a trial, refundIfUnused has nothing to refund: the trial runs out and nothing is charged', async () => {
    const memberId = uniqueMemberId('trialcancel');
    const start = nowSeconds() - DAY;
    const { subscription, periodEnd } = await subscribedMember(api, stripe(), { memberId, start, trialDays: 30 });
    const res = await cancel(memberId, { refundIfUnused: true });
    expect(await res.json()).toMatchObject({
      outcome: 'cancel_at_period_end',
      accessEndsAt: iso(periodEnd),
      refundRefusal: { reason: 'nothing_paid' },
    });
    expect(stripe().objects.get(subscription)!.cancel_at_period_end).toBe(true);
  });

  it('a cancel that fails after the refund completes on retry with still one refund', async () => {
    const memberId = uniqueMemberId('halfway');
    const { subscription, paymentIntent } = await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - 2 * DAY });
    stripe().fail({ method: 'DELETE', path: `/v1/subscriptions/${subscription}` }, { kind: 'status', status: 500 }, 3);
    const failed = await cancel(memberId, { refundIfUnused: true });
    expect(failed.status).toBe(502);
    expect(failed.headers.get('content-type')).toBe('application/problem+json');
    expect(stripe().objects.get(subscription)!.status).toBe('active');

    const retried = await cancel(memberId, { refundIfUnused: true });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ outcome: 'canceled_and_refunded', refund: { amountCents: 1499 } });
    expect(
      stripe()
        .all('refund')
        .filter((r) => r.payment_intent === paymentIntent.id),
    ).toHaveLength(1);
    expect(
      stripe()
        .callsTo('POST', '/v1/refunds')
        .filter((c) => c.params.payment_intent === paymentIntent.id)
        .map((c) => c.replayed),
    ).toEqual([false, true]);
    expect(stripe().objects.get(subscription)!.status).toBe('canceled');
  });

  it('the deletion done but its answer lost: the SDK retry is refused by Stripe, and the request still answers the refund', async () => {
    const memberId = uniqueMemberId('lostdelete');
    const { subscription, paymentIntent } = await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - 2 * DAY });
    stripe().fail({ method: 'DELETE', path: `/v1/subscriptions/${subscription}` }, { kind: 'reset', after: true });
    const res = await cancel(memberId, { refundIfUnused: true });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      outcome: 'canceled_and_refunded',
      refund: { amountCents: 1499, currency: 'usd' },
      accessEndsAt: iso(stripe().objects.get(subscription)!.ended_at),
    });
    expect(
      stripe()
        .callsTo('DELETE', `/v1/subscriptions/${subscription}`)
        .map((c) => [c.fault, c.status]),
    ).toEqual([
      ['reset-after', 0],
      [null, 400],
    ]);
    expect(
      stripe()
        .all('refund')
        .filter((r) => r.payment_intent === paymentIntent.id),
    ).toHaveLength(1);
  });

  it('a retry after a cancel-with-refund that went through unseen answers the same success, before and after the deletion webhook', async () => {
    const memberId = uniqueMemberId('unseen');
    const { subscription, paymentIntent } = await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - 2 * DAY });
    // Stripe cancels, the answer is lost, and the SDK's retries hit server errors: the shopper sees 502.
    stripe().fail({ method: 'DELETE', path: `/v1/subscriptions/${subscription}` }, { kind: 'reset', after: true });
    stripe().fail({ method: 'DELETE', path: `/v1/subscriptions/${subscription}` }, { kind: 'status', status: 500 }, 2);
    expect((await cancel(memberId, { refundIfUnused: true })).status).toBe(502);
    expect(stripe().objects.get(subscription)!.status).toBe('canceled');

    const expected = {
      memberId,
      outcome: 'canceled_and_refunded',
      accessEndsAt: iso(stripe().objects.get(subscription)!.ended_at),
      refund: { amountCents: 1499, currency: 'usd' },
      refundRefusal: null,
      // Ended now with a refund: nothing an offer could keep.
      saveOffer: null,
    };
    const retried = await cancel(memberId, { refundIfUnused: true });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual(expected);
    await deliverSubscription('customer.subscription.deleted', subscription);
    expect((await me(memberId)).status).toBe('lapsed');
    const afterWebhook = await cancel(memberId, { refundIfUnused: true });
    expect(afterWebhook.status).toBe(200);
    expect(await afterWebhook.json()).toEqual(expected);
    expect(
      stripe()
        .all('refund')
        .filter((r) => r.payment_intent === paymentIntent.id),
    ).toHaveLength(1);
    // Without the refund request, a lapsed membership has nothing to cancel.
    expect(await (await cancel(memberId)).json()).toMatchObject({ reason: 'no_membership' });
  });

  it('answers 409 when there is nothing to cancel or resume, 400 for unknown fields, without calling Stripe', async () => {
    const memberId = uniqueMemberId('nothing');
    const calls = stripe().calls.length;
    const none = await cancel(memberId);
    expect(none.status).toBe(409);
    expect(await none.json()).toMatchObject({ reason: 'no_membership', membershipStatus: 'none' });
    expect((await resume(memberId)).status).toBe(409);
    expect((await cancel(memberId, { refundIfUnused: 'yes' })).status).toBe(400);
    expect((await cancel(memberId, { memberId: 'other' })).status).toBe(400);
    expect(stripe().calls.length).toBe(calls);
  });

  it('resume clears a cancellation set as a date (as the portal can), with cancel_at unset', async () => {
    const memberId = uniqueMemberId('dated');
    const { subscription, periodEnd } = await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - 3 * DAY });
    Object.assign(stripe().objects.get(subscription)!, { cancel_at: periodEnd - 5 * DAY, cancel_at_period_end: false });
    await deliverSubscription('customer.subscription.updated', subscription);
    expect(await me(memberId)).toMatchObject({ status: 'canceling', accessEndsAt: iso(periodEnd - 5 * DAY) });
    const res = await resume(memberId);
    expect(res.status).toBe(200);
    expect(stripe().callsTo('POST', `/v1/subscriptions/${subscription}`).at(-1)!.params).toEqual({ cancel_at: '' });
    expect(stripe().objects.get(subscription)).toMatchObject({ cancel_at: null, cancel_at_period_end: false });
  });

  it('in grace (a renewal unpaid): cancel answers the end of grace, and resume undoes the pending cancellation Stripe holds', async () => {
    const memberId = uniqueMemberId('grace');
    const start = nowSeconds() - 3 * DAY;
    const { subscription, periodEnd } = await subscribedMember(api, stripe(), { memberId, start });
    Object.assign(stripe().objects.get(subscription)!, { status: 'past_due' });
    await deliverSubscription('customer.subscription.updated', subscription);
    const graceEndsAt = iso(start + 7 * DAY);
    expect(await me(memberId)).toMatchObject({ status: 'grace', graceEndsAt });

    const res = await cancel(memberId);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'cancel_at_period_end', accessEndsAt: graceEndsAt });
    expect(stripe().objects.get(subscription)).toMatchObject({ cancel_at_period_end: true, cancel_at: periodEnd });
    await deliverSubscription('customer.subscription.updated', subscription);
    expect((await me(memberId)).status).toBe('grace');

    const resumed = await resume(memberId);
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toEqual({ memberId, outcome: 'renewing', renewsAt: iso(periodEnd) });
    expect(stripe().objects.get(subscription)).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
  });

  it('resume undoes a cancellation Stripe has and our record has not heard of yet; with none pending it changes nothing', async () => {
    const memberId = uniqueMemberId('unheard');
    const { subscription, periodEnd } = await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - 3 * DAY });
    const updates = () => stripe().callsTo('POST', `/v1/subscriptions/${subscription}`).length;
    expect((await resume(memberId)).status).toBe(200);
    expect(updates()).toBe(0);
    // Set in the portal as a date; the webhook is late.
    Object.assign(stripe().objects.get(subscription)!, { cancel_at: periodEnd - 2 * DAY });
    expect((await me(memberId)).status).toBe('active');
    expect((await resume(memberId)).status).toBe(200);
    expect(stripe().callsTo('POST', `/v1/subscriptions/${subscription}`).at(-1)!.params).toEqual({ cancel_at: '' });
    expect(stripe().objects.get(subscription)!.cancel_at).toBeNull();
  });

  it('a subscription Stripe has already ended (webhook not yet in) is a 409, not a provider failure', async () => {
    const memberId = uniqueMemberId('gone');
    const { subscription } = await subscribedMember(api, stripe(), { memberId, start: nowSeconds() - 3 * DAY });
    Object.assign(stripe().objects.get(subscription)!, { status: 'canceled', ended_at: nowSeconds() });
    expect((await me(memberId)).status).toBe('active');
    for (const body of [undefined, { refundIfUnused: true }]) {
      const res = await cancel(memberId, body);
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ reason: 'membership_ended' });
    }
    expect(
      stripe()
        .all('refund')
        .filter((r) => r.metadata?.memberId === memberId),
    ).toEqual([]);
  });

  it('resume after the membership ended is a 409: buy again instead', async () => {
    const memberId = uniqueMemberId('ended');
    const start = nowSeconds() - 40 * DAY;
    const { subscription, customer } = await subscribedMember(api, stripe(), { memberId, start });
    const ended = subscriptionObject({
      id: subscription,
      customer,
      memberId,
      status: 'canceled',
      periodStart: start,
      periodEnd: start + 30 * DAY,
      canceledAt: start + 30 * DAY,
      endedAt: start + 30 * DAY,
    });
    expect((await api.postEvent(stripeEvent('customer.subscription.deleted', ended, { created: start + 30 * DAY }))).status).toBe(200);
    const res = await resume(memberId);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ reason: 'nothing_to_resume', membershipStatus: 'lapsed' });
  });
});
