import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamo, membershipRepository } from '#shared/runtime/dynamo';
import { shopperRepository } from '#shared/runtime/shopper';
import { uniqueMemberId } from '../support/api';
import { TEST_TABLES } from '../support/tables';

// The same per-container wiring the handlers use (configured by tests/support/env.ts).
const db = dynamo().doc;
const shoppers = shopperRepository();
const memberships = membershipRepository();

describe('DynamoShopperRepository', () => {
  it('keeps the first Stripe customer linked to a member: concurrent links adopt the winner', async () => {
    const memberId = uniqueMemberId('link');
    const results = await Promise.all(
      ['cus_a1', 'cus_b2', 'cus_c3', 'cus_d4'].map((c) =>
        shoppers.linkStripeCustomer(memberId, `${c}_${memberId.replace(/\W/g, '')}`, new Date()),
      ),
    );
    expect(new Set(results).size).toBe(1);
    expect(await shoppers.getStripeCustomerId(memberId)).toBe(results[0]);
    // The reverse link lets customer-only webhooks find the member.
    expect(await memberships.findMemberIdByCustomer(results[0]!)).toBe(memberId);
  });

  it('refuses to link a customer that belongs to another member', async () => {
    const customer = `cus_${uniqueMemberId('x').replace(/\W/g, '')}`;
    await shoppers.linkStripeCustomer(uniqueMemberId('first'), customer, new Date());
    await expect(shoppers.linkStripeCustomer(uniqueMemberId('second'), customer, new Date())).rejects.toThrow(/another member/);
  });

  it('stores consents outside the checkout’s ENT# collection and lists them in time order', async () => {
    const memberId = uniqueMemberId('consent');
    const base = {
      memberId,
      planId: 'prime-monthly',
      planName: 'Prime Monthly',
      priceId: 'price_prime_monthly_usd',
      amountCents: 1499,
      currency: 'usd',
      interval: 'month',
      intervalCount: 1,
      trialDays: 0,
      renewalTerms: 'terms',
    };
    await shoppers.putConsent({ ...base, checkoutSessionId: 'cs_2', presentedAt: '2026-02-01T00:00:00.000Z' });
    await shoppers.putConsent({ ...base, checkoutSessionId: 'cs_1', presentedAt: '2026-01-01T00:00:00.000Z' });
    await shoppers.putConsent({ ...base, checkoutSessionId: 'cs_1', presentedAt: '2026-01-01T00:00:00.000Z' });
    await shoppers.linkStripeCustomer(memberId, `cus_${memberId.replace(/\W/g, '')}`, new Date());
    expect((await shoppers.listConsents(memberId)).map((c) => c.checkoutSessionId)).toEqual(['cs_1', 'cs_2']);
    expect(await memberships.getEntitlementData(memberId)).toEqual({ record: null, grants: [], household: null });
    // Proof of consent is kept for years: no TTL may expire it.
    const raw = await db.send(
      new GetCommand({ TableName: TEST_TABLES.main, Key: { PK: `MEMBER#${memberId}`, SK: 'CONSENT#2026-01-01T00:00:00.000Z#cs_1' } }),
    );
    expect(raw.Item).toMatchObject({ type: 'consent', checkoutSessionId: 'cs_1' });
    expect(raw.Item).not.toHaveProperty('ttl');
  });
});
