import { eraseMembership } from '../domain/membership';
import { NotFoundError } from '../errors';
import type { MemberItems } from '../storage/item-registry';
import { ConcurrentModificationError, type MembershipRepository } from '../storage/membership-repository';
import type { ReminderStore } from '../storage/reminder-store';
import type { DynamoShopperRepository } from '../storage/shopper-repository';

/**
 * Erases a member's personal data (docs/erasure.md): the email on the membership record, and the
 * address and message copy of every notice. What the law or the books need stays: proof of notice,
 * consent records (they hold no personal data), and money records, which name the member only by the
 * shop's opaque memberId. Idempotent: a second call answers the same.
 */
export async function eraseMember(
  deps: {
    memberships: Pick<MembershipRepository, 'getMembership' | 'saveMembership'>;
    shoppers: Pick<DynamoShopperRepository, 'listConsents' | 'getStripeCustomerId'>;
    reminders: Pick<ReminderStore, 'erasePersonalData'>;
    /** Personal fields of the other item types that keep the item (declarations: storage/item-registry.ts). */
    items: Pick<MemberItems, 'erasePersonalFields'>;
  },
  memberId: string,
  now: Date,
) {
  let erasedAt: string | null = null;
  // Optimistic save: a concurrent webhook ingestion makes one of us retry on the fresh record.
  for (let attempt = 0; ; attempt++) {
    const stored = await deps.memberships.getMembership(memberId);
    if (!stored) break;
    const { record, changed } = eraseMembership(stored.record, now);
    erasedAt = record.erasedAt ?? null;
    if (!changed) break;
    try {
      await deps.memberships.saveMembership(record, stored.rev, [], now);
      break;
    } catch (error) {
      if (!(error instanceof ConcurrentModificationError) || attempt >= 4) throw error;
    }
  }
  const [consents, customerId] = await Promise.all([deps.shoppers.listConsents(memberId), deps.shoppers.getStripeCustomerId(memberId)]);
  const notices = await deps.reminders.erasePersonalData(memberId);
  // Notices have their own eraser above; the registry covers the rest (a declaration's name and address).
  const others = await deps.items.erasePersonalFields(memberId, now, new Set(['notification', 'outbox']));
  if (erasedAt === null && consents.length === 0 && customerId === null && notices === 0 && others === 0) {
    throw new NotFoundError('Nothing is stored for this member.');
  }
  return {
    memberId,
    erasedAt,
    erased: ['membership.email', 'notifications.to', 'outbox.text', 'declarations.name', 'declarations.email', 'declarations.reason'],
    /** Proof-of-notice and outbox items whose address (and message copy) were removed. */
    noticeItems: notices,
    kept: {
      proofsOfNotice: 'kind, sentAt, channel and digest of every notice sent',
      consentRecords: consents.length,
      moneyRecords: 'ledger entries keep the opaque memberId and Stripe ids; they hold no email or name',
    },
  };
}
