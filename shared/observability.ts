import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs. Powertools has no redaction, so keeping secrets and personal data out is by
 * construction: we never log headers, bodies, emails or raw member ids, only `memberRef` (a hash).
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'membership' });

/** A stable pseudonym for correlating a member's log lines without logging the id itself. */
export const memberRef = (memberId: string) => createHash('sha256').update(memberId).digest('hex').slice(0, 16);
