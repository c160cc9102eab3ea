/**
 * The settings `npm start` prints besides the contract's (local/defaults.ts): every other variable the
 * code reads, with the value in effect. Values come from the same functions the handlers and jobs call,
 * so what is printed is what runs, and a malformed value stops `npm start` with that function's error.
 */

import { dynamoBudgetFromEnv } from '#shared/runtime/budgets';
import { cancellationLimits, saveOfferTerms } from '#shared/runtime/compliance';
import { DEFAULT_RULES_FILE } from '#shared/runtime/jurisdictions';
import { maxAttempts, maxSendRate, portalUrl, preferencesUrl, recallCoupon, stopClaimingMs } from '#shared/runtime/reminders';
import { shopOrigins, shopperStripeRateLimit } from '#shared/runtime/shopper';
import { runtimeFilePath, shownPath } from './runtime-file';

/** The Powertools service name of a local run (in AWS each function has its own). */
export const LOCAL_SERVICE_NAME = 'membership-local';

export interface SettingLine {
  name: string;
  value: string;
  source: 'default' | 'environment';
}

const given = (env: NodeJS.ProcessEnv, name: string) => env[name] !== undefined && env[name] !== '';

/** `computed` is the value in effect; `whenUnset` describes a default that is a behaviour rather than a value. */
function line(env: NodeJS.ProcessEnv, name: string, computed: string | number, whenUnset?: string): SettingLine {
  if (given(env, name)) return { name, value: String(computed), source: 'environment' };
  return { name, value: whenUnset ?? String(computed), source: 'default' };
}

export function featureSettings(env: NodeJS.ProcessEnv = process.env): SettingLine[] {
  const coupon = recallCoupon(env);
  const offer = saveOfferTerms(env);
  const limits = cancellationLimits(env);
  const dynamo = dynamoBudgetFromEnv(env);
  // Pure readers only: the DynamoDB client is created once npm start has settled where DynamoDB is.
  const stripeLimit = shopperStripeRateLimit(env);
  return [
    line(env, 'PORTAL_URL', portalUrl(env)),
    line(env, 'MARKETING_PREFERENCES_URL', preferencesUrl(env)),
    line(env, 'SES_FROM_ADDRESS', env.SES_FROM_ADDRESS ?? '', '(unset: notices go to the local outbox, printed by the job)'),
    line(env, 'SES_CONFIGURATION_SET', env.SES_CONFIGURATION_SET ?? '', '(unset)'),
    line(env, 'SES_TEMPLATE_NAME', env.SES_TEMPLATE_NAME ?? '', '(unset: plain text and HTML built here)'),
    line(env, 'NOTIFICATIONS_CHANNEL', env.NOTIFICATIONS_CHANNEL ?? '', '(unset: SES when SES_FROM_ADDRESS is set, else the outbox)'),
    line(env, 'SES_MAX_SEND_RATE', maxSendRate(env)),
    line(env, 'REMINDER_MAX_ATTEMPTS', maxAttempts(env)),
    line(env, 'REMINDER_STOP_CLAIMING_MS', stopClaimingMs(env)),
    line(env, 'WIN_BACK_COUPON_CENTS', coupon.amountOffCents),
    line(env, 'WIN_BACK_COUPON_DAYS', coupon.validDays),
    line(env, 'JURISDICTION_RULES_FILE', shownPath(env.JURISDICTION_RULES_FILE || DEFAULT_RULES_FILE)),
    line(env, 'SAVE_OFFER_PERCENT_OFF', offer.percentOff),
    line(env, 'SAVE_OFFER_MONTHS', offer.durationInMonths),
    line(env, 'CANCELLATION_LIMIT_PER_CLIENT', limits.client.limit),
    line(env, 'CANCELLATION_LIMIT_PER_EMAIL', limits.email.limit),
    line(env, 'SHOP_ORIGINS', shopOrigins(env).join(',')),
    line(env, 'SHOPPER_STRIPE_RATE_LIMIT', `${stripeLimit.limit}/${stripeLimit.windowSeconds}`),
    line(env, 'STRIPE_PORTAL_CONFIGURATION_ID', env.STRIPE_PORTAL_CONFIGURATION_ID ?? '', "(unset: the account's default portal)"),
    line(env, 'STRIPE_ACCOUNT_ID', env.STRIPE_ACCOUNT_ID ?? '', "(unset: connected accounts' events are not ours)"),
    line(env, 'FINANCE_CSV_PAGE_BYTES', env.FINANCE_CSV_PAGE_BYTES ?? '', '(unset: about 5 MiB per CSV ledger page)'),
    line(env, 'LOCAL_RUNTIME_FILE', shownPath(runtimeFilePath(env))),
    line(env, 'SERVICE_VERSION', env.SERVICE_VERSION ?? '', '(unset: 0.1.0 in /openapi.json)'),
    line(env, 'AWS_REGION', env.AWS_REGION ?? '', '(unset: "local" for DynamoDB Local)'),
    // In AWS infra sets a budget per function (shared/runtime/budgets.ts); locally generous values.
    line(env, 'DYNAMODB_CONNECT_TIMEOUT_MS', dynamo.connectTimeoutMs),
    line(env, 'DYNAMODB_REQUEST_TIMEOUT_MS', dynamo.requestTimeoutMs),
    line(env, 'DYNAMODB_MAX_ATTEMPTS', dynamo.maxAttempts),
    line(env, 'MEMBER_REF_KEY', env.MEMBER_REF_KEY ? '(set, hidden)' : '', '(unset: the fixed development key)'),
    line(env, 'ROUTE_GROUP', env.ROUTE_GROUP ?? '', "(unset: each function's name, in the HttpProblems metric)"),
    line(env, 'POWERTOOLS_SERVICE_NAME', env.POWERTOOLS_SERVICE_NAME || LOCAL_SERVICE_NAME),
    line(env, 'POWERTOOLS_LOG_LEVEL', env.POWERTOOLS_LOG_LEVEL ?? '', '(unset: INFO)'),
    line(env, 'POWERTOOLS_METRICS_NAMESPACE', env.POWERTOOLS_METRICS_NAMESPACE ?? '', '(unset: Membership)'),
    line(env, 'POWERTOOLS_METRICS_DISABLED', env.POWERTOOLS_METRICS_DISABLED ?? '', '(unset: EMF metric lines are printed)'),
  ];
}
