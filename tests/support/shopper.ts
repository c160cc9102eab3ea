import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { SignJWT } from 'jose';
import { afterAll, beforeAll } from 'vitest';
import type { IssuedGrant } from '#shared/domain/grants';
import type { SavingsTotals } from '#shared/domain/savings';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { documentClient } from '#shared/storage/dynamodb';
import { grantPut } from '#shared/storage/grants';
import { keys } from '#shared/storage/keys';
import { LOCAL_DEFAULTS } from '../../local/defaults';
import { signupEvents } from '../../local/stripe-test-events';
import { StripeDouble } from './stripe-double';
import { TEST_TABLES } from './tables';

/** A shopper token as the local identity provider would issue it (HS256, local issuer and audience). */
export async function shopperToken(
  memberId: string,
  options: { secret?: string; issuer?: string; audience?: string; expiresAt?: number; alg?: string } = {},
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setSubject(memberId)
    .setIssuer(options.issuer ?? LOCAL_DEFAULTS.SHOPPER_JWT_ISSUER)
    .setAudience(options.audience ?? LOCAL_DEFAULTS.SHOPPER_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresAt ?? Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(options.secret ?? LOCAL_DEFAULTS.SHOPPER_JWT_SECRET));
}

export const bearer = async (memberId: string) => ({ authorization: `Bearer ${await shopperToken(memberId)}` });

/** Starts the Stripe double for one test file and points the service's Stripe client at it. */
export function useStripeDouble() {
  const state: { double?: StripeDouble } = {};
  beforeAll(async () => {
    state.double = await StripeDouble.start();
    state.double.price({ id: 'price_prime_monthly_usd', unitAmount: 1499, interval: 'month' });
    state.double.price({ id: 'price_prime_annual_usd', unitAmount: 13900, interval: 'year' });
    // A gift's one-time price (docs/gifts.md).
    state.double.price({ id: 'price_prime_gift_3m_usd', unitAmount: 4497 });
    process.env.STRIPE_SECRET_KEY = state.double.apiKey;
    process.env.STRIPE_API_BASE = state.double.url;
  });
  afterAll(async () => {
    delete process.env.STRIPE_SECRET_KEY;
    delete process.env.STRIPE_API_BASE;
    await state.double?.close();
  });
  return () => state.double!;
}

let client: ReturnType<typeof documentClient> | undefined;
const db = () => (client ??= documentClient(createDynamoClient(process.env)));

export async function putSavings(savings: SavingsTotals): Promise<void> {
  await db().send(
    new PutCommand({
      TableName: TEST_TABLES.main,
      Item: { PK: keys.memberPk(savings.memberId), SK: keys.savingsSk, type: 'savings', ...savings },
    }),
  );
}

/** A grant as the service stores it (the one grant writer), for states the API cannot produce on its own. */
export async function putGrant(grant: IssuedGrant): Promise<void> {
  await db().send(new PutCommand(grantPut(TEST_TABLES.main, grant).Put));
}

/**
 * A member who signed up through Stripe: the webhooks are delivered to the service, and the same
 * subscription, invoice and payment are stored in the Stripe double, as they would be in Stripe.
 */
export async function subscribedMember(
  api: { postEvent: (event: object) => Promise<Response> },
  double: StripeDouble,
  options: {
    memberId: string;
    start: number;
    trialDays?: number;
    interval?: 'month' | 'year';
    address?: { country: string; state?: string | null } | null;
    email?: string;
  },
) {
  const signup = signupEvents(options);
  for (const event of signup.events) {
    const res = await api.postEvent(event);
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  }
  const { invoice, paymentIntent, subscription } = double.membershipSignup(signup, options.memberId);
  return { ...signup, invoice, paymentIntent, subscriptionObject: subscription };
}
