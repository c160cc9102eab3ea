/**
 * A minimal in-process stand-in for Stripe's `GET /v1/balance_transactions`, enough for the reconcile
 * job: it checks what the API requires of the call (GET, bearer secret key, pinned Stripe-Version,
 * `created[gte]`/`created[lt]` bounds, `limit` ≤ 100) and pages with `starting_after` and `has_more`
 * as Stripe does (newest first). Anything else answers 404 like an unknown route.
 */
import { createServer, type Server } from 'node:http';
import { STRIPE_API_VERSION } from '#shared/stripe/api-version';

export interface BalanceTransactionFixture {
  id: string;
  amount: number;
  fee: number;
  currency: string;
  created: number;
  reporting_category: string;
  source: string | Record<string, unknown>;
}

export async function startBalanceDouble(transactions: BalanceTransactionFixture[]) {
  const requests: Array<{ method: string; path: string; query: URLSearchParams; problems: string[] }> = [];
  const sorted = [...transactions].sort((a, b) => b.created - a.created || b.id.localeCompare(a.id));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const problems: string[] = [];
    requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, problems });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'request-id': `req_${requests.length}`,
        'stripe-version': STRIPE_API_VERSION,
      });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' || url.pathname !== '/v1/balance_transactions')
      return send(404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${url.pathname})` } });
    if (!/^Bearer sk_(test|live)_\w+$/.test(req.headers.authorization ?? ''))
      return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    if (req.headers['stripe-version'] !== STRIPE_API_VERSION) problems.push(`Stripe-Version ${String(req.headers['stripe-version'])}`);
    const gte = Number(url.searchParams.get('created[gte]'));
    const lt = Number(url.searchParams.get('created[lt]'));
    const limit = Number(url.searchParams.get('limit') ?? 10);
    if (!Number.isInteger(gte) || !Number.isInteger(lt) || !url.searchParams.has('created[gte]')) problems.push('created bounds missing');
    if (!(limit >= 1 && limit <= 100))
      return send(400, { error: { type: 'invalid_request_error', message: 'limit must be between 1 and 100', param: 'limit' } });
    if (problems.length) return send(400, { error: { type: 'invalid_request_error', message: problems.join('; ') } });
    const expandSource =
      url.searchParams.getAll('expand[]').includes('data.source') || url.searchParams.getAll('expand[0]').includes('data.source');
    const inRange = sorted.filter((t) => t.created >= gte && t.created < lt);
    const after = url.searchParams.get('starting_after');
    const start = after ? inRange.findIndex((t) => t.id === after) + 1 : 0;
    const page = inRange.slice(start, start + limit);
    send(200, {
      object: 'list',
      url: '/v1/balance_transactions',
      has_more: start + limit < inRange.length,
      data: page.map((t) => ({
        object: 'balance_transaction',
        available_on: t.created + 2 * 86_400,
        description: null,
        exchange_rate: null,
        fee_details: [],
        net: t.amount - t.fee,
        status: 'available',
        type: t.reporting_category === 'charge' ? 'charge' : t.reporting_category,
        balance_type: 'payments',
        ...t,
        source: expandSource ? t.source : typeof t.source === 'string' ? t.source : (t.source.id as string),
      })),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
