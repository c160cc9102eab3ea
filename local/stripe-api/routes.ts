/**
 * The Stripe endpoints the double serves, each with the parameters Stripe accepts (./params.ts) and
 * the rules Stripe applies, and the double's own controls under `/_double/` (complete a Checkout
 * Session as the shopper would, hold or release webhooks).
 */
import { randomBytes } from 'node:crypto';
import portalConfigurationFixture from '../../tests/fixtures/stripe/billing_portal_configuration.json' with { type: 'json' };
import portalSessionFixture from '../../tests/fixtures/stripe/billing_portal_session.json' with { type: 'json' };
import checkoutSessionFixture from '../../tests/fixtures/stripe/checkout_session.json' with { type: 'json' };
import refundFixture from '../../tests/fixtures/stripe/refund.json' with { type: 'json' };
import { bool, clone, type DoubleCore, expands, integer, type Json, metadataOf, newId, type RouteDef } from './core';
import { inRange, invalid, P, type ParamSpec } from './params';

const CANCELLATION_FEEDBACK = [
  'customer_service',
  'low_quality',
  'missing_features',
  'other',
  'switched_service',
  'too_complex',
  'too_expensive',
  'unused',
];

const CANCELLATION_REASONS = [...CANCELLATION_FEEDBACK];

/** What portal configuration create and update take (features checked further by `portalFeatures`). */
const PORTAL_CONFIGURATION_PARAMS: Record<string, ParamSpec> = {
  business_profile: P.obj({ headline: P.emptyable(P.str), privacy_policy_url: P.str, terms_of_service_url: P.str }),
  default_return_url: P.emptyable(P.str),
  login_page: P.obj({ enabled: P.bool }),
  metadata: P.meta,
  name: P.emptyable(P.str),
  features: P.obj({
    customer_update: P.obj({
      enabled: P.bool,
      allowed_updates: P.emptyable(P.arr(P.enum('address', 'email', 'name', 'phone', 'shipping', 'tax_id'))),
    }),
    invoice_history: P.obj({ enabled: P.bool }),
    payment_method_update: P.obj({ enabled: P.bool, payment_method_configuration: P.emptyable(P.str) }),
    subscription_cancel: P.obj({
      enabled: P.bool,
      mode: P.enum('at_period_end', 'immediately'),
      proration_behavior: P.enum('always_invoice', 'create_prorations', 'none'),
      cancellation_reason: P.obj({ enabled: P.bool, options: P.emptyable(P.arr(P.enum(...CANCELLATION_REASONS))) }),
    }),
    subscription_pause: P.obj({ enabled: P.bool }),
    subscription_update: P.obj({
      enabled: P.bool,
      default_allowed_updates: P.emptyable(P.arr(P.enum('price', 'promotion_code', 'quantity'))),
      products: P.emptyable(
        P.arr(
          P.obj({ product: P.str, prices: P.arr(P.str), adjustable_quantity: P.obj({ enabled: P.bool, maximum: P.int, minimum: P.int }) }),
        ),
      ),
      proration_behavior: P.enum('always_invoice', 'create_prorations', 'none'),
      schedule_at_period_end: P.obj({
        conditions: P.emptyable(P.arr(P.obj({ type: P.enum('decreasing_item_amount', 'shortening_interval') }))),
      }),
      trial_update_behavior: P.enum('continue_trial', 'end_trial'),
    }),
  }),
};

/** An invoice as the API shows it, with its InvoicePayments when `payments` is expanded. */
function showInvoice(d: DoubleCore, invoice: Json, withPayments: boolean): Json {
  const shown = d.render(invoice);
  if (withPayments)
    shown.payments = { object: 'list', data: invoice._payments ?? [], has_more: false, url: `/v1/invoices/${invoice.id}/payments` };
  return shown;
}

