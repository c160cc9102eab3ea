/**
 * Least privilege, checked against what the functions actually do: while the integration suite runs,
 * every DynamoDB call made inside a function's handler (local/http-adapter.ts `runningFunction`) is
 * written down as the IAM action and resource it needs; after the run (global-setup.ts teardown) each
 * function's calls must be covered by what its manifest `access` grants in AWS (the same mapping
 * infra/membership-stack.ts uses). A missing grant would be an AccessDenied in production only.
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { allFunctions, type FunctionSpec } from '../../functions/manifest';
import { IDEMPOTENCY_ACTIONS, INDEX_ACCESS, TABLE_ACTIONS } from '../../infra/access';
import { runningFunction } from '../../local/http-adapter';
import { TEST_TABLES } from './tables';

export interface NeededGrant {
  action: string;
  /** `main`, `main/index/<name>` or `idempotency`. */
  resource: string;
}

const TRANSACT: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  ConditionCheck: 'ConditionCheckItem',
  Delete: 'DeleteItem',
};
const tableOf = (name: unknown) => (name === TEST_TABLES.idempotency ? 'idempotency' : name === TEST_TABLES.main ? 'main' : String(name));

/** The grants one command needs (raw or document client; the class names are the same but for transactions and batches). */
export function grantsFor(command: { constructor: { name: string }; input: any }): NeededGrant[] {
  const name = command.constructor.name.replace(/Command$/, '');
  const input = command.input ?? {};
  if (name === 'TransactWriteItems' || name === 'TransactWrite') {
    return (input.TransactItems as any[]).flatMap((item) =>
      Object.entries(item).map(([kind, op]: [string, any]) => ({ action: `dynamodb:${TRANSACT[kind]}`, resource: tableOf(op.TableName) })),
    );
  }
  if (name === 'BatchGetItem' || name === 'BatchGet' || name === 'BatchWriteItem' || name === 'BatchWrite') {
    const action = name.startsWith('BatchGet') ? 'BatchGetItem' : 'BatchWriteItem';
    return Object.keys(input.RequestItems ?? {}).map((table) => ({ action: `dynamodb:${action}`, resource: tableOf(table) }));
  }
  const action = { Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', Scan: 'Scan' }[name] ?? name;
  const table = tableOf(input.TableName);
  return [{ action: `dynamodb:${action}`, resource: input.IndexName ? `${table}/index/${input.IndexName}` : table }];
}

/** Starts recording this worker's calls into `dir` (one file per worker). */
export function recordDynamoGrants(dir: string): void {
  const base = Object.getPrototypeOf(DynamoDBClient.prototype) as { send: (...args: any[]) => any };
  const send = base.send;
  const file = join(dir, `${process.pid}.jsonl`);
  base.send = function (this: unknown, command: any, ...rest: any[]) {
    const fn = runningFunction.getStore();
    if (fn && this instanceof Object && command?.input && /DynamoDB/.test(String((this as any).constructor?.name))) {
      appendFileSync(file, `${JSON.stringify({ fn: fn.name, grants: grantsFor(command) })}\n`);
    }
    return send.call(this, command, ...rest);
  };
}

/** What the manifest grants a function in AWS, in the recorder's terms. */
export function grantedTo(spec: FunctionSpec): Set<string> {
  const out = new Set<string>();
  for (const access of spec.access) {
    if (access in TABLE_ACTIONS) for (const a of TABLE_ACTIONS[access as keyof typeof TABLE_ACTIONS]) out.add(`${a} main`);
    if (access in INDEX_ACCESS) out.add(`dynamodb:Query main/index/${INDEX_ACCESS[access as keyof typeof INDEX_ACCESS]}`);
    if (access === 'idempotency:write') for (const a of IDEMPOTENCY_ACTIONS) out.add(`${a} idempotency`);
  }
  return out;
}

/** Every call a function made that its grants would refuse in AWS, as `function: action resource`. */
export function ungrantedCalls(dir: string): { checked: number; missing: string[] } {
  const missing = new Set<string>();
  let checked = 0;
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean)) {
      const { fn, grants } = JSON.parse(line) as { fn: string; grants: NeededGrant[] };
      const spec = allFunctions.find((f) => f.name === fn);
      if (!spec) continue;
      const granted = grantedTo(spec);
      for (const g of grants) {
        checked++;
        if (!granted.has(`${g.action} ${g.resource}`)) missing.add(`${fn}: ${g.action} on ${g.resource}`);
      }
    }
  }
  return { checked, missing: [...missing].sort() };
}

/** Runs `work` as the manifest function `name` runs in its container, for calls made outside the HTTP adapter (jobs). */
export function asFunction<T>(name: string, work: () => Promise<T>): Promise<T> {
  const spec = allFunctions.find((f) => f.name === name);
  if (!spec) throw new Error(`no function ${name} in functions/manifest.ts`);
  return runningFunction.run(spec, work);
}
