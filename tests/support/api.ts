import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { httpFunctions } from '../../functions/manifest';
import { LOCAL_DEFAULTS } from '../../local/defaults';
import { type LocalHttpServer, startLocalHttpServer } from '../../local/http-adapter';
import { signPayload } from '../../local/stripe-test-events';
import { checkedFetch } from './api-contract';

export const KEYS = { checkout: 'ck_local_checkout_key', finance: 'fk_local_finance_key', admin: 'ak_local_admin_key' } as const;

/**
 * Starts the real HTTP stack (local adapter → Lambda handlers → DynamoDB Local) for one test file.
 * Every answer is held to the route's documented responses (./api-contract.ts) before the test sees it.
 */
export function useApi() {
  const state: { server?: LocalHttpServer } = {};
  beforeAll(async () => {
    state.server = await startLocalHttpServer({
      functions: httpFunctions,
      projectRoot: fileURLToPath(new URL('../..', import.meta.url)),
      port: 0,
    });
  });
  afterAll(async () => state.server?.close());

  const url = (path: string) => `${state.server!.url}${path}`;
  return {
    url,
    async postEvent(event: object, options: { secret?: string; timestamp?: number; signature?: string } = {}) {
      const payload = JSON.stringify(event);
      const signature =
        options.signature ?? signPayload(payload, options.secret ?? LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET, options.timestamp);
      return checkedFetch(url('/webhooks/stripe'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
      });
    },
    async call(method: string, path: string, options: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.key !== null) headers.authorization = `Bearer ${options.key ?? KEYS.checkout}`;
      if (options.body !== undefined) headers['content-type'] ??= 'application/json';
      return checkedFetch(url(path), {
        method,
        headers,
        ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
      });
    },
    async entitlement(memberId: string, order?: object) {
      const res = await this.call('POST', '/v1/entitlements/check', { body: { memberId, ...(order ? { order } : {}) } });
      if (res.status !== 200) throw new Error(`entitlement check answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as Record<string, any>;
    },
  };
}

export const uniqueMemberId = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}`;
