/**
 * The artifact AWS runs: every minified ESM bundle `cdk synth` produced, loaded under Node 24 in a
 * process of its own with the environment the template gives its function, in AWS mode (secrets
 * read from Secrets Manager through the same code as in Lambda, here a local stand-in; DynamoDB Local
 * behind the SDK's own endpoint setting). The checkout's entitlement check, a signed webhook and the
 * reminders job then run through their bundled handlers. Everything else in the suite runs the
 * TypeScript sources; this is what would catch a bundle that does not load or behaves differently.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '#shared/runtime/dynamo';
import { documentClient } from '#shared/storage/dynamodb';
import { jobRunKey } from '#shared/storage/job-runs';
import { keys } from '#shared/storage/keys';
import { ensureTables } from '#shared/storage/tables';
import { allFunctions, type FunctionSpec } from '../../functions/manifest';
import { type EmbeddedDynamo, freePort, startEmbeddedDynamo } from '../../local/dynamodb-local';
import { signPayload, signupEvents } from '../../local/stripe-test-events';
import { type AwsStandIn, startAwsStandIn } from '../support/aws-stand-in';
import { type Synthesized, synthesize } from '../support/synth';

const TABLES = { main: 'smoke-main', idempotency: 'smoke-idempotency' };
const REGION = 'eu-west-1';
const WEBHOOK_SECRET = 'whsec_bundle_smoke_0000000000000000';
const CHECKOUT_KEY = 'ck_bundle_smoke_checkout_key';
const DAY = 86_400;

let synth: Synthesized;
let dynamo: EmbeddedDynamo;
let aws: AwsStandIn;
let work: string;
const secretArns = new Map<string, string>();

const resources = () => synth.template.toJSON().Resources as Record<string, any>;
const logicalIdOf = (spec: FunctionSpec) => synth.stack.getLogicalId(synth.stack.functions.get(spec.name)!.node.defaultChild as never);
const assetDirOf = (spec: FunctionSpec) => {
  const cfn = synth.stack.functions.get(spec.name)!.node.defaultChild as unknown as { code: { s3Key?: string } };
  return join(synth.outdir, `asset.${String(cfn.code.s3Key).replace(/\.zip$/, '')}`);
};

/** The function's environment as the template sets it, its references resolved to the local stand-ins. */
function lambdaEnvironment(spec: FunctionSpec): Record<string, string> {
  const variables = resources()[logicalIdOf(spec)].Properties.Environment.Variables as Record<string, unknown>;
  const resolve = (name: string, value: unknown): string => {
    // Files the bundle carries beside index.mjs, which Lambda finds under /var/task.
    if (typeof value === 'string') return value.startsWith('/var/task/') ? join(assetDirOf(spec), value.slice('/var/task/'.length)) : value;
    const ref = (value as { Ref?: string }).Ref;
    const resource = ref ? resources()[ref] : undefined;
    if (resource?.Type === 'AWS::DynamoDB::Table') return ref!.startsWith('Idempotency') ? TABLES.idempotency : TABLES.main;
    if (resource?.Type === 'AWS::SecretsManager::Secret') return secretArns.get(ref!)!;
    if (resource?.Type === 'AWS::SES::ConfigurationSet') return resource.Properties.Name;
    throw new Error(`${spec.name}: cannot resolve ${name} = ${JSON.stringify(value)}`);
  };
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, resolve(name, value)]));
}

