/**
 * `memberRef`: the pseudonym that stands for a member in logs, so an operator can follow one member's
 * lines without the logs holding the memberId. It is an HMAC-SHA256 of the memberId under a secret
 * key: an unkeyed hash would let anyone who can read the logs test a guessed id. In AWS the key is
 * the stack's `MemberRefKey` secret (`MEMBER_REF_KEY_ARN`, read once per container and only by the
 * functions that log members, so the checkout's path never pays for it); locally a fixed development
 * key (`MEMBER_REF_KEY` to choose another).
 *
 * It never throws: a log line must not fail a request. Without its key in AWS it falls back to a
 * random per-container key (refs then correlate within one container only) and says so once.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { logger } from './observability';

export const LOCAL_MEMBER_REF_KEY = 'membership-local-member-ref-key-0000';

let key: Promise<Buffer> | undefined;

async function loadKey(env: NodeJS.ProcessEnv): Promise<Buffer> {
  if (env.MEMBER_REF_KEY_ARN) {
    try {
      const { readSecret } = await import('./runtime/secrets');
      const secret = await readSecret(env.MEMBER_REF_KEY_ARN, env);
      if (secret.length >= 32) return Buffer.from(secret, 'utf8');
      logger.error('the MemberRefKey secret is shorter than 32 characters: memberRef uses a per-container key');
    } catch (error) {
      // Try again on the next line: a key read later still gives stable refs from then on.
      key = undefined;
      logger.warn('cannot read the MemberRefKey secret yet: this line uses a per-container key', { error: (error as Error).name });
    }
    return CONTAINER_KEY;
  }
  if (env.AWS_LAMBDA_FUNCTION_NAME) {
    logger.error(
      'no MEMBER_REF_KEY_ARN: give this function secret:member-ref access (functions/manifest.ts); memberRef uses a per-container key',
    );
    return CONTAINER_KEY;
  }
  return Buffer.from(env.MEMBER_REF_KEY || LOCAL_MEMBER_REF_KEY, 'utf8');
}

const CONTAINER_KEY = randomBytes(32);

/** The member's log pseudonym: 16 hex characters of HMAC-SHA256(key, memberId). */
export async function memberRef(memberId: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  key ??= loadKey(env);
  return createHmac('sha256', await key)
    .update(memberId, 'utf8')
    .digest('hex')
    .slice(0, 16);
}

/** Tests switch keys between cases. */
export function resetMemberRefKey(): void {
  key = undefined;
}
