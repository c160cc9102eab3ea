import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps, Tags, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { parseRulesTable } from '#shared/domain/compliance-rules';
import type { RouteSpec } from '#shared/http/types';
import { MetricNames } from '#shared/metric-names';
import { dynamoBudgetEnvironment, dynamoBudgetFor } from '#shared/runtime/budgets';
import { jobRunKey } from '#shared/storage/job-runs';
import { tableDefinitions } from '#shared/storage/tables';
import { STRIPE_API_SECRET_TEMPLATE } from '#shared/stripe/settings';
import { allFunctions, type FunctionSpec, type RouteThrottle } from '../functions/manifest';
import { IDEMPOTENCY_ACTIONS, INDEX_ACCESS, TABLE_ACTIONS } from './access';
import { ESBUILD_OPTIONS } from './bundling';
import { Monitoring } from './monitoring';
import { ReminderDelivery } from './reminder-delivery';
import { HEARTBEAT_CHECK, heartbeatMinutes } from './schedules';
import { type MembershipStackSettings, namePrefixOf } from './settings';

export { IDEMPOTENCY_ACTIONS, INDEX_ACCESS, TABLE_ACTIONS } from './access';
export type { MembershipStackSettings } from './settings';
export { stackSettingsFromContext } from './settings';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** API Gateway throttles per route when the manifest names none, by who calls the route. */
export const DEFAULT_THROTTLES: Record<RouteSpec['auth']['kind'], RouteThrottle> = {
  public: { rateLimit: 50, burstLimit: 100 },
  'stripe-signature': { rateLimit: 200, burstLimit: 400 },
  // Finance and operators; the checkout's routes name their own (functions/manifest.ts).
  service: { rateLimit: 50, burstLimit: 100 },
  shopper: { rateLimit: 1000, burstLimit: 2000 },
};

/** Alarm thresholds an operator would otherwise have to guess (docs/operations.md explains each). */
const THRESHOLDS = {
  /** 5xx answers of one route group in 5 minutes. */
  routeGroup5xx: 5,
  /** 401 and 403 answers of one route group in 5 minutes: a service key rolled on one side only. */
  authRejected: 50,
  /** Share of webhook deliveries refused (signature or payload) over 15 minutes, with at least 10 deliveries. */
  webhookRejectedRate: 0.05,
  /** Share of processed events that name no member over an hour, with at least 20 events. */
  webhookUnattributedRate: 0.5,
  /** SES reputation: AWS reviews an account at 5% bounces and 0.1% complaints. */
  sesBounceRate: 0.04,
  sesComplaintRate: 0.0008,
  /** Repairs by the drift sweep in 6 hours that mean "webhooks are failing", not the odd lost event. */
  stripeDriftRepairs: 50,
  /** Age of the newest event the stripe-sync replay has seen. */
  stripeSyncBehindSeconds: 2 * 3600,
};

const construct = (name: string) => name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());

/**
 * Everything in AWS for one stage: the single table and the idempotency table, one NodejsFunction per
 * entry of functions/manifest.ts (its own role with exactly the actions its `access` lists, a `live`
 * alias API Gateway and the schedules call, a canary deployment for the checkout path), the HTTP API
 * with a throttle per route, EventBridge schedules with dead-letter queues and heartbeats, secrets,
 * alarms that reach someone and one dashboard. Nothing here names a function: new manifest entries
 * get all of it.
 */