/** Loads the bundle in a fresh Node 24 process as Lambda would, and runs one invocation (none for `null`). */
async function invoke(spec: FunctionSpec, event: unknown): Promise<{ result: any; stdout: string }> {
  const eventFile = join(work, `${spec.name}-${Math.random().toString(36).slice(2)}.json`);
  const outFile = `${eventFile}.out`;
  writeFileSync(eventFile, JSON.stringify(event));
  const timeoutMs = (resources()[logicalIdOf(spec)].Properties.Timeout as number) * 1000;
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_LAMBDA_FUNCTION_NAME: `membership-prod-${spec.name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb ?? 512),
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    LAMBDA_TASK_ROOT: assetDirOf(spec),
    _HANDLER: 'index.handler',
    TZ: ':UTC',
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'smoke',
    AWS_SECRET_ACCESS_KEY: 'smoke',
    AWS_SESSION_TOKEN: 'smoke',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    AWS_ENDPOINT_URL_SESV2: aws.url,
    SMOKE_TIMEOUT_MS: String(timeoutMs),
    ...lambdaEnvironment(spec),
  };
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [join(work, 'invoke.mjs'), join(assetDirOf(spec), 'index.mjs'), eventFile, outFile],
      { env, cwd: assetDirOf(spec), timeout: 60_000 },
      (error, out, err) => (error ? reject(new Error(`${spec.name}: ${error.message}\n${out}\n${err}`)) : resolve(out)),
    ),
  );
  return { result: JSON.parse(readFileSync(outFile, 'utf8')).result, stdout };
}

const DRIVER = `import { readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
const [bundle, eventFile, outFile] = process.argv.slice(2);
const mod = await import(pathToFileURL(bundle).href);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const deadline = Date.now() + Number(process.env.SMOKE_TIMEOUT_MS);
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '1', memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  invokedFunctionArn: 'arn:aws:lambda:${REGION}:123456789012:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME + ':live',
  awsRequestId: randomUUID(), logGroupName: '/aws/lambda/' + process.env.AWS_LAMBDA_FUNCTION_NAME, logStreamName: 'smoke',
  callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => deadline - Date.now(),
};
const result = event === null ? null : await mod.handler(event, context);
writeFileSync(outFile, JSON.stringify({ result }));
`;

function httpEvent(method: string, path: string, body: string, headers: Record<string, string>) {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'smoke',
      domainName: 'smoke.execute-api',
      domainPrefix: 'smoke',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'smoke' },
      requestId: `smoke-${Math.random().toString(36).slice(2)}`,
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

const spec = (name: string) => allFunctions.find((f) => f.name === name)!;

beforeAll(async () => {
  synth = synthesize();
  work = mkdtempSync(join(tmpdir(), 'bundle-smoke-'));
  writeFileSync(join(work, 'invoke.mjs'), DRIVER);
  dynamo = await startEmbeddedDynamo({ port: await freePort() });
  const client = createDynamoClient({ DYNAMODB_ENDPOINT: dynamo.endpoint });
  await ensureTables(client, TABLES);
  client.destroy();
  const values: Record<string, string> = {
    StripeWebhookSecret: WEBHOOK_SECRET,
    StripeApiKey: JSON.stringify({ apiKey: '', portalConfigurationId: '' }),
    ServiceApiKeys: JSON.stringify({ checkout: [createHash('sha256').update(CHECKOUT_KEY).digest('hex')], finance: [], admin: [] }),
    MemberRefKey: 'k'.repeat(64),
  };
  const secrets: Record<string, { name: string; value: string }> = {};
  for (const [id, resource] of Object.entries(resources()).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret')) {
    const arn = `arn:aws:secretsmanager:${REGION}:123456789012:secret:${resource.Properties.Name}-AbCdEf`;
    secretArns.set(id, arn);
    secrets[arn] = { name: resource.Properties.Name, value: values[Object.keys(values).find((k) => id.startsWith(k))!]! };
  }
  aws = await startAwsStandIn(secrets);
}, 300_000);

afterAll(async () => {
  await aws?.close();
  await dynamo?.stop();
});

describe('the synthesized bundles, run as Lambda runs them', () => {
  it('every bundle loads under Node 24 with its function’s environment, in AWS mode', async () => {
    const pending = [...allFunctions];
    const worker = async () => {
      for (let next = pending.shift(); next; next = pending.shift()) expect((await invoke(next, null)).result, next.name).toBeNull();
    };
    await Promise.all([worker(), worker(), worker()]);
  }, 180_000);

  it('a signed webhook, the checkout’s entitlement check and the reminders job work end to end', async () => {
    const memberId = `smoke-${Date.now()}`;
    const start = Math.floor(Date.now() / 1000) - 3600;
    const signup = signupEvents({ memberId, start });
    signup.events[0]!.data.object.customer_details = { email: `${memberId}@acme-retail.net` };
    for (const event of signup.events) {
      const payload = JSON.stringify(event);
      const { result } = await invoke(
        spec('stripe-webhook'),
        httpEvent('POST', '/webhooks/stripe', payload, { 'stripe-signature': signPayload(payload, WEBHOOK_SECRET) }),
      );
      expect(result.statusCode, result.body).toBe(200);
    }
    const bad = await invoke(
      spec('stripe-webhook'),
      httpEvent('POST', '/webhooks/stripe', JSON.stringify(signup.events[1]), {
        'stripe-signature': signPayload('{}', 'whsec_other_000000'),
      }),
    );
    expect(bad.result.statusCode).toBe(400);

    const check = (key: string) =>
      invoke(
        spec('entitlements-check'),
        httpEvent('POST', '/v1/entitlements/check', JSON.stringify({ memberId }), { authorization: `Bearer ${key}` }),
      );
    const ok = await check(CHECKOUT_KEY);
    expect(ok.result.statusCode, ok.result.body).toBe(200);
    expect(JSON.parse(ok.result.body)).toMatchObject({ memberId, entitled: true, status: 'active', planId: 'prime-monthly' });
    // A key nobody holds: 401 problem+json, counted for the 401/403 alarm in this stage's namespace.
    const refused = await check('ck_rolled_on_one_side_only');
    expect(refused.result).toMatchObject({ statusCode: 401, headers: { 'content-type': 'application/problem+json' } });
    const emf = refused.stdout
      .split('\n')
      .filter((l) => l.includes('"HttpProblems"'))
      .map((l) => JSON.parse(l));
    expect(emf).toEqual([
      expect.objectContaining({ routeGroup: 'entitlements-check', statusClass: '4xx', cause: 'unauthorized', HttpProblems: 1 }),
    ]);
    expect(emf[0]._aws.CloudWatchMetrics[0].Namespace).toBe('Membership/prod');

    // The renewal notice is due 7 days before the period ends: the job sends it through SES.
    const asOf = new Date((signup.periodEnd - 6 * DAY) * 1000).toISOString();
    const run = await invoke(spec('reminders'), { asOf });
    expect(run.result).toMatchObject({ sent: 1, failed: 0, senderUnavailable: null });
    const sends = aws.calls.filter((c) => c.api === 'sesv2.SendEmail');
    expect(sends).toHaveLength(1);
    expect(sends[0]!.body).toMatchObject({
      FromEmailAddress: 'noreply@acme-retail.net',
      ConfigurationSetName: 'membership-prod-notices',
      Destination: { ToAddresses: [`${memberId}@acme-retail.net`] },
      Content: { Template: { TemplateName: 'membership-prod-reminder-notice' } },
    });
    const db = documentClient(createDynamoClient({ DYNAMODB_ENDPOINT: dynamo.endpoint }));
    const notes = await db.send(
      new QueryCommand({
        TableName: TABLES.main,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :s)',
        ExpressionAttributeValues: { ':pk': keys.memberPk(memberId), ':s': 'NOTE#S#' },
      }),
    );
    expect(notes.Items).toEqual([expect.objectContaining({ kind: 'renewal_upcoming', channel: 'email' })]);
    const heartbeat = await invoke(spec('reminders'), { heartbeat: 'true' });
    expect(heartbeat.result).toMatchObject({ job: 'reminders', heartbeat: true, minutesSinceSuccess: 0 });
    expect((await db.send(new GetCommand({ TableName: TABLES.main, Key: jobRunKey('reminders') }))).Item?.lastSuccessAt).toBeDefined();

    // Every secret came through Secrets Manager, as in Lambda.
    const read = new Set(aws.calls.filter((c) => c.api.startsWith('secretsmanager.')).map((c) => c.body.SecretId as string));
    for (const name of ['stripe-webhook', 'service-keys', 'member-ref-key'])
      expect(
        [...read].some((arn) => arn.includes(`/${name}-`)),
        name,
      ).toBe(true);
    expect(aws.calls.filter((c) => c.api.startsWith('unknown'))).toEqual([]);
  }, 180_000);
});
