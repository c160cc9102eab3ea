/**
 * Everything the reminders job needs in AWS besides the table: its settings from CDK context
 * (validated at synth, so a stack never deploys with links members cannot open), the SES email
 * identity, a configuration set with bounce/complaint suppression and per-kind event metrics, the
 * notice template the sender uses, and the least-privilege send grant. Kept apart from
 * membership-stack.ts, which only calls `bind` for functions with `ses:send` access.
 */

import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { positiveInt, positiveNumber, publicLinkProblem } from '#shared/runtime/reminder-settings';

export interface ReminderDeliverySettings {
  /** Sender address of every notice (context `sesFromAddress`). */
  sesFromAddress: string;
  /**
   * Verify this whole domain (Easy DKIM; context `sesIdentityDomain`) instead of the single address;
   * empty: the address itself is the identity (SES mails it a verification link).
   */
  sesIdentityDomain: string;
  /** Customer portal / account page printed in notices as the way to cancel (context `portalUrl`). */
  portalUrl: string;
  /** Marketing opt-out page linked from every win-back email (context `marketingPreferencesUrl`). */
  marketingPreferencesUrl: string;
  /** Win-back recall coupon (context `winBackCouponCents`, `winBackCouponDays`). */
  winBackCouponCents: number;
  winBackCouponDays: number;
  /** The SES account's maximum send rate per second (context `sesMaxSendRate`; 1 in the sandbox). */
  sesMaxSendRate: number;
  /**
   * The SES identity exists already (context `sesUseExistingIdentity`): another stage of this account
   * created it (an SES identity is one per account and region), so this stack uses it instead of
   * creating a second one that would collide.
   */
  sesUseExistingIdentity?: boolean;
}

const CONTEXT_HINT = 'set it in cdk.json "context" or with `npx cdk deploy -c <key>=<value>` (docs/operations.md)';

/**
 * Reads the reminders settings from CDK context (through the stage's lookup, infra/settings.ts);
 * numbers may come as JSON numbers or `-c` strings.
 */
export function reminderDeliverySettingsFromContext(raw: (key: string) => string | number | boolean | undefined): ReminderDeliverySettings {
  const problems: string[] = [];
  const scalar = (v: string | number | boolean | undefined) => (typeof v === 'boolean' ? String(v) : v);
  const int = (key: string, fallback: number) => {
    try {
      return positiveInt(scalar(raw(key)), fallback, key);
    } catch (error) {
      problems.push((error as Error).message);
      return fallback;
    }
  };
  const num = (key: string, fallback: number) => {
    try {
      return positiveNumber(scalar(raw(key)), fallback, key);
    } catch (error) {
      problems.push((error as Error).message);
      return fallback;
    }
  };
  const settings: ReminderDeliverySettings = {
    sesFromAddress: String(raw('sesFromAddress') ?? ''),
    sesIdentityDomain: String(raw('sesIdentityDomain') ?? ''),
    portalUrl: String(raw('portalUrl') ?? ''),
    marketingPreferencesUrl: String(raw('marketingPreferencesUrl') ?? ''),
    winBackCouponCents: int('winBackCouponCents', 1000),
    winBackCouponDays: int('winBackCouponDays', 30),
    sesMaxSendRate: num('sesMaxSendRate', 10),
    sesUseExistingIdentity: String(raw('sesUseExistingIdentity') ?? 'false') === 'true',
  };
  if (problems.length) throw new Error(`invalid CDK context for reminders: ${problems.join('; ')}; ${CONTEXT_HINT}`);
  return settings;
}

/** Every problem at once, each naming its context key; throws so that synth fails before anything deploys. */
export function assertReminderDeliverySettings(settings: ReminderDeliverySettings): void {
  const problems: string[] = [];
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(settings.sesFromAddress))
    problems.push(`sesFromAddress: "${settings.sesFromAddress}" is not an email address`);
  if (settings.sesIdentityDomain && !settings.sesFromAddress.toLowerCase().endsWith(`@${settings.sesIdentityDomain.toLowerCase()}`)) {
    problems.push(`sesIdentityDomain: "${settings.sesIdentityDomain}" is not the domain of sesFromAddress "${settings.sesFromAddress}"`);
  }
  const links = {
    portalUrl: 'the cancel link of every renewal notice',
    marketingPreferencesUrl: 'the opt-out link of every marketing email',
  } as const;
  for (const [key, what] of Object.entries(links) as Array<[keyof typeof links, string]>) {
    const problem = settings[key] ? publicLinkProblem(settings[key]) : `is required (${what})`;
    if (problem) problems.push(`${key}: ${problem}`);
  }
  for (const key of ['winBackCouponCents', 'winBackCouponDays'] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) problems.push(`${key}: must be a positive integer, got ${settings[key]}`);
  }
  if (!(settings.sesMaxSendRate > 0)) problems.push(`sesMaxSendRate: must be a positive number, got ${settings.sesMaxSendRate}`);
  if (problems.length) throw new Error(`invalid CDK context for reminders: ${problems.join('; ')}; ${CONTEXT_HINT}`);
}

