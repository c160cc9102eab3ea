/**
 * Reminders job: reads scale with what is due, not with the number of members.
 * Seeds MEMBERS members (membership item + a renewal reminder queued far in the future, so the `due`
 * index holds one entry per member), then for 100, 1,000 and 10,000 due reminders runs the job and
 * prints items read per reminder sent and the job's time. Delivery is a counting sender: the figure
 * is about finding and settling due work, not about SES.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClient, documentClient } from '../shared/storage/dynamodb';
import { ensureTables } from '../shared/storage/tables';
import { keys } from '../shared/storage/keys';
import { planCatalog } from '../shared/runtime/catalog';
import { DynamoMembershipRepository } from '../shared/storage/membership-repository';
import { ReminderStore, reminderKeys, type ReminderItem } from '../shared/storage/reminder-store';
import { planReminders } from '../shared/domain/reminders';
import { emptyMembership, type MembershipRecord } from '../shared/domain/membership';
import type { NotificationSender } from '../shared/notifications/senders';
import { monthlySubscription } from '../tests/support/domain';
import { sendDueReminders } from '../shared/usecases/send-reminders';

const DAY_MS = 86_400_000;

export async function run(ctx: { dynamodbEndpoint: string; log: (line: string) => void }, options: { members?: number; dueCounts?: number[] } = {}): Promise<void> {
  // 100,000 members take about four minutes to seed into DynamoDB Local on 2 cores (≈ 900 items/s);
  // the default keeps `npm run bench` short, BENCH_REMINDER_MEMBERS=100000 gives the full figure.
  const members = options.members ?? Number(process.env.BENCH_REMINDER_MEMBERS ?? 20_000);
  const dueCounts = options.dueCounts ?? (process.env.BENCH_REMINDER_DUE ?? '100,1000,10000').split(',').map(Number);
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: ctx.dynamodbEndpoint });
  const doc = documentClient(client);
  const tables = { main: `bench-reminders-${Date.now()}`, idempotency: `bench-reminders-idem-${Date.now()}` };
  await ensureTables(client, tables);
  const catalog = planCatalog();
  const store = new ReminderStore(doc, tables.main);
  const memberships = new DynamoMembershipRepository(doc, client, tables.main);

  // Everyone renews on a date far ahead; a member whose renewal notice is due renews in 7 days.
  const base = Date.parse('2030-01-01T00:00:00Z');
  const record = (i: number, periodEndMs: number): MembershipRecord => {
    const subscriptionId = `sub_bench${i}`;
    const sub = monthlySubscription(new Date(periodEndMs - 30 * DAY_MS).toISOString(), new Date(periodEndMs).toISOString(), {
      subscriptionId,
      customerId: `cus_bench${i}`,
    });
    return { ...emptyMembership(`bench-${i}`), customerId: sub.customerId, subscriptionId, subscription: sub, subscriptions: { [subscriptionId]: { state: sub, version: '0' } }, firstSubscribedAt: sub.currentPeriodStart };
  };
  const itemsFor = (i: number, periodEndMs: number, withSavings = false) => {
    const rec = record(i, periodEndMs);
    const renewal = planReminders(rec, catalog).find((r) => r.kind === 'renewal_upcoming')!;
    const reminder: ReminderItem = {
      PK: keys.memberPk(rec.memberId),
      SK: reminderKeys.reminderSk(renewal.id),
      type: 'reminder',
      reminderId: renewal.id,
      kind: renewal.kind,
      memberId: rec.memberId,
      subscriptionId: renewal.subscriptionId,
      anchor: renewal.anchor,
      offsetDays: renewal.offsetDays,
      scheduledFor: renewal.dueAt,
      scheduledAt: new Date(base).toISOString(),
      status: 'due',
      dueShard: reminderKeys.dueShard(renewal.id),
      dueAt: reminderKeys.dueAt(renewal.dueAt, renewal.id),
    };
    const items: Array<Record<string, unknown>> = [{ PK: keys.memberPk(rec.memberId), SK: keys.membershipSk, type: 'membership', ...rec, rev: 1 }, { ...reminder }];
    // Members being reminded have savings: the renewal notice reads them (one more item).
    if (withSavings) {
      items.push({ PK: keys.memberPk(rec.memberId), SK: keys.savingsSk, type: 'savings', memberId: rec.memberId, periodKey: null, periodSavedCents: 840, lifetimeSavedCents: 8400, feesPaidCents: 1499, currency: 'usd' });
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
  ctx.log(`reminders: seeded ${members.toLocaleString('en-US')} members (${(2 * members).toLocaleString('en-US')} items, one queued reminder each) in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

  let sent = 0;
  const sender: NotificationSender = { channel: 'outbox', needsAddress: false, send: async () => ((sent += 1), { providerMessageId: null }) };
  let offset = 0;
  let runAsOf = base;
  const rows: string[] = [];
  // The first run pays DynamoDB Local's JVM warm-up (transactions especially): keep it out of the figures.
  for (const [due, report] of [[200, false] as const, ...dueCounts.map((d) => [d, true] as const)]) {
    // Give `due` members (distinct each run) a renewal in 7 days: their notice is due at runAsOf.
    runAsOf += DAY_MS;
    const batch: Array<Record<string, unknown>> = [];
    for (let k = 0; k < due; k++) batch.push(...itemsFor((offset + k) % members, runAsOf + 7 * DAY_MS, true));
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
    const readsBefore = { ...store.reads };
    sent = 0;
    const started = performance.now();
    const result = await sendDueReminders({ catalog, memberships, store, sender, portalUrl: 'https://shop.example/account', preferencesUrl: 'https://shop.example/account/email', recallCoupon: { amountOffCents: 1000, validDays: 30 }, concurrency: 16 }, new Date(runAsOf));
    const ms = performance.now() - started;
    const indexItems = result.read;
    const itemsRead = store.reads.items - readsBefore.items;
    if (report) rows.push(
      `  ${String(due).padStart(6)} due: sent ${result.sent}, index items read ${indexItems} (${(indexItems / Math.max(1, result.sent)).toFixed(2)}/sent), ` +
        `all items read ${itemsRead} (${(itemsRead / Math.max(1, result.sent)).toFixed(2)}/sent: due entry + membership + savings), ` +
        `consumed ${result.readCapacity.toFixed(1)} RCU on index + savings, ≈ ${(result.readCapacity / Math.max(1, result.sent) + 1).toFixed(2)} RCU/sent with the strongly consistent membership GetItem, ${(ms / 1000).toFixed(2)} s (${(ms / Math.max(1, result.sent)).toFixed(2)} ms/sent); index queries alone ${queryMs.toFixed(0)} ms for ${found}`,
    );
    if (result.sent !== due || sent !== due) throw new Error(`expected ${due} sent, got ${result.sent}`);
  }
  ctx.log(`reminders job over ${members.toLocaleString('en-US')} members (goal: items read per sent ≤ 2 — index items and consumed read units; time linear in due, not members):`);
  for (const row of rows) ctx.log(row);
  client.destroy();
}
