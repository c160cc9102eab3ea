import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHashedKeySecret } from '#shared/security/service-keys';
import { tableDefinitions } from '#shared/storage/tables';
import { parseStripeSettings, STRIPE_API_SECRET_TEMPLATE } from '#shared/stripe/settings';
import { allFunctions } from '../../functions/manifest';
import { MembershipStack, STRIPE_DRIFT_REPAIRS_ALARM, stackSettingsFromContext } from '../../infra/membership-stack';
import { ReminderDelivery } from '../../infra/reminder-delivery';

const REMINDERS = {
  sesFromAddress: 'noreply@shop.test',
  sesIdentityDomain: '',
  portalUrl: 'https://shop.test/account/membership',
  marketingPreferencesUrl: 'https://shop.test/account/email',
  winBackCouponCents: 1500,
  winBackCouponDays: 21,
  sesMaxSendRate: 14,
};

let template: Template;
let stack: MembershipStack;
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  const app = new App({ outdir });
  stack = new MembershipStack(app, 'TestStack', {
    shopperJwtIssuer: 'https://issuer.test/',
    shopperJwtAudience: 'membership-test',
    reminders: REMINDERS,
    alarmEmail: 'ops@shop.test',
    logRetention: logs.RetentionDays.ONE_MONTH,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Synthesis runs esbuild for every function, one after another, and cdk-nag; an unacknowledged
  // finding throws here. About a minute on a quiet 2-core machine; the limit leaves room for a busy one.
  app.synth();
  template = Template.fromStack(stack);
}, 300_000);

const functionResources = () => template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } });

