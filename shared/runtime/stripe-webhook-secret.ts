import { readSecret } from './secrets';

let cached: { secrets: string[]; loadedAt: number } | undefined;
const REFRESH_MS = 5 * 60_000;

/**
 * Webhook signing secrets. Several may be configured (comma separated) so a secret can be rolled in
 * Stripe without dropping events signed with the old one. AWS: Secrets Manager, re-read every 5 min.
 */
export async function stripeWebhookSecrets(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  if (cached && Date.now() - cached.loadedAt < REFRESH_MS) return cached.secrets;
  let raw: string;
  if (env.STRIPE_WEBHOOK_SECRET_ARN) {
    raw = await readSecret(env.STRIPE_WEBHOOK_SECRET_ARN, env);
  } else {
    raw = env.STRIPE_WEBHOOK_SECRET ?? '';
  }
  const secrets = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('whsec_'));
  if (secrets.length === 0) throw new Error('no Stripe webhook secret configured (STRIPE_WEBHOOK_SECRET / STRIPE_WEBHOOK_SECRET_ARN)');
  cached = { secrets, loadedAt: Date.now() };
  return secrets;
}
