/**
 * Finding a member by the email on their membership, for a cancellation made without login. The
 * membership item itself carries the lookup keys (`lookupPk = EMAIL#<sha256 of the address>`,
 * `lookupSk = MEMBER#<id>`, GSI `lookup`), derived from its `email` by the one membership writer: an
 * erasure that removes the email rewrites the item without them, so the lookup is gone with the
 * address, and no second item can be forgotten. The address is hashed in the key (keys show up in
 * metrics, logs and backups of the index); the item already holds it in clear.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys';
import { queryLookup } from './query-prefix';

/** One spelling per address: trimmed, lower case (providers treat the local part case-insensitively in practice). */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();
export const emailHash = (email: string) => createHash('sha256').update(normalizeEmail(email)).digest('hex');

/** The lookup attributes of a membership item with this email (none without one). */
export function emailLookupAttributes(memberId: string, email: string | null | undefined): Record<string, string> {
  return email ? { lookupPk: `EMAIL#${emailHash(email)}`, lookupSk: keys.memberPk(memberId) } : {};
}

export class MemberLookup {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Members whose membership holds this address (eventually consistent: callers re-read the membership). */
  async memberIdsByEmail(email: string): Promise<string[]> {
    const items = await queryLookup(this.db, this.tableName, `EMAIL#${emailHash(email)}`, { projection: 'memberId' });
    return items.flatMap((item) => (typeof item.memberId === 'string' ? [item.memberId] : []));
  }
}
