import { tableNamesFromEnv } from '../storage/dynamodb';
import { benefitIssuanceReaction } from './benefits';
import { consentAcceptanceReaction } from './consent-acceptance';
import type { MembershipReaction } from './ingest-stripe-event';
import { scheduleReminders } from './schedule-reminders';

/**
 * Writes that commit in the same transaction as a membership change. Each feature that reacts to
 * membership events (benefit issuance, reminders) registers its pure reaction here.
 */
export const membershipReactions: readonly MembershipReaction[] = [
  benefitIssuanceReaction(() => tableNamesFromEnv().main),
  scheduleReminders,
  consentAcceptanceReaction(() => tableNamesFromEnv().main),
];