describe('CDK stack', () => {
  it('passes cdk-nag AwsSolutions with every suppression carrying a reason', () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ summary: { status: string } }>;
    };
    for (const plugin of report.pluginReports) expect(plugin.summary.status).not.toBe('failure');
  });

  it('builds one Node 24 arm64 function per manifest entry, with logs kept and JSON logging', () => {
    const fns = Object.values(functionResources());
    expect(fns).toHaveLength(allFunctions.length);
    for (const fn of fns) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON' },
      });
    }
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('declares the tables exactly as local runs create them: on-demand, PITR, TTL, same keys and indexes', () => {
    const [main, idempotency] = tableDefinitions({ main: 'x', idempotency: 'y' });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: main!.input.KeySchema,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: main!.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: main!.input.GlobalSecondaryIndexes!.map((g) =>
        Match.objectLike({ IndexName: g.IndexName, KeySchema: g.KeySchema }),
      ),
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: idempotency!.input.KeySchema,
      TimeToLiveSpecification: { AttributeName: idempotency!.ttlAttribute, Enabled: true },
    });
  });

  it('routes every manifest route, with the JWT authorizer on shopper routes only', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties as { RouteKey: string; AuthorizationType?: string },
    );
    const expected = allFunctions.flatMap((f) =>
      f.routes.map((r) => ({ key: `${r.method} ${r.path}`, shopper: r.auth.kind === 'shopper' })),
    );
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(expected.map((e) => e.key).sort());
    for (const e of expected) {
      const route = routes.find((r) => r.RouteKey === e.key)!;
      expect(route.AuthorizationType ?? 'NONE').toBe(e.shopper ? 'JWT' : 'NONE');
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    // Shoppers call the API directly: their IP addresses are personal data and stay out of the logs.
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    expect(JSON.stringify(stage.Properties.AccessLogSettings.Format)).not.toMatch(/sourceIp/);
  });

  it('verifies shopper tokens with the configured issuer and audience, read from the CDK context, on every shopper route', () => {
    const jwtAuthorizer = (t: Template) => {
      const authorizers = Object.entries(t.findResources('AWS::ApiGatewayV2::Authorizer'));
      expect(authorizers).toHaveLength(1);
      const [id, authorizer] = authorizers[0]!;
      const routes = Object.values(t.findResources('AWS::ApiGatewayV2::Route')).map(
        (r) => r.Properties as { RouteKey: string; AuthorizerId?: unknown },
      );
      const shopperRoutes = allFunctions.flatMap((f) =>
        f.routes.filter((r) => r.auth.kind === 'shopper').map((r) => `${r.method} ${r.path}`),
      );
      expect(shopperRoutes.length).toBeGreaterThan(0);
      for (const key of shopperRoutes) expect(routes.find((r) => r.RouteKey === key)!.AuthorizerId, key).toEqual({ Ref: id });
      return authorizer.Properties;
    };
    expect(jwtAuthorizer(template)).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://issuer.test/', Audience: ['membership-test'] },
    });
    // As `cdk deploy -c shopperJwtIssuer=... -c shopperJwtAudience=...` builds it (bundling skipped: only the template matters).
    const app = new App({
      context: {
        shopperJwtIssuer: 'https://idp.context.test/',
        shopperJwtAudience: 'audience-from-context',
        sesFromAddress: 'membership@shop.test',
        portalUrl: 'https://shop.test/account/membership',
        marketingPreferencesUrl: 'https://shop.test/account/email',
        'aws:cdk:bundling-stacks': [],
      },
    });
    const fromContext = Template.fromStack(new MembershipStack(app, 'ContextStack', stackSettingsFromContext(app)));
    expect(jwtAuthorizer(fromContext)).toMatchObject({
      JwtConfiguration: { Issuer: 'https://idp.context.test/', Audience: ['audience-from-context'] },
    });
  });

  it('keeps Stripe and service-key secrets in Secrets Manager and grants each function only what it lists', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const policyOf = (name: string) =>
      JSON.stringify(
        policies.find((p) =>
          JSON.stringify(p.Properties.Roles).includes(name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())),
        )?.Properties ?? {},
      );
    const entitlement = policyOf('entitlements-check');
    expect(entitlement).toContain('dynamodb:Query');
    expect(entitlement).not.toMatch(/dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/);
    expect(entitlement).not.toContain('StripeWebhookSecret');
    expect(policyOf('health')).not.toContain('dynamodb:');
    const webhook = policyOf('stripe-webhook');
    expect(webhook).toMatch(/dynamodb:PutItem/);
    expect(webhook).toMatch(/dynamodb:UpdateItem/);
    // The no-login cancellation only counts and queues: it cannot read anything, a membership included.
    const cancellations = policyOf('cancellations');
    expect(cancellations).toMatch(/dynamodb:PutItem/);
    expect(cancellations).not.toMatch(/dynamodb:(GetItem|Query|Scan|BatchGetItem)/);
    expect(policyOf('cancel-page')).not.toContain('dynamodb:');
    // Nothing deletes from the main table (TTL does); only the idempotency layer deletes its records.
    for (const spec of allFunctions.filter((f) => !f.access.includes('idempotency:write'))) {
      expect(policyOf(spec.name)).not.toMatch(/dynamodb:(DeleteItem|BatchWriteItem)/);
    }
  });

  it('creates the service-key secret with no keys: calls are refused (401) until hashes are added, not failed', () => {
    const [, secret] = Object.entries(template.findResources('AWS::SecretsManager::Secret')).find(([id]) =>
      id.startsWith('ServiceApiKeys'),
    )!;
    expect(secret.Properties.GenerateSecretString).toBeUndefined();
    expect(parseHashedKeySecret(secret.Properties.SecretString)).toEqual([]);
  });

  it('creates the Stripe API secret as a template the functions read as "not set" (503), never a generated value', () => {
    const [, secret] = Object.entries(template.findResources('AWS::SecretsManager::Secret')).find(([id]) => id.startsWith('StripeApiKey'))!;
    expect(secret.Properties.GenerateSecretString).toBeUndefined();
    expect(JSON.parse(secret.Properties.SecretString)).toEqual(STRIPE_API_SECRET_TEMPLATE);
    expect(parseStripeSettings(secret.Properties.SecretString)).toMatchObject({ configured: false, problem: 'unset' });
  });

  it('alarms on function errors and throttles, API 5xx, rejected Stripe payloads and signatures', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as { MetricName?: string; AlarmActions?: unknown[] },
    );
    expect(alarms.filter((a) => a.MetricName === 'Errors')).toHaveLength(allFunctions.length);
    expect(alarms.filter((a) => a.MetricName === 'Throttles')).toHaveLength(allFunctions.length);
    expect(alarms.map((a) => a.MetricName)).toEqual(
      expect.arrayContaining([
        'StripePayloadRejected',
        'StripeSignatureRejected',
        '5xx',
        'RemindersGaveUp',
        'ComplianceWorkGaveUp',
        'RollupsOwed',
        'RollupsDrift',
        'UnattributedRefunds',
      ]),
    );
    for (const alarm of alarms) expect(alarm.AlarmActions).toHaveLength(1);
  });

  it('alarms when Stripe drift needs review, when the sweep repairs many memberships, and when the replay falls behind', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StripeDriftNeedsReview',
      Threshold: 1,
      Period: 3600,
      Statistic: 'Sum',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StripeDriftRepaired',
      Threshold: STRIPE_DRIFT_REPAIRS_ALARM,
      Period: 6 * 3600,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StripeSyncNewestEventAge',
      Threshold: 7200,
      Statistic: 'Maximum',
    });
    // The job may run its full 15 minutes, every 15 minutes; the lease keeps overlapping runs apart.
    const sync = allFunctions.find((f) => f.job?.name === 'stripe-sync')!;
    expect(sync.job!.schedule).toBe('rate(15 minutes)');
    expect(sync.timeoutSeconds).toBe(900);
  });

  it('schedules every job on EventBridge Scheduler', () => {
    const jobs = allFunctions.filter((f) => f.job);
    template.resourceCountIs('AWS::Scheduler::Schedule', jobs.length);
    for (const job of jobs) template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: job.job!.schedule });
  });

  it('bundles each function on its own: the plan catalog inside, no Stripe SDK on the entitlement path', () => {
    const assetDir = (name: string) => {
      const cfn = stack.functions.get(name)!.node.defaultChild as unknown as { code: { s3Key?: string } };
      return join(outdir, `asset.${String(cfn.code.s3Key).replace(/\.zip$/, '')}`);
    };
    const dir = assetDir('entitlements-check');
    expect(existsSync(join(dir, 'plan-catalog.json'))).toBe(true);
    // The rules table validated at synth is the one every function reads (docs/compliance.md).
    expect(readFileSync(join(assetDir('reminders'), 'jurisdictions.json'), 'utf8')).toBe(
      readFileSync(new URL('../../config/jurisdictions.json', import.meta.url), 'utf8'),
    );
    const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(bundle).not.toMatch(/api\.stripe\.com|stripe-node|StripeResource/);
    expect(readFileSync(join(assetDir('stripe-webhook'), 'index.mjs'), 'utf8')).toMatch(/constructEventAsync|v1=/);
  });

  it('gives the reminders job its links and recall coupon from context, and only it may send email', () => {
    const jobs = Object.values(functionResources()).filter((f) =>
      JSON.stringify(f.Properties.Environment ?? {}).includes('SES_FROM_ADDRESS'),
    );
    expect(jobs).toHaveLength(allFunctions.filter((f) => f.access.includes('ses:send')).length);
    expect(jobs[0]!.Properties.Environment.Variables).toMatchObject({
      SES_FROM_ADDRESS: REMINDERS.sesFromAddress,
      PORTAL_URL: REMINDERS.portalUrl,
      MARKETING_PREFERENCES_URL: REMINDERS.marketingPreferencesUrl,
      WIN_BACK_COUPON_CENTS: '1500',
      WIN_BACK_COUPON_DAYS: '21',
      SES_MAX_SEND_RATE: '14',
    });
  });
});

