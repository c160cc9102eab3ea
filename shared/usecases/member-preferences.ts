import type { ReminderStore } from '../storage/reminder-store';

/** Stores a member's notification preferences; the operator's and the shopper's routes both use it. */
export async function setMemberPreferences(
  store: Pick<ReminderStore, 'setPreferences'>,
  memberId: string,
  prefs: { marketingOptOut: boolean },
  now: Date,
) {
  await store.setPreferences(memberId, { marketingOptOut: prefs.marketingOptOut }, now);
  return { memberId, marketingOptOut: prefs.marketingOptOut, updatedAt: now.toISOString() };
}
