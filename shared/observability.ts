import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs. Powertools has no redaction, so keeping secrets and personal data out is by
 * construction: we never log headers, bodies, emails or raw member ids, only `memberRef` (a keyed hash, shared/member-ref.ts).
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'membership' });