describe('SES for reminders', () => {
  const remindersFn = () => {
    const [id, fn] = Object.entries(functionResources()).find(([, f]) =>
      JSON.stringify(f.Properties.Environment ?? {}).includes('SES_FROM_ADDRESS'),
    )!;
    return {
      id,
      env: fn.Properties.Environment.Variables as Record<string, unknown>,
      role: fn.Properties.Role as { 'Fn::GetAtt': [string, string] },
    };
  };

  it('creates the sender identity, a configuration set suppressing bounces and complaints, and the notice template', () => {
    const [configSetId] = Object.keys(template.findResources('AWS::SES::ConfigurationSet'));
    template.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      SuppressionOptions: { SuppressedReasons: Match.arrayWith(['BOUNCE', 'COMPLAINT']) },
      DeliveryOptions: { TlsPolicy: 'REQUIRE' },
    });
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: REMINDERS.sesFromAddress,
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: configSetId } },
    });
    const [destination] = Object.values(template.findResources('AWS::SES::ConfigurationSetEventDestination'));
    expect(destination!.Properties.EventDestination.MatchingEventTypes).toEqual(
      expect.arrayContaining(['bounce', 'complaint', 'reject', 'renderingFailure']),
    );
    const { env } = remindersFn();
    expect(env.SES_CONFIGURATION_SET).toEqual({ Ref: configSetId });
    template.hasResourceProperties('AWS::SES::Template', {
      Template: { TemplateName: env.SES_TEMPLATE_NAME, SubjectPart: '{{subject}}', TextPart: '{{text}}' },
    });
  });

  it('the template uses exactly the variables the SES sender fills', async () => {
    const { SesSender } = await import('#shared/notifications/senders');
    const inputs: any[] = [];
    const client = {
      send: async (command: { input: unknown }) => {
        inputs.push(command.input);
        return { MessageId: 'm' };
      },
    };
    await new SesSender(client as never, 'a@shop.test', { templateName: 't' }).send({
      reminderId: 'r',
      memberId: 'm',
      kind: 'renewal_upcoming',
      to: 'b@shop.test',
      subject: 's',
      text: 't',
      marketing: false,
    });
    const [tpl] = Object.values(template.findResources('AWS::SES::Template'));
    const used = [...JSON.stringify(tpl!.Properties.Template).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    expect(used).toEqual(Object.keys(JSON.parse(inputs[0].Content.Template.TemplateData)).sort());
  });

  it('lets only the reminders function send, only from its address, through its identity, configuration set and template', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = policies.flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as any[]).map((st) => ({ st, roles: p.Properties.Roles })),
    );
    const ses = statements.filter(({ st }) => JSON.stringify(st.Action).includes('ses:'));
    expect(ses).toHaveLength(1);
    const [{ st, roles }] = ses as [{ st: any; roles: unknown }];
    expect(roles).toEqual([{ Ref: remindersFn().role['Fn::GetAtt'][0] }]);
    expect(st.Action).toBe('ses:SendEmail');
    expect(st.Condition).toEqual({ StringEquals: { 'ses:FromAddress': REMINDERS.sesFromAddress } });
    const resources = JSON.stringify(st.Resource);
    expect(st.Resource).toHaveLength(3);
    for (const part of [':identity/', ':configuration-set/', ':template/']) expect(resources).toContain(part);
    expect(resources).not.toContain('"*"');
  });

  it('verifies a whole domain with Easy DKIM when sesIdentityDomain is set, and prints the DNS records', () => {
    const app = new App();
    const bare = new Stack(app, 'DomainOnly');
    new ReminderDelivery(bare, 'ReminderDelivery', { ...REMINDERS, sesIdentityDomain: 'shop.test' });
    const domain = Template.fromStack(bare);
    domain.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'shop.test' });
    expect(Object.keys(domain.findOutputs('*')).filter((o) => o.includes('DkimRecord'))).toHaveLength(3);
    expect(() => new ReminderDelivery(new Stack(app, 'Mismatch'), 'R', { ...REMINDERS, sesIdentityDomain: 'other.test' })).toThrow(
      /sesIdentityDomain/,
    );
  });
});

