import type { ReminderKind } from '../domain/reminders';
import type { ReminderStore } from '../storage/reminder-store';

/** One reminder as the operator sees it: its queue state joined with its proof of notice. */
export interface MemberNotification {
  reminderId: string;
  kind: ReminderKind;
  status: 'queued' | 'sending' | 'sent' | 'dropped';
  dueAt: string;
  scheduledAt: string;
  sentAt: string | null;
  channel: string | null;
  digest: string | null;
  droppedAt: string | null;
  dropReason: string | null;
  attempts: number;
  lastError: string | null;
  message: { subject: string; text: string } | null;
}

interface Response {
  memberId: string;
  marketingOptOut: boolean;
  notifications: MemberNotification[];
}
const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** Joins each reminder with its proof of notice and, locally, its outbox message. */
export async function memberNotifications(store: ReminderStore, memberId: string): Promise<Response> {
  const [items, prefs] = await Promise.all([store.listForMember(memberId), store.preferences(memberId)]);
  const bySk = new Map(items.map((i) => [String(i.SK), i]));
  const notifications = items
    .filter((i) => i.type === 'reminder')
    .map((r) => {
      const id = String(r.reminderId);
      const proof = bySk.get(`NOTE#S#${id}`);
      const outbox = bySk.get(`NOTE#OUTBOX#${id}`);
      const status: MemberNotification['status'] = proof
        ? 'sent'
        : r.status === 'due'
          ? 'queued'
          : (r.status as 'sending' | 'sent' | 'dropped');
      return {
        reminderId: id,
        kind: r.kind as MemberNotification['kind'],
        status,
        dueAt: String(r.scheduledFor),
        scheduledAt: String(r.scheduledAt),
        sentAt: str(proof?.sentAt),
        channel: str(proof?.channel),
        digest: str(proof?.digest),
        droppedAt: proof ? null : str(r.droppedAt),
        dropReason: proof ? null : str(r.dropReason),
        attempts: typeof r.attempts === 'number' ? r.attempts : 0,
        lastError: str(r.lastError),
        // Erasure removes the outbox text: the proof (digest) stays, the copy does not.
        message:
          proof && outbox && typeof outbox.subject === 'string' && typeof outbox.text === 'string'
            ? { subject: outbox.subject, text: String(outbox.text) }
            : null,
      };
    })
    .sort((a, b) => (a.dueAt === b.dueAt ? a.reminderId.localeCompare(b.reminderId) : a.dueAt.localeCompare(b.dueAt)));
  return { memberId, marketingOptOut: prefs.marketingOptOut, notifications };
}
