import { benefitIssuanceReaction } from './benefits';
import { consentAcceptanceReaction } from './consent-acceptance';
import type { MembershipReaction } from './ingest-stripe-event';
import { scheduleReminders } from './schedule-reminders';

/**
 * Writes that commit in the same transaction as a membership change. Each feature that reacts to
 * membership events (benefit issuance, reminders, consent) registers its pure reaction here; the
 * table they write to comes from the caller's wiring.
 */
export function membershipReactions(tableName: string): readonly MembershipReaction[] {
  return [benefitIssuanceReaction(tableName), scheduleReminders(tableName), consentAcceptanceReaction(tableName)];
}
