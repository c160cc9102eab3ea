/**
 * The savings item, one per member: `{ PK: MEMBER#id, SK: SAVINGS, type: 'savings', memberId,
 * currency, periodKey, periodStart, periodSavedCents, lifetimeSavedCents, feesPaidCents }`, atomic
 * counters never recomputed by scans (docs/benefits.md). Every write is one of the conditional
 * updates below and every read goes through `readSavings`, so the benefits API, the operator view and
 * the reminders job see the same figures with the same defaults.
 */
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SavingsMove, SavingsPeriod, StoredSavings } from '../domain/benefits';
import { keys } from './keys';
import type { TransactItem } from './transact';

const savingsKey = (memberId: string) => ({ PK: keys.memberPk(memberId), SK: keys.savingsSk });

/** A saving may only count in the currency the counters are kept in. */
const CURRENCY_OK = '(attribute_not_exists(currency) OR currency = :c)';

/**
 * The shape every savings write shares: whichever write comes first creates the item with its type,
 * member, currency and the counters it does not move at 0, so readers never meet a half-made item.
 */
function savingsWrite(
  tableName: string,
  memberId: string,
  currency: string,
  parts: { set: string[]; add: string; condition?: string; values: Record<string, unknown> },
): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: savingsKey(memberId),
      UpdateExpression: `SET ${['#type = :type', 'memberId = :m', 'currency = if_not_exists(currency, :c)', ...parts.set].join(', ')} ADD ${parts.add}`,
      ...(parts.condition ? { ConditionExpression: parts.condition } : {}),
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type': 'savings', ':m': memberId, ':c': currency, ':zero': 0, ...parts.values },
    },
  };
}

/** Fees paid move by the difference an event makes (`feesPaidCents(benefits)`), in the issuance transaction. */
export function feesPaidUpdate(tableName: string, memberId: string, amountCents: number, currency: string): TransactItem {
  return savingsWrite(tableName, memberId, currency, {
    set: ['periodSavedCents = if_not_exists(periodSavedCents, :zero)', 'lifetimeSavedCents = if_not_exists(lifetimeSavedCents, :zero)'],
    add: 'feesPaidCents :amount',
    values: { ':amount': amountCents },
  });
}

/**
 * The savings counter update for one move. Each move carries the condition under which it is the
 * right one, so a concurrent period change fails the transaction (and the caller retries) instead of
 * adding to the wrong period: no read-modify-write race.
 */
export function savingsUpdate(
  tableName: string,
  memberId: string,
  currency: string,
  deltaCents: number,
  move: SavingsMove,
  period: SavingsPeriod | null,
): TransactItem {
  const fees = 'feesPaidCents = if_not_exists(feesPaidCents, :zero)';
  const keepPeriod = 'periodSavedCents = if_not_exists(periodSavedCents, :zero)';
  const values: Record<string, unknown> = { ':d': deltaCents };
  switch (move) {
    case 'same-period':
      values[':pk'] = period!.key;
      return savingsWrite(tableName, memberId, currency, {
        set: [fees],
        add: 'periodSavedCents :d, lifetimeSavedCents :d',
        condition: `periodKey = :pk AND ${CURRENCY_OK}`,
        values,
      });
    case 'new-period':
      Object.assign(values, { ':pk': period!.key, ':ps': period!.start });
      return savingsWrite(tableName, memberId, currency, {
        set: [fees, 'periodKey = :pk', 'periodStart = :ps', 'periodSavedCents = :d'],
        add: 'lifetimeSavedCents :d',
        condition: `(attribute_not_exists(periodStart) OR periodStart < :ps) AND ${CURRENCY_OK}`,
        values,
      });
    case 'older-period':
      Object.assign(values, { ':pk': period!.key, ':ps': period!.start });
      return savingsWrite(tableName, memberId, currency, {
        set: [fees, keepPeriod],
        add: 'lifetimeSavedCents :d',
        condition: `periodKey <> :pk AND periodStart >= :ps AND ${CURRENCY_OK}`,
        values,
      });
    case 'lifetime-only':
      if (period) values[':pk'] = period.key;
      return savingsWrite(tableName, memberId, currency, {
        set: [fees, keepPeriod],
        add: 'lifetimeSavedCents :d',
        condition: period ? `(attribute_not_exists(periodKey) OR periodKey <> :pk) AND ${CURRENCY_OK}` : CURRENCY_OK,
        values,
      });
  }
}

/**
 * Takes savings back (a release): the counters move by deltas computed from the stored period
 * (`reversalDeltas`), on the condition that the stored period is still that one. A concurrent period
 * move fails the transaction and the caller recomputes, so a reversal never lands on the wrong period.
 */
export function savingsReversalUpdate(
  tableName: string,
  memberId: string,
  currency: string,
  deltas: { periodCents: number; lifetimeCents: number },
  storedPeriodKey: string | null,
): TransactItem {
  return savingsWrite(tableName, memberId, currency, {
    set: ['feesPaidCents = if_not_exists(feesPaidCents, :zero)'],
    add: 'periodSavedCents :dp, lifetimeSavedCents :dl',
    condition: `${storedPeriodKey === null ? 'attribute_not_exists(periodKey)' : 'periodKey = :spk'} AND ${CURRENCY_OK}`,
    values: { ':dp': deltas.periodCents, ':dl': deltas.lifetimeCents, ...(storedPeriodKey === null ? {} : { ':spk': storedPeriodKey }) },
  });
}

/**
 * The stored counters as the domain reads them. A counter the item lacks is 0; a missing period is
 * null; a missing currency is null, so the caller falls back to the subscription's currency instead
 * of a guess.
 */
export function savingsFromItem(memberId: string, item: Record<string, unknown>): StoredSavings {
  const cents = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    memberId,
    periodKey: text(item.periodKey),
    periodStart: text(item.periodStart),
    periodSavedCents: cents(item.periodSavedCents),
    lifetimeSavedCents: cents(item.lifetimeSavedCents),
    feesPaidCents: cents(item.feesPaidCents),
    currency: text(item.currency),
  };
}

/**
 * The member's savings item (null when none), with the capacity the read consumed. `consistent` for
 * callers that choose a conditional write from it (redeem, release, usage); a notice can read a
 * replica.
 */
export async function readSavings(
  db: DynamoDBDocumentClient,
  tableName: string,
  memberId: string,
  options: { consistent: boolean },
): Promise<{ savings: StoredSavings | null; consumed: ConsumedCapacity | undefined }> {
  const out = await db.send(
    new GetCommand({
      TableName: tableName,
      Key: savingsKey(memberId),
      ConsistentRead: options.consistent,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  return { savings: out.Item ? savingsFromItem(memberId, out.Item) : null, consumed: out.ConsumedCapacity };
}
