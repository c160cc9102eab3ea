import type { RulesResolver } from '../domain/compliance-rules';
import { benefitIssuanceReaction } from './benefits';
import { consentAcceptanceReaction } from './consent-acceptance';
import { householdCopyReaction } from './household';
import type { MembershipReaction } from './ingest-stripe-event';
import { scheduleReminders } from './schedule-reminders';

/**
 * Writes that commit in the same transaction as a membership change. Each feature that reacts to
 * membership events (benefit issuance, reminders, consent) registers its pure reaction here; the
 * table they write to and the jurisdiction rules (notice windows) come from the caller's wiring.
 */
export function membershipReactions(tableName: string, rules: RulesResolver): readonly MembershipReaction[] {
  return [
    benefitIssuanceReaction(tableName),
    scheduleReminders(tableName, rules),
    consentAcceptanceReaction(tableName),
    householdCopyReaction(tableName),
  ];
}
