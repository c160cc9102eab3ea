import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { buildGrants } from '#shared/domain/benefits';
import { applyMembershipEvent } from '#shared/domain/membership';
import { dynamo, membershipRepository } from '#shared/runtime/dynamo';
import { grantPut } from '#shared/storage/grants';
import { keys } from '#shared/storage/keys';
import { uniqueMemberId } from '../support/api';
import { monthlySubscription, projectCatalog } from '../support/domain';
import { TEST_TABLES } from '../support/tables';

const db = dynamo().doc;
const memberships = membershipRepository();

describe('DynamoMembershipRepository.getEntitlementData', () => {
  it('finds the membership item even when the grants before it fill more than one 1 MB page', async () => {
    const memberId = uniqueMemberId('pages');
    const now = new Date();
    const sub = monthlySubscription(
      new Date(now.getTime() - 86_400_000).toISOString(),
      new Date(now.getTime() + 29 * 86_400_000).toISOString(),
      {
        subscriptionId: `sub_${memberId.replace(/\W/g, '')}`,
      },
    );
    const { record } = applyMembershipEvent(null, {
      kind: 'subscription-changed',
      eventId: 'evt_pages',
      created: Math.floor(now.getTime() / 1000),
      memberId,
      subscription: sub,
    });
    await memberships.saveMembership(record, 0);
    // Grant keys (ENT#GRANT#...) sort before ENT#MEMBERSHIP: four ~350 KB grant items push it past
    // the first page of a Query, which DynamoDB (and DynamoDB Local) cut at 1 MB.
    const definition = projectCatalog().plan('prime-monthly')!.benefits.grants[1]!;
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const [grant] = buildGrants(definition, { memberId, periodKey: 'p', issuedAt: now.toISOString(), code: () => `PAGE${i}CODE${n++}` });
      const put = grantPut(TEST_TABLES.main, grant!).Put!;
      await db.send(new PutCommand({ TableName: put.TableName, Item: { ...put.Item, padding: 'x'.repeat(350_000) } }));
    }

    const data = await memberships.getEntitlementData(memberId);
    expect(data.record?.subscription?.subscriptionId).toBe(sub.subscriptionId);
    expect(data.grants).toHaveLength(4);
    expect(await memberships.getEntitlementData(memberId, { consistent: true })).toEqual(data);
  });
});

describe('DynamoMembershipRepository.parkedRefunds', () => {
  it('reads every refund waiting for a payment, past the first 1 MB page', async () => {
    const paymentRef = `pi_${uniqueMemberId('parked').replace(/\W/g, '')}`;
    // Four ~350 KB items fill more than one page of a Query.
    const charges = ['ch_1', 'ch_2', 'ch_3', 'ch_4'];
    for (const chargeId of charges) {
      const refund = {
        eventId: `evt_${chargeId}`,
        created: 1,
        chargeId,
        refundedCents: 100,
        currency: 'usd',
        memberId: 'm',
        customerId: 'cus_1',
      };
      await memberships.parkRefund(paymentRef, refund, new Date());
      await db.send(
        new UpdateCommand({
          TableName: TEST_TABLES.main,
          Key: { PK: keys.paymentPk(paymentRef), SK: keys.parkedRefundSk(chargeId) },
          UpdateExpression: 'SET padding = :p',
          ExpressionAttributeValues: { ':p': 'x'.repeat(350_000) },
        }),
      );
    }
    expect((await memberships.parkedRefunds(paymentRef)).map((r) => r.chargeId).sort()).toEqual(charges);
  });
});
