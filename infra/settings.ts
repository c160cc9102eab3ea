/**
 * Stages: `npx cdk deploy -c stage=<name>`. Each stage is its own stack (`MembershipBackend-<stage>`)
 * whose resource names carry the stage, so several live in one account. A stage's settings come from
 * `-c key=value`, else from cdk.json `context.stages.<stage>`, else a default. A stage is production
 * unless cdk.json (or `-c production=false`) says otherwise, and a production stage refuses example
 * or placeholder values and missing required ones at synth, naming each: a bare `cdk deploy` can no
 * longer ship `https://auth.example.com/` as the shopper token issuer or an alarm topic nobody reads.
 */
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { parseShopOrigins } from '#shared/domain/redirects';
import { type ReminderDeliverySettings, reminderDeliverySettingsFromContext } from './reminder-delivery';

export interface MembershipStackSettings {
  /** Short lower-case name (`prod`, `staging`, `dev`): in the stack id and every name the stack gives. */
  stage: string;
  /** Placeholders refused; alarms need a subscriber. */
  production: boolean;
  /** Shopper tokens: issuer and audience checked by the HTTP API JWT authorizer. */
  shopperJwtIssuer: string;
  shopperJwtAudience: string;
  /** Reminders: sender, links in notices, recall coupon (infra/reminder-delivery.ts; validated at synth). */
  reminders: ReminderDeliverySettings;
  /** Where alarms are emailed; required in production, none when empty elsewhere. */
  alarmEmail: string;
  /** The shop's origins: where Checkout and the portal may send shoppers back to (https only). */
  shopOrigins: string[];
  /**
   * Reserve the checkout path's concurrency (manifest `reservedConcurrency`). Off for a stage in an
   * account whose Lambda quota is still the default of new accounts (a reservation must leave 100).
   */
  reserveConcurrency: boolean;
  /** The entitlement check's p99 latency (API Gateway, ms) above which the checkout alarm fires. */
  checkoutP99Ms: number;
  /** Log retention for every function and the API access log. */
  logRetention: logs.RetentionDays;
  /** The jurisdiction rules table, validated at synth and copied into every bundle (default config/jurisdictions.json). */
  jurisdictionRulesFile?: string;
}

export interface StageEnvironment {
  account?: string;
  region?: string;
}

const STAGE = /^[a-z][a-z0-9-]{0,15}$/;
const CONTEXT_HINT = 'set it with `-c <key>=<value>` or in cdk.json "context.stages.<stage>" (docs/operations.md)';

type Raw = string | number | boolean | undefined;

/** `-c key=value` first, then cdk.json's block for the stage. */
function lookup(scope: Construct, stage: string): (key: string) => Raw {
  const stages = (scope.node.tryGetContext('stages') ?? {}) as Record<string, Record<string, Raw>>;
  const block = stages[stage] ?? {};
  return (key) => (scope.node.tryGetContext(key) as Raw) ?? block[key];
}

export function stageOf(scope: Construct): string {
  const stage = String(scope.node.tryGetContext('stage') ?? '');
  if (!STAGE.test(stage)) {
    throw new Error(
      `stage: "${stage}" is not a stage name (lower-case letters, digits and dashes, at most 16, starting with a letter); deploy with -c stage=<name>, e.g. -c stage=prod`,
    );
  }
  return stage;
}

/** The stack id, and the prefix of every name the stack gives: one stage never collides with another. */
export const stackIdOf = (stage: string) => `MembershipBackend-${stage}`;
export const namePrefixOf = (stage: string) => `membership-${stage}`;

/**
 * Host names reserved for examples and tests (RFC 2606, RFC 6761): nobody receives mail or runs an
 * identity provider there, so a value on one is a placeholder left in.
 */
const PLACEHOLDER_HOST = /(^|\.)(example\.(com|net|org)|example|test|invalid|localhost)$/i;

export function isPlaceholderHost(host: string): boolean {
  return PLACEHOLDER_HOST.test(host.replace(/\.$/, ''));
}

