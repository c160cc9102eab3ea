import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { parseRulesTable } from '#shared/domain/compliance-rules';
import { MetricNames } from '#shared/metric-names';
import { tableDefinitions } from '#shared/storage/tables';
import { STRIPE_API_SECRET_TEMPLATE } from '#shared/stripe/settings';
import { allFunctions, type FunctionSpec } from '../functions/manifest';
import { ReminderDelivery, type ReminderDeliverySettings, reminderDeliverySettingsFromContext } from './reminder-delivery';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export interface MembershipStackSettings {
  /** Shopper tokens: issuer and audience checked by the HTTP API JWT authorizer. */
  shopperJwtIssuer: string;
  shopperJwtAudience: string;
  /** Reminders: sender, links in notices, recall coupon (infra/reminder-delivery.ts; validated at synth). */
  reminders: ReminderDeliverySettings;
  /** Where alarms are emailed; none when empty. */
  alarmEmail: string;
  /** Log retention for every function and the API access log. */
  logRetention: logs.RetentionDays;
  /** The jurisdiction rules table, validated at synth and copied into every bundle (default config/jurisdictions.json). */
  jurisdictionRulesFile?: string;
}

export function stackSettingsFromContext(scope: Construct): MembershipStackSettings {
  const get = (key: string, fallback: string) => String(scope.node.tryGetContext(key) ?? fallback);
  return {
    shopperJwtIssuer: get('shopperJwtIssuer', 'https://auth.example.com/'),
    shopperJwtAudience: get('shopperJwtAudience', 'membership-api'),
    reminders: reminderDeliverySettingsFromContext(scope),
    alarmEmail: get('alarmEmail', ''),
    logRetention: logs.RetentionDays.ONE_MONTH,
  };
}

/**
 * Everything in AWS: the single table and the idempotency table, one NodejsFunction per entry of
 * functions/manifest.ts with least-privilege grants derived from its `access`, the HTTP API routes
 * (JWT authorizer on shopper routes), EventBridge schedules for jobs, secrets, and alarms.
 */
export class MembershipStack extends Stack {
  readonly functions = new Map<string, NodejsFunction>();

  constructor(scope: Construct, id: string, props: MembershipStackSettings & StackProps) {
    super(scope, id, props);
    // Reminders first: bad reminder settings fail synth before any function is bundled.
    const reminderDelivery = new ReminderDelivery(this, 'ReminderDelivery', props.reminders);
    // The rules table every function gets a copy of: a bad field fails synth, named (docs/compliance.md).
    const rulesFile = props.jurisdictionRulesFile ?? `${projectRoot}config/jurisdictions.json`;
    parseRulesTable(JSON.parse(readFileSync(rulesFile, 'utf8')), `jurisdiction rules ${rulesFile}`);

    const [mainDef, idempotencyDef] = tableDefinitions({ main: 'main', idempotency: 'idempotency' });
    const attr = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const table = new dynamodb.Table(this, 'MainTable', {
      partitionKey: attr('PK'),
      sortKey: attr('SK'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: mainDef!.ttlAttribute,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const gsi of mainDef!.input.GlobalSecondaryIndexes ?? []) {
      const [hash, range] = gsi.KeySchema!;
      table.addGlobalSecondaryIndex({
        indexName: gsi.IndexName!,
        partitionKey: attr(hash!.AttributeName!),
        ...(range ? { sortKey: attr(range.AttributeName!) } : {}),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    const idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      partitionKey: attr(idempotencyDef!.input.KeySchema![0]!.AttributeName!),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: idempotencyDef!.ttlAttribute,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Values are set by the operator after the first deploy (see docs/operations.md); never in code.
    const secretNote = (what: string) => `${what}. Set the value with aws secretsmanager put-secret-value; see docs/operations.md.`;
    const secrets = {
      'secret:stripe-webhook': new secretsmanager.Secret(this, 'StripeWebhookSecret', {
        description: secretNote('Stripe webhook signing secret(s), whsec_..., comma separated during a roll'),
      }),
      // Created as a JSON template with an empty key, which the functions read as "not set" (503):
      // a generated value would reach Stripe as a key and come back as 401 (shared/stripe/settings.ts).
      'secret:stripe-api': new secretsmanager.Secret(this, 'StripeApiKey', {
        description: secretNote(
          'Stripe account: {"apiKey":"rk_live_...","portalConfigurationId":"bpc_..."}; an empty apiKey means payments are off',
        ),
        secretObjectValue: Object.fromEntries(
          Object.entries(STRIPE_API_SECRET_TEMPLATE).map(([k, v]) => [k, SecretValue.unsafePlainText(v)]),
        ),
      }),
      // Created with no keys: every service call is refused (401) until the operator adds hashes,
      // instead of a generated value that parses as nothing and fails every call with 500.
      'secret:service-keys': new secretsmanager.Secret(this, 'ServiceApiKeys', {
        description: secretNote('Service keys as SHA-256 hashes: {"checkout":["<hex>"],"finance":[...],"admin":[...]}'),
        secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ checkout: [], finance: [], admin: [] })),
      }),
    } as const;
    for (const secret of Object.values(secrets)) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Stripe secrets are rolled in the Stripe dashboard and service keys by the operator; both accept two values during a roll, so no rotation Lambda.',
      });
    }

