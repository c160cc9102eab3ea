/**
 * An in-process HTTP stand-in for the Stripe API: the state, the request handling and the seeding
 * helpers of the double (endpoints in ./routes.ts, the class tests start in ./double.ts). The real
 * `stripe` client talks to it through `STRIPE_API_BASE`. Every request is checked against what Stripe
 * documents for it (bearer key, `Stripe-Version` equal to our pinned version, form encoding,
 * `Idempotency-Key` on POSTs, required parameters, and the tree of known parameters and enum values
 * at every depth: ./params.ts); a wrong call gets Stripe's error shape with 400 so the test fails.
 * Answers are realistic objects built from tests/fixtures/stripe, kept in a small in-memory state.
 *
 * Everything it does that Stripe reports as an event (a checkout completed, a subscription updated
 * or cancelled, a refund) is added to its event list (`GET /v1/events`) and, when a webhook URL is
 * set, delivered there signed with the webhook secret, or held back ("webhooks down") until
 * released. Faults (429, 5xx, connection reset, before or after processing) are queued with
 * `fail(...)`; `before(...)` changes the world just before a request is handled (a shopper paying in
 * another tab). Every request is recorded in `calls`. Lists page like Stripe's (newest first,
 * `limit` 1–100, `starting_after`).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STRIPE_API_VERSION } from '#shared/stripe/api-version';
import balanceTransactionFixture from '../../tests/fixtures/stripe/balance_transaction.json' with { type: 'json' };
import chargeFixture from '../../tests/fixtures/stripe/charge.json' with { type: 'json' };
import customerFixture from '../../tests/fixtures/stripe/customer.json' with { type: 'json' };
import invoicePaymentFixture from '../../tests/fixtures/stripe/invoice_payment.json' with { type: 'json' };
import paymentIntentFixture from '../../tests/fixtures/stripe/payment_intent.json' with { type: 'json' };
import priceFixture from '../../tests/fixtures/stripe/price.json' with { type: 'json' };
import { LOCAL_DEFAULTS } from '../defaults';
import { invoiceObject, signPayload, subscriptionObject } from '../stripe-test-events';
import { missing, StripeApiError } from './errors';
import { checkParams, invalid, type ParamSpec } from './params';

// biome-ignore lint/suspicious/noExplicitAny: Stripe objects, edited field by field.
export type Json = Record<string, any>;
export const clone = <T>(v: T): T => structuredClone(v);
export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
let eventSeq = 0;
/**
 * Event ids that sort in the order the double made them: several events of one object often share
 * a second here, and the state machine breaks same-second ties by event id (a person does not cancel
 * within the second their checkout completed; a test does).
 */
const eventId = () =>
  `evt_${Date.now().toString(36)}${(eventSeq++ % 1_679_616).toString(36).padStart(4, '0')}${randomBytes(6).toString('hex')}`;
const DAY = 86_400;

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
  /** e.g. `/v1/subscriptions/:id`; paths under `/_double/` are the double's own controls (no Stripe-Version, no idempotency key). */
  path: string;
  /** Parameters Stripe requires, as bracketed paths with `[]` for any index: `line_items[][price]`. */
  required?: string[];
  /** Every parameter Stripe accepts (beyond `expand`), at every depth; anything else is "Received unknown parameter". */
  params?: Record<string, ParamSpec>;
  handle: (req: DoubleRequest, double: DoubleCore) => Json | { status: number; body: Json };
}

export type Fault =
  | { kind: 'status'; status: number; code?: string; type?: string; headers?: Record<string, string> }
  | { kind: 'reset'; after?: boolean };

/** Decodes `a[b][0][c]=v` form fields into nested objects and arrays, as Stripe reads them. */
export function decodeForm(flat: Record<string, string>): Json {
  const root: Json = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.replace(/\]/g, '').split('[');
    // biome-ignore lint/suspicious/noExplicitAny: walking a tree being built.
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
  const walk = (node: unknown, i: number): boolean => {
    if (i === parts.length) return node !== undefined && node !== '';
    if (node === null || typeof node !== 'object') return false;
    if (parts[i] === '') return Array.isArray(node) && node.length > 0 && node.every((n) => walk(n, i + 1));
    return walk((node as Json)[parts[i]!], i + 1);
  };
  return walk(params, 0);
}

