import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { dynamo } from '#shared/runtime/dynamo';
import { keys } from '#shared/storage/keys';
import { reminderKeys } from '#shared/storage/reminder-store';
import { httpFunctions } from '../../functions/manifest';
import { LOCAL_DEFAULTS } from '../../local/defaults';
import { KEYS, uniqueMemberId, useApi } from '../support/api';
import { bearer, putSavings, shopperToken, subscribedMember, useStripeDouble } from '../support/shopper';

const api = useApi();
const stripe = useStripeDouble();
const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

const ME_ROUTES: Array<{ method: string; path: string; body?: object }> = [
  { method: 'GET', path: '/v1/me/membership' },
  {
    method: 'POST',
    path: '/v1/me/checkout-session',
    body: { planId: 'prime-monthly', successUrl: 'https://shop.example/ok', cancelUrl: 'https://shop.example/no' },
  },
  { method: 'POST', path: '/v1/me/portal-session', body: { returnUrl: 'https://shop.example/account' } },
  { method: 'POST', path: '/v1/me/membership/cancel', body: {} },
  { method: 'POST', path: '/v1/me/membership/resume' },
  { method: 'PUT', path: '/v1/me/preferences', body: { marketingOptOut: true } },
  { method: 'POST', path: '/v1/me/membership/withdraw', body: {} },
  { method: 'POST', path: '/v1/me/membership/save-offers/{offerId}/accept' },
  { method: 'GET', path: '/v1/me/export' },
  { method: 'DELETE', path: '/v1/me' },
  { method: 'GET', path: '/v1/me/household' },
  { method: 'POST', path: '/v1/me/household/invites', body: { role: 'teen' } },
  { method: 'POST', path: '/v1/me/household/join', body: { code: 'HH-2222-3333-4444' } },
  { method: 'DELETE', path: '/v1/me/household/members/{memberId}' },
  {
    method: 'POST',
    path: '/v1/me/gifts/checkout-session',
    body: {
      giftId: 'gift-3m',
      recipientEmail: 'a@example.com',
      successUrl: 'https://shop.example/ok',
      cancelUrl: 'https://shop.example/no',
    },
  },
  { method: 'GET', path: '/v1/me/gifts' },
  { method: 'POST', path: '/v1/me/gifts/claim', body: { code: 'ABCD-EFGH-JKMN-PQRST' } },
  { method: 'POST', path: '/v1/me/gifts/{purchaseId}/refund' },
];

