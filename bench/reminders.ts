/**
 * Reminders job: reads scale with what is due, not with the number of members.
 * Seeds MEMBERS members (membership item + a renewal reminder queued far in the future, so the `due`
 * index holds one entry per member), then for 100, 1,000 and 10,000 due renewal notices (and 1,000
 * due trial notices, which show no savings) runs the job and prints items read per reminder sent, by
 * item, and the job's time. Delivery is a counting sender: the figure is about finding and settling
 * due work, not about SES. Seeding 200,000 items is most of the time; BENCH_REMINDER_MEMBERS and
 * BENCH_REMINDER_DUE shorten a run (docs/reminders.md).
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { emptyMembership, type MembershipRecord } from '#shared/domain/membership';
import { planReminders } from '#shared/domain/reminders';
import type { NotificationSender } from '#shared/notifications/senders';
import { planCatalog } from '#shared/runtime/catalog';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { documentClient } from '#shared/storage/dynamodb';
import { keys } from '#shared/storage/keys';
import { DynamoMembershipRepository } from '#shared/storage/membership-repository';
import { type ReminderItem, ReminderStore, reminderKeys } from '#shared/storage/reminder-store';
import { ensureTables } from '#shared/storage/tables';
import { WorkQueue } from '#shared/storage/work-queue';
import { DEFAULT_CONCURRENCY, sendDueReminders } from '#shared/usecases/send-reminders';
import { monthlySubscription } from '../tests/support/domain';

const DAY_MS = 86_400_000;

export async function run(
  ctx: { dynamodbEndpoint: string; log: (line: string) => void },
  options: { members?: number; dueCounts?: number[] } = {},
): Promise<void> {
  // The figure: 100,000 members (seeding time is printed; see docs/reminders.md).
  const members = options.members ?? Number(process.env.BENCH_REMINDER_MEMBERS ?? 100_000);
  const dueCounts = options.dueCounts ?? (process.env.BENCH_REMINDER_DUE ?? '100,1000,10000').split(',').map(Number);
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint });
  const doc = documentClient(client);
  const tables = { main: `bench-reminders-${Date.now()}`, idempotency: `bench-reminders-idem-${Date.now()}` };
  await ensureTables(client, tables);
  const catalog = planCatalog();
  const rules = jurisdictionRules();
  const store = new ReminderStore(doc, tables.main);
  const memberships = new DynamoMembershipRepository(doc, client, tables.main);

  // Everyone renews on a date far ahead; a member whose renewal notice is due renews in 7 days, a
  // member whose trial notice is due converts in 3 (`trialEndingDaysBefore` of the monthly plan).
  const base = Date.parse('2030-01-01T00:00:00Z');
  type Kind = 'renewal_upcoming' | 'trial_ending';
  const record = (i: number, periodEndMs: number, kind: Kind): MembershipRecord => {
    const subscriptionId = `sub_bench${i}`;
    const [start, end] = [new Date(periodEndMs - 30 * DAY_MS).toISOString(), new Date(periodEndMs).toISOString()];
    const sub = monthlySubscription(start, end, {
      subscriptionId,
      customerId: `cus_bench${i}`,
      ...(kind === 'trial_ending' ? { stripeStatus: 'trialing', trialStart: start, trialEnd: end } : {}),
    });
    return {
      ...emptyMembership(`bench-${i}`),
      customerId: sub.customerId,
      subscriptionId,
      subscription: sub,
      subscriptions: { [subscriptionId]: { state: sub, version: '0' } },
      firstSubscribedAt: sub.currentPeriodStart,
    };
  };
  const itemsFor = (i: number, periodEndMs: number, withSavings = false, kind: Kind = 'renewal_upcoming') => {
    const rec = record(i, periodEndMs, kind);
    const planned = planReminders(rec, catalog, rules).find((r) => r.kind === kind)!;
    const reminder: ReminderItem = {
      PK: keys.memberPk(rec.memberId),
      SK: reminderKeys.reminderSk(planned.id),
      type: 'reminder',
      reminderId: planned.id,
      kind: planned.kind,
      memberId: rec.memberId,
      subscriptionId: planned.subscriptionId,
      anchor: planned.anchor,
      offsetDays: planned.offsetDays,
      scheduledFor: planned.dueAt,
      scheduledAt: new Date(base).toISOString(),
      status: 'due',
      dueShard: reminderKeys.dueShard(planned.id),
      dueAt: reminderKeys.dueAt(planned.dueAt, planned.id),
    };
    const items: Array<Record<string, unknown>> = [
      { PK: keys.memberPk(rec.memberId), SK: keys.membershipSk, type: 'membership', ...rec, rev: 1 },
      { ...reminder },
    ];
    // Members being reminded have savings: a renewal notice reads them (one more item), a trial notice does not.
    if (withSavings) {
      items.push({
        PK: keys.memberPk(rec.memberId),
        SK: keys.savingsSk,
        type: 'savings',
        memberId: rec.memberId,
        periodKey: null,
        periodSavedCents: 840,
        lifetimeSavedCents: 8400,
        feesPaidCents: 1499,
        currency: 'usd',
      });
    }
    return items;
  };

  async function batchPut(items: Array<Record<string, unknown>>) {
    const chunks: Array<Array<Record<string, unknown>>> = [];
    for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < chunks.length) {
          let pending = chunks[next++]!.map((Item) => ({ PutRequest: { Item } }));
          while (pending.length) {
            const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tables.main]: pending } }));
            pending = (out.UnprocessedItems?.[tables.main] ?? []) as typeof pending;
          }
        }
      }),
    );
  }

  const seedStarted = performance.now();
  const farEnd = base + 400 * DAY_MS;
  for (let from = 0; from < members; from += 10_000) {
    const batch: Array<Record<string, unknown>> = [];
    for (let i = from; i < Math.min(members, from + 10_000); i++) batch.push(...itemsFor(i, farEnd + (i % 1000) * 60_000));
    await batchPut(batch);
  }
  ctx.log(
    `reminders: seeded ${members.toLocaleString('en-US')} members (${(2 * members).toLocaleString('en-US')} items, one queued reminder each) in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
  );

  let sent = 0;
  const sender: NotificationSender = {
    channel: 'outbox',
    needsAddress: false,
    send: async () => {
      sent += 1;
      return { providerMessageId: null };
    },
  };
  let offset = 0;
  let runAsOf = base;
  const rows: string[] = [];
  const trialDue = Number(process.env.BENCH_REMINDER_TRIAL_DUE ?? 1000);
  const concurrency = process.env.BENCH_REMINDER_CONCURRENCY ? Number(process.env.BENCH_REMINDER_CONCURRENCY) : undefined;
  const runs: Array<[number, Kind, boolean]> = [
    // The first run pays DynamoDB Local's JVM warm-up (transactions especially): keep it out of the figures.
    [200, 'renewal_upcoming', false],
    ...dueCounts.map((d): [number, Kind, boolean] => [d, 'renewal_upcoming', true]),
    // A notice without savings in it, for comparison: the savings read is the third item.
    ...(trialDue > 0 ? [[trialDue, 'trial_ending', true] as [number, Kind, boolean]] : []),
  ];
  for (const [due, kind, report] of runs) {
    // `due` members (distinct each run) get a notice due at runAsOf.
    runAsOf += DAY_MS;
    const batch: Array<Record<string, unknown>> = [];
    const endMs = runAsOf + (kind === 'trial_ending' ? 3 : 7) * DAY_MS;
    for (let k = 0; k < due; k++) batch.push(...itemsFor((offset + k) % members, endMs, true, kind));
    offset += due;
    await batchPut(batch);
    const queryStarted = performance.now();
    let found = 0;
    for (let shard = 0; shard < 8; shard++) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await store.dueInShard(shard, new Date(runAsOf), 100, startKey);
        found += page.items.length;
        startKey = page.next;
      } while (startKey);
    }
    const queryMs = performance.now() - queryStarted;
    const before = structuredClone(store.reads);
    sent = 0;
    const started = performance.now();
    // The job's own default concurrency unless BENCH_REMINDER_CONCURRENCY says otherwise; no pacing: the sender counts.
    const result = await sendDueReminders(
      {
        catalog,
        rules,
        work: new WorkQueue(doc, tables.main),
        memberships,
        store,
        sender,
        portalUrl: 'https://shop.example/account',
        preferencesUrl: 'https://shop.example/account/email',
        recallCoupon: { amountOffCents: 1000, validDays: 30 },
        ...(concurrency ? { concurrency } : {}),
      },
      new Date(runAsOf),
    );
    const ms = performance.now() - started;
    const per = (n: number) => (n / Math.max(1, result.sent)).toFixed(2);
    const by = (source: keyof typeof before.bySource) => store.reads.bySource[source] - before.bySource[source];
    const itemsRead = store.reads.items - before.items;
    if (report)
      rows.push(
        `  ${String(due).padStart(6)} ${kind} due: sent ${result.sent}, items read ${itemsRead} (${per(itemsRead)}/sent = due entry ${per(by('due'))} + membership ${per(by('membership'))} + savings ${per(by('savings'))}), ` +
          `consumed ${result.readCapacity.toFixed(1)} RCU on index + savings, ≈ ${(result.readCapacity / Math.max(1, result.sent) + 1).toFixed(2)} RCU/sent with the strongly consistent membership GetItem, ${(ms / 1000).toFixed(2)} s (${(ms / Math.max(1, result.sent)).toFixed(2)} ms/sent); index queries alone ${queryMs.toFixed(0)} ms for ${found}`,
      );
    if (result.sent !== due || sent !== due) throw new Error(`expected ${due} sent, got ${result.sent}`);
  }
  ctx.log(
    `reminders job over ${members.toLocaleString('en-US')} members, ${concurrency ?? DEFAULT_CONCURRENCY} reminders in hand (goal: items read per sent ≤ 2; time linear in due, not members):`,
  );
  for (const row of rows) ctx.log(row);
  client.destroy();
}