export const bool = (v: unknown, param: string): boolean => {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(`Invalid boolean: ${String(v)}`, param);
};
export const integer = (v: unknown, param: string): number => {
  if (typeof v !== 'string' || !/^-?\d+$/.test(v)) throw invalid(`Invalid integer: ${String(v)}`, param);
  return Number(v);
};

export function metadataOf(params: Json, param = 'metadata'): Json {
  const md = params[param];
  if (md === undefined || md === '') return {};
  if (typeof md !== 'object' || Array.isArray(md)) throw invalid('Invalid object', param);
  for (const [k, v] of Object.entries(md)) {
    if (typeof v !== 'string' || v.length > 500 || k.length > 40) throw invalid(`Invalid metadata value for ${k}`, `${param}[${k}]`);
  }
  return md;
}

export const expands = (params: Json): string[] => (Array.isArray(params.expand) ? params.expand : []);

interface Compiled extends RouteDef {
  pattern: RegExp;
  names: string[];
}

/** Where the double's events go: a webhook URL and its secret, delivering or holding back. */
export interface WebhookTarget {
  url: string | null;
  secret: string;
  /** `hold`: events only join the list (and the held queue) until `releaseHeldEvents`, as during an outage. */
  mode: 'deliver' | 'hold';
}

export class DoubleCore {
  readonly calls: StripeCall[] = [];
  /** Objects by id: customers, prices, checkout sessions, subscriptions, invoices, payment intents, charges, refunds, events. */
  readonly objects = new Map<string, Json>();
  private readonly routes: Compiled[] = [];
  private readonly faults: Array<{ method?: string; path?: RegExp; fault: Fault }> = [];
  private readonly hooks: Array<{ method?: string; path?: RegExp; run: (double: DoubleCore) => void }> = [];
  private readonly idempotency = new Map<string, { fingerprint: string; status: number; body: Json }>();
  /** Seconds added to the wall clock: objects and events the double makes are dated by it. */
  clockOffsetSeconds = 0;
  readonly webhook: WebhookTarget = { url: null, secret: LOCAL_DEFAULTS.STRIPE_WEBHOOK_SECRET, mode: 'deliver' };
  /** Events not delivered while webhooks were held, oldest first. */
  readonly heldEvents: Json[] = [];
  /** Every delivery attempt: event, HTTP status (0 when the endpoint was unreachable). */
  readonly deliveries: Array<{ eventId: string; type: string; status: number }> = [];
  private delivering: Promise<void> = Promise.resolve();

  constructor(readonly apiKey = 'sk_test_double_0000000000000000') {}