const hostOfUrl = (value: string) => {
  try {
    return new URL(value).hostname;
  } catch {
    return '';
  }
};
const hostOfAddress = (value: string) => value.split('@').pop() ?? '';
const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Every reason a production stage cannot deploy with these settings, each naming its context key. */
export function productionProblems(settings: MembershipStackSettings, env: StageEnvironment): string[] {
  const problems: string[] = [];
  const placeholderUrl = (key: string, value: string) => {
    const host = hostOfUrl(value);
    if (!value) problems.push(`${key}: is required`);
    else if (!host) problems.push(`${key}: "${value}" is not an absolute URL`);
    else if (isPlaceholderHost(host)) problems.push(`${key}: "${value}" is an example or placeholder host`);
  };
  placeholderUrl('shopperJwtIssuer', settings.shopperJwtIssuer);
  if (settings.shopperJwtIssuer && !settings.shopperJwtIssuer.startsWith('https://'))
    problems.push(`shopperJwtIssuer: "${settings.shopperJwtIssuer}" must use https`);
  if (!settings.shopperJwtAudience) problems.push('shopperJwtAudience: is required');
  placeholderUrl('portalUrl', settings.reminders.portalUrl);
  placeholderUrl('marketingPreferencesUrl', settings.reminders.marketingPreferencesUrl);
  const sender = settings.reminders.sesFromAddress;
  if (!sender) problems.push('sesFromAddress: is required (the sender of every notice)');
  else if (isPlaceholderHost(hostOfAddress(sender))) problems.push(`sesFromAddress: "${sender}" is on an example or placeholder domain`);
  if (settings.reminders.sesIdentityDomain && isPlaceholderHost(settings.reminders.sesIdentityDomain))
    problems.push(`sesIdentityDomain: "${settings.reminders.sesIdentityDomain}" is an example or placeholder domain`);
  if (!settings.alarmEmail) problems.push('alarmEmail: is required (alarms must reach someone)');
  else if (!ADDRESS.test(settings.alarmEmail)) problems.push(`alarmEmail: "${settings.alarmEmail}" is not an email address`);
  else if (isPlaceholderHost(hostOfAddress(settings.alarmEmail)))
    problems.push(`alarmEmail: "${settings.alarmEmail}" is on an example or placeholder domain`);
  for (const origin of settings.shopOrigins) {
    if (isPlaceholderHost(hostOfUrl(origin))) problems.push(`shopOrigins: "${origin}" is an example or placeholder host`);
  }
  if (!env.account || !/^\d{12}$/.test(env.account))
    problems.push('account: the AWS account id (12 digits) is required for a production stage');
  if (!env.region) problems.push('region: the AWS region is required for a production stage');
  return problems;
}

/** The stage's settings and environment from CDK context; throws, naming every problem, when synth must not go on. */
export function stackSettingsFromContext(scope: Construct): MembershipStackSettings & { env: StageEnvironment } {
  const stage = stageOf(scope);
  const get = lookup(scope, stage);
  const text = (key: string, fallback = '') => String(get(key) ?? fallback).trim();
  const flag = (key: string, fallback: boolean) => {
    const value = get(key);
    return value === undefined ? fallback : String(value) === 'true';
  };
  const problems: string[] = [];
  const origins = parseShopOrigins(text('shopOrigins'), { httpsOnly: true });
  problems.push(...origins.problems.map((p) => `shopOrigins: ${p}`));
  const p99 = Number(get('checkoutP99Ms') ?? 300);
  if (!Number.isInteger(p99) || p99 < 10)
    problems.push(`checkoutP99Ms: must be a whole number of milliseconds ≥ 10, got "${get('checkoutP99Ms')}"`);

  const settings: MembershipStackSettings = {
    stage,
    production: flag('production', true),
    shopperJwtIssuer: text('shopperJwtIssuer'),
    shopperJwtAudience: text('shopperJwtAudience'),
    reminders: reminderDeliverySettingsFromContext(get),
    alarmEmail: text('alarmEmail'),
    shopOrigins: origins.origins,
    reserveConcurrency: flag('reserveConcurrency', true),
    checkoutP99Ms: p99,
    logRetention: logs.RetentionDays.ONE_MONTH,
  };
  const env: StageEnvironment = {
    ...(text('account', process.env.CDK_DEFAULT_ACCOUNT ?? '') ? { account: text('account', process.env.CDK_DEFAULT_ACCOUNT ?? '') } : {}),
    ...(text('region', process.env.CDK_DEFAULT_REGION ?? '') ? { region: text('region', process.env.CDK_DEFAULT_REGION ?? '') } : {}),
  };
  if (settings.production) {
    // Only what was named explicitly pins a production stack: never the shell's default account.
    const explicit: StageEnvironment = {
      ...(text('account') ? { account: text('account') } : {}),
      ...(text('region') ? { region: text('region') } : {}),
    };
    problems.push(...productionProblems(settings, explicit));
  }
  if (problems.length) {
    const kind = settings.production ? `production stage "${stage}"` : `stage "${stage}"`;
    throw new Error(`cannot synthesize the ${kind}:\n  - ${problems.join('\n  - ')}\n${CONTEXT_HINT}`);
  }
  return { ...settings, env };
}