it('covers every shopper route of the manifest', () => {
  const shopperRoutes = httpFunctions
    .flatMap((f) => f.routes)
    .filter((r) => r.auth.kind === 'shopper')
    .map((r) => `${r.method} ${r.path}`);
  expect(ME_ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual(shopperRoutes.sort());
});

async function badTokens(memberId: string): Promise<Array<[string, string | null]>> {
  const now = nowSeconds();
  const good = await shopperToken(memberId);
  const [header, payload, signature] = good.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  return [
    ['missing', null],
    ['not a bearer token', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['garbage', 'Bearer not.a.jwt'],
    ['expired', `Bearer ${await shopperToken(memberId, { expiresAt: now - 5 })}`],
    ['wrong audience', `Bearer ${await shopperToken(memberId, { audience: 'another-api' })}`],
    ['wrong issuer', `Bearer ${await shopperToken(memberId, { issuer: 'https://evil.example/' })}`],
    ['wrong secret', `Bearer ${await shopperToken(memberId, { secret: 'not-the-local-secret-0000000000000000000' })}`],
    ['alg none', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`],
    ['alg HS512 with the right secret', `Bearer ${await shopperToken(memberId, { alg: 'HS512' })}`],
    ['tampered sub', `Bearer ${header}.${b64({ ...claims, sub: 'someone-else' })}.${signature}`],
    [
      'no exp',
      `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(memberId).setIssuer(LOCAL_DEFAULTS.SHOPPER_JWT_ISSUER).setAudience(LOCAL_DEFAULTS.SHOPPER_JWT_AUDIENCE).sign(new TextEncoder().encode(LOCAL_DEFAULTS.SHOPPER_JWT_SECRET))}`,
    ],
    ['sub outside the memberId alphabet', `Bearer ${await shopperToken('MEMBER#x')}`],
  ];
}

describe('shopper authentication on every /v1/me route', () => {
  it('answers 401 problem+json for missing, expired, mis-addressed, unsigned, tampered and malformed tokens, reaching nothing', async () => {
    const memberId = uniqueMemberId('auth');
    const calls = stripe().calls.length;
    for (const route of ME_ROUTES) {
      for (const [label, authorization] of await badTokens(memberId)) {
        const res = await api.call(route.method, route.path, {
          key: null,
          headers: authorization ? { authorization } : {},
          ...(route.body ? { body: route.body } : {}),
        });
        expect(res.status, `${route.method} ${route.path} with ${label}`).toBe(401);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(await res.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
      }
    }
    expect(stripe().calls.length).toBe(calls);
  });

  it('service keys are not shopper tokens', async () => {
    const res = await api.call('GET', '/v1/me/membership', { key: KEYS.admin });
    expect(res.status).toBe(401);
  });
});

describe('a shopper only ever sees and acts on their own membership', () => {
  it('another member’s id in body or query is rejected, and nothing of theirs leaks or changes', async () => {
    const victim = uniqueMemberId('victim');
    const attacker = uniqueMemberId('attacker');
    const start = nowSeconds() - 3 * DAY;
    const signup = await subscribedMember(api, stripe(), { memberId: victim, start });
    await putSavings({
      memberId: victim,
      periodKey: null,
      periodSavedCents: 0,
      lifetimeSavedCents: 7777,
      feesPaidCents: 1499,
      currency: 'usd',
    });
    const victimBefore = await (await api.call('GET', '/v1/me/membership', { key: null, headers: await bearer(victim) })).json();
    const adminBefore = await (await api.call('GET', `/v1/admin/members/${victim}`, { key: KEYS.admin })).json();
    const subscriptionBefore = structuredClone(stripe().objects.get(signup.subscription));
    const headers = await bearer(attacker);

    // Naming the victim anywhere in the request is a validation error.
    for (const route of ME_ROUTES) {
      const withQuery = await api.call(route.method, `${route.path}?memberId=${victim}`, {
        key: null,
        headers,
        ...(route.body ? { body: route.body } : {}),
      });
      expect(withQuery.status, `${route.path}?memberId`).toBe(400);
      if (route.method !== 'GET') {
        for (const field of [{ memberId: victim }, { customer: signup.customer }, { subscriptionId: signup.subscription }]) {
          const res = await api.call(route.method, route.path, { key: null, headers, body: { ...(route.body ?? {}), ...field } });
          expect(res.status, `${route.path} with ${Object.keys(field)[0]}`).toBe(400);
        }
      }
    }

    // The attacker's own, valid calls act on the attacker only.
    const mine = (await (await api.call('GET', '/v1/me/membership', { key: null, headers })).json()) as any;
    expect(mine).toMatchObject({ memberId: attacker, status: 'none', savings: { lifetimeCents: 0 } });
    const leak = JSON.stringify(mine);
    for (const secret of [victim, signup.customer, signup.subscription]) expect(leak).not.toContain(secret);
    expect((await api.call('POST', '/v1/me/portal-session', { key: null, headers, body: ME_ROUTES[2]!.body })).status).toBe(409);
    expect((await api.call('POST', '/v1/me/membership/cancel', { key: null, headers, body: { refundIfUnused: true } })).status).toBe(409);
    expect((await api.call('POST', '/v1/me/membership/resume', { key: null, headers })).status).toBe(409);
    const checkout = await api.call('POST', '/v1/me/checkout-session', { key: null, headers, body: ME_ROUTES[1]!.body });
    expect(checkout.status).toBe(200);
    const session = stripe().callsTo('POST', '/v1/checkout/sessions').at(-1)!;
    expect(session.params.client_reference_id).toBe(attacker);
    expect(session.params.customer).not.toBe(signup.customer);

    // The victim's membership, stored data and Stripe subscription are untouched.
    expect(
      stripe().calls.filter(
        (c) =>
          c.path.includes(signup.subscription) ||
          c.params.customer === signup.customer ||
          c.params.payment_intent === signup.paymentIntent.id,
      ),
    ).toEqual([]);
    expect(stripe().objects.get(signup.subscription)).toEqual(subscriptionBefore);
    expect(await (await api.call('GET', '/v1/me/membership', { key: null, headers: await bearer(victim) })).json()).toEqual(victimBefore);
    expect(await (await api.call('GET', `/v1/admin/members/${victim}`, { key: KEYS.admin })).json()).toEqual(adminBefore);
    // The attacker's opt-out is the attacker's own.
    expect((await api.call('PUT', '/v1/me/preferences', { key: null, headers, body: { marketingOptOut: true } })).status).toBe(200);
    const prefs = async (memberId: string) =>
      (
        await dynamo().doc.send(
          new GetCommand({
            TableName: dynamo().tables.main,
            Key: { PK: keys.memberPk(memberId), SK: reminderKeys.preferencesSk },
            ConsistentRead: true,
          }),
        )
      ).Item;
    expect(await prefs(victim)).toBeUndefined();
    expect(await prefs(attacker)).toMatchObject({ marketingOptOut: true });
  });
});
