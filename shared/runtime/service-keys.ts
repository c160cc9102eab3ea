import { type HashedKey, parseHashedKeySecret, parseServiceKeyPairs } from '../security/service-keys';
import { readSecret } from './secrets';

const REFRESH_MS = 5 * 60_000;
let cached: { keys: HashedKey[]; loadedAt: number } | undefined;

/**
 * Service keys for this container: `SERVICE_API_KEYS` locally, the hashed document in Secrets Manager
 * (`SERVICE_API_KEYS_SECRET_ARN`) in AWS, re-read every five minutes so a rotation needs no deploy
 * (shared/runtime/secrets.ts; local runs and tests never load the Secrets Manager client).
 */
export async function serviceKeys(env: NodeJS.ProcessEnv = process.env): Promise<HashedKey[]> {
  const fresh = freshServiceKeys();
  if (fresh) return fresh;
  let keys: HashedKey[];
  if (env.SERVICE_API_KEYS_SECRET_ARN) {
    keys = parseHashedKeySecret(await readSecret(env.SERVICE_API_KEYS_SECRET_ARN, env));
  } else {
    keys = parseServiceKeyPairs(env.SERVICE_API_KEYS ?? '');
  }
  cached = { keys, loadedAt: Date.now() };
  return keys;
}

/**
 * The keys when they are fresh, without a promise: the entitlement check authenticates on every
 * call, and an `await` there yields to whatever else is queued (bench/entitlement.ts).
 */
export function freshServiceKeys(): HashedKey[] | undefined {
  return cached && Date.now() - cached.loadedAt < REFRESH_MS ? cached.keys : undefined;
}

/** Tests change keys between cases. */
export function resetServiceKeyCache(): void {
  cached = undefined;
}
