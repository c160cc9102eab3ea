import { beforeAll, describe, expect, it } from 'vitest';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MembershipStack, stackSettingsFromContext } from '../../infra/membership-stack';
import { allFunctions } from '../../functions/manifest';
import { tableDefinitions } from '../../shared/storage/tables';
import * as logs from 'aws-cdk-lib/aws-logs';
import { parseStripeSettings, STRIPE_API_SECRET_TEMPLATE } from '../../shared/stripe/settings';
import { parseHashedKeySecret } from '../../shared/http/service-keys';

let template: Template;
let stack: MembershipStack;
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  const app = new App({ outdir });
  stack = new MembershipStack(app, 'TestStack', {
    shopperJwtIssuer: 'https://issuer.test/',
    shopperJwtAudience: 'membership-test',
    sesFromAddress: 'noreply@shop.test',
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
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ summary: { status: string } }> };
    for (const plugin of report.pluginReports) expect(plugin.summary.status).not.toBe('failure');
  });

  it('builds one Node 24 arm64 function per manifest entry, with logs kept and JSON logging', () => {
    const fns = Object.values(functionResources());
    expect(fns).toHaveLength(allFunctions.length);
    for (const fn of fns) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, LoggingConfig: { LogFormat: 'JSON' } });
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
      GlobalSecondaryIndexes: main!.input.GlobalSecondaryIndexes!.map((g) => Match.objectLike({ IndexName: g.IndexName, KeySchema: g.KeySchema })),
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: idempotency!.input.KeySchema,
      TimeToLiveSpecification: { AttributeName: idempotency!.ttlAttribute, Enabled: true },
    });
  });

  it('routes every manifest route, with the JWT authorizer on shopper routes only', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as { RouteKey: string; AuthorizationType?: string });
    const expected = allFunctions.flatMap((f) => f.routes.map((r) => ({ key: `${r.method} ${r.path}`, shopper: r.auth.kind === 'shopper' })));
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(expected.map((e) => e.key).sort());
    for (const e of expected) {
      const route = routes.find((r) => r.RouteKey === e.key)!;
      expect(route.AuthorizationType ?? 'NONE').toBe(e.shopper ? 'JWT' : 'NONE');
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }) });
    // Shoppers call the API directly: their IP addresses are personal data and stay out of the logs.
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    expect(JSON.stringify(stage.Properties.AccessLogSettings.Format)).not.toMatch(/sourceIp/);
  });

  it('verifies shopper tokens with the configured issuer and audience, read from the CDK context, on every shopper route', () => {
    const jwtAuthorizer = (t: Template) => {
      const authorizers = Object.entries(t.findResources('AWS::ApiGatewayV2::Authorizer'));
      expect(authorizers).toHaveLength(1);
      const [id, authorizer] = authorizers[0]!;
      const routes = Object.values(t.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as { RouteKey: string; AuthorizerId?: unknown });
      const shopperRoutes = allFunctions.flatMap((f) => f.routes.filter((r) => r.auth.kind === 'shopper').map((r) => `${r.method} ${r.path}`));
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
    const app = new App({ context: { shopperJwtIssuer: 'https://idp.context.test/', shopperJwtAudience: 'audience-from-context', 'aws:cdk:bundling-stacks': [] } });
    const fromContext = Template.fromStack(new MembershipStack(app, 'ContextStack', stackSettingsFromContext(app)));
    expect(jwtAuthorizer(fromContext)).toMatchObject({ JwtConfiguration: { Issuer: 'https://idp.context.test/', Audience: ['audience-from-context'] } });
  });

  it('keeps Stripe and service-key secrets in Secrets Manager and grants each function only what it lists', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const policyOf = (name: string) =>
      JSON.stringify(policies.find((p) => JSON.stringify(p.Properties.Roles).includes(name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())))?.Properties ?? {});
    const entitlement = policyOf('entitlements-check');
    expect(entitlement).toContain('dynamodb:Query');
    expect(entitlement).not.toMatch(/dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/);
    expect(entitlement).not.toContain('StripeWebhookSecret');
    expect(policyOf('health')).not.toContain('dynamodb:');
    const webhook = policyOf('stripe-webhook');
    expect(webhook).toMatch(/dynamodb:PutItem/);
    expect(webhook).toMatch(/dynamodb:UpdateItem/);
    // Nothing deletes from the main table (TTL does); only the idempotency layer deletes its records.
    for (const spec of allFunctions.filter((f) => !f.access.includes('idempotency:write'))) {
      expect(policyOf(spec.name)).not.toMatch(/dynamodb:(DeleteItem|BatchWriteItem)/);
    }
  });

  it('creates the service-key secret with no keys: calls are refused (401) until hashes are added, not failed', () => {
    const [, secret] = Object.entries(template.findResources('AWS::SecretsManager::Secret')).find(([id]) => id.startsWith('ServiceApiKeys'))!;
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
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as { MetricName?: string; AlarmActions?: unknown[] });
    expect(alarms.filter((a) => a.MetricName === 'Errors')).toHaveLength(allFunctions.length);
    expect(alarms.filter((a) => a.MetricName === 'Throttles')).toHaveLength(allFunctions.length);
    expect(alarms.map((a) => a.MetricName)).toEqual(expect.arrayContaining(['StripePayloadRejected', 'StripeSignatureRejected', '5xx']));
    for (const alarm of alarms) expect(alarm.AlarmActions).toHaveLength(1);
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
    const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(bundle).not.toMatch(/api\.stripe\.com|stripe-node|StripeResource/);
    expect(readFileSync(join(assetDir('stripe-webhook'), 'index.mjs'), 'utf8')).toMatch(/constructEventAsync|v1=/);
  });
});
