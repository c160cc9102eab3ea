import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOCAL_MEMBER_REF_KEY, memberRef, resetMemberRefKey } from '#shared/member-ref';

describe('memberRef', () => {
  it('is a keyed hash: stable for one key, different under another, never the plain SHA-256 of the id', async () => {
    resetMemberRefKey();
    const ref = await memberRef('shopper-42', {});
    expect(ref).toMatch(/^[0-9a-f]{16}$/);
    expect(await memberRef('shopper-42', {})).toBe(ref);
    expect(ref).not.toBe(createHash('sha256').update('shopper-42').digest('hex').slice(0, 16));
    resetMemberRefKey();
    expect(await memberRef('shopper-42', { MEMBER_REF_KEY: `${LOCAL_MEMBER_REF_KEY}-other` })).not.toBe(ref);
    resetMemberRefKey();
  });
});
