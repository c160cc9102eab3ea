import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '#shared/domain/finance/ledger';
import { planCatalog } from '#shared/runtime/catalog';
import { dynamo, ledgerRepository, membershipRepository } from '#shared/runtime/dynamo';
import { stripeEventSchema } from '#shared/stripe/events';
import { ingestStripeEvent } from '#shared/usecases/ingest-stripe-event';
import { invoiceObject, signupEvents, stripeEvent } from '../../local/stripe-test-events';
import { uniqueMemberId } from '../support/api';

const t = (iso: string) => Date.parse(iso) / 1000;

async function ledgerMonth(month: string, invoiceId: string) {
  const { doc, tables } = dynamo();
  const out = await doc.send(
    new QueryCommand({
      TableName: tables.main,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': `LEDGER#${month}` },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).filter((i) => i.entryId === invoiceId);
}

describe('invoice.paid feeds both the ledger and the membership', () => {
  it('converges on retry when the ledger write fails first, or the membership write fails after the ledger succeeded', async () => {
    const catalog = planCatalog();
    const memberships = membershipRepository();
    const realLedger = ledgerRepository();
    const memberId = uniqueMemberId('conv');
    const signup = signupEvents({ memberId, start: t('2032-06-01T00:00:00Z') });
    for (const e of signup.events.slice(0, 2))
      await ingestStripeEvent({ catalog, memberships, ledger: realLedger }, stripeEventSchema.parse(e));

    const paid = (id: string, day: string) =>
      stripeEventSchema.parse(
        stripeEvent(
          'invoice.paid',
          invoiceObject({
            id,
            customer: signup.customer,
            subscription: signup.subscription,
            memberId,
            periodStart: t(`2032-06-${day}T00:00:00Z`),
            periodEnd: t('2032-07-01T00:00:00Z'),
            created: t(`2032-06-${day}T00:00:00Z`),
          }),
          { created: t(`2032-06-${day}T00:00:00Z`) },
        ),
      );

    // 1. The ledger fails: nothing else happens, the retry does both.
    let failLedger = true;
    const flakyLedger = {
      record: async (e: LedgerEntry) => {
        if (failLedger) {
          failLedger = false;
          throw new Error('DynamoDB unavailable');
        }
        return realLedger.record(e);
      },
    };
    const first = paid(`in_conv1${memberId.slice(-6)}`, '02');
    await expect(ingestStripeEvent({ catalog, memberships, ledger: flakyLedger }, first)).rejects.toThrow('DynamoDB unavailable');
    expect(await ledgerMonth('2032-06', first.data.object.id as string)).toHaveLength(0);
    expect((await memberships.getMembership(memberId))!.record.payment?.invoiceId).not.toBe(first.data.object.id);
    await ingestStripeEvent({ catalog, memberships, ledger: flakyLedger }, first);
    expect(await ledgerMonth('2032-06', first.data.object.id as string)).toHaveLength(1);
    expect((await memberships.getMembership(memberId))!.record.payment?.invoiceId).toBe(first.data.object.id);

    // 2. The ledger succeeds, the membership write fails: the retry completes the membership, the ledger stays single.
    const second = paid(`in_conv2${memberId.slice(-6)}`, '03');
    let failSave = true;
    const flakyMemberships = Object.create(memberships, {
      saveMembership: {
        value: async (...args: Parameters<typeof memberships.saveMembership>) => {
          if (failSave) {
            failSave = false;
            throw new Error('transaction failed');
          }
          return memberships.saveMembership(...args);
        },
      },
    });
    await expect(ingestStripeEvent({ catalog, memberships: flakyMemberships, ledger: realLedger }, second)).rejects.toThrow(
      'transaction failed',
    );
    expect(await ledgerMonth('2032-06', second.data.object.id as string)).toHaveLength(1);
    const outcome = await ingestStripeEvent({ catalog, memberships: flakyMemberships, ledger: realLedger }, second);
    expect(outcome).toMatchObject({ outcome: 'applied', memberId });
    expect(await ledgerMonth('2032-06', second.data.object.id as string)).toHaveLength(1);
    expect((await memberships.getMembership(memberId))!.record.payment?.invoiceId).toBe(second.data.object.id);
  });
});