    const alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Membership backend alarms',
      masterKey: kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    if (props.alarmEmail) alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string, threshold = 1) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(new cwActions.SnsAction(alarmTopic));
      return a;
    };

    const baseEnvironment: Record<string, string> = {
      TABLE_NAME: table.tableName,
      IDEMPOTENCY_TABLE_NAME: idempotencyTable.tableName,
      PLAN_CATALOG_FILE: '/var/task/plan-catalog.json',
      JURISDICTION_RULES_FILE: '/var/task/jurisdictions.json',
      POWERTOOLS_SERVICE_NAME: 'membership',
      POWERTOOLS_METRICS_NAMESPACE: 'Membership',
      NODE_OPTIONS: '--enable-source-maps',
    };

    for (const spec of allFunctions) {
      const fn = this.buildFunction(spec, baseEnvironment, props.logRetention, rulesFile);
      this.functions.set(spec.name, fn);
      for (const access of spec.access) {
        switch (access) {
          case 'table:read':
            table.grantReadData(fn);
            Validations.of(fn).acknowledge({
              id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(table.node.defaultChild as dynamodb.CfnTable)}.Arn>/index/*]`,
              reason: 'Queries the table’s own secondary indexes (lookup, due); the grant is scoped to this table’s indexes.',
            });
            break;
          case 'table:write':
            // Writers put, update and condition-check (also inside transactions); nothing deletes
            // from this table (records expire by TTL), so DeleteItem and batch writes are not granted.
            // Reading is `table:read`'s: a write-only function (the no-login cancellation) cannot read.
            table.grant(fn, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem');
            Validations.of(fn).acknowledge({
              id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(table.node.defaultChild as dynamodb.CfnTable)}.Arn>/index/*]`,
              reason:
                'CDK scopes a table grant to the table and its own indexes; indexes cannot be written, so the write actions reach the table only.',
            });
            break;
          case 'idempotency:write':
            idempotencyTable.grantReadWriteData(fn);
            break;
          case 'secret:stripe-webhook':
          case 'secret:stripe-api':
          case 'secret:service-keys': {
            secrets[access].grantRead(fn);
            const variable = {
              'secret:stripe-webhook': 'STRIPE_WEBHOOK_SECRET_ARN',
              'secret:stripe-api': 'STRIPE_SECRET_KEY_ARN',
              'secret:service-keys': 'SERVICE_API_KEYS_SECRET_ARN',
            }[access];
            fn.addEnvironment(variable, secrets[access].secretArn);
            break;
          }
          case 'ses:send':
            reminderDelivery.bind(fn);
            break;
        }
      }
      alarm(`${construct(spec.name)}Errors`, fn.metricErrors({ period: Duration.minutes(5) }), `${spec.name}: invocation errors`);
      alarm(`${construct(spec.name)}Throttles`, fn.metricThrottles({ period: Duration.minutes(5) }), `${spec.name}: throttled invocations`);
      if (spec.job) {
        new scheduler.Schedule(this, `${construct(spec.name)}Schedule`, {
          schedule: scheduler.ScheduleExpression.expression(spec.job.schedule),
          target: new LambdaInvoke(fn, { input: scheduler.ScheduleTargetInput.fromObject({}), retryAttempts: 2 }),
          description: `runs the ${spec.job.name} job`,
        });
        Validations.of(this).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
          reason: 'EventBridge Scheduler’s target role may invoke this job function’s versions and aliases (the :* suffix), nothing else.',
        });
      }
    }

    const accessLog = new logs.LogGroup(this, 'ApiAccessLog', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Membership backend HTTP API',
      createDefaultStage: false,
    });
    const stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 2000, burstLimit: 1000 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLog),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    const shopperAuthorizer = new HttpJwtAuthorizer('ShopperJwt', props.shopperJwtIssuer, {
      jwtAudience: [props.shopperJwtAudience],
      identitySource: ['$request.header.Authorization'],
    });
    for (const spec of allFunctions) {
      const fn = this.functions.get(spec.name)!;
      for (const route of spec.routes) {
        const routes = api.addRoutes({
          path: route.path,
          methods: [route.method as apigw.HttpMethod],
          integration: new HttpLambdaIntegration(`${construct(spec.name)}${route.method}Integration`, fn),
          ...(route.auth.kind === 'shopper' ? { authorizer: shopperAuthorizer } : {}),
        });
        if (route.auth.kind !== 'shopper') {
          for (const r of routes) {
            Validations.of(r).acknowledge({
              id: 'AwsSolutions-APIG4',
              reason:
                route.auth.kind === 'public'
                  ? 'Health and the OpenAPI document are public by design.'
                  : route.auth.kind === 'stripe-signature'
                    ? 'Stripe authenticates with an HMAC signature over the raw body, verified in the function.'
                    : 'Service keys with roles are verified in the function (hashed keys in Secrets Manager, constant-time compare) to answer 401/403 as problem+json.',
            });
          }
        }
      }
    }
    alarm('Api5xx', stage.metricServerError({ period: Duration.minutes(5) }), 'HTTP API answered 5xx', 5);
    alarm(
      'StripePayloadRejected',
      new cloudwatch.Metric({
        namespace: 'Membership',
        metricName: MetricNames.stripePayloadRejected,
        dimensionsMap: { service: 'membership' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      'A Stripe event did not match the pinned API version or schema: check the webhook endpoint api_version and the plan catalog',
    );
    // Deliveries Stripe keeps making with a signature we refuse: usually a webhook secret rotated in
    // Stripe but not in Secrets Manager, which silently stops every membership update.
    alarm(
      'StripeSignatureRejected',
      new cloudwatch.Metric({
        namespace: 'Membership',
        metricName: MetricNames.stripeSignatureRejected,
        dimensionsMap: { service: 'membership' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      'Stripe webhook deliveries fail signature verification: check the webhook secret in Secrets Manager',
      10,
    );
    alarm(
      'TableThrottles',
      table.metricThrottledRequestsForOperations({
        operations: [
          dynamodb.Operation.GET_ITEM,
          dynamodb.Operation.QUERY,
          dynamodb.Operation.PUT_ITEM,
          dynamodb.Operation.UPDATE_ITEM,
          dynamodb.Operation.TRANSACT_WRITE_ITEMS,
          dynamodb.Operation.BATCH_WRITE_ITEM,
        ],
        period: Duration.minutes(5),
      }),
      'DynamoDB throttled requests',
    );

    // ---- finance rollups (docs/finance.md, "Rollups"): projection falling behind, figures that differ
    // from a recomputation, and refunds no invoice was found for (they reduce no revenue: someone looks).
    const financeMetric = (metricName: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({ namespace: 'Membership', metricName, dimensionsMap: { service: 'membership' }, statistic, period });
    alarm(
      'RollupsBehind',
      financeMetric(MetricNames.rollupsOwed, 'Minimum', Duration.minutes(15)),
      'Every rollups-settle run for 15 minutes left projections owed: finance figures are falling behind (docs/operations.md)',
    );
    alarm(
      'RollupsDrift',
      financeMetric(MetricNames.rollupsDrift, 'Sum', Duration.days(1)),
      'The monthly rollups-rebuild found stored finance figures that differ from a recomputation: run it with --repair true (docs/operations.md)',
    );
    alarm(
      'UnattributedRefunds',
      financeMetric(MetricNames.unattributedRefunds, 'Sum', Duration.days(1)),
      'Refunds or dispute funds of last month that no invoice was found for: they reduce no revenue until tied (docs/finance.md)',
    );

    // ---- reminders: per-reminder failures do not fail the job run (its Errors alarm means "nothing could
    // be sent"); a reminder given up after its last attempt is a notice that never went out.
    alarm(
      'RemindersGaveUp',
      new cloudwatch.Metric({
        namespace: 'Membership',
        metricName: MetricNames.remindersGaveUp,
        dimensionsMap: { service: 'membership' },
        statistic: 'Sum',
        period: Duration.minutes(15),
      }),
      'A reminder was dropped after its last failed attempt: see lastError in GET /v1/admin/members/{id}/notifications',
    );
    // A no-login cancellation, a withdrawal or a price move the compliance job gave up on: a declaration
    // or a change that did not happen (docs/compliance.md).
    alarm(
      'ComplianceWorkGaveUp',
      new cloudwatch.Metric({
        namespace: 'Membership',
        metricName: MetricNames.complianceWorkGaveUp,
        dimensionsMap: { service: 'membership' },
        statistic: 'Sum',
        period: Duration.minutes(15),
      }),
      'The compliance job gave up on a cancellation, withdrawal or price move after its last attempt: see its lastError in the work item',
    );

    // ---- stripe-sync (docs/stripe-sync.md): drift someone has to look at, more repairs than a quiet
    // day brings (webhooks are missing events), and a replay that has fallen behind Stripe's list.
    const syncMetric = (metricName: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({ namespace: 'Membership', metricName, dimensionsMap: { service: 'membership' }, statistic, period });
    alarm(
      'StripeDriftNeedsReview',
      syncMetric(MetricNames.stripeDriftNeedsReview, 'Sum', Duration.hours(1)),
      'Stripe drift or a refused binding needs review: GET /v1/admin/drift (docs/operations.md)',
    );
    alarm(
      'StripeDriftRepairs',
      syncMetric(MetricNames.stripeDriftRepaired, 'Sum', Duration.hours(6)),
      'The drift sweep repaired many memberships: webhooks are likely failing or misconfigured (docs/operations.md)',
      STRIPE_DRIFT_REPAIRS_ALARM,
    );
    alarm(
      'StripeSyncBehind',
      syncMetric(MetricNames.stripeSyncNewestEventAge, 'Maximum', Duration.hours(1)),
      'The stripe-sync replay is more than two hours behind Stripe’s event list (docs/operations.md)',
      2 * 3600,
    );

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint });
    new CfnOutput(this, 'StripeWebhookUrl', { value: `${api.apiEndpoint}/webhooks/stripe` });
    new CfnOutput(this, 'TableName', { value: table.tableName });
  }

  private buildFunction(
    spec: FunctionSpec,
    environment: Record<string, string>,
    retention: logs.RetentionDays,
    rulesFile: string,
  ): NodejsFunction {
    const id = construct(spec.name);
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention, removalPolicy: RemovalPolicy.DESTROY });
    const fn = new NodejsFunction(this, id, {
      entry: `${projectRoot}${spec.entry}`,
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb ?? 512,
      timeout: Duration.seconds(spec.timeoutSeconds ?? 10),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...environment, ...spec.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        platform: 'node',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        // Bundle the AWS SDK too: pinned versions and tree-shaking beat the runtime's copy.
        externalModules: [],
        // ESM output still has CommonJS dependencies that call require().
        banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        metafile: false,
        logLevel: LogLevel.WARNING,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [
            `cp "${inputDir}/config/plan-catalog.json" "${outputDir}/plan-catalog.json"`,
            `cp "${rulesFile}" "${outputDir}/jurisdictions.json"`,
          ],
        },
      },
    });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
    });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The AWS managed basic execution role only allows writing this function’s CloudWatch Logs.',
    });
    return fn;
  }
}

/** Repairs by the drift sweep in 6 hours that mean "webhooks are failing", not the odd lost event. */
export const STRIPE_DRIFT_REPAIRS_ALARM = 50;

const construct = (name: string) => name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());