/** The SES side of reminders, and the grants and environment of the function that sends them. */
export class ReminderDelivery extends Construct {
  readonly identity: ses.IEmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;
  /** Name of the one notice template: the job renders subject and text (the proof's digest is of exactly that). */
  readonly templateName: string;

  /** `prefix`: the stage's name prefix (infra/settings.ts), carried by every name given here. */
  constructor(
    scope: Construct,
    id: string,
    private readonly settings: ReminderDeliverySettings,
    names: { prefix: string } = { prefix: Stack.of(scope).stackName },
  ) {
    super(scope, id);
    assertReminderDeliverySettings(settings);

    // Suppression here, not only account-wide: SES accepts a message to an address that bounced or
    // complained before and does not deliver it, whatever the account-level setting is.
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      configurationSetName: `${names.prefix}-notices`,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
      reputationMetrics: true,
      sendingEnabled: true,
    });
    // Per-kind counts of sends, rejects, bounces, complaints and rendering failures (the job tags each
    // message with its kind), in CloudWatch namespace AWS/SES.
    this.configurationSet.addEventDestination('Metrics', {
      destination: ses.EventDestination.cloudWatchDimensions([
        { name: 'kind', source: ses.CloudWatchDimensionSource.MESSAGE_TAG, defaultValue: 'none' },
      ]),
      events: [
        ses.EmailSendingEvent.SEND,
        ses.EmailSendingEvent.REJECT,
        ses.EmailSendingEvent.BOUNCE,
        ses.EmailSendingEvent.COMPLAINT,
        ses.EmailSendingEvent.DELIVERY,
        ses.EmailSendingEvent.DELIVERY_DELAY,
        ses.EmailSendingEvent.RENDERING_FAILURE,
      ],
    });

    const identityName = settings.sesIdentityDomain || settings.sesFromAddress;
    // One identity per address or domain in an account and region: a second stage sharing the sender
    // uses the first one's (sesUseExistingIdentity) instead of failing to create its own.
    this.identity = settings.sesUseExistingIdentity
      ? ses.EmailIdentity.fromEmailIdentityName(this, 'Identity', identityName)
      : new ses.EmailIdentity(this, 'Identity', {
          identity: settings.sesIdentityDomain
            ? ses.Identity.domain(settings.sesIdentityDomain)
            : ses.Identity.email(settings.sesFromAddress),
          configurationSet: this.configurationSet,
        });
    if (settings.sesIdentityDomain && this.identity instanceof ses.EmailIdentity) {
      // Easy DKIM: the operator adds these three CNAME records to the domain's DNS.
      for (const n of [1, 2, 3] as const) {
        new CfnOutput(this, `DkimRecord${n}`, {
          description: `DKIM CNAME ${n} for ${settings.sesIdentityDomain}`,
          value: `${this.identity[`dkimDnsTokenName${n}`]} CNAME ${this.identity[`dkimDnsTokenValue${n}`]}`,
        });
      }
    }

    // SES does not escape template variables in text parts; the job's rendered text goes in as is.
    this.templateName = `${names.prefix}-reminder-notice`;
    new ses.CfnTemplate(this, 'NoticeTemplate', {
      template: { templateName: this.templateName, subjectPart: '{{subject}}', textPart: '{{text}}' },
    });
  }

  bind(fn: NodejsFunction): void {
    const s = this.settings;
    const stack = Stack.of(this);
    // SendEmail is authorised against the identity, the configuration set and the template it
    // names; the condition pins the sender address even when the identity is a whole domain.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [
          this.identity.emailIdentityArn,
          stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSet.configurationSetName }),
          stack.formatArn({ service: 'ses', resource: 'template', resourceName: this.templateName }),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': s.sesFromAddress } },
      }),
    );
    fn.addEnvironment('SES_FROM_ADDRESS', s.sesFromAddress);
    fn.addEnvironment('SES_CONFIGURATION_SET', this.configurationSet.configurationSetName);
    fn.addEnvironment('SES_TEMPLATE_NAME', this.templateName);
    fn.addEnvironment('PORTAL_URL', s.portalUrl);
    fn.addEnvironment('MARKETING_PREFERENCES_URL', s.marketingPreferencesUrl);
    fn.addEnvironment('WIN_BACK_COUPON_CENTS', String(s.winBackCouponCents));
    fn.addEnvironment('WIN_BACK_COUPON_DAYS', String(s.winBackCouponDays));
    fn.addEnvironment('SES_MAX_SEND_RATE', String(s.sesMaxSendRate));
  }
}