function updateSubscription(d: DoubleCore, sub: Json, params: Json): Json {
  if (sub.status === 'canceled') {
    throw invalid('A canceled subscription can only update its cancellation_details and metadata.');
  }
  const item = sub.items.data[0];
  const before = {
    cancel_at_period_end: sub.cancel_at_period_end,
    cancel_at: sub.cancel_at,
    canceled_at: sub.canceled_at,
    metadata: sub.metadata,
    items: clone(sub.items),
    discounts: sub.discounts ?? [],
  };
  if (params.items !== undefined) {
    (params.items as Json[]).forEach((change, i) => {
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
    const discounts = (params.discounts === '' ? [] : params.discounts) as Json[];
    sub.discounts = discounts.map((entry, i) => {
      const coupon = d.get('coupon', entry.coupon, `discounts[${i}][coupon]`);
      if (!coupon.valid) throw invalid(`Coupon ${coupon.id} is no longer valid.`, `discounts[${i}][coupon]`);
      return newId('di');
    });
    sub._coupons = discounts.map((entry) => entry.coupon);
  }
  if (params.cancel_at_period_end !== undefined && params.cancel_at !== undefined && params.cancel_at !== '') {
    throw invalid('You may only specify one of these parameters: cancel_at, cancel_at_period_end.', 'cancel_at');
  }
  if (params.cancel_at_period_end !== undefined) {
    const flag = bool(params.cancel_at_period_end, 'cancel_at_period_end');
    sub.cancel_at_period_end = flag;
    // Since 2025 Stripe mirrors a period-end cancellation into cancel_at.
    sub.cancel_at = flag ? item.current_period_end : null;
    sub.canceled_at = flag ? d.now() : null;
  }
  if (params.cancel_at !== undefined) {
    sub.cancel_at = params.cancel_at === '' ? null : integer(params.cancel_at, 'cancel_at');
    if (params.cancel_at === '') {
      sub.cancel_at_period_end = false;
      sub.canceled_at = null;
    }
  }
  if (params.metadata !== undefined) sub.metadata = { ...sub.metadata, ...metadataOf(params) };
  const previous = Object.fromEntries(Object.entries(before).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(sub[k])));
  if (Object.keys(previous).length > 0) d.emit('customer.subscription.updated', sub, previous);
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
function portalFeatures(d: DoubleCore, given: unknown, current: Json, creating: boolean): Json {
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
function applyPortalConfiguration(d: DoubleCore, config: Json, p: Json, creating: boolean): Json {
  if (p.features !== undefined) config.features = portalFeatures(d, p.features, config.features, creating);
  if (p.metadata !== undefined) config.metadata = p.metadata === '' ? {} : { ...(config.metadata ?? {}), ...metadataOf(p) };
  if (p.name !== undefined) config.name = p.name === '' ? null : String(p.name);
  if (p.default_return_url !== undefined) config.default_return_url = p.default_return_url === '' ? null : String(p.default_return_url);
  if (p.active !== undefined) config.active = bool(p.active, 'active');
  config.updated = d.now();
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
    params: {
      id: P.str,
      percent_off: P.str,
      amount_off: P.int,
      currency: P.str,
      duration: P.enum('once', 'repeating', 'forever'),
      duration_in_months: P.int,
      name: P.str,
      metadata: P.meta,
      max_redemptions: P.int,
      redeem_by: P.int,
      applies_to: P.obj({ products: P.arr(P.str) }),
    },
    handle: (req, d) => {
      const p = req.params;
      if ((p.percent_off === undefined) === (p.amount_off === undefined))
        throw invalid('Exactly one of percent_off and amount_off must be given.', 'percent_off');
      if (p.percent_off !== undefined) {
        const pct = Number(p.percent_off);
        if (!(pct > 0 && pct <= 100)) throw invalid('percent_off must be greater than 0 and at most 100.', 'percent_off');
      }
      if (p.amount_off !== undefined && !p.currency) throw invalid('currency is required with amount_off.', 'currency');
      const duration = p.duration ?? 'once';
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
          created: d.now(),
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
    params: { email: P.str, name: P.str, description: P.str, metadata: P.meta, phone: P.str, preferred_locales: P.arr(P.str) },
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
    params: {
      mode: P.enum('payment', 'setup', 'subscription'),
      success_url: P.str,
      cancel_url: P.str,
      customer: P.str,
      customer_email: P.str,
      client_reference_id: P.str,
      line_items: P.arr(
        P.obj({ price: P.str, quantity: P.int, adjustable_quantity: P.obj({ enabled: P.bool, maximum: P.int, minimum: P.int }) }),
      ),
      metadata: P.meta,
      payment_intent_data: P.obj({ metadata: P.meta, description: P.str, receipt_email: P.str }),
      subscription_data: P.obj({
        metadata: P.meta,
        trial_period_days: P.int,
        trial_end: P.int,
        description: P.str,
        trial_settings: P.obj({ end_behavior: P.obj({ missing_payment_method: P.enum('cancel', 'create_invoice', 'pause') }) }),
      }),
      custom_text: P.obj({
        submit: P.emptyable(P.obj({ message: P.str })),
        terms_of_service_acceptance: P.emptyable(P.obj({ message: P.str })),
        shipping_address: P.emptyable(P.obj({ message: P.str })),
        after_submit: P.emptyable(P.obj({ message: P.str })),
      }),
      expires_at: P.int,
      allow_promotion_codes: P.bool,
      locale: P.str,
      payment_method_collection: P.enum('always', 'if_required'),
      consent_collection: P.obj({
        terms_of_service: P.enum('none', 'required'),
        promotions: P.enum('auto', 'none'),
        payment_method_reuse_agreement: P.obj({ position: P.enum('auto', 'hidden') }),
      }),
      billing_address_collection: P.enum('auto', 'required'),
      automatic_tax: P.obj({ enabled: P.bool }),
      tax_id_collection: P.obj({ enabled: P.bool, required: P.enum('if_supported', 'never') }),
    },
    handle: (req, d) => {
      const p = req.params;
      if (!['payment', 'setup', 'subscription'].includes(p.mode)) throw invalid(`Invalid mode: ${p.mode}`, 'mode');
      if (p.customer && p.customer_email)
        throw invalid('You may only specify one of these parameters: customer, customer_email.', 'customer');
      if (p.customer) d.get('customer', p.customer, 'customer');
      if (p.client_reference_id !== undefined && String(p.client_reference_id).length > 200)
        throw invalid('client_reference_id is too long', 'client_reference_id');
      const now = d.now();
      if (p.expires_at !== undefined) {
        const at = integer(p.expires_at, 'expires_at');
        if (at < now + 30 * 60 || at > now + 24 * 3600)
          throw invalid('The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.', 'expires_at');
      }
      const submit = p.custom_text?.submit?.message;
      if (submit !== undefined && String(submit).length > 1200)
        throw invalid('custom_text[submit][message] is too long', 'custom_text[submit][message]');
      // Each mode takes prices of its own kind only: recurring for subscriptions, one-time for payments.
      const checkLineItems = (mode: string, refusal: (price: Json) => string | null) => {
        if (!Array.isArray(p.line_items) || p.line_items.length === 0)
          throw invalid(`line_items is required in ${mode} mode.`, 'line_items');
        p.line_items.forEach((li: Json, i: number) => {
          if (!li.price) throw invalid('Missing required param: line_items[0][price].', `line_items[${i}][price]`);
          const refused = refusal(d.get('price', li.price, `line_items[${i}][price]`));
          if (refused) throw invalid(refused, `line_items[${i}][price]`);
          if (li.quantity !== undefined && integer(li.quantity, `line_items[${i}][quantity]`) < 1)
            throw invalid('Invalid quantity', `line_items[${i}][quantity]`);
        });
      };
      if (p.mode === 'subscription') {
        checkLineItems('subscription', (price) =>
          price.recurring ? null : 'You must provide at least one recurring price in `subscription` mode.',
        );
        const trial = p.subscription_data?.trial_period_days;
        if (trial !== undefined && integer(trial, 'subscription_data[trial_period_days]') < 1) {
          throw invalid('subscription_data[trial_period_days] must be at least 1.', 'subscription_data[trial_period_days]');
        }
        metadataOf(p.subscription_data ?? {}, 'metadata');
      } else if (p.subscription_data) {
        throw invalid('subscription_data can only be used in subscription mode.', 'subscription_data');
      }
      if (p.mode === 'payment') {
        checkLineItems('payment', (price) =>
          price.recurring
            ? 'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.'
            : null,
        );
        metadataOf(p.payment_intent_data ?? {}, 'metadata');
      } else if (p.payment_intent_data) {
        throw invalid('payment_intent_data can only be used in payment mode.', 'payment_intent_data');
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
    params: { customer: P.str, return_url: P.str, configuration: P.str, flow_data: P.any, locale: P.str, on_behalf_of: P.str },
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
            created: d.now(),
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
    params: {
      cancel_at_period_end: P.bool,
      cancel_at: P.emptyable(P.int),
      cancellation_details: P.obj({ comment: P.emptyable(P.str), feedback: P.emptyable(P.enum(...CANCELLATION_FEEDBACK)) }),
      metadata: P.meta,
      proration_behavior: P.enum('always_invoice', 'create_prorations', 'none'),
      items: P.arr(P.obj({ id: P.str, price: P.str, quantity: P.int, deleted: P.bool })),
      default_payment_method: P.str,
      pause_collection: P.emptyable(P.obj({ behavior: P.enum('keep_as_draft', 'mark_uncollectible', 'void'), resumes_at: P.int })),
      discounts: P.emptyable(P.arr(P.obj({ coupon: P.str, discount: P.str, promotion_code: P.str }))),
    },
    handle: (req, d) => d.render(updateSubscription(d, d.get('subscription', req.pathParams.id!), req.params)),
  },
  {
    method: 'DELETE',
    path: '/v1/subscriptions/:id',
    params: {
      invoice_now: P.bool,
      prorate: P.bool,
      cancellation_details: P.obj({ comment: P.emptyable(P.str), feedback: P.emptyable(P.enum(...CANCELLATION_FEEDBACK)) }),
    },
    handle: (req, d) => {
      const sub = d.get('subscription', req.pathParams.id!);
      if (sub.status === 'canceled') throw invalid(`No such subscription: '${sub.id}'`, 'id', 'resource_missing');
      if (req.params.prorate !== undefined) bool(req.params.prorate, 'prorate');
      if (req.params.invoice_now !== undefined) bool(req.params.invoice_now, 'invoice_now');
      const now = d.now();
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
      d.emit('customer.subscription.deleted', sub);
      return d.render(sub);
    },
  },
  {
    method: 'GET',
    path: '/v1/invoices/:id',
    handle: (req, d) => showInvoice(d, d.get('invoice', req.pathParams.id!), expands(req.params).includes('payments')),
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
    params: {
      payment_intent: P.str,
      charge: P.str,
      amount: P.int,
      reason: P.enum('duplicate', 'fraudulent', 'requested_by_customer'),
      metadata: P.meta,
      instructions_email: P.str,
      refund_application_fee: P.bool,
      reverse_transfer: P.bool,
    },
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
        created: d.now(),
        reason: p.reason ?? null,
        metadata: metadataOf(p),
        status: 'succeeded',
        customer: pi.customer ?? null,
      });
      d.put(refund);
      const charge = d.objects.get(pi.latest_charge);
      if (charge) {
        refund.balance_transaction = d.refundTransaction(refund);
        charge.amount_refunded += amount;
        charge.refunded = charge.amount_refunded >= charge.amount;
        charge.refunds = { ...charge.refunds, data: [d.render(refund), ...(charge.refunds?.data ?? [])] };
      }
      d.emit('refund.created', refund);
      if (charge) d.emit('charge.refunded', charge);
      return d.render(refund);
    },
  },
  {
    method: 'GET',
    path: '/v1/refunds',
    params: { payment_intent: P.str, charge: P.str, limit: P.int, starting_after: P.str, created: P.range },
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
    params: {
      customer: P.str,
      status: P.enum(...SUBSCRIPTION_LIST_STATUSES),
      price: P.str,
      limit: P.int,
      starting_after: P.str,
      created: P.range,
    },
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
    params: {
      customer: P.str,
      status: P.enum('open', 'complete', 'expired'),
      subscription: P.str,
      payment_intent: P.str,
      limit: P.int,
      starting_after: P.str,
    },
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
    params: {},
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
    params: { active: P.bool, is_default: P.bool, limit: P.int, starting_after: P.str },
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
    params: PORTAL_CONFIGURATION_PARAMS,
    handle: (req, d) => {
      const base = clone(portalConfigurationFixture) as Json;
      const config = Object.assign(base, {
        id: newId('bpc'),
        created: d.now(),
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
    params: { ...PORTAL_CONFIGURATION_PARAMS, active: P.bool },
    handle: (req, d) => d.render(applyPortalConfiguration(d, d.get('billing_portal.configuration', req.pathParams.id!), req.params, false)),
  },
  {
    method: 'GET',
    path: '/v1/events',
    params: {
      created: P.range,
      delivery_success: P.bool,
      limit: P.int,
      starting_after: P.str,
      ending_before: P.str,
      type: P.str,
      types: P.arr(P.str),
    },
    handle: (req, d) => {
      const p = req.params;
      if (p.type !== undefined && p.types !== undefined) throw invalid('You may pass either `type` or `types`, but not both.', 'types');
      if (p.types !== undefined && p.types.length > 20) throw invalid('types may contain at most 20 event types.', 'types');
      if (p.ending_before !== undefined) throw invalid('The double pages with starting_after only.', 'ending_before');
      const wildcard = typeof p.type === 'string' && p.type.endsWith('*') ? p.type.slice(0, -1) : null;
      const retained = d.now() - 30 * 86_400;
      const events = d
        .all('event')
        .filter(
          (e) =>
            e.created >= retained &&
            inRange(p.created, e.created) &&
            (p.types === undefined || p.types.includes(e.type)) &&
            (p.type === undefined || (wildcard !== null ? e.type.startsWith(wildcard) : e.type === p.type)) &&
            (p.delivery_success === undefined ||
              (bool(p.delivery_success, 'delivery_success') ? e.pending_webhooks === 0 : e.pending_webhooks > 0)),
        );
      return d.list(events, p, '/v1/events');
    },
  },
  {
    method: 'GET',
    path: '/v1/events/:id',
    handle: (req, d) => d.render(d.get('event', req.pathParams.id!)),
  },
  {
    method: 'GET',
    path: '/v1/invoices',
    params: {
      customer: P.str,
      subscription: P.str,
      status: P.enum('draft', 'open', 'paid', 'uncollectible', 'void'),
      collection_method: P.enum('charge_automatically', 'send_invoice'),
      created: P.range,
      limit: P.int,
      starting_after: P.str,
    },
    handle: (req, d) => {
      const p = req.params;
      const withPayments = expands(p).includes('data.payments');
      const invoices = d
        .all('invoice')
        .filter(
          (i) =>
            (!p.customer || i.customer === p.customer) &&
            (!p.subscription || i.parent?.subscription_details?.subscription === p.subscription) &&
            (!p.status || i.status === p.status) &&
            inRange(p.created, i.created),
        );
      return d.list(invoices, p, '/v1/invoices', (i) => showInvoice(d, i, withPayments));
    },
  },
  {
    method: 'GET',
    path: '/v1/balance_transactions',
    params: { created: P.range, currency: P.str, payout: P.str, source: P.str, type: P.str, limit: P.int, starting_after: P.str },
    handle: (req, d) => {
      const p = req.params;
      const expandSource = expands(p).includes('data.source');
      const txns = d
        .all('balance_transaction')
        .filter(
          (t) =>
            inRange(p.created, t.created) &&
            (!p.currency || t.currency === p.currency) &&
            (!p.type || t.type === p.type) &&
            (!p.source || t.source === p.source),
        );
      return d.list(txns, p, '/v1/balance_transactions', (t) => {
        const shown = d.render(t);
        const source = d.objects.get(t.source);
        if (expandSource && source) shown.source = d.render(source);
        return shown;
      });
    },
  },
  // --- the double's own controls (not Stripe's API) ------------------------------------------
  {
    method: 'POST',
    path: '/_double/checkout/sessions/:id/complete',
    params: {},
    handle: (req, d) => d.completeSession(req.pathParams.id!),
  },
  {
    method: 'POST',
    path: '/_double/webhooks',
    params: { url: P.emptyable(P.str), mode: P.enum('deliver', 'hold') },
    handle: (req, d) => {
      if (req.params.url !== undefined) d.webhook.url = req.params.url === '' ? null : req.params.url;
      if (req.params.mode !== undefined) d.webhook.mode = req.params.mode;
      return { url: d.webhook.url, mode: d.webhook.mode, held: d.heldEvents.length };
    },
  },
  {
    method: 'POST',
    path: '/_double/webhooks/release',
    params: {},
    handle: (_req, d) => {
      const held = d.heldEvents.length;
      void d.releaseHeldEvents();
      return { delivering: held };
    },
  },
];