describe('reminder settings fail synth rather than deploy links members cannot open', () => {
  const build = (reminders: Partial<typeof REMINDERS>) => () =>
    new MembershipStack(new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-bad-')) }), 'Bad', {
      shopperJwtIssuer: 'https://issuer.test/',
      shopperJwtAudience: 'membership-test',
      alarmEmail: '',
      logRetention: logs.RetentionDays.ONE_MONTH,
      reminders: { ...REMINDERS, ...reminders },
    });

  it('rejects a localhost, plain-http or missing portal URL, naming the context key', () => {
    expect(build({ portalUrl: 'http://127.0.0.1:3000/account/membership' })).toThrow(/portalUrl: .*https/);
    expect(build({ portalUrl: 'https://localhost/account' })).toThrow(/portalUrl: .*local or private host/);
    expect(build({ portalUrl: 'https://10.0.0.7/account' })).toThrow(/portalUrl: .*local or private host/);
    expect(build({ portalUrl: '' })).toThrow(/portalUrl: is required/);
    expect(build({ marketingPreferencesUrl: 'http://127.0.0.1:3000/account/email-preferences' })).toThrow(
      /marketingPreferencesUrl: .*https/,
    );
    expect(build({ sesFromAddress: 'not-an-address' })).toThrow(/sesFromAddress/);
    expect(build({ winBackCouponDays: 0 })).toThrow(/winBackCouponDays/);
    expect(build({ sesMaxSendRate: 0 })).toThrow(/sesMaxSendRate/);
  });

  it('rejects a jurisdiction rules table with a bad field, naming it', () => {
    const bad = JSON.parse(readFileSync(new URL('../../config/jurisdictions.json', import.meta.url), 'utf8'));
    bad.jurisdictions.CN.notices.renewal[0].maxDays = 2;
    const file = join(mkdtempSync(join(tmpdir(), 'rules-')), 'jurisdictions.json');
    writeFileSync(file, JSON.stringify(bad));
    expect(
      () =>
        new MembershipStack(new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-bad-')) }), 'BadRules', {
          shopperJwtIssuer: 'https://issuer.test/',
          shopperJwtAudience: 'membership-test',
          alarmEmail: '',
          logRetention: logs.RetentionDays.ONE_MONTH,
          reminders: REMINDERS,
          jurisdictionRulesFile: file,
        }),
    ).toThrow(/jurisdictions\/CN\/notices\/renewal\/0\/minDays: minDays must not exceed maxDays/);
  });

  it('reads the settings from context, strings from -c included', () => {
    const app = new App({
      context: {
        sesFromAddress: 'a@shop.test',
        portalUrl: 'https://shop.test/a',
        marketingPreferencesUrl: 'https://shop.test/p',
        winBackCouponCents: '700',
      },
    });
    expect(stackSettingsFromContext(app).reminders).toEqual({
      sesFromAddress: 'a@shop.test',
      portalUrl: 'https://shop.test/a',
      marketingPreferencesUrl: 'https://shop.test/p',
      sesIdentityDomain: '',
      winBackCouponCents: 700,
      winBackCouponDays: 30,
      sesMaxSendRate: 10,
    });
    expect(() => stackSettingsFromContext(new App({ context: { winBackCouponCents: 'ten' } }))).toThrow(
      /winBackCouponCents must be a positive integer/,
    );
  });
});
