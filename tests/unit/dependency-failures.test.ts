import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { isUnavailable, unavailableMiddleware } from '#shared/aws-failures';
import { ProviderFailedError, ProviderUnavailableError, useCaseErrorIn } from '#shared/errors';
import { problemFor } from '#shared/http/problem';
import {
  DYNAMO_BUDGETS,
  dynamoBudgetEnvironment,
  dynamoBudgetFromEnv,
  dynamoWorstCaseMs,
  STRIPE_BUDGETS,
  stripeWorstCaseMs,
} from '#shared/runtime/budgets';

const sdkError = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...extra });

describe('what an AWS SDK failure means', () => {
  it('calls unreachable, throttled, timing out and 5xx "unavailable", and nothing a caller branches on', async () => {
    for (const error of [
      sdkError('TimeoutError'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }),
      sdkError('ThrottlingException', { $metadata: { httpStatusCode: 400 } }),
      sdkError('RequestLimitExceeded'),
      sdkError('InternalServerError', { $metadata: { httpStatusCode: 500 } }),
      sdkError('ServiceUnavailable', { $metadata: { httpStatusCode: 503 } }),
    ]) {
      expect(await isUnavailable(error), error.name).toBe(true);
    }
    for (const error of [
      new ConditionalCheckFailedException({ message: 'no', $metadata: { httpStatusCode: 400 } }),
      new TransactionCanceledException({ message: 'no', $metadata: { httpStatusCode: 400 }, CancellationReasons: [] }),
      sdkError('ValidationException', { $metadata: { httpStatusCode: 400 } }),
      sdkError('ResourceNotFoundException', { $metadata: { httpStatusCode: 400 } }),
      'not an error',
    ]) {
      expect(await isUnavailable(error), String((error as Error).name ?? error)).toBe(false);
    }
  });

  it('the client middleware turns only those into ProviderUnavailableError, keeping the cause for the log', async () => {
    const through = unavailableMiddleware('dynamodb');
    const timeout = sdkError('TimeoutError');
    const failed = await through(async () => Promise.reject(timeout))({}).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ProviderUnavailableError);
    expect(failed).toMatchObject({ provider: 'dynamodb', reason: 'unavailable', cause: timeout });
    const condition = new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
    expect(await through(async () => Promise.reject(condition))({}).catch((e: unknown) => e)).toBe(condition);
    expect(await through(async (x: number) => x + 1)(1)).toBe(2);
  });

  it('finds the typed error a library wrapped, and answers 503 with Retry-After for it', () => {
    const outage = new ProviderUnavailableError('dynamodb', 'unavailable', 'down', 2);
    const wrapped = new Error('Failed to save in progress record', { cause: outage });
    expect(useCaseErrorIn(new Error('outer', { cause: wrapped }))).toBe(outage);
    expect(useCaseErrorIn(new Error('plain'))).toBeNull();
    const problem = problemFor(outage);
    expect(problem.status).toBe(503);
    expect(problem.headers['retry-after']).toBe('2');
    expect(problem.body.type).toBe('/problems/unavailable');
  });

  it('gives a Stripe 502 a Retry-After only when a retry may get through', () => {
    expect(problemFor(new ProviderFailedError('stripe', 'failed', 'timeout', 5)).headers['retry-after']).toBe('5');
    expect(problemFor(new ProviderFailedError('stripe', 'misconfigured', 'no price')).headers['retry-after']).toBeUndefined();
  });
});

describe('client budgets', () => {
  it('answers the checkout within a couple of seconds when DynamoDB does not answer at all', () => {
    // Both timeouts on both attempts plus the SDK's longest (throttling) backoff.
    expect(dynamoWorstCaseMs(DYNAMO_BUDGETS.checkout)).toBeLessThanOrEqual(3000);
    expect(dynamoWorstCaseMs(DYNAMO_BUDGETS.short)).toBeLessThan(10_000);
    expect(dynamoWorstCaseMs(DYNAMO_BUDGETS.standard)).toBeLessThan(20_000);
  });

  it('keeps a black-holed Stripe call to a few seconds for a shopper', () => {
    expect(stripeWorstCaseMs(STRIPE_BUDGETS.shopper)).toBe(6500);
    expect(stripeWorstCaseMs(STRIPE_BUDGETS.job)).toBeLessThan(120_000);
  });

  it('reads back from the environment what infra writes, and refuses nonsense', () => {
    expect(dynamoBudgetFromEnv(dynamoBudgetEnvironment(DYNAMO_BUDGETS.checkout))).toEqual(DYNAMO_BUDGETS.checkout);
    expect(dynamoBudgetFromEnv({})).toEqual(DYNAMO_BUDGETS.local);
    expect(() => dynamoBudgetFromEnv({ DYNAMODB_MAX_ATTEMPTS: 'three' })).toThrow(/DYNAMODB_MAX_ATTEMPTS/);
  });
});
