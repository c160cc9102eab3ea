import { hash, timingSafeEqual } from 'node:crypto';

export const SERVICE_ROLES = ['checkout', 'finance', 'admin'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

export interface HashedKey {
  role: ServiceRole;
  sha256: Buffer;
}

// One-shot hashing: a third of createHash().update().digest()'s cost, on every service call.
const sha256 = (value: string) => hash('sha256', value, 'buffer');
const isRole = (value: string): value is ServiceRole => (SERVICE_ROLES as readonly string[]).includes(value);

/** Parses `role=key` pairs (local `SERVICE_API_KEYS`); keys are hashed at once and never kept in clear. */
export function parseServiceKeyPairs(spec: string): HashedKey[] {
  return spec
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      const role = pair.slice(0, at).trim();
      const key = pair.slice(at + 1).trim();
      if (at < 1 || !isRole(role) || key.length < 8) {
        throw new Error(
          `SERVICE_API_KEYS: each entry must be role=key with a role of ${SERVICE_ROLES.join('|')} and a key of 8+ characters`,
        );
      }
      return { role, sha256: sha256(key) };
    });
}

/** Parses the Secrets Manager document `{ "checkout": ["<sha256 hex>", ...], ... }` (only hashes are stored in AWS). */
export function parseHashedKeySecret(json: string): HashedKey[] {
  const doc = JSON.parse(json) as Record<string, unknown>;
  const out: HashedKey[] = [];
  for (const [role, hashes] of Object.entries(doc)) {
    if (!isRole(role) || !Array.isArray(hashes)) throw new Error(`service key secret: unexpected entry "${role}"`);
    for (const hex of hashes) {
      if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex))
        throw new Error(`service key secret: ${role} holds a value that is not a sha256 hex digest`);
      out.push({ role, sha256: Buffer.from(hex, 'hex') });
    }
  }
  return out;
}

/**
 * Finds the role of a presented key. Hashing first gives equal-length inputs to timingSafeEqual, and
 * every stored key is compared (no early exit), so timing says nothing about which prefix matched.
 */
export function roleForKey(presented: string, keys: readonly HashedKey[]): ServiceRole | null {
  const digest = sha256(presented);
  let role: ServiceRole | null = null;
  for (const key of keys) {
    if (timingSafeEqual(digest, key.sha256) && role === null) role = key.role;
  }
  return role;
}

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}
