/**
 * Entitlement check through the full Lambda handler (auth, validation, one Query, evaluation, JSON)
 * vs a bare GetItem of the same membership item, same DynamoDB Local, same process, interleaved so
 * machine noise hits both sides alike. Goal: p50 and p99 ratio ≤ 1.15.
 */
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import type { HttpEvent, HttpLambda } from '#shared/http/types';
import { type BenchContext, fmt, percentile, ratio } from './context';

const ITERATIONS = 3000;
const WARMUP = 300;

export function apiEvent(path: string, body: unknown, authorization: string): HttpEvent {
  return {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', authorization },
    requestContext: {
      accountId: 'bench',
      apiId: 'bench',
      domainName: 'bench',
      domainPrefix: 'bench',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: 'bench',
      routeKey: `POST ${path}`,
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

export const benchContext = { getRemainingTimeInMillis: () => 10_000, functionName: 'bench', awsRequestId: 'bench' } as unknown as Context;

export async function run(ctx: BenchContext & { memberId: string }) {
  const { handler } = (await import('../functions/http/entitlements-check')) as { handler: HttpLambda };
  const { dynamo } = await import('#shared/runtime/dynamo');
  const { keys } = await import('#shared/storage/keys');
  const { client, tables } = dynamo();
  const event = apiEvent(
    '/v1/entitlements/check',
    { memberId: ctx.memberId, order: { subtotalCents: 4200, currency: 'usd', serviceLevel: 'two-day' } },
    'Bearer ck_local_checkout_key',
  );
  const getItem = new GetItemCommand({
    TableName: tables.main,
    Key: { PK: { S: keys.memberPk(ctx.memberId) }, SK: { S: keys.membershipSk } },
  });

  // The bare Query of the same item collection separates the handler's own cost from the price of a
  // Query over a GetItem, which DynamoDB Local charges (~10%) and the checkout needs for the grants.
  const query = new QueryCommand({
    TableName: tables.main,
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
    ExpressionAttributeValues: { ':pk': { S: keys.memberPk(ctx.memberId) }, ':prefix': { S: keys.entitlementPrefix } },
  });
  const sides = {
    full: async () => {
      const res = await handler(event, benchContext);
      if (res.statusCode !== 200 || !String(res.body).includes('"entitled":true'))
        throw new Error(`unexpected answer ${res.statusCode} ${res.body}`);
    },
    getItem: async () => void (await client.send(getItem)),
    query: async () => void (await client.send(query)),
  };
  const samples: Record<keyof typeof sides, number[]> = { full: [], getItem: [], query: [] };
  const names = Object.keys(sides) as Array<keyof typeof sides>;
  for (let i = 0; i < ITERATIONS + WARMUP; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]!;
      const t0 = performance.now();
      await sides[name]();
      if (i >= WARMUP) samples[name].push(performance.now() - t0);
    }
  }
  const p = (name: keyof typeof sides, q: number) => percentile(samples[name], q);
  ctx.log(`entitlement check (full handler) vs bare GetItem of the membership item, ${ITERATIONS} rotated calls each`);
  for (const q of [50, 99]) {
    ctx.log(
      `  p${q}: handler ${fmt(p('full', q))} vs GetItem ${fmt(p('getItem', q))}  ratio ${ratio(p('full', q), p('getItem', q))}  (goal ≤ 1.15)`,
    );
    ctx.log(
      `        bare Query ${fmt(p('query', q))}: Query/GetItem ${ratio(p('query', q), p('getItem', q))}, handler/Query ${ratio(p('full', q), p('query', q))}`,
    );
  }

  // The handler's own work, without the database: the same client answers from memory with the item
  // DynamoDB Local returned, so auth, validation, unmarshalling, evaluation and JSON are all that is left.
  const recorded = await client.send(query);
  const realSend = client.send.bind(client);
  (client as unknown as { send: () => Promise<unknown> }).send = async () => recorded;
  try {
    for (let i = 0; i < WARMUP; i++) await sides.full();
    const calls = 20 * ITERATIONS;
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await sides.full();
    ctx.log(`  handler CPU per call with the read answered from memory: ${(((performance.now() - t0) / calls) * 1000).toFixed(1)} µs`);
  } finally {
    (client as unknown as { send: typeof realSend }).send = realSend;
  }
}
