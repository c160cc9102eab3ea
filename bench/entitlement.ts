/**
 * The checkout's reads through the full Lambda handler (auth, validation, one Query, evaluation,
 * JSON), the entitlement check and the order quote, vs a bare Query of the same item collection
 * (and, for reference, a bare GetItem of the membership item): same DynamoDB Local, same process,
 * rotated so machine noise hits every side alike. Goals: the check ≤ 1.05 × the bare Query at p50
 * and p99 (all that remains is the handler's own work); the quote ≤ 1.1 × the check; a household
 * member's check (answered from the copy of the owner's membership on their own item collection)
 * ≤ 1.05 × the owner's check: still one read.
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

export async function run(ctx: BenchContext & { memberId: string; householdMemberId: string }) {
  const { handler } = (await import('../functions/http/entitlements-check')) as { handler: HttpLambda };
  const { dynamo } = await import('#shared/runtime/dynamo');
  const { keys } = await import('#shared/storage/keys');
  const { client, tables } = dynamo();
  const authorization = 'Bearer ck_local_checkout_key';
  const check = apiEvent(
    '/v1/entitlements/check',
    { memberId: ctx.memberId, order: { subtotalCents: 4200, currency: 'usd', serviceLevel: 'two-day' } },
    authorization,
  );
  const quote = apiEvent(
    '/v1/orders/quote',
    {
      memberId: ctx.memberId,
      currency: 'usd',
      subtotalCents: 4200,
      shippingOptions: [
        { serviceLevel: 'standard', priceCents: 499 },
        { serviceLevel: 'two-day', priceCents: 899 },
        { serviceLevel: 'next-day', priceCents: 1999 },
      ],
    },
    authorization,
  );
  const householdCheck = apiEvent(
    '/v1/entitlements/check',
    { memberId: ctx.householdMemberId, order: { subtotalCents: 4200, currency: 'usd', serviceLevel: 'two-day' } },
    authorization,
  );
  const getItem = new GetItemCommand({
    TableName: tables.main,
    Key: { PK: { S: keys.memberPk(ctx.memberId) }, SK: { S: keys.membershipSk } },
  });
  // The same Query the check makes, bare: what is left between the two is the handler's own work.
  const query = new QueryCommand({
    TableName: tables.main,
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
    ExpressionAttributeValues: { ':pk': { S: keys.memberPk(ctx.memberId) }, ':prefix': { S: keys.entitlementPrefix } },
  });
  const answered = (expect: string) => async (event: HttpEvent) => {
    const res = await handler(event, benchContext);
    if (res.statusCode !== 200 || !String(res.body).includes(expect)) throw new Error(`unexpected answer ${res.statusCode} ${res.body}`);
  };
  const checked = answered('"entitled":true');
  const viaOwner = answered(`"via":{"ownerMemberId":"${ctx.memberId}"`);
  const quoted = answered('"totalSavingsCents"');
  const sides = {
    check: () => checked(check),
    member: () => viaOwner(householdCheck),
    quote: () => quoted(quote),
    query: async () => void (await client.send(query)),
    getItem: async () => void (await client.send(getItem)),
  };
  const samples: Record<keyof typeof sides, number[]> = { check: [], member: [], quote: [], query: [], getItem: [] };
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
  ctx.log(`the checkout's reads through the full handler vs a bare Query of the same item collection, ${ITERATIONS} rotated calls each`);
  for (const q of [50, 99]) {
    ctx.log(
      `  p${q}: check ${fmt(p('check', q))} vs bare Query ${fmt(p('query', q))}  ratio ${ratio(p('check', q), p('query', q))}  (goal ≤ 1.05)`,
    );
    ctx.log(`        quote ${fmt(p('quote', q))}: quote/check ${ratio(p('quote', q), p('check', q))}  (goal ≤ 1.1)`);
    ctx.log(
      `        household member's check ${fmt(p('member', q))}: member/owner ${ratio(p('member', q), p('check', q))}  (goal ≤ 1.05: still one read)`,
    );
    ctx.log(
      `        bare GetItem ${fmt(p('getItem', q))}: Query/GetItem ${ratio(p('query', q), p('getItem', q))}, check/GetItem ${ratio(p('check', q), p('getItem', q))}`,
    );
  }

  // Still one read: the DynamoDB requests one household member's check makes.
  let requests = 0;
  const send = client.send.bind(client);
  (client as unknown as { send: typeof send }).send = ((command: Parameters<typeof send>[0]) => {
    requests++;
    return send(command);
  }) as typeof send;
  try {
    await sides.member();
  } finally {
    (client as unknown as { send: typeof send }).send = send;
  }
  ctx.log(`  household member's check: ${requests} DynamoDB request(s) (one Query of their own item collection)`);

  // The handler's own work, without the database: the same client answers from memory with the items
  // DynamoDB Local returned, so auth, validation, conversion, evaluation and JSON are all that is left.
  const recorded = await client.send(query);
  const realSend = client.send.bind(client);
  (client as unknown as { send: () => Promise<unknown> }).send = async () => recorded;
  try {
    for (const [name, side] of [
      ['check', sides.check],
      ['quote', sides.quote],
    ] as const) {
      // (The member's check is left out here: the recorded answer is the owner's collection.)
      for (let i = 0; i < WARMUP; i++) await side();
      const calls = 20 * ITERATIONS;
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) await side();
      ctx.log(
        `  ${name}: handler CPU per call with the read answered from memory: ${(((performance.now() - t0) / calls) * 1000).toFixed(1)} µs`,
      );
    }
  } finally {
    (client as unknown as { send: typeof realSend }).send = realSend;
  }
}
