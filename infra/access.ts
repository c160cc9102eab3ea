/**
 * The IAM actions behind each kind of access a function lists in functions/manifest.ts: exact, never
 * `*`, never Scan. infra/membership-stack.ts grants them; the CDK test and the integration suite's
 * recorder (tests/support/iam-recorder.ts) hold the functions to them. No CDK import: the tests load it.
 */
import { indexes } from '#shared/storage/keys';
import type { Access } from '../functions/manifest';

/** The DynamoDB actions behind each kind of table access in the manifest: exact, never `*`, never Scan. */
export const TABLE_ACTIONS = {
  'table:read': ['dynamodb:GetItem', 'dynamodb:Query'],
  'table:query': ['dynamodb:Query'],
  'table:batch-read': ['dynamodb:BatchGetItem'],
  'table:write': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
  'table:delete': ['dynamodb:DeleteItem'],
} as const satisfies Partial<Record<Access, readonly string[]>>;
export const INDEX_ACCESS = { 'table:index:lookup': indexes.lookup, 'table:index:due': indexes.due } as const satisfies Partial<
  Record<Access, string>
>;
export const IDEMPOTENCY_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