export class MembershipStack extends Stack {
  readonly functions = new Map<string, NodejsFunction>();
  readonly aliases = new Map<string, lambda.Alias>();
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: MembershipStackSettings & StackProps) {
    super(scope, id, props);
    const prefix = namePrefixOf(props.stage);
    const namespace = `Membership/${props.stage}`;
    Tags.of(this).add('service', 'membership');
    Tags.of(this).add('stage', props.stage);

    // Reminders first: bad reminder settings fail synth before any function is bundled.
    const reminderDelivery = new ReminderDelivery(this, 'ReminderDelivery', props.reminders, { prefix });
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

    // Values are set by the operator after the first deploy (docs/operations.md); never in code. The
    // secrets outlive the stack: deleting a stage must not delete the live Stripe key with it.
    const secretNote = (what: string) => `${what}. Set the value with aws secretsmanager put-secret-value; see docs/operations.md.`;
    const secret = (cid: string, name: string, props: secretsmanager.SecretProps) =>
      new secretsmanager.Secret(this, cid, { secretName: `${prefix}/${name}`, removalPolicy: RemovalPolicy.RETAIN, ...props });
    const secrets = {
      'secret:stripe-webhook': secret('StripeWebhookSecret', 'stripe-webhook', {
        description: secretNote('Stripe webhook signing secret(s), whsec_..., comma separated during a roll'),
      }),
      // Created as a JSON template with an empty key, which the functions read as "not set" (503):
      // a generated value would reach Stripe as a key and come back as 401 (shared/stripe/settings.ts).
      'secret:stripe-api': secret('StripeApiKey', 'stripe-api', {
        description: secretNote(
          'Stripe account: {"apiKey":"rk_live_...","portalConfigurationId":"bpc_..."}; an empty apiKey means payments are off',
        ),
        secretObjectValue: Object.fromEntries(
          Object.entries(STRIPE_API_SECRET_TEMPLATE).map(([k, v]) => [k, SecretValue.unsafePlainText(v)]),
        ),
      }),
      // Created with no keys: every service call is refused (401) until the operator adds hashes,
      // instead of a generated value that parses as nothing and fails every call with 500.
      'secret:service-keys': secret('ServiceApiKeys', 'service-keys', {
        description: secretNote('Service keys as SHA-256 hashes: {"checkout":["<hex>"],"finance":[...],"admin":[...]}'),
        secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ checkout: [], finance: [], admin: [] })),
      }),
      // Generated once and never shown: it only keys the log pseudonym memberRef (shared/member-ref.ts).
      'secret:member-ref': secret('MemberRefKey', 'member-ref-key', {
        description: 'Key of the memberRef log pseudonym (HMAC); generated, never set by hand. Rolling it changes every memberRef.',
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
      }),
    } as const;
    const secretVariable: Record<keyof typeof secrets, string> = {
      'secret:stripe-webhook': 'STRIPE_WEBHOOK_SECRET_ARN',
      'secret:stripe-api': 'STRIPE_SECRET_KEY_ARN',
      'secret:service-keys': 'SERVICE_API_KEYS_SECRET_ARN',
      'secret:member-ref': 'MEMBER_REF_KEY_ARN',
    };
    for (const s of Object.values(secrets)) {
      Validations.of(s).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Stripe secrets are rolled in the Stripe dashboard and service keys by the operator, both accepting two values during a roll; the memberRef key is rolled by hand (docs/operations.md). No rotation Lambda.',
      });
    }

    const monitoring = new Monitoring(this, 'Monitoring', { prefix, alarmEmail: props.alarmEmail, namespace });
    this.monitoring = monitoring;
    // Without alarmEmail (allowed outside production only) alarms still fire and show on the dashboard;
    // subscribe to the topic by hand to receive them.
    const { alarm, appMetric } = { alarm: monitoring.alarm.bind(monitoring), appMetric: monitoring.appMetric.bind(monitoring) };

    const baseEnvironment: Record<string, string> = {
      TABLE_NAME: table.tableName,
      IDEMPOTENCY_TABLE_NAME: idempotencyTable.tableName,
      PLAN_CATALOG_FILE: '/var/task/plan-catalog.json',
      JURISDICTION_RULES_FILE: '/var/task/jurisdictions.json',
      POWERTOOLS_SERVICE_NAME: 'membership',
      // Per stage: two stages in one account must not add up in one metric (and alarm).
      POWERTOOLS_METRICS_NAMESPACE: namespace,
      NODE_OPTIONS: '--enable-source-maps',
      SHOP_ORIGINS: props.shopOrigins.join(','),
    };

    const application = new codedeploy.LambdaApplication(this, 'CheckoutDeployments', { applicationName: `${prefix}-checkout` });
    const jobQueues = new Map<string, sqs.Queue>();

    for (const spec of allFunctions) {
      const cid = construct(spec.name);
      const fn = this.buildFunction(spec, prefix, baseEnvironment, props, rulesFile);
      this.functions.set(spec.name, fn);
      this.grant(spec, fn, { table, idempotencyTable, secrets, secretVariable, reminderDelivery });

      // Every deploy publishes a version; `live` is what API Gateway and the schedules call, so a
      // rollback is pointing `live` at the version before (docs/operations.md#roll-back).
      const alias = new lambda.Alias(this, `${cid}Live`, { aliasName: 'live', version: fn.currentVersion });
      this.aliases.set(spec.name, alias);

      alarm(`${cid}Errors`, {
        metric: fn.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        description: `${spec.name}: invocations that crashed or timed out`,
      });
      // A function with concurrency of its own is throttled alone (its reservation is too small); the
      // others share the account's pool, so one account-wide alarm below covers them (the dashboard
      // shows which), which also keeps the stack under CloudFormation's 500 resources.
      if (spec.reservedConcurrency)
        alarm(`${cid}Throttles`, {
          metric: fn.metricThrottles({ period: Duration.minutes(5) }),
          threshold: 1,
          description: `${spec.name}: invocations refused beyond its reserved concurrency`,
        });

      if (spec.checkoutPath) {
        // The checkout's functions shift to a new version 10% at a time for five minutes; errors or
        // 5xx answers on the alias roll the deployment back by themselves.
        const deployErrors = alarm(`${cid}DeployErrors`, {
          metric: alias.metricErrors({ period: Duration.minutes(1) }),
          threshold: 1,
          description: `${spec.name}: errors during a deployment (rolls it back)`,
        });
        const deploy5xx = alarm(`${cid}Deploy5xx`, {
          metric: appMetric('HttpProblems', { routeGroup: spec.name, statusClass: '5xx' }, { period: Duration.minutes(1) }),
          threshold: 3,
          description: `${spec.name}: 5xx answers during a deployment (rolls it back)`,
        });
        const group = new codedeploy.LambdaDeploymentGroup(this, `${cid}Deployment`, {
          application,
          alias,
          deploymentGroupName: `${prefix}-${spec.name}`,
          deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
          alarms: [deployErrors, deploy5xx],
        });
        Validations.of(group.role).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
          reason:
            'AWS’s own least-privilege policy for CodeDeploy shifting a Lambda alias between versions (GetAlias, UpdateAlias, DescribeAlarms).',
        });
      }

      if (spec.job) jobQueues.set(spec.job.name, this.schedule(spec, alias, prefix, monitoring));
    }

    // ---- the HTTP API: one route per manifest route, to the function's `live` alias.
    const accessLog = new logs.LogGroup(this, 'ApiAccessLog', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const api = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `${prefix}-api`,
      description: `Membership backend HTTP API (${props.stage})`,
      createDefaultStage: false,
    });
    const stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      // Routes get their own throttles below; this only caps a route the manifest somehow lacks.
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
    const cfnStage = stage.node.defaultChild as apigw.CfnStage;
    const routeSettings: Record<string, Record<string, unknown>> = {};
    for (const spec of allFunctions.filter((f) => f.routes.length > 0)) {
      const alias = this.aliases.get(spec.name)!;
      // One integration and one invoke permission per function, shared by its routes: a CloudFormation
      // stack holds at most 500 resources, and two per extra route (integration, permission) was what
      // pushed it over when the gift routes came. The permission names this API (any of its routes):
      // API Gateway still only calls the integration a route names, and the function checks the route.
      const integration = new HttpLambdaIntegration(`${construct(spec.name)}Integration`, alias, {
        // API Gateway never waits longer than the function may run.
        timeout: Duration.seconds(Math.min(29, (spec.timeoutSeconds ?? 10) + 1)),
        scopePermissionToRoute: spec.routes.length === 1,
      });
      for (const route of spec.routes) {
        const routes = api.addRoutes({
          path: route.path,
          methods: [route.method as apigw.HttpMethod],
          integration,
          ...(route.auth.kind === 'shopper' ? { authorizer: shopperAuthorizer } : {}),
        });
        const throttle = spec.throttle ?? DEFAULT_THROTTLES[route.auth.kind];
        routeSettings[`${route.method} ${route.path}`] = {
          ThrottlingRateLimit: throttle.rateLimit,
          ThrottlingBurstLimit: throttle.burstLimit,
          // Per-route Latency, Count, 4xx and 5xx for the checkout's routes (the p99 alarm reads these).
          DetailedMetricsEnabled: spec.checkoutPath === true,
        };
        for (const r of routes) {
          // A route's settings name the route: the stage is deployed after it.
          cfnStage.node.addDependency(r);
          if (route.auth.kind !== 'shopper') {
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
    cfnStage.routeSettings = routeSettings;

    // ---- alarms per route group (the edge's HttpProblems metric, shared/http/metrics.ts).
    const checkoutLatency: cloudwatch.IMetric[] = [];
    for (const spec of allFunctions.filter((f) => f.routes.length > 0)) {
      const cid = construct(spec.name);
      alarm(`${cid}5xx`, {
        metric: appMetric('HttpProblems', { routeGroup: spec.name, statusClass: '5xx' }),
        threshold: THRESHOLDS.routeGroup5xx,
        description: `${spec.name}: 5xx answers (the cause is in the HttpProblems metric's cause dimension and the error log)`,
      });
      if (spec.routes.some((r) => r.auth.kind === 'service')) {
        alarm(`${cid}AuthRejected`, {
          metric: new cloudwatch.MathExpression({
            expression: 'FILL(unauthorized, 0) + FILL(forbidden, 0)',
            usingMetrics: {
              unauthorized: appMetric('HttpProblems', { routeGroup: spec.name, cause: 'unauthorized' }),
              forbidden: appMetric('HttpProblems', { routeGroup: spec.name, cause: 'forbidden' }),
            },
            period: Duration.minutes(5),
            label: `${spec.name} 401+403`,
          }),
          threshold: THRESHOLDS.authRejected,
          description: `${spec.name}: a surge of 401/403 answers; usually a service key rolled on one side only (every call refused)`,
        });
      }
      if (spec.checkoutPath) {
        for (const route of spec.routes) {
          const latency = new cloudwatch.Metric({
            namespace: 'AWS/ApiGateway',
            metricName: 'Latency',
            dimensionsMap: { ApiId: api.apiId, Stage: '$default', Method: route.method, Resource: route.path },
            statistic: 'p99',
            period: Duration.minutes(5),
            label: `${route.method} ${route.path} p99`,
          });
          checkoutLatency.push(latency);
          alarm(`${cid}${route.method}${construct(route.path.replace(/[{}/]/g, '-'))}LatencyP99`, {
            metric: latency,
            threshold: props.checkoutP99Ms,
            evaluationPeriods: 3,
            datapointsToAlarm: 3,
            comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description: `${route.method} ${route.path}: p99 latency above ${props.checkoutP99Ms} ms for 15 minutes (the checkout waits on it)`,
          });
        }
      }
    }

    // ---- service-wide alarms.
    alarm('Api5xx', {
      metric: stage.metricServerError({ period: Duration.minutes(5) }),
      threshold: 5,
      description: 'HTTP API answered 5xx (including answers API Gateway gives itself, e.g. an integration timeout)',
    });
    const stripe = (name: string, period = Duration.minutes(5)) => appMetric(name, {}, { period });
    alarm('StripePayloadRejected', {
      metric: stripe(MetricNames.stripePayloadRejected),
      threshold: 1,
      description:
        'A Stripe event did not match the pinned API version or schema: check the webhook endpoint api_version and the plan catalog',
    });
    // Deliveries Stripe keeps making with a signature we refuse: usually a webhook secret rotated in
    // Stripe but not in Secrets Manager, which silently stops every membership update.
    alarm('StripeSignatureRejected', {
      metric: stripe(MetricNames.stripeSignatureRejected),
      threshold: 10,
      description: 'Stripe webhook deliveries fail signature verification: check the webhook secret in Secrets Manager',
    });
    const quarter = Duration.minutes(15);
    alarm('WebhookRejectedRate', {
      metric: new cloudwatch.MathExpression({
        expression: 'IF(total >= 10, (FILL(sig, 0) + FILL(payload, 0)) / total, 0)',
        usingMetrics: {
          sig: stripe(MetricNames.stripeSignatureRejected, quarter),
          payload: stripe(MetricNames.stripePayloadRejected, quarter),
          total: new cloudwatch.MathExpression({
            expression: 'FILL(processed, 0) + FILL(unattributed, 0) + FILL(sig2, 0) + FILL(payload2, 0)',
            usingMetrics: {
              processed: stripe(MetricNames.stripeEventProcessed, quarter),
              unattributed: stripe(MetricNames.stripeEventUnattributed, quarter),
              sig2: stripe(MetricNames.stripeSignatureRejected, quarter),
              payload2: stripe(MetricNames.stripePayloadRejected, quarter),
            },
            period: quarter,
          }),
        },
        period: quarter,
        label: 'share of webhook deliveries refused',
      }),
      threshold: THRESHOLDS.webhookRejectedRate,
      description: `More than ${THRESHOLDS.webhookRejectedRate * 100}% of Stripe deliveries refused (signature or payload) over 15 minutes`,
    });
    const hour = Duration.hours(1);
    alarm('WebhookUnattributedRate', {
      metric: new cloudwatch.MathExpression({
        expression:
          'IF(FILL(processed, 0) + FILL(unattributed, 0) >= 20, FILL(unattributed, 0) / (FILL(processed, 0) + FILL(unattributed, 0)), 0)',
        usingMetrics: {
          processed: stripe(MetricNames.stripeEventProcessed, hour),
          unattributed: stripe(MetricNames.stripeEventUnattributed, hour),
        },
        period: hour,
        label: 'share of Stripe events that name no member',
      }),
      threshold: THRESHOLDS.webhookUnattributedRate,
      description:
        'Most Stripe events name no member: Checkout sessions created without client_reference_id/metadata, or customers never linked (memberships would not update)',
    });
    alarm('LambdaThrottles', {
      metric: new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Throttles', statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: 1,
      description: 'Lambda invocations refused for lack of concurrency in this account and region (the dashboard shows which function)',
    });
    alarm('TableThrottles', {
      metric: table.metricThrottledRequestsForOperations({
        operations: [
          dynamodb.Operation.GET_ITEM,
          dynamodb.Operation.QUERY,
          dynamodb.Operation.PUT_ITEM,
          dynamodb.Operation.UPDATE_ITEM,
          dynamodb.Operation.TRANSACT_WRITE_ITEMS,
          dynamodb.Operation.BATCH_GET_ITEM,
        ],
        period: Duration.minutes(5),
      }),
      threshold: 1,
      description: 'DynamoDB throttled requests',
    });
    // Per-reminder failures do not fail the job run (its Errors alarm means "nothing could be sent");
    // a reminder given up after its last attempt is a notice that never went out.
    alarm('RemindersGaveUp', {
      metric: appMetric(MetricNames.remindersGaveUp, {}, { period: Duration.minutes(15) }),
      threshold: 1,
      description: 'A reminder was dropped after its last failed attempt: see lastError in GET /v1/admin/members/{id}/notifications',
    });
    // A no-login cancellation, a withdrawal or a price move the compliance job gave up on: a declaration
    // or a change that did not happen (docs/compliance.md).
    alarm('ComplianceWorkGaveUp', {
      metric: appMetric(MetricNames.complianceWorkGaveUp, {}, { period: Duration.minutes(15) }),
      threshold: 1,
      description:
        'The compliance job gave up on a cancellation, withdrawal or price move after its last attempt: see its lastError in the work item',
    });

    // Finance rollups (docs/finance.md, "Rollups"): projection falling behind, figures that differ from
    // a recomputation, and refunds no invoice was found for (they reduce no revenue: someone looks).
    alarm('RollupsBehind', {
      metric: appMetric(MetricNames.rollupsOwed, {}, { statistic: 'Minimum', period: Duration.minutes(15) }),
      threshold: 1,
      description: 'Every rollups-settle run for 15 minutes left projections owed: finance figures are falling behind (docs/operations.md)',
    });
    alarm('RollupsDrift', {
      metric: appMetric(MetricNames.rollupsDrift, {}, { period: Duration.days(1) }),
      threshold: 1,
      description:
        'The monthly rollups-rebuild found stored finance figures that differ from a recomputation: run it with --repair true (docs/operations.md)',
    });
    alarm('UnattributedRefunds', {
      metric: appMetric(MetricNames.unattributedRefunds, {}, { period: Duration.days(1) }),
      threshold: 1,
      description:
        'Refunds or dispute funds of last month that no invoice was found for: they reduce no revenue until tied (docs/finance.md)',
    });

    // Stripe sync (docs/stripe-sync.md): drift someone has to look at, more repairs than a quiet day
    // brings (webhooks are missing events), and a replay that has fallen behind Stripe's list.
    alarm('StripeDriftNeedsReview', {
      metric: appMetric(MetricNames.stripeDriftNeedsReview, {}, { period: Duration.hours(1) }),
      threshold: 1,
      description: 'Stripe drift or a refused binding needs review: GET /v1/admin/drift (docs/operations.md)',
    });
    alarm('StripeDriftRepairs', {
      metric: appMetric(MetricNames.stripeDriftRepaired, {}, { period: Duration.hours(6) }),
      threshold: THRESHOLDS.stripeDriftRepairs,
      description: 'The drift sweep repaired many memberships: webhooks are likely failing or misconfigured (docs/operations.md)',
    });
    alarm('StripeSyncBehind', {
      metric: appMetric(MetricNames.stripeSyncNewestEventAge, {}, { statistic: 'Maximum', period: Duration.hours(1) }),
      threshold: THRESHOLDS.stripeSyncBehindSeconds,
      description: 'The stripe-sync replay is more than two hours behind Stripe’s event list (docs/operations.md)',
    });

    if (allFunctions.some((f) => f.access.includes('ses:send'))) {
      const reputation = (metricName: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/SES', metricName, statistic: 'Maximum', period: Duration.minutes(15) });
      alarm('SesBounceRate', {
        metric: reputation('Reputation.BounceRate'),
        threshold: THRESHOLDS.sesBounceRate,
        description: 'SES bounce rate of the account near the 5% at which AWS reviews (and may pause) sending',
      });
      alarm('SesComplaintRate', {
        metric: reputation('Reputation.ComplaintRate'),
        threshold: THRESHOLDS.sesComplaintRate,
        description: 'SES complaint rate of the account near the 0.1% at which AWS reviews (and may pause) sending',
      });
    }

    this.dashboard(prefix, props, api, checkoutLatency, jobQueues, table);

    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint });
    new CfnOutput(this, 'StripeWebhookUrl', { value: `${api.apiEndpoint}/webhooks/stripe` });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: prefix });
    for (const [access, s] of Object.entries(secrets))
      new CfnOutput(this, `${construct(access.replace('secret:', ''))}SecretName`, { value: s.secretName });
  }

  private buildFunction(
    spec: FunctionSpec,
    prefix: string,
    environment: Record<string, string>,
    props: MembershipStackSettings,
    rulesFile: string,
  ): NodejsFunction {
    const id = construct(spec.name);
    const functionName = `${prefix}-${spec.name}`;
    const timeoutSeconds = spec.timeoutSeconds ?? 10;
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role of its own: logs to its own log group only (no managed policy), and below exactly what
    // its manifest entry lists.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${functionName}: exactly what functions/manifest.ts lists for it`,
    });
    logGroup.grantWrite(role);
    const dynamoBudget = dynamoBudgetFor({ timeoutSeconds, checkoutPath: spec.checkoutPath === true, job: spec.job !== undefined });
    const fn = new NodejsFunction(this, id, {
      functionName,
      entry: `${projectRoot}${spec.entry}`,
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      handler: 'handler',
      role,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb ?? 512,
      timeout: Duration.seconds(timeoutSeconds),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...(props.reserveConcurrency && spec.reservedConcurrency ? { reservedConcurrentExecutions: spec.reservedConcurrency } : {}),
      environment: {
        ...environment,
        // The route group of the edge's metrics, and the client budgets for this function's timeout.
        ROUTE_GROUP: spec.name,
        ...dynamoBudgetEnvironment(dynamoBudget),
        ...spec.environment,
      },
      currentVersionOptions: {
        removalPolicy: RemovalPolicy.RETAIN,
        description: `${functionName}: a version API Gateway may be rolled back to`,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: ESBUILD_OPTIONS.target,
        platform: ESBUILD_OPTIONS.platform,
        minify: ESBUILD_OPTIONS.minify,
        sourceMap: true,
        sourcesContent: false,
        mainFields: [...ESBUILD_OPTIONS.mainFields],
        // Bundle the AWS SDK too: pinned versions and tree-shaking beat the runtime's copy.
        externalModules: [],
        banner: ESBUILD_OPTIONS.banner,
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
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup)}.Arn>:*]`,
      reason: 'Log streams of this function’s own log group (the group’s ARN with :*), nothing else.',
    });
    return fn;
  }

  /** Exact actions on exact resources for each kind of access the manifest lists. */
  private grant(
    spec: FunctionSpec,
    fn: NodejsFunction,
    r: {
      table: dynamodb.Table;
      idempotencyTable: dynamodb.Table;
      secrets: Record<'secret:stripe-webhook' | 'secret:stripe-api' | 'secret:service-keys' | 'secret:member-ref', secretsmanager.Secret>;
      secretVariable: Record<string, string>;
      reminderDelivery: ReminderDelivery;
    },
  ) {
    const tableActions = new Set<string>();
    for (const access of spec.access) {
      if (access in TABLE_ACTIONS) for (const a of TABLE_ACTIONS[access as keyof typeof TABLE_ACTIONS]) tableActions.add(a);
      if (access in INDEX_ACCESS) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:Query'],
            resources: [`${r.table.tableArn}/index/${INDEX_ACCESS[access as keyof typeof INDEX_ACCESS]}`],
          }),
        );
      }
      if (access === 'idempotency:write') {
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: IDEMPOTENCY_ACTIONS, resources: [r.idempotencyTable.tableArn] }));
      }
      if (access in r.secrets) {
        const key = access as keyof typeof r.secrets;
        r.secrets[key].grantRead(fn);
        fn.addEnvironment(r.secretVariable[key]!, r.secrets[key].secretArn);
      }
      if (access === 'ses:send') r.reminderDelivery.bind(fn);
    }
    if (tableActions.size)
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...tableActions].sort(), resources: [r.table.tableArn] }));
    if (spec.job) {
      // Every job records its successful runs (shared/jobs/handler.ts): only its own item.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:UpdateItem'],
          resources: [r.table.tableArn],
          conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [jobRunKey(spec.job.name).PK] } },
        }),
      );
    }
  }

  /**
   * A job's schedule and its heartbeat check, both on the `live` alias, with a dead-letter queue:
   * what Scheduler cannot deliver, and runs that still fail after Lambda's retries, land there and
   * alarm. The heartbeat alarm fires when no run succeeded for the job's window, or when the check
   * itself stops reporting.
   */
  private schedule(spec: FunctionSpec, alias: lambda.Alias, prefix: string, monitoring: Monitoring): sqs.Queue {
    const job = spec.job!;
    const cid = construct(spec.name);
    const dlq = new sqs.Queue(this, `${cid}DeadLetters`, {
      queueName: `${prefix}-${job.name}-dlq`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(dlq).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the job’s schedule.' });
    // Scheduler invokes asynchronously: a run that throws is retried by Lambda, then sent here.
    alias.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1), onFailure: new SqsDestination(dlq) });
    const target = (input: Record<string, string>) =>
      new LambdaInvoke(alias, {
        input: scheduler.ScheduleTargetInput.fromObject(input),
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: dlq,
      });
    new scheduler.Schedule(this, `${cid}Schedule`, {
      scheduleName: `${prefix}-${job.name}`,
      schedule: scheduler.ScheduleExpression.expression(job.schedule),
      target: target({}),
      description: `runs the ${job.name} job`,
    });
    new scheduler.Schedule(this, `${cid}HeartbeatSchedule`, {
      scheduleName: `${prefix}-${job.name}-heartbeat`,
      schedule: scheduler.ScheduleExpression.expression(HEARTBEAT_CHECK),
      target: target({ heartbeat: 'true' }),
      description: `asks the ${job.name} job how long ago it last succeeded`,
    });
    monitoring.alarm(`${cid}DeadLetters`, {
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      description: `${job.name}: a scheduled run could not be delivered or failed after its retries (see the queue ${prefix}-${job.name}-dlq)`,
    });
    const window = heartbeatMinutes(job);
    monitoring.alarm(`${cid}Heartbeat`, {
      metric: monitoring.appMetric(
        MetricNames.jobMinutesSinceSuccess,
        { job: job.name },
        { statistic: 'Maximum', period: Duration.hours(1) },
      ),
      threshold: window,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      missing: cloudwatch.TreatMissingData.BREACHING,
      description: `${job.name}: no successful run in ${window} minutes (or the heartbeat check itself stopped reporting)`,
    });
    return dlq;
  }

  private dashboard(
    prefix: string,
    props: MembershipStackSettings,
    api: apigw.HttpApi,
    checkoutLatency: cloudwatch.IMetric[],
    jobQueues: Map<string, sqs.Queue>,
    table: dynamodb.Table,
  ) {
    const m = this.monitoring;
    const namespace = `Membership/${props.stage}`;
    const search = (expression: string, label: string, period = 300) =>
      new cloudwatch.MathExpression({ expression: `SEARCH('${expression}', 'Sum', ${period})`, label, period: Duration.seconds(period) });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 12) => new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    const apiMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: api.apiId, Stage: '$default' },
        statistic,
        period: Duration.minutes(5),
      });
    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: prefix,
      defaultInterval: Duration.hours(6),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: `# Membership backend — ${props.stage}\nEvery alarm, what it means and what to do: docs/operations.md ("Alarms"). Alarms go to ${props.alarmEmail || '(no subscriber)'}.`,
            width: 24,
            height: 2,
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: m.alarms, width: 24, height: 6 })],
        [
          graph('API: requests, 4xx, 5xx', [apiMetric('Count', 'Sum'), apiMetric('4xx', 'Sum'), apiMetric('5xx', 'Sum')]),
          graph('Checkout path: p99 latency (ms)', checkoutLatency),
        ],
        [
          graph('5xx per route group (HttpProblems)', [
            search(`{${namespace},service,routeGroup,statusClass} MetricName="HttpProblems" statusClass="5xx"`, '5xx'),
          ]),
          graph('Problems per cause (HttpProblems)', [
            search(`{${namespace},service,routeGroup,cause} MetricName="HttpProblems"`, 'problems'),
          ]),
        ],
        [
          graph('Stripe webhook', [
            m.appMetric(MetricNames.stripeEventProcessed),
            m.appMetric(MetricNames.stripeEventUnattributed),
            m.appMetric(MetricNames.stripeSignatureRejected),
            m.appMetric(MetricNames.stripePayloadRejected),
          ]),
          graph('Jobs: minutes since the last successful run', [
            ...[...jobQueues.keys()].map((job) =>
              m.appMetric(MetricNames.jobMinutesSinceSuccess, { job }, { statistic: 'Maximum', period: Duration.hours(1) }),
            ),
          ]),
        ],
        [
          graph('Scheduled runs in dead-letter queues', [
            ...[...jobQueues.values()].map((q) => q.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' })),
          ]),
          graph('Reminders', [
            m.appMetric(MetricNames.remindersSent, {}, { period: Duration.minutes(15) }),
            m.appMetric(MetricNames.remindersFailed, {}, { period: Duration.minutes(15) }),
            m.appMetric(MetricNames.remindersGaveUp, {}, { period: Duration.minutes(15) }),
          ]),
        ],
        [
          graph('Lambda: errors and throttles', [
            search(`{AWS/Lambda,FunctionName} MetricName="Errors" FunctionName="${prefix}-"`, 'errors'),
            search(`{AWS/Lambda,FunctionName} MetricName="Throttles" FunctionName="${prefix}-"`, 'throttles'),
          ]),
          graph('Lambda: concurrent executions', [
            new cloudwatch.MathExpression({
              expression: `SEARCH('{AWS/Lambda,FunctionName} MetricName="ConcurrentExecutions" FunctionName="${prefix}-"', 'Maximum', 60)`,
              label: 'concurrency',
              period: Duration.minutes(1),
            }),
          ]),
        ],
        [
          graph('DynamoDB: throttled requests and latency', [
            table.metricThrottledRequestsForOperations({ operations: [dynamodb.Operation.QUERY, dynamodb.Operation.TRANSACT_WRITE_ITEMS] }),
            table.metricSuccessfulRequestLatency({ dimensionsMap: { TableName: table.tableName, Operation: 'Query' }, statistic: 'p99' }),
          ]),
          graph('SES reputation', [
            new cloudwatch.Metric({ namespace: 'AWS/SES', metricName: 'Reputation.BounceRate', statistic: 'Maximum' }),
            new cloudwatch.Metric({ namespace: 'AWS/SES', metricName: 'Reputation.ComplaintRate', statistic: 'Maximum' }),
          ]),
        ],
      ],
    });
  }
}

/** For tests and docs: the alarm thresholds in force. */
export const ALARM_THRESHOLDS = THRESHOLDS;