  now(): number {
    return Math.floor(Date.now() / 1000) + this.clockOffsetSeconds;
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
  before(match: { method?: string; path?: RegExp | string }, run: (double: DoubleCore) => void): void {
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
   * `limit` 1–100 (default 10), cursor `starting_after`. `show` renders each listed object.
   */
  list(objects: Json[], params: Json, url: string, show: (o: Json) => Json = (o) => this.render(o)): Json {
    const limit = params.limit === undefined ? 10 : integer(params.limit, 'limit');
    if (limit < 1 || limit > 100) throw invalid('Invalid limit: must be between 1 and 100.', 'limit');
    const order = new Map([...this.objects.keys()].map((id, i) => [id, i]));
    let ordered = [...objects].sort((a, b) => b.created - a.created || order.get(b.id)! - order.get(a.id)!);
    if (params.starting_after !== undefined) {
      const at = ordered.findIndex((o) => o.id === params.starting_after);
      if (at < 0) throw missing(objects[0]?.object ?? 'object', String(params.starting_after), 'starting_after');
      ordered = ordered.slice(at + 1);
    }
    return { object: 'list', data: ordered.slice(0, limit).map(show), has_more: ordered.length > limit, url };
  }

  // --- events and webhooks -------------------------------------------------------------------

  /**
   * Records an event as Stripe does (in the list for 30 days) and delivers it to the webhook URL,
   * signed with the webhook secret, unless webhooks are held. `object` is rendered as it is now.
   */
  emit(type: string, object: Json, previousAttributes?: Json): Json {
    const event = this.put({
      id: eventId(),
      object: 'event',
      api_version: STRIPE_API_VERSION,
      created: this.now(),
      data: { object: this.render(clone(object)), ...(previousAttributes ? { previous_attributes: previousAttributes } : {}) },
      livemode: false,
      pending_webhooks: this.webhook.url ? 1 : 0,
      request: { id: null, idempotency_key: null },
      type,
    });
    if (!this.webhook.url) return event;
    if (this.webhook.mode === 'hold') this.heldEvents.push(event);
    else this.deliver(event);
    return event;
  }

  /** Delivers held events, oldest first, and waits for every delivery. */
  async releaseHeldEvents(): Promise<number> {
    const held = this.heldEvents.splice(0);
    for (const event of held) this.deliver(event);
    await this.deliveriesSettled();
    return held.length;
  }

  /** Forgets held events: they stay in the event list only (Stripe gave up on them). */
  dropHeldEvents(): number {
    return this.heldEvents.splice(0).length;
  }

  /** Resolves once every delivery started so far has been answered. */
  deliveriesSettled(): Promise<void> {
    return this.delivering;
  }

  private deliver(event: Json): void {
    // One at a time, in the order they happened (Stripe gives no order guarantee; tests want one).
    this.delivering = this.delivering.then(async () => {
      const payload = JSON.stringify(event);
      let status = 0;
      try {
        const res = await fetch(this.webhook.url!, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, this.webhook.secret) },
          body: payload,
        });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0;
      }
      this.deliveries.push({ eventId: event.id, type: event.type, status });
      if (status >= 200 && status < 300) event.pending_webhooks = 0;
    });
  }

  // --- seeding helpers for tests -------------------------------------------------------------

  /** A price; without `interval` a one-time price (`type: one_time`, `recurring: null`), as gifts use. */
  price(spec: { id: string; unitAmount: number; interval?: 'month' | 'year'; currency?: string; product?: string }): Json {
    const price = clone(priceFixture) as Json;
    return this.put(
      Object.assign(price, {
        ...(spec.product ? { product: spec.product } : {}),
        id: spec.id,
        unit_amount: spec.unitAmount,
        unit_amount_decimal: String(spec.unitAmount),
        currency: spec.currency ?? 'usd',
        type: spec.interval ? 'recurring' : 'one_time',
        recurring: spec.interval ? { ...price.recurring, interval: spec.interval, interval_count: 1 } : null,
        livemode: false,
      }),
    );
  }

  customer(id = newId('cus'), memberId?: string): Json {
    return this.put(
      Object.assign(clone(customerFixture) as Json, { id, metadata: memberId ? { memberId } : {}, created: this.now(), discount: null }),
    );
  }

  /** A balance transaction of a charge (positive) or refund (negative), as the balance report lists it. */
  private balanceTransaction(source: Json, amount: number, category: 'charge' | 'refund'): string {
    const fee = category === 'charge' ? Math.round(amount * 0.029) + 30 : 0;
    return this.put(
      Object.assign(clone(balanceTransactionFixture) as Json, {
        id: newId('txn'),
        amount,
        fee,
        net: amount - fee,
        currency: source.currency,
        created: this.now(),
        available_on: this.now() + 2 * DAY,
        reporting_category: category,
        type: category,
        source: source.id,
        description: null,
      }),
    ).id;
  }

  /** The balance transaction of a refund (money going back out). */
  refundTransaction(refund: Json): string {
    return this.balanceTransaction(refund, -refund.amount, 'refund');
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
   * A paid invoice with one InvoicePayment through a succeeded PaymentIntent and its charge, as
   * Stripe links them in this API version (invoice → payments → payment_intent → latest_charge).
   * `invoice` is an endive-shaped invoice. Returns the InvoicePayment too (null for a $0 invoice,
   * which Stripe marks paid without a payment).
   */
  paidInvoice(invoice: Json): { invoice: Json; paymentIntent: Json; payment: Json | null } {
    const chargeId = newId('ch');
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
        latest_charge: chargeId,
        livemode: false,
      }),
    );
    if (invoice.amount_paid > 0) {
      const charge = this.put(
        Object.assign(clone(chargeFixture) as Json, {
          id: chargeId,
          amount: invoice.amount_paid,
          amount_captured: invoice.amount_paid,
          amount_refunded: 0,
          refunded: false,
          currency: invoice.currency,
          customer: invoice.customer,
          payment_intent: paymentIntent.id,
          created: this.now(),
          livemode: false,
          refunds: { object: 'list', data: [], has_more: false, url: `/v1/charges/${chargeId}/refunds` },
        }),
      );
      charge.balance_transaction = this.balanceTransaction(charge, charge.amount, 'charge');
    }
    const payment =
      invoice.amount_paid > 0
        ? Object.assign(clone(invoicePaymentFixture) as Json, {
            id: newId('inpay'),
            invoice: invoice.id,
            amount_paid: invoice.amount_paid,
            amount_requested: invoice.amount_paid,
            currency: invoice.currency,
            status: 'paid',
            is_default: true,
            livemode: false,
            created: invoice.status_transitions?.paid_at ?? this.now(),
            payment: { type: 'payment_intent', payment_intent: paymentIntent.id },
            status_transitions: { canceled_at: null, paid_at: invoice.status_transitions?.paid_at ?? this.now() },
          })
        : null;
    this.put({ ...invoice, _payments: payment ? [payment] : [] });
    return { invoice, paymentIntent, payment };
  }

  /**
   * The shopper pays on the Checkout page: the session completes, Stripe creates the subscription it
   * describes (trialing with a trial, else active) and its first invoice, paid, and reports it all as
   * events: `customer.subscription.created`, `invoice.paid`, `invoice_payment.paid` (not for the $0
   * invoice of a trial) and `checkout.session.completed`.
   */
  completeCheckoutSession(id: string): { session: Json; subscription: Json; invoice: Json } {
    const session = this.openSession(id);
    if (session.mode !== 'subscription') throw invalid(`This Checkout Session is in ${session.mode} mode.`, 'id');
    const params = session._params as Json;
    const price = this.get('price', params.line_items[0].price);
    const now = this.now();
    const trialDays = params.subscription_data?.trial_period_days ? Number(params.subscription_data.trial_period_days) : 0;
    const trialEnd = now + trialDays * DAY;
    const metadata = { ...(params.subscription_data?.metadata ?? {}) };
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
    Object.assign(subscription, { created: now, metadata, livemode: false });
    const item = subscription.items.data[0];
    const { invoice, payment } = this.paidInvoice(
      Object.assign(
        invoiceObject({
          customer: session.customer,
          subscription: subscription.id,
          memberId: metadata.memberId ?? null,
          billingReason: 'subscription_create',
          amountPaid: trialDays > 0 ? 0 : price.unit_amount,
          currency: price.currency,
          periodStart: item.current_period_start,
          periodEnd: item.current_period_end,
          priceId: price.id,
          created: now,
        }),
        { livemode: false },
      ),
    );
    this.put(Object.assign(subscription, { latest_invoice: invoice.id }));
    const customer = session.customer ? this.objects.get(session.customer) : undefined;
    Object.assign(session, {
      status: 'complete',
      payment_status: trialDays > 0 ? 'no_payment_required' : 'paid',
      subscription: subscription.id,
      invoice: invoice.id,
      customer_details: { ...(session.customer_details ?? {}), email: customer?.email ?? session.customer_email ?? null },
      url: null,
    });
    this.emit('customer.subscription.created', subscription);
    this.emit('invoice.paid', this.objects.get(invoice.id)!);
    if (payment) this.emit('invoice_payment.paid', payment);
    this.emit('checkout.session.completed', session);
    return { session: this.render(session), subscription: this.render(subscription), invoice: this.render(invoice) };
  }

  /**
   * A payment-mode session paid by card: a succeeded PaymentIntent for the line items' total (its
   * metadata from `payment_intent_data`), its charge and balance transaction, and the session complete
   * and `paid`, reported as `checkout.session.completed` (no invoice: Checkout makes none in payment
   * mode unless `invoice_creation` is asked for).
   */
  completePaymentSession(id: string): { session: Json; paymentIntent: Json } {
    const session = this.openSession(id);
    if (session.mode !== 'payment') throw invalid(`This Checkout Session is in ${session.mode} mode.`, 'id');
    const params = session._params as Json;
    const lines = (params.line_items as Json[]).map((li) => ({ price: this.get('price', li.price), quantity: Number(li.quantity ?? 1) }));
    const amount = lines.reduce((sum, l) => sum + l.price.unit_amount * l.quantity, 0);
    const currency = lines[0]!.price.currency;
    const now = this.now();
    const chargeId = newId('ch');
    const paymentIntent = this.put(
      Object.assign(clone(paymentIntentFixture) as Json, {
        id: newId('pi'),
        amount,
        amount_received: amount,
        currency,
        customer: session.customer,
        status: 'succeeded',
        canceled_at: null,
        last_payment_error: null,
        next_action: null,
        latest_charge: chargeId,
        metadata: { ...(params.payment_intent_data?.metadata ?? {}) },
        created: now,
        livemode: false,
      }),
    );
    const charge = this.put(
      Object.assign(clone(chargeFixture) as Json, {
        id: chargeId,
        amount,
        amount_captured: amount,
        amount_refunded: 0,
        refunded: false,
        currency,
        customer: session.customer,
        payment_intent: paymentIntent.id,
        created: now,
        livemode: false,
        refunds: { object: 'list', data: [], has_more: false, url: `/v1/charges/${chargeId}/refunds` },
      }),
    );
    charge.balance_transaction = this.balanceTransaction(charge, amount, 'charge');
    const customer = session.customer ? this.objects.get(session.customer) : undefined;
    Object.assign(session, {
      status: 'complete',
      payment_status: 'paid',
      payment_intent: paymentIntent.id,
      amount_subtotal: amount,
      amount_total: amount,
      currency,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      customer_details: {
        ...(session.customer_details ?? {}),
        email: customer?.email ?? session.customer_email ?? 'buyer@example.com',
      },
      url: null,
    });
    this.emit('checkout.session.completed', session);
    return { session: this.render(session), paymentIntent: this.render(paymentIntent) };
  }

  /** The shopper pays on the Checkout page, whatever the session's mode (the double's control route). */
  completeSession(id: string): Json {
    return this.get('checkout.session', id).mode === 'payment' ? this.completePaymentSession(id) : this.completeCheckoutSession(id);
  }

  private openSession(id: string): Json {
    const session = this.get('checkout.session', id);
    if (session.status !== 'open')
      throw invalid(`This Checkout Session is ${session.status}, not open.`, 'id', 'checkout_session_not_open');
    return session;
  }

  /** What the API shows of a stored object: internal `_` fields stripped. */
  render(object: Json): Json {
    return Object.fromEntries(Object.entries(object).filter(([k]) => !k.startsWith('_')));
  }

  // --- request handling ----------------------------------------------------------------------

  async serve(req: IncomingMessage, res: ServerResponse) {
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

      if (method === 'POST' && !isControl(request)) {
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
    if (isControl(req)) return;
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
    if (route.params) checkParams(req.params, route.params);
  }
}

/** The double's own controls (`/_double/...`): not Stripe's API, so none of its request rules. */
const isControl = (req: Pick<DoubleRequest, 'path'>) => req.path.startsWith('/_double/');
