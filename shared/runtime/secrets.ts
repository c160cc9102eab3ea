/**
 * Reads secrets from Secrets Manager in AWS (the `*_ARN` variables the stack sets), the one path every
 * secret takes: the Stripe keys, the hashed service keys, the log pseudonym key. The client has
 * timeouts and an attempts budget and maps an outage to ProviderUnavailableError('secrets') (503 with
 * Retry-After); Powertools Parameters caches each value for five minutes, so a rotation needs no
 * deploy. When a refresh fails, the value read before keeps serving for up to an hour: a Secrets
 * Manager blip must not turn every checkout call into a 503 while we hold a good key.
 *
 * The SDK and Powertools are imported on first use: local runs and tests (no ARNs) never load them.
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER` (the SDK's own setting) points the client elsewhere, which is how
 * the bundle smoke test runs this very code against a local stand-in.
 */
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { unavailableMiddleware, unavailableMiddlewareOptions } from '../aws-failures';
import { logger } from '../observability';
import { dynamoBudgetFromEnv } from './budgets';

export const SECRET_REFRESH_SECONDS = 300;
const STALE_LIMIT_MS = 60 * 60_000;

let provider: Promise<SecretsProvider> | undefined;
const lastGood = new Map<string, { value: string; at: number }>();

async function createProvider(env: NodeJS.ProcessEnv): Promise<SecretsProvider> {
  const [{ SecretsProvider }, { SecretsManagerClient }] = await Promise.all([
    import('@aws-lambda-powertools/parameters/secrets'),
    import('@aws-sdk/client-secrets-manager'),
  ]);
  // As patient as the function's DynamoDB budget, a little more: a secret is read once per container.
  const budget = dynamoBudgetFromEnv(env);
  const client = new SecretsManagerClient({
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: Math.max(500, budget.connectTimeoutMs),
      requestTimeout: Math.max(1000, budget.requestTimeoutMs),
      throwOnRequestTimeout: true,
    },
  });
  client.middlewareStack.add(unavailableMiddleware('secrets'), unavailableMiddlewareOptions('secrets'));
  return new SecretsProvider({ awsSdkV3Client: client });
}

/** The secret's text; throws (a wrapped ProviderUnavailableError) only when no recent value is at hand. */
export async function readSecret(arn: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  provider ??= createProvider(env);
  try {
    const value = String((await (await provider).get(arn, { maxAge: SECRET_REFRESH_SECONDS })) ?? '');
    lastGood.set(arn, { value, at: Date.now() });
    return value;
  } catch (error) {
    const last = lastGood.get(arn);
    if (last && Date.now() - last.at < STALE_LIMIT_MS) {
      logger.warn('secret refresh failed; serving the value read before', { secret: arn.split(':').pop(), error: (error as Error).name });
      return last.value;
    }
    throw error;
  }
}
