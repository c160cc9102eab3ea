/**
 * Everything the reminders job needs in AWS besides the table: its settings from CDK context
 * (validated at synth, so a stack never deploys with links members cannot open) and the environment
 * it runs with. Kept apart from membership-stack.ts, which only calls `bind` for functions with
 * `ses:send` access.
 */
import { Construct } from 'constructs';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Stack } from 'aws-cdk-lib';
import { positiveInt, positiveNumber, publicLinkProblem } from '../shared/runtime/reminder-settings';

export interface ReminderDeliverySettings {
  /** Sender address of every notice (context `sesFromAddress`). */
  sesFromAddress: string;
  /** Customer portal / account page printed in notices as the way to cancel (context `portalUrl`). */
  portalUrl: string;
  /** Win-back recall coupon (context `winBackCouponCents`, `winBackCouponDays`). */
  winBackCouponCents: number;
  winBackCouponDays: number;
  /** The SES account's maximum send rate per second (context `sesMaxSendRate`; 1 in the sandbox). */
  sesMaxSendRate: number;
}

const CONTEXT_HINT = 'set it in cdk.json "context" or with `npx cdk deploy -c <key>=<value>` (docs/operations.md)';

/** Reads the reminders settings from CDK context; numbers may come as JSON numbers or `-c` strings. */
export function reminderDeliverySettingsFromContext(scope: Construct): ReminderDeliverySettings {
  const raw = (key: string) => scope.node.tryGetContext(key) as string | number | undefined;
  const problems: string[] = [];
  const int = (key: string, fallback: number) => {
    try {
      return positiveInt(raw(key), fallback, key);
    } catch (error) {
      problems.push((error as Error).message);
      return fallback;
    }
  };
  const num = (key: string, fallback: number) => {
    try {
      return positiveNumber(raw(key), fallback, key);
    } catch (error) {
      problems.push((error as Error).message);
      return fallback;
    }
  };
  const settings: ReminderDeliverySettings = {
    sesFromAddress: String(raw('sesFromAddress') ?? ''),
    portalUrl: String(raw('portalUrl') ?? ''),
    winBackCouponCents: int('winBackCouponCents', 1000),
    winBackCouponDays: int('winBackCouponDays', 30),
    sesMaxSendRate: num('sesMaxSendRate', 10),
  };
  if (problems.length) throw new Error(`invalid CDK context for reminders: ${problems.join('; ')}; ${CONTEXT_HINT}`);
  return settings;
}

/** Every problem at once, each naming its context key; throws so that synth fails before anything deploys. */
export function assertReminderDeliverySettings(settings: ReminderDeliverySettings): void {
  const problems: string[] = [];
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(settings.sesFromAddress)) problems.push(`sesFromAddress: "${settings.sesFromAddress}" is not an email address`);
  const link = settings.portalUrl ? publicLinkProblem(settings.portalUrl) : 'is required (the cancel link of every renewal notice)';
  if (link) problems.push(`portalUrl: ${link}`);
  for (const key of ['winBackCouponCents', 'winBackCouponDays'] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) problems.push(`${key}: must be a positive integer, got ${settings[key]}`);
  }
  if (!(settings.sesMaxSendRate > 0)) problems.push(`sesMaxSendRate: must be a positive number, got ${settings.sesMaxSendRate}`);
  if (problems.length) throw new Error(`invalid CDK context for reminders: ${problems.join('; ')}; ${CONTEXT_HINT}`);
}

/** Grants and environment of the function that sends reminders. */
export class ReminderDelivery extends Construct {
  constructor(
    scope: Construct,
    id: string,
    private readonly settings: ReminderDeliverySettings,
  ) {
    super(scope, id);
    assertReminderDeliverySettings(settings);
  }

  bind(fn: NodejsFunction): void {
    const s = this.settings;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [Stack.of(this).formatArn({ service: 'ses', resource: 'identity', resourceName: s.sesFromAddress })],
      }),
    );
    fn.addEnvironment('SES_FROM_ADDRESS', s.sesFromAddress);
    fn.addEnvironment('PORTAL_URL', s.portalUrl);
    fn.addEnvironment('WIN_BACK_COUPON_CENTS', String(s.winBackCouponCents));
    fn.addEnvironment('WIN_BACK_COUPON_DAYS', String(s.winBackCouponDays));
    fn.addEnvironment('SES_MAX_SEND_RATE', String(s.sesMaxSendRate));
  }
}
