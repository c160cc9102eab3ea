import { type NotificationSender, OutboxSender, type OutgoingMessage } from '#shared/notifications/senders';
import { planCatalog } from '#shared/runtime/catalog';
import { declarationStore, memberLookup, saveOfferStore } from '#shared/runtime/compliance';
import { dynamo, membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { stripeAccount } from '#shared/runtime/stripe-api';
import { type ReminderItem, ReminderStore } from '#shared/storage/reminder-store';
import { type WorkItem, WorkQueue } from '#shared/storage/work-queue';
import { type ComplianceJobResult, runComplianceWork } from '#shared/usecases/compliance-work';
import { sendDueReminders } from '#shared/usecases/send-reminders';
import { memberItems } from './member-items';

/**
 * The reminders and compliance jobs as they run in AWS, seeing only the work of the given members
 * (or cancellation references): other test files share the table and the clock, and their work must
 * stay theirs.
 */
/** A reminder store whose queue holds only these members' notices: a test's job never sends another file's. */
export class ScopedReminderStore extends ReminderStore {
  constructor(private readonly members: ReadonlySet<string>) {
    const { doc, tables } = dynamo();
    super(doc, tables.main);
  }
  override async dueInShard(shard: number, asOf: Date, limit: number, startKey?: Record<string, unknown>) {
    const page = await super.dueInShard(shard, asOf, limit, startKey);
    return { ...page, items: page.items.filter((i: ReminderItem) => this.members.has(i.memberId)) };
  }
}

class ScopedWorkQueue extends WorkQueue {
  constructor(private readonly scope: (item: WorkItem) => boolean) {
    const { doc, tables } = dynamo();
    super(doc, tables.main);
  }
  override async dueInShard(shard: number, asOf: Date, limit: number, startKey?: Record<string, unknown>) {
    const page = await super.dueInShard(shard, asOf, limit, startKey);
    return { ...page, items: page.items.filter(this.scope) };
  }
}

class Recording implements NotificationSender {
  readonly channel = 'outbox' as const;
  readonly needsAddress = false;
  readonly sent: OutgoingMessage[] = [];
  constructor(private readonly inner: NotificationSender) {}
  async send(message: OutgoingMessage) {
    this.sent.push(message);
    return this.inner.send(message);
  }
}

/** Runs the reminders job at `asOf` for these members only; returns what it sent. */
export async function sendNotices(memberIds: string[], asOf: Date): Promise<OutgoingMessage[]> {
  const store = new ScopedReminderStore(new Set(memberIds));
  const { doc, tables } = dynamo();
  const sender = new Recording(new OutboxSender(store));
  const result = await sendDueReminders(
    {
      catalog: planCatalog(),
      rules: jurisdictionRules(),
      work: new WorkQueue(doc, tables.main),
      memberships: membershipRepository(),
      store,
      sender,
      portalUrl: 'https://shop.example/account',
      preferencesUrl: 'https://shop.example/account/email',
      recallCoupon: { amountOffCents: 1000, validDays: 30 },
    },
    asOf,
  );
  if (result.failed) throw new Error(`reminders job failed ${result.failed} reminder(s)`);
  return sender.sent;
}

/** Runs the compliance job at `asOf` for the work of these members and cancellation references only. */
export async function runCompliance(scope: { members?: string[]; references?: string[] }, asOf: Date): Promise<ComplianceJobResult> {
  const members = new Set(scope.members ?? []);
  const references = new Set(scope.references ?? []);
  const queue = new ScopedWorkQueue((i) => (i.memberId !== undefined && members.has(i.memberId)) || references.has(i.workId));
  return runComplianceWork(
    {
      catalog: planCatalog(),
      rules: jurisdictionRules(),
      memberships: membershipRepository(),
      lookup: memberLookup(),
      declarations: declarationStore(),
      offers: saveOfferStore(),
      queue,
      stripe: () => stripeAccount(),
    },
    asOf,
  );
}

/** Every item of a member's partition, read consistently. */
export const partition = memberItems;
