/**
 * An in-process HTTP stand-in for the Stripe API. The real `stripe` client talks to it through
 * `STRIPE_API_BASE`. Every request is checked against what Stripe documents for it (bearer key,
 * `Stripe-Version` equal to our pinned version, form encoding, `Idempotency-Key` on POSTs, required
 * and known parameters); a wrong call gets Stripe's error shape with 400 so the test fails. Answers
 * are realistic objects built from tests/fixtures/stripe, kept in a small in-memory state.
 *
 * Extend it with `double.route({ method, path, required, allowed, handle })`; `path` takes `:id`
 * placeholders. Faults (429, 5xx, connection reset, before or after processing) are queued with
 * `double.fail(...)`; `double.before(...)` changes the world just before a request is handled (a
 * shopper paying in another tab). Every request is recorded in `double.calls`. List endpoints page
 * like Stripe's (newest first, `limit` 1–100, `starting_after`).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { STRIPE_API_VERSION } from '#shared/stripe/api-version';
import { subscriptionObject } from '../../local/stripe-test-events';
import portalConfigurationFixture from '../fixtures/stripe/billing_portal_configuration.json' with { type: 'json' };
import portalSessionFixture from '../fixtures/stripe/billing_portal_session.json' with { type: 'json' };
import checkoutSessionFixture from '../fixtures/stripe/checkout_session.json' with { type: 'json' };
import customerFixture from '../fixtures/stripe/customer.json' with { type: 'json' };
import invoicePaymentFixture from '../fixtures/stripe/invoice_payment.json' with { type: 'json' };
import paymentIntentFixture from '../fixtures/stripe/payment_intent.json' with { type: 'json' };
import priceFixture from '../fixtures/stripe/price.json' with { type: 'json' };
import refundFixture from '../fixtures/stripe/refund.json' with { type: 'json' };

type Json = Record<string, any>;
const clone = <T>(v: T): T => structuredClone(v);
export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const DAY = 86_400;

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: { type: string; message: string; code?: string; param?: string },
  ) {
    super(error.message);
  }
}
const invalid = (message: string, param?: string, code?: string) =>
  new StripeApiError(400, { type: 'invalid_request_error', message, ...(param ? { param } : {}), ...(code ? { code } : {}) });
const missing = (kind: string, id: string, param = 'id') =>
  new StripeApiError(404, { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${kind}: '${id}'` });

export interface DoubleRequest {
  method: string;
  path: string;
  pathParams: Record<string, string>;
  /** Form body (POST) or query (GET/DELETE), decoded into Stripe's nested shape. */
  params: Json;
  /** The flat bracketed keys as sent (`line_items[0][price]`). */
  flat: Record<string, string>;
  headers: Record<string, string>;
}

export interface StripeCall extends DoubleRequest {
  idempotencyKey: string | null;
  status: number;
  replayed: boolean;
  fault: string | null;
}

export interface RouteDef {
  method: 'GET' | 'POST' | 'DELETE';
  /** e.g. `/v1/subscriptions/:id` */
  path: string;
  /** Parameters Stripe requires, as bracketed paths with `[]` for any index: `line_items[][price]`. */
  required?: string[];
  /** Top-level parameters Stripe accepts (beyond `expand`); anything else is "Received unknown parameter". */
  allowed?: string[];
  handle: (req: DoubleRequest, double: StripeDouble) => Json | { status: number; body: Json };
}

export type Fault =
  | { kind: 'status'; status: number; code?: string; type?: string; headers?: Record<string, string> }
  | { kind: 'reset'; after?: boolean };

/** Decodes `a[b][0][c]=v` form fields into nested objects and arrays, as Stripe reads them. */
export function decodeForm(flat: Record<string, string>): Json {
  const root: Json = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.replace(/\]/g, '').split('[');
    let node: any = root;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(parts[i + 1]!);
      const k: string | number =
        /^\d+$/.test(part) && Array.isArray(node) ? Number(part) : part === '' && Array.isArray(node) ? node.length : part;
      if (last) node[k] = value;
      else node = node[k] ??= nextIsIndex ? [] : {};
    });
  }
  return root;
}

function hasPath(params: Json, path: string): boolean {
  const parts = path.replace(/\]/g, '').split('[');
  const walk = (node: any, i: number): boolean => {
    if (i === parts.length) return node !== undefined && node !== '';
    if (node === null || typeof node !== 'object') return false;
    if (parts[i] === '') return Array.isArray(node) && node.length > 0 && node.every((n) => walk(n, i + 1));
    return walk(node[parts[i]!], i + 1);
  };
  return walk(params, 0);
}

const bool = (v: unknown, param: string): boolean => {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(`Invalid boolean: ${String(v)}`, param);
};
const integer = (v: unknown, param: string): number => {
  if (typeof v !== 'string' || !/^-?\d+$/.test(v)) throw invalid(`Invalid integer: ${String(v)}`, param);
  return Number(v);
};

interface Compiled extends RouteDef {
  pattern: RegExp;
  names: string[];
}

export class StripeDouble {
  readonly calls: StripeCall[] = [];
  /** Objects by id: customers, prices, checkout sessions, subscriptions, invoices, payment intents, refunds. */
  readonly objects = new Map<string, Json>();
  private readonly routes: Compiled[] = [];
  private readonly faults: Array<{ method?: string; path?: RegExp; fault: Fault }> = [];
  private readonly hooks: Array<{ method?: string; path?: RegExp; run: (double: StripeDouble) => void }> = [];
  private readonly idempotency = new Map<string, { fingerprint: string; status: number; body: Json }>();
  private server!: Server;
  url = '';

  constructor(readonly apiKey = 'sk_test_double_0000000000000000') {
    for (const route of defaultRoutes) this.route(route);
  }

  static async start(apiKey?: string, port = 0): Promise<StripeDouble> {
    const double = new StripeDouble(apiKey);
    double.server = createServer((req, res) => void double.serve(req, res));
    await new Promise<void>((resolve) => double.server.listen(port, '127.0.0.1', resolve));
    double.url = `http://127.0.0.1:${(double.server.address() as { port: number }).port}`;
    return double;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Adds (or replaces) an endpoint. */
  route(def: RouteDef): void {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${def.path.replace(/:(\w+)/g, (_m, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    const existing = this.routes.findIndex((r) => r.method === def.method && r.path === def.path);
    const compiled = { ...def, pattern, names };
    if (existing >= 0) this.routes[existing] = compiled;
    else this.routes.push(compiled);
  }

  /** Queues a fault for the next `times` matching requests. */
  fail(match: { method?: string; path?: RegExp | string }, fault: Fault, times = 1): void {
    const path = typeof match.path === 'string' ? new RegExp(`^${match.path.replace(/:(\w+)/g, '[^/]+')}$`) : match.path;
    for (let i = 0; i < times; i++)
      this.faults.push({ ...(match.method ? { method: match.method } : {}), ...(path ? { path } : {}), fault });
  }

  clearFaults(): void {
    this.faults.length = 0;
    this.hooks.length = 0;
  }

  /** Runs `run` once, just before the next matching request is handled: a race made deterministic. */
  before(match: { method?: string; path?: RegExp | string }, run: (double: StripeDouble) => void): void {
    const path = typeof match.path === 'string' ? new RegExp(`^${match.path.replace(/:(\w+)/g, '[^/]+')}$`) : match.path;
    this.hooks.push({ ...(match.method ? { method: match.method } : {}), ...(path ? { path } : {}), run });
  }

  callsTo(method: string, path: RegExp | string): StripeCall[] {
    return this.calls.filter((c) => c.method === method && (typeof path === 'string' ? c.path === path : path.test(c.path)));
  }

  /** Objects of one Stripe type (`customer`, `checkout.session`, `refund`, ...). */
  all(objectType: string): Json[] {
    return [...this.objects.values()].filter((o) => o.object === objectType);
  }

  put<T extends Json>(object: T): T {
    this.objects.set(object.id, object);
    return object;
  }

  get(objectType: string, id: string, param = 'id'): Json {
    const found = this.objects.get(id);
    if (!found || found.object !== objectType) throw missing(objectType.replace('.', ' '), id, param);
    return found;
  }

  /**
   * Stripe's list envelope over `objects`: newest first (creation time, then the later-stored first),
   * `limit` 1–100 (default 10), cursor `starting_after`.
   */
  list(objects: Json[], params: Json, url: string): Json {
    const limit = params.limit === undefined ? 10 : integer(params.limit, 'limit');
    if (limit < 1 || limit > 100) throw invalid('Invalid limit: must be between 1 and 100.', 'limit');
    const order = [...this.objects.keys()];
    let ordered = [...objects].sort((a, b) => b.created - a.created || order.indexOf(b.id) - order.indexOf(a.id));
    if (params.starting_after !== undefined) {
      const at = ordered.findIndex((o) => o.id === params.starting_after);
      if (at < 0) throw missing(objects[0]?.object ?? 'object', String(params.starting_after), 'starting_after');
      ordered = ordered.slice(at + 1);
    }
    return { object: 'list', data: ordered.slice(0, limit).map((o) => this.render(o)), has_more: ordered.length > limit, url };
  }

  // --- seeding helpers for tests -------------------------------------------------------------

  price(spec: { id: string; unitAmount: number; interval: 'month' | 'year'; currency?: string; product?: string }): Json {
    const price = clone(priceFixture) as Json;
    return this.put(
      Object.assign(price, {
        ...(spec.product ? { product: spec.product } : {}),
        id: spec.id,
        unit_amount: spec.unitAmount,
        unit_amount_decimal: String(spec.unitAmount),
        currency: spec.currency ?? 'usd',
        recurring: { ...price.recurring, interval: spec.interval, interval_count: 1 },
        livemode: false,
      }),
    );
  }

  customer(id = newId('cus'), memberId?: string): Json {
    return this.put(
      Object.assign(clone(customerFixture) as Json, { id, metadata: memberId ? { memberId } : {}, created: nowSeconds(), discount: null }),
    );
  }

  /**
   * A paid invoice with one InvoicePayment through a succeeded PaymentIntent, as Stripe links them in
   * this API version (invoice → payments → payment_intent). `invoice` is an endive-shaped invoice.
   */
  paidInvoice(invoice: Json): { invoice: Json; paymentIntent: Json } {
    const paymentIntent = this.put(
      Object.assign(clone(paymentIntentFixture) as Json, {
        id: newId('pi'),
        amount: invoice.amount_paid,
        amount_received: invoice.amount_paid,
        currency: invoice.currency,
        customer: invoice.customer,
        status: 'succeeded',
        canceled_at: null,
        last_payment_error: null,
        next_action: null,
        latest_charge: newId('ch'),
        livemode: false,
      }),
    );
    const payment = Object.assign(clone(invoicePaymentFixture) as Json, {
      id: newId('inpay'),
      invoice: invoice.id,
      amount_paid: invoice.amount_paid,
      amount_requested: invoice.amount_paid,
      currency: invoice.currency,
      status: 'paid',
      is_default: true,
      livemode: false,
      payment: { type: 'payment_intent', payment_intent: paymentIntent.id },
      status_transitions: { canceled_at: null, paid_at: invoice.status_transitions?.paid_at ?? nowSeconds() },
    });
    this.put({ ...invoice, _payments: [payment] });
    return { invoice, paymentIntent };
  }

  /**
   * Holds what a signup's webhooks describe (`signupEvents`: checkout completed, subscription created,
   * first invoice paid), as Stripe would hold it: the customer, the subscription with its latest
   * invoice, and the invoice paid through a PaymentIntent.
   */
  membershipSignup(
    signup: { customer: string; events: Json[] },
    memberId: string,
  ): { invoice: Json; paymentIntent: Json; subscription: Json } {
    const [, created, paid] = signup.events as Array<{ data: { object: Json } }>;
    this.customer(signup.customer, memberId);
    const invoice = clone(paid!.data.object);
    const { paymentIntent } = this.paidInvoice(invoice);
    const subscription = this.put({ ...clone(created!.data.object), latest_invoice: invoice.id });
    return { invoice, paymentIntent, subscription };
  }

  /**
   * The shopper pays on the Checkout page: the session completes and Stripe creates the subscription
   * it describes (trialing with a trial, else active), as it does before any webhook is sent.
   */
  completeCheckoutSession(id: string): { session: Json; subscription: Json } {
    const session = this.get('checkout.session', id);
    if (session.status !== 'open') throw new Error(`checkout session ${id} is ${session.status}, not open`);
    const params = session._params as Json;
    const price = this.get('price', params.line_items[0].price);
    const now = nowSeconds();
    const trialDays = params.subscription_data?.trial_period_days ? Number(params.subscription_data.trial_period_days) : 0;
    const trialEnd = now + trialDays * DAY;
    const subscription = subscriptionObject({
      customer: session.customer,
      memberId: null,
      status: trialDays > 0 ? 'trialing' : 'active',
      priceId: price.id,
      unitAmount: price.unit_amount,
      interval: price.recurring.interval,
      periodStart: now,
      ...(trialDays > 0 ? { periodEnd: trialEnd, trialStart: now, trialEnd } : {}),
    });
    Object.assign(subscription, { created: now, metadata: { ...(params.subscription_data?.metadata ?? {}) } });
    this.put(subscription);
    Object.assign(session, {
      status: 'complete',
      payment_status: trialDays > 0 ? 'no_payment_required' : 'paid',
      subscription: subscription.id,
      url: null,
    });
    return { session: this.render(session), subscription: this.render(subscription) };
  }

  /** What the API shows of a stored object: internal `_` fields stripped. */
  render(object: Json): Json {
    return Object.fromEntries(Object.entries(object).filter(([k]) => !k.startsWith('_')));
  }

  // --- request handling ----------------------------------------------------------------------

  private async serve(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://stripe.double');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    const flat: Record<string, string> = {};
    const source = method === 'POST' ? new URLSearchParams(raw) : url.searchParams;
    for (const [k, v] of source) flat[k] = v;
    const request: DoubleRequest = { method, path: url.pathname, pathParams: {}, params: decodeForm(flat), flat, headers };
    const call: StripeCall = { ...request, idempotencyKey: headers['idempotency-key'] ?? null, status: 0, replayed: false, fault: null };
    this.calls.push(call);

    const reply = (status: number, body: Json, extra: Record<string, string> = {}) => {
      call.status = status;
      res.writeHead(status, {
        'content-type': 'application/json',
        'request-id': newId('req'),
        'stripe-version': STRIPE_API_VERSION,
        ...extra,
      });
      res.end(JSON.stringify(body));
    };

    const faultIndex = this.faults.findIndex((f) => (!f.method || f.method === method) && (!f.path || f.path.test(url.pathname)));
    const fault = faultIndex >= 0 ? this.faults.splice(faultIndex, 1)[0]!.fault : null;
    if (fault && !(fault.kind === 'reset' && fault.after)) {
      call.fault = fault.kind === 'reset' ? 'reset' : String(fault.status);
      if (fault.kind === 'reset') {
        call.status = -1;
        req.socket.destroy();
        return;
      }
      const type = fault.type ?? (fault.status === 429 ? 'invalid_request_error' : 'api_error');
      const code = fault.code ?? (fault.status === 429 ? 'rate_limit' : undefined);
      return reply(
        fault.status,
        { error: { type, message: `Injected fault ${fault.status}`, ...(code ? { code } : {}) } },
        fault.headers ?? {},
      );
    }

    const hookIndex = this.hooks.findIndex((h) => (!h.method || h.method === method) && (!h.path || h.path.test(url.pathname)));
    if (hookIndex >= 0) this.hooks.splice(hookIndex, 1)[0]!.run(this);

    try {
      this.authenticate(request);
      const match = this.routes.map((r) => ({ r, m: r.method === method ? r.pattern.exec(url.pathname) : null })).find((x) => x.m);
      if (!match)
        throw new StripeApiError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${url.pathname}).` });
      request.pathParams = Object.fromEntries(match.r.names.map((n, i) => [n, decodeURIComponent(match.m![i + 1]!)]));
      call.pathParams = request.pathParams;
      this.checkParams(match.r, request);

      if (method === 'POST') {
        const key = call.idempotencyKey!;
        const fingerprint = `${method} ${url.pathname} ${JSON.stringify(Object.entries(flat).sort())}`;
        const seen = this.idempotency.get(key);
        if (seen) {
          if (seen.fingerprint !== fingerprint) {
            throw new StripeApiError(400, {
              type: 'idempotency_error',
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            });
          }
          call.replayed = true;
          return this.finish(res, reply, fault, seen.status, seen.body, { 'idempotent-replayed': 'true', 'idempotency-key': key });
        }
        const out = this.run(match.r, request);
        this.idempotency.set(key, { fingerprint, ...out });
        return this.finish(res, reply, fault, out.status, out.body, { 'idempotency-key': key });
      }
      const out = this.run(match.r, request);
      return this.finish(res, reply, fault, out.status, out.body);
    } catch (error) {
      if (error instanceof StripeApiError) {
        // Stripe tells the SDK not to retry a request it refused on its merits.
        return reply(error.status, { error: error.error }, { 'stripe-should-retry': 'false' });
      }
      return reply(500, { error: { type: 'api_error', message: `double failed: ${(error as Error).message}` } });
    }
  }

  private finish(
    res: ServerResponse,
    reply: (s: number, b: Json, h?: Record<string, string>) => void,
    fault: Fault | null,
    status: number,
    body: Json,
    headers: Record<string, string> = {},
  ) {
    if (fault?.kind === 'reset' && fault.after) {
      // The work is done but the answer is lost: the client's retry must not do it twice.
      this.calls.at(-1)!.fault = 'reset-after';
      res.socket?.destroy();
      return;
    }
    reply(status, body, headers);
  }

  private run(route: RouteDef, req: DoubleRequest): { status: number; body: Json } {
    try {
      const out = route.handle(req, this);
      return 'status' in out && 'body' in out && typeof out.status === 'number'
        ? (out as { status: number; body: Json })
        : { status: 200, body: out };
    } catch (error) {
      // Stripe stores the outcome of a keyed request, errors included (except 5xx/429).
      if (error instanceof StripeApiError) return { status: error.status, body: { error: error.error } };
      throw error;
    }
  }

  private authenticate(req: DoubleRequest) {
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${this.apiKey}`) {
      throw new StripeApiError(401, { type: 'invalid_request_error', message: 'Invalid API Key provided.' });
    }
    if (req.headers['stripe-version'] !== STRIPE_API_VERSION) {
      throw invalid(
        `Invalid Stripe API version: ${req.headers['stripe-version'] ?? '(none)'}; this account is pinned to ${STRIPE_API_VERSION}.`,
      );
    }
    if (req.method === 'POST') {
      if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) throw invalid('Requests must be form encoded.');
      const key = req.headers['idempotency-key'];
      if (!key) throw invalid('POST requests must carry an Idempotency-Key header.');
      if (key.length > 255) throw invalid('Idempotency-Key is longer than 255 characters.');
      // The SDK invents a key when we pass none; ours must be derived from the member and purpose.
      if (key.startsWith('stripe-node-retry-')) throw invalid(`POST ${req.path} was sent without an explicit idempotency key.`);
    }
  }

  private checkParams(route: RouteDef, req: DoubleRequest) {
    for (const path of route.required ?? []) {
      if (!hasPath(req.params, path))
        throw invalid(`Missing required param: ${path.replace(/\[\]/g, '[0]')}.`, path.replace(/\[\]/g, '[0]'));
    }
    if (route.allowed) {
      for (const name of Object.keys(req.params)) {
        if (name !== 'expand' && !route.allowed.includes(name)) throw invalid(`Received unknown parameter: ${name}`, name);
      }
    }
  }
}

function metadataOf(params: Json, param = 'metadata'): Json {
  const md = params[param];
  if (md === undefined || md === '') return {};
  if (typeof md !== 'object' || Array.isArray(md)) throw invalid('Invalid object', param);
  for (const [k, v] of Object.entries(md)) {
    if (typeof v !== 'string' || v.length > 500 || k.length > 40) throw invalid(`Invalid metadata value for ${k}`, `${param}[${k}]`);
  }
  return md;
}

const expands = (params: Json): string[] => (Array.isArray(params.expand) ? params.expand : []);

function updateSubscription(sub: Json, params: Json, d: StripeDouble): Json {
  if (sub.status === 'canceled') {
    throw invalid('A canceled subscription can only update its cancellation_details and metadata.');
  }
  const item = sub.items.data[0];
  if (params.proration_behavior !== undefined)
    oneOf(params.proration_behavior, ['create_prorations', 'none', 'always_invoice'], 'proration_behavior');
  if (params.items !== undefined) {
    if (!Array.isArray(params.items)) throw invalid('Invalid array', 'items');
    params.items.forEach((change: Json, i: number) => {
      const target = sub.items.data.find((it: Json) => it.id === change.id);
      if (!target) throw invalid(`No such subscription item: '${change.id}'`, `items[${i}][id]`, 'resource_missing');
      if (change.price !== undefined) {
        const price = d.get('price', change.price, `items[${i}][price]`);
        if (!price.recurring) throw invalid('The price specified is not a recurring price.', `items[${i}][price]`);
        if (price.recurring.interval !== target.price.recurring?.interval)
          throw invalid('Prices of a subscription must share the same billing interval.', `items[${i}][price]`);
        target.price = { ...target.price, ...d.render(price) };
      }
    });
  }
  if (params.discounts !== undefined) {
    const discounts = params.discounts === '' ? [] : params.discounts;
    if (!Array.isArray(discounts)) throw invalid('Invalid array', 'discounts');
    sub.discounts = discounts.map((entry: Json, i: number) => {
      const coupon = d.get('coupon', entry.coupon, `discounts[${i}][coupon]`);
      if (!coupon.valid) throw invalid(`Coupon ${coupon.id} is no longer valid.`, `discounts[${i}][coupon]`);
      return newId('di');
    });
    sub._coupons = discounts.map((entry: Json) => entry.coupon);
  }
  if (params.cancel_at_period_end !== undefined && params.cancel_at !== undefined && params.cancel_at !== '') {
    throw invalid('You may only specify one of these parameters: cancel_at, cancel_at_period_end.', 'cancel_at');
  }
  if (params.cancel_at_period_end !== undefined) {
    const flag = bool(params.cancel_at_period_end, 'cancel_at_period_end');
    sub.cancel_at_period_end = flag;
    // Since 2025 Stripe mirrors a period-end cancellation into cancel_at.
    sub.cancel_at = flag ? item.current_period_end : null;
    sub.canceled_at = flag ? nowSeconds() : null;
  }
  if (params.cancel_at !== undefined) {
    sub.cancel_at = params.cancel_at === '' ? null : integer(params.cancel_at, 'cancel_at');
    if (params.cancel_at === '') {
      sub.cancel_at_period_end = false;
      sub.canceled_at = null;
    }
  }
  if (params.metadata !== undefined) sub.metadata = { ...sub.metadata, ...metadataOf(params) };
  return sub;
}

/** The account's default portal configuration (the Dashboard's settings), used when a session names none. */
const DEFAULT_PORTAL_CONFIGURATION = portalConfigurationFixture.id;

const oneOf = (v: unknown, allowed: readonly string[], param: string): string => {
  if (typeof v !== 'string' || !allowed.includes(v)) throw invalid(`Invalid ${param}: must be one of ${allowed.join(', ')}`, param);
  return v;
};
const listOfStrings = (v: unknown, param: string): string[] => {
  if (v === '') return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(`Invalid array`, param);
  return v as string[];
};

/**
 * `features` of a portal configuration, checked as Stripe documents them (create: each feature given
 * needs `enabled`; enums; `subscription_update.products` up to 10, each with its recurring prices) and
 * merged over `current`.
 */
function portalFeatures(d: StripeDouble, given: unknown, current: Json, creating: boolean): Json {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw invalid('Invalid object', 'features');
  const features = clone(current);
  const known = [
    'customer_update',
    'invoice_history',
    'payment_method_update',
    'subscription_cancel',
    'subscription_pause',
    'subscription_update',
  ];
  for (const [name, raw] of Object.entries(given as Json)) {
    const param = `features[${name}]`;
    if (!known.includes(name)) throw invalid(`Received unknown parameter: ${param}`, param);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('Invalid object', param);
    const f = raw as Json;
    if (creating && name !== 'subscription_pause' && f.enabled === undefined)
      throw invalid(`Missing required param: ${param}[enabled].`, `${param}[enabled]`);
    const next: Json = { ...features[name] };
    if (f.enabled !== undefined) next.enabled = bool(f.enabled, `${param}[enabled]`);
    switch (name) {
      case 'customer_update':
        if (f.allowed_updates !== undefined) {
          next.allowed_updates = listOfStrings(f.allowed_updates, `${param}[allowed_updates]`);
          (next.allowed_updates as string[]).forEach((u: string, i: number) => {
            oneOf(u, ['address', 'email', 'name', 'phone', 'shipping', 'tax_id'], `${param}[allowed_updates][${i}]`);
          });
        }
        break;
      case 'subscription_cancel':
        if (f.mode !== undefined) next.mode = oneOf(f.mode, ['at_period_end', 'immediately'], `${param}[mode]`);
        if (f.proration_behavior !== undefined) {
          next.proration_behavior = oneOf(f.proration_behavior, ['create_prorations', 'none'], `${param}[proration_behavior]`);
          if (next.proration_behavior === 'create_prorations' && next.mode !== 'immediately') {
            throw invalid('create_prorations is only compatible with mode=immediately.', `${param}[proration_behavior]`);
          }
        }
        break;
      case 'subscription_update': {
        if (f.default_allowed_updates !== undefined) {
          next.default_allowed_updates = listOfStrings(f.default_allowed_updates, `${param}[default_allowed_updates]`);
          (next.default_allowed_updates as string[]).forEach((u: string, i: number) => {
            oneOf(u, ['price', 'promotion_code', 'quantity'], `${param}[default_allowed_updates][${i}]`);
          });
        }
        if (f.proration_behavior !== undefined)
          next.proration_behavior = oneOf(
            f.proration_behavior,
            ['always_invoice', 'create_prorations', 'none'],
            `${param}[proration_behavior]`,
          );
        if (f.trial_update_behavior !== undefined)
          next.trial_update_behavior = oneOf(f.trial_update_behavior, ['continue_trial', 'end_trial'], `${param}[trial_update_behavior]`);
        if (f.schedule_at_period_end !== undefined) {
          const conditions = (f.schedule_at_period_end.conditions ?? []) as Json[];
          conditions.forEach((c, i) => {
            oneOf(c?.type, ['decreasing_item_amount', 'shortening_interval'], `${param}[schedule_at_period_end][conditions][${i}][type]`);
          });
          next.schedule_at_period_end = { conditions: conditions.map((c) => ({ type: c.type })) };
        }
        if (f.products !== undefined) {
          const products = f.products === '' ? [] : (f.products as Json[]);
          if (!Array.isArray(products) || products.length > 10)
            throw invalid('products must be a list of up to 10 products.', `${param}[products]`);
          next.products = products.map((p, i) => {
            const at = `${param}[products][${i}]`;
            if (!p?.product) throw invalid(`Missing required param: ${at}[product].`, `${at}[product]`);
            const prices = listOfStrings(p.prices, `${at}[prices]`);
            if (prices.length === 0) throw invalid(`Missing required param: ${at}[prices].`, `${at}[prices]`);
            prices.forEach((id, j) => {
              const price = d.get('price', id, `${at}[prices][${j}]`);
              if (!price.recurring) throw invalid(`The price ${id} is not recurring.`, `${at}[prices][${j}]`);
              if (price.product !== p.product)
                throw invalid(`The price ${id} does not belong to product ${p.product}.`, `${at}[prices][${j}]`);
            });
            return { product: p.product, prices, adjustable_quantity: { enabled: false, maximum: null, minimum: 1 } };
          });
        }
        break;
      }
    }
    features[name] = next;
  }
  return features;
}

/** The fields of a portal configuration that create and update both take. */
function applyPortalConfiguration(d: StripeDouble, config: Json, p: Json, creating: boolean): Json {
  if (p.features !== undefined) config.features = portalFeatures(d, p.features, config.features, creating);
  if (p.metadata !== undefined) config.metadata = p.metadata === '' ? {} : { ...(config.metadata ?? {}), ...metadataOf(p) };
  if (p.name !== undefined) config.name = p.name === '' ? null : String(p.name);
  if (p.default_return_url !== undefined) config.default_return_url = p.default_return_url === '' ? null : String(p.default_return_url);
  if (p.active !== undefined) config.active = bool(p.active, 'active');
  config.updated = nowSeconds();
  return config;
}

const SUBSCRIPTION_LIST_STATUSES = [
  'active',
  'all',
  'canceled',
  'ended',
  'incomplete',
  'incomplete_expired',
  'past_due',
  'paused',
  'trialing',
  'unpaid',
];

/** The endpoints the shopper flows use, as Stripe documents them. */
export const defaultRoutes: RouteDef[] = [
  {
    method: 'POST',
    path: '/v1/coupons',
    allowed: [
      'id',
      'percent_off',
      'amount_off',
      'currency',
      'duration',
      'duration_in_months',
      'name',
      'metadata',
      'max_redemptions',
      'redeem_by',
      'applies_to',
    ],
    handle: (req, d) => {
      const p = req.params;
      if ((p.percent_off === undefined) === (p.amount_off === undefined))
        throw invalid('Exactly one of percent_off and amount_off must be given.', 'percent_off');
      if (p.percent_off !== undefined) {
        const pct = Number(p.percent_off);
        if (!(pct > 0 && pct <= 100)) throw invalid('percent_off must be greater than 0 and at most 100.', 'percent_off');
      }
      if (p.amount_off !== undefined && !p.currency) throw invalid('currency is required with amount_off.', 'currency');
      const duration = oneOf(p.duration ?? 'once', ['once', 'repeating', 'forever'], 'duration');
      if (duration === 'repeating' && p.duration_in_months === undefined)
        throw invalid('duration_in_months is required when duration is repeating.', 'duration_in_months');
      if (duration !== 'repeating' && p.duration_in_months !== undefined)
        throw invalid('duration_in_months is only allowed when duration is repeating.', 'duration_in_months');
      const id = p.id ?? randomBytes(4).toString('hex');
      if (d.objects.has(id)) throw invalid('Coupon already exists.', 'id', 'resource_already_exists');
      return d.render(
        d.put({
          id,
          object: 'coupon',
          percent_off: p.percent_off === undefined ? null : Number(p.percent_off),
          amount_off: p.amount_off === undefined ? null : integer(p.amount_off, 'amount_off'),
          currency: p.currency ?? null,
          duration,
          duration_in_months: p.duration_in_months === undefined ? null : integer(p.duration_in_months, 'duration_in_months'),
          name: p.name ?? null,
          metadata: metadataOf(p),
          created: nowSeconds(),
          livemode: false,
          times_redeemed: 0,
          valid: true,
        }),
      );
    },
  },
  {
    method: 'GET',
    path: '/v1/coupons/:id',
    handle: (req, d) => d.render(d.get('coupon', req.pathParams.id!)),
  },
  {
    method: 'POST',
    path: '/v1/customers',
    allowed: ['email', 'name', 'description', 'metadata', 'phone', 'preferred_locales'],
    handle: (req, d) => {
      const customer = d.customer(newId('cus'));
      Object.assign(customer, { metadata: metadataOf(req.params), email: req.params.email ?? null, name: req.params.name ?? null });
      return d.render(customer);
    },
  },
  {
    method: 'GET',
    path: '/v1/prices/:id',
    handle: (req, d) => d.render(d.get('price', req.pathParams.id!)),
  },
  {
    method: 'POST',
    path: '/v1/checkout/sessions',
    required: ['mode', 'success_url'],
    allowed: [
      'mode',
      'success_url',
      'cancel_url',
      'customer',
      'customer_email',
      'client_reference_id',
      'line_items',
      'metadata',
      'subscription_data',
      'custom_text',
      'expires_at',
      'allow_promotion_codes',
      'locale',
      'payment_method_collection',
      'consent_collection',
      'billing_address_collection',
      'automatic_tax',
      'tax_id_collection',
    ],
    handle: (req, d) => {
      const p = req.params;
      if (!['payment', 'setup', 'subscription'].includes(p.mode)) throw invalid(`Invalid mode: ${p.mode}`, 'mode');
      if (p.customer && p.customer_email)
        throw invalid('You may only specify one of these parameters: customer, customer_email.', 'customer');
      if (p.customer) d.get('customer', p.customer, 'customer');
      if (p.client_reference_id !== undefined && String(p.client_reference_id).length > 200)
        throw invalid('client_reference_id is too long', 'client_reference_id');
      const now = nowSeconds();
      if (p.expires_at !== undefined) {
        const at = integer(p.expires_at, 'expires_at');
        if (at < now + 30 * 60 || at > now + 24 * 3600)
          throw invalid('The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.', 'expires_at');
      }
      const submit = p.custom_text?.submit?.message;
      if (submit !== undefined && String(submit).length > 1200)
        throw invalid('custom_text[submit][message] is too long', 'custom_text[submit][message]');
      if (p.mode === 'subscription') {
        if (!Array.isArray(p.line_items) || p.line_items.length === 0)
          throw invalid('line_items is required in subscription mode.', 'line_items');
        p.line_items.forEach((li: Json, i: number) => {
          if (!li.price) throw invalid('Missing required param: line_items[0][price].', `line_items[${i}][price]`);
          const price = d.get('price', li.price, `line_items[${i}][price]`);
          if (!price.recurring)
            throw invalid('You must provide at least one recurring price in `subscription` mode.', `line_items[${i}][price]`);
          if (li.quantity !== undefined && integer(li.quantity, `line_items[${i}][quantity]`) < 1)
            throw invalid('Invalid quantity', `line_items[${i}][quantity]`);
        });
        const trial = p.subscription_data?.trial_period_days;
        if (trial !== undefined && integer(trial, 'subscription_data[trial_period_days]') < 1) {
          throw invalid('subscription_data[trial_period_days] must be at least 1.', 'subscription_data[trial_period_days]');
        }
        metadataOf(p.subscription_data ?? {}, 'metadata');
      } else if (p.subscription_data) {
        throw invalid('subscription_data can only be used in subscription mode.', 'subscription_data');
      }
      const id = `cs_test_${randomBytes(24).toString('hex')}`;
      const session = Object.assign(clone(checkoutSessionFixture) as Json, {
        id,
        mode: p.mode,
        status: 'open',
        payment_status: 'unpaid',
        customer: p.customer ?? null,
        customer_email: p.customer_email ?? null,
        client_reference_id: p.client_reference_id ?? null,
        metadata: metadataOf(p),
        success_url: p.success_url,
        cancel_url: p.cancel_url ?? null,
        created: now,
        expires_at: p.expires_at !== undefined ? Number(p.expires_at) : now + 24 * 3600,
        payment_intent: null,
        subscription: null,
        currency: 'usd',
        url: `https://checkout.stripe.com/c/pay/${id}`,
        _params: p,
      });
      return d.render(d.put(session));
    },
  },
  {
    method: 'POST',
    path: '/v1/billing_portal/sessions',
    required: ['customer'],
    allowed: ['customer', 'return_url', 'configuration', 'flow_data', 'locale', 'on_behalf_of'],
    handle: (req, d) => {
      d.get('customer', req.params.customer, 'customer');
      if (req.params.configuration !== undefined) {
        const configuration = d.get('billing_portal.configuration', req.params.configuration, 'configuration');
        if (!configuration.active) throw invalid(`The configuration ${configuration.id} is not active.`, 'configuration');
      }
      const id = newId('bps');
      return d.render(
        d.put(
          Object.assign(clone(portalSessionFixture) as Json, {
            id,
            customer: req.params.customer,
            // Without one, Stripe uses the account's default configuration (the Dashboard's settings).
            configuration: req.params.configuration ?? DEFAULT_PORTAL_CONFIGURATION,
            return_url: req.params.return_url ?? null,
            created: nowSeconds(),
            flow: null,
            livemode: false,
            url: `https://billing.stripe.com/p/session/test_${randomBytes(16).toString('hex')}`,
          }),
        ),
      );
    },
  },
  {
    method: 'GET',
    path: '/v1/subscriptions/:id',
    handle: (req, d) => d.render(d.get('subscription', req.pathParams.id!)),
  },
  {
    method: 'POST',
    path: '/v1/subscriptions/:id',
    allowed: [
      'cancel_at_period_end',
      'cancel_at',
      'cancellation_details',
      'metadata',
      'proration_behavior',
      'items',
      'default_payment_method',
      'pause_collection',
      'discounts',
    ],
    handle: (req, d) => d.render(updateSubscription(d.get('subscription', req.pathParams.id!), req.params, d)),
  },
  {
    method: 'DELETE',
    path: '/v1/subscriptions/:id',
    allowed: ['invoice_now', 'prorate', 'cancellation_details'],
    handle: (req, d) => {
      const sub = d.get('subscription', req.pathParams.id!);
      if (sub.status === 'canceled') throw invalid(`No such subscription: '${sub.id}'`, 'id', 'resource_missing');
      if (req.params.prorate !== undefined) bool(req.params.prorate, 'prorate');
      if (req.params.invoice_now !== undefined) bool(req.params.invoice_now, 'invoice_now');
      const now = nowSeconds();
      Object.assign(sub, {
        status: 'canceled',
        canceled_at: now,
        ended_at: now,
        cancellation_details: {
          comment: req.params.cancellation_details?.comment ?? null,
          feedback: null,
          reason: 'cancellation_requested',
        },
      });
      return d.render(sub);
    },
  },
  {
    method: 'GET',
    path: '/v1/invoices/:id',
    handle: (req, d) => {
      const invoice = d.get('invoice', req.pathParams.id!);
      const shown = d.render(invoice);
      if (expands(req.params).includes('payments')) {
        const data = invoice._payments ?? [];
        shown.payments = { object: 'list', data, has_more: false, url: `/v1/invoices/${invoice.id}/payments` };
      }
      return shown;
    },
  },
  {
    method: 'GET',
    path: '/v1/invoice_payments',
    handle: (req, d) => {
      const data = d
        .all('invoice')
        .filter((i) => !req.params.invoice || i.id === req.params.invoice)
        .flatMap((i) => i._payments ?? []);
      return { object: 'list', data, has_more: false, url: '/v1/invoice_payments' };
    },
  },
  {
    method: 'POST',
    path: '/v1/refunds',
    allowed: [
      'payment_intent',
      'charge',
      'amount',
      'reason',
      'metadata',
      'instructions_email',
      'refund_application_fee',
      'reverse_transfer',
    ],
    handle: (req, d) => {
      const p = req.params;
      if (!p.payment_intent && !p.charge)
        throw invalid('One of the following params should be provided for this request: payment_intent or charge.');
      if (p.reason !== undefined && !['duplicate', 'fraudulent', 'requested_by_customer'].includes(p.reason))
        throw invalid(`Invalid reason: ${p.reason}`, 'reason');
      const pi = d.get('payment_intent', p.payment_intent, 'payment_intent');
      if (pi.status !== 'succeeded') throw invalid('This PaymentIntent does not have a successful charge to refund.', 'payment_intent');
      const refunded = Number(pi._refunded ?? 0);
      const remaining = pi.amount_received - refunded;
      const amount = p.amount === undefined ? remaining : integer(p.amount, 'amount');
      if (remaining <= 0) throw invalid(`Charge ${pi.latest_charge} has already been refunded.`, undefined, 'charge_already_refunded');
      if (amount <= 0 || amount > remaining)
        throw invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, 'amount', 'amount_too_large');
      pi._refunded = refunded + amount;
      const refund = Object.assign(clone(refundFixture) as Json, {
        id: newId('re'),
        amount,
        currency: pi.currency,
        payment_intent: pi.id,
        charge: pi.latest_charge,
        created: nowSeconds(),
        reason: p.reason ?? null,
        metadata: metadataOf(p),
        status: 'succeeded',
        customer: pi.customer ?? null,
      });
      return d.render(d.put(refund));
    },
  },
  {
    method: 'GET',
    path: '/v1/refunds',
    allowed: ['payment_intent', 'charge', 'limit', 'starting_after'],
    handle: (req, d) => {
      const p = req.params;
      const refunds = d
        .all('refund')
        .filter((r) => (!p.payment_intent || r.payment_intent === p.payment_intent) && (!p.charge || r.charge === p.charge));
      return d.list(refunds, p, '/v1/refunds');
    },
  },
  {
    method: 'GET',
    path: '/v1/subscriptions',
    allowed: ['customer', 'status', 'price', 'limit', 'starting_after'],
    handle: (req, d) => {
      const p = req.params;
      const status = p.status === undefined ? undefined : oneOf(p.status, SUBSCRIPTION_LIST_STATUSES, 'status');
      const subscriptions = d.all('subscription').filter((s) => {
        if (p.customer && s.customer !== p.customer) return false;
        if (p.price && !s.items.data.some((i: Json) => i.price?.id === p.price)) return false;
        // Without a status Stripe lists the subscriptions that have not been canceled.
        if (status === undefined) return s.status !== 'canceled';
        if (status === 'all') return true;
        if (status === 'ended') return s.status === 'canceled' || s.status === 'incomplete_expired';
        return s.status === status;
      });
      return d.list(subscriptions, p, '/v1/subscriptions');
    },
  },
  {
    method: 'GET',
    path: '/v1/checkout/sessions',
    allowed: ['customer', 'status', 'subscription', 'payment_intent', 'limit', 'starting_after'],
    handle: (req, d) => {
      const p = req.params;
      const status = p.status === undefined ? undefined : oneOf(p.status, ['open', 'complete', 'expired'], 'status');
      const sessions = d
        .all('checkout.session')
        .filter(
          (s) =>
            (!p.customer || s.customer === p.customer) &&
            (!status || s.status === status) &&
            (!p.subscription || s.subscription === p.subscription),
        );
      return d.list(sessions, p, '/v1/checkout/sessions');
    },
  },
  {
    method: 'GET',
    path: '/v1/checkout/sessions/:id',
    handle: (req, d) => d.render(d.get('checkout.session', req.pathParams.id!)),
  },
  {
    method: 'POST',
    path: '/v1/checkout/sessions/:id/expire',
    allowed: [],
    handle: (req, d) => {
      const session = d.get('checkout.session', req.pathParams.id!);
      if (session.status !== 'open') {
        throw invalid(
          `This Checkout Session is ${session.status}: only a Checkout Session with status open can be expired.`,
          undefined,
          'checkout_session_not_open',
        );
      }
      // An expired session's page says so; its URL is gone.
      Object.assign(session, { status: 'expired', url: null });
      return d.render(session);
    },
  },
  {
    method: 'GET',
    path: '/v1/billing_portal/configurations',
    allowed: ['active', 'is_default', 'limit', 'starting_after'],
    handle: (req, d) => {
      const p = req.params;
      const active = p.active === undefined ? undefined : bool(p.active, 'active');
      const isDefault = p.is_default === undefined ? undefined : bool(p.is_default, 'is_default');
      const configurations = d
        .all('billing_portal.configuration')
        .filter((c) => (active === undefined || c.active === active) && (isDefault === undefined || c.is_default === isDefault));
      return d.list(configurations, p, '/v1/billing_portal/configurations');
    },
  },
  {
    method: 'GET',
    path: '/v1/billing_portal/configurations/:id',
    handle: (req, d) => d.render(d.get('billing_portal.configuration', req.pathParams.id!)),
  },
  {
    method: 'POST',
    path: '/v1/billing_portal/configurations',
    required: ['features'],
    allowed: ['features', 'business_profile', 'default_return_url', 'login_page', 'metadata', 'name'],
    handle: (req, d) => {
      const base = clone(portalConfigurationFixture) as Json;
      const config = Object.assign(base, {
        id: newId('bpc'),
        created: nowSeconds(),
        is_default: false,
        livemode: false,
        metadata: {},
        features: { ...base.features, subscription_update: { ...base.features.subscription_update, products: [] } },
      });
      return d.render(d.put(applyPortalConfiguration(d, config, req.params, true)));
    },
  },
  {
    method: 'POST',
    path: '/v1/billing_portal/configurations/:id',
    allowed: ['active', 'business_profile', 'default_return_url', 'features', 'login_page', 'metadata', 'name'],
    handle: (req, d) => d.render(applyPortalConfiguration(d, d.get('billing_portal.configuration', req.pathParams.id!), req.params, false)),
  },
];
