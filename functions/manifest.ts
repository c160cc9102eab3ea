/**
 * Every Lambda function: its entry file, the HTTP routes it serves and what it may touch. infra/
 * builds one NodejsFunction and least-privilege grants from each entry; the local server mounts the
 * same handlers on the same routes. A test keeps this list, the OpenAPI routes and the files in step.
 */

import { memberNotificationsRoute, memberPreferencesRoute } from '#shared/api/admin-notifications';
import { benefitUsageRoute, commitCouponRoute, holdCouponRoute, redeemCouponRoute, releaseCouponRoute } from '#shared/api/benefits';
import {
  acceptSaveOfferRoute,
  cancellationsRoute,
  cancelPageRoute,
  eraseMeRoute,
  myExportRoute,
  withdrawRoute,
} from '#shared/api/compliance';
import { driftRoute } from '#shared/api/drift';
import { entitlementsCheckRoute } from '#shared/api/entitlements';
import { eraseMemberRoute } from '#shared/api/erasure';
import { ledgerRoute, metricsRoute, reconciliationRoute, reportRoute, revenueRoute } from '#shared/api/finance';
import { claimGiftRoute, giftCheckoutRoute, myGiftsRoute, refundGiftRoute } from '#shared/api/gifts';
import { createInviteRoute, joinHouseholdRoute, myHouseholdRoute, removeHouseholdMemberRoute } from '#shared/api/household';
import { myPreferencesRoute } from '#shared/api/me-preferences';
import { quoteOrderRoute } from '#shared/api/orders';
import {
  adminMemberRoute,
  cancelMembershipRoute,
  checkoutSessionRoute,
  myMembershipRoute,
  portalSessionRoute,
  resumeMembershipRoute,
} from '#shared/api/shoppers';
import { healthRoute, openapiRoute, stripeWebhookRoute } from '#shared/api/system';
import type { RouteSpec } from '#shared/http/types';

/**
 * What a function may touch. infra/ turns each into exact IAM actions on exact resources (no Scan,
 * no wildcard index, no DeleteItem on the main table) and a CDK test holds every role to its list.
 */
export type Access =
  /** GetItem and Query on the main table (not its indexes). */
  | 'table:read'
  /** Query only: the checkout's one read. */
  | 'table:query'
  /** BatchGetItem (ledger invoices and payment links). */
  | 'table:batch-read'
  /** PutItem, UpdateItem and ConditionCheckItem on the main table, also inside transactions. */
  | 'table:write'
  /**
   * DeleteItem on the main table (also inside transactions): only for items that are work or a claim,
   * never records: an order's slot freed by a release, a rollup projection's marker once done.
   */
  | 'table:delete'
  /** Query on one secondary index: `lookup` (a code to its member) or `due` (the reminders queue). */
  | 'table:index:lookup'
  | 'table:index:due'
  /** Powertools idempotency records: GetItem, PutItem, UpdateItem, DeleteItem on the idempotency table. */
  | 'idempotency:write'
  | 'secret:service-keys'
  | 'secret:stripe-webhook'
  | 'secret:stripe-api'
  /** The key of the log pseudonym `memberRef` (shared/member-ref.ts): functions that log members. */
  | 'secret:member-ref'
  | 'ses:send';

/** API Gateway throttle of a route: steady requests per second and the burst above it. */
export interface RouteThrottle {
  rateLimit: number;
  burstLimit: number;
}

export interface FunctionSpec {
  /** Short id; also the CDK construct id, the route group in metrics and part of the function name. */
  name: string;
  /** Path from the project root. */
  entry: string;
  routes: readonly RouteSpec[];
  access: readonly Access[];
  memoryMb?: number;
  timeoutSeconds?: number;
  /** Extra environment variables for this function in AWS. */
  environment?: Record<string, string>;
  /**
   * The shop's checkout calls this on every order: it gets the tight DynamoDB budget (an outage
   * answers 503 in about 2 s), a canary deployment with automatic rollback, a p99 latency alarm and
   * `reservedConcurrency`, so nothing else can starve it.
   */
  checkoutPath?: boolean;
  /** Concurrency kept for this function alone (and its ceiling); stages can turn reservations off. */
  reservedConcurrency?: number;
  /** Per-route API Gateway throttle; otherwise the default of the route's caller (infra/). */
  throttle?: RouteThrottle;
  /**
   * For scheduled jobs: the name used by `npm run job -- <name>` and the EventBridge Scheduler
   * expression that runs it in AWS (e.g. `rate(15 minutes)`, `cron(0 3 1 * ? *)`). The entry exports
   * `handler = jobHandler(name, run)` (shared/jobs/handler.ts). `heartbeatMinutes`: "no successful
   * run in N" alarms after N minutes (default from the schedule, infra/schedules.ts).
   */
  job?: { name: string; schedule: string; heartbeatMinutes?: number };
}

/** What a scheduled job receives (shared/jobs/handler.ts, which every job entry wraps its run in). */
export type { JobEvent } from '#shared/jobs/handler';

export const httpFunctions: readonly FunctionSpec[] = [
  { name: 'health', entry: 'functions/http/health.ts', routes: [healthRoute], access: [], memoryMb: 256 },
  { name: 'openapi', entry: 'functions/http/openapi.ts', routes: [openapiRoute], access: [], memoryMb: 256 },
  {
    name: 'stripe-webhook',
    entry: 'functions/http/stripe-webhook.ts',
    routes: [stripeWebhookRoute],
    // secret:stripe-api only for the configured key's mode and account (event origin check); no Stripe call.
    // Deletes: the rollup projection's markers once it has projected (docs/finance.md, "Rollups").
    access: [
      'table:read',
      'table:batch-read',
      'table:write',
      'table:delete',
      'idempotency:write',
      'secret:stripe-webhook',
      'secret:stripe-api',
      'secret:member-ref',
    ],
    timeoutSeconds: 20,
    // Stripe retries what we refuse: a burst of deliveries waits rather than crowding the checkout out.
    throttle: { rateLimit: 200, burstLimit: 400 },
  },
  {
    name: 'entitlements-check',
    entry: 'functions/http/entitlements-check.ts',
    // The checkout's two reads of a member: the check and the quote share one bundle and warm containers.
    routes: [entitlementsCheckRoute, quoteOrderRoute],
    access: ['table:query', 'secret:service-keys'],
    // More memory buys more CPU: this path is on every checkout, so its latency is worth paying for.
    memoryMb: 1024,
    checkoutPath: true,
    // 100 at ~20 ms a check is ~5,000 checks a second; raise it (and the account quota) with traffic.
    reservedConcurrency: 100,
    throttle: { rateLimit: 5000, burstLimit: 5000 },
  },
  { name: 'me-membership', entry: 'functions/http/me-membership.ts', routes: [myMembershipRoute], access: ['table:read'] },
  {
    name: 'me-checkout-session',
    entry: 'functions/http/me-checkout-session.ts',
    routes: [checkoutSessionRoute],
    access: ['table:read', 'table:write', 'secret:stripe-api', 'secret:member-ref'],
    // Up to six Stripe calls, each attempt cut to what the invocation has left (shared/stripe/client.ts).
    timeoutSeconds: 29,
  },
  {
    name: 'me-portal-session',
    entry: 'functions/http/me-portal-session.ts',
    routes: [portalSessionRoute],
    // Writes only the shopper's rate counter.
    access: ['table:read', 'table:write', 'secret:stripe-api'],
    timeoutSeconds: 29,
  },
  {
    name: 'me-membership-cancel',
    entry: 'functions/http/me-membership-cancel.ts',
    routes: [cancelMembershipRoute, resumeMembershipRoute],
    // Writes the shopper's rate counter and a save offer's record: the membership follows from Stripe's webhooks.
    access: ['table:read', 'table:write', 'secret:stripe-api', 'secret:member-ref'],
    timeoutSeconds: 29,
  },
  {
    name: 'admin-member',
    entry: 'functions/http/admin-member.ts',
    routes: [adminMemberRoute],
    access: ['table:read', 'secret:service-keys'],
  },
  {
    name: 'benefits',
    entry: 'functions/http/benefits.ts',
    routes: [holdCouponRoute, commitCouponRoute, redeemCouponRoute, releaseCouponRoute, benefitUsageRoute],
    // Deletes: an order's slot when its hold or redemption is released.
    access: ['table:read', 'table:write', 'table:delete', 'table:index:lookup', 'secret:service-keys'],
    memoryMb: 512,
    checkoutPath: true,
    reservedConcurrency: 50,
    throttle: { rateLimit: 1000, burstLimit: 1000 },
  },
  {
    name: 'finance-ledger',
    entry: 'functions/http/finance-ledger.ts',
    routes: [ledgerRoute],
    access: ['table:query', 'secret:service-keys'],
    memoryMb: 512,
    timeoutSeconds: 29,
  },
  {
    name: 'finance-revenue',
    entry: 'functions/http/finance-revenue.ts',
    routes: [revenueRoute],
    access: ['table:query', 'table:batch-read', 'secret:service-keys'],
    memoryMb: 512,
    timeoutSeconds: 29,
  },
  {
    name: 'finance-metrics',
    entry: 'functions/http/finance-metrics.ts',
    routes: [metricsRoute],
    access: ['table:query', 'table:batch-read', 'secret:service-keys'],
    memoryMb: 512,
    timeoutSeconds: 29,
  },
  {
    name: 'finance-reconciliations',
    entry: 'functions/http/finance-reconciliations.ts',
    routes: [reconciliationRoute],
    access: ['table:query', 'table:write', 'secret:service-keys'],
    memoryMb: 512,
    timeoutSeconds: 29,
  },
  {
    name: 'finance-report',
    entry: 'functions/http/finance-report.ts',
    routes: [reportRoute],
    access: ['table:query', 'table:batch-read', 'secret:service-keys'],
    memoryMb: 512,
    timeoutSeconds: 29,
  },
  {
    name: 'admin-notifications',
    entry: 'functions/http/admin-notifications.ts',
    routes: [memberNotificationsRoute],
    // The notices (a Query) and the member's preferences (a GetItem).
    access: ['table:read', 'secret:service-keys'],
  },
  {
    name: 'admin-preferences',
    entry: 'functions/http/admin-preferences.ts',
    routes: [memberPreferencesRoute],
    access: ['table:write', 'secret:service-keys'],
  },
  // The shopper's marketing opt-out (the preferences link in win-back emails): one PutItem.
  { name: 'me-preferences', entry: 'functions/http/me-preferences.ts', routes: [myPreferencesRoute], access: ['table:write'] },
  {
    name: 'admin-drift',
    entry: 'functions/http/admin-drift.ts',
    routes: [driftRoute],
    access: ['table:read', 'secret:service-keys'],
  },
  {
    name: 'admin-member-erase',
    entry: 'functions/http/admin-member-erase.ts',
    routes: [eraseMemberRoute],
    access: ['table:read', 'table:write', 'table:batch-read', 'table:index:lookup', 'secret:service-keys'],
  },
  // Cancellation without login (docs/compliance.md): the page touches nothing; the POST may only write
  // (two rate-limit counts and the queued request), so what it does cannot depend on whether anyone matched.
  { name: 'cancel-page', entry: 'functions/http/cancel-page.ts', routes: [cancelPageRoute], access: [], memoryMb: 256 },
  { name: 'cancellations', entry: 'functions/http/cancellations.ts', routes: [cancellationsRoute], access: ['table:write'] },
  {
    name: 'me-withdraw',
    entry: 'functions/http/me-withdraw.ts',
    routes: [withdrawRoute],
    access: ['table:read', 'table:write', 'secret:stripe-api', 'secret:member-ref'],
    // A refund per payment and the cancellation, each attempt cut to what the invocation has left.
    timeoutSeconds: 29,
  },
  {
    name: 'me-gifts',
    entry: 'functions/http/me-gifts.ts',
    routes: [giftCheckoutRoute, myGiftsRoute, claimGiftRoute, refundGiftRoute],
    // Checkout and refund call Stripe (counted against the shopper's limit); a claim finds the gift by its code
    // (lookup index), commits membership, gift and ledger entry, then projects the entry (batch reads,
    // and the projection's marker deleted once done).
    access: [
      'table:read',
      'table:batch-read',
      'table:write',
      'table:delete',
      'table:index:lookup',
      'secret:stripe-api',
      'secret:member-ref',
    ],
    timeoutSeconds: 29,
  },
  {
    name: 'me-save-offer',
    entry: 'functions/http/me-save-offer.ts',
    routes: [acceptSaveOfferRoute],
    access: ['table:read', 'table:write', 'secret:stripe-api', 'secret:member-ref'],
    timeoutSeconds: 29,
  },
  {
    // Household sharing (docs/household.md): reads (the caller's link, lock and household in one batch)
    // and conditional transactions. Deletes: a member's link to the owner's membership when they leave
    // (a copy, not a record: the lock item keeps which household they left, and when).
    name: 'me-household',
    entry: 'functions/http/me-household.ts',
    routes: [myHouseholdRoute, createInviteRoute, joinHouseholdRoute, removeHouseholdMemberRoute],
    access: ['table:read', 'table:batch-read', 'table:write', 'table:delete'],
  },
  {
    name: 'me-privacy',
    entry: 'functions/http/me-privacy.ts',
    routes: [myExportRoute, eraseMeRoute],
    access: ['table:read', 'table:write', 'table:batch-read', 'table:index:lookup'],
    timeoutSeconds: 29,
  },
];

/** Functions run on a schedule (EventBridge Scheduler in AWS, `npm run job -- <name>` locally). */
export const jobFunctions: readonly FunctionSpec[] = [
  {
    name: 'reconcile',
    entry: 'functions/jobs/reconcile.ts',
    routes: [],
    access: ['table:query', 'table:write', 'secret:stripe-api'],
    memoryMb: 256,
    timeoutSeconds: 900,
    // Keeps a month of any size inside 256 MB (bench/finance.ts measures it with the same flags).
    environment: { NODE_OPTIONS: '--enable-source-maps --max-old-space-size=160 --max-semi-space-size=8' },
    // 06:00 UTC on the 2nd: the previous month, once Stripe's balance transactions have settled.
    job: { name: 'reconcile', schedule: 'cron(0 6 2 * ? *)' },
  },
  {
    name: 'rollups-settle',
    entry: 'functions/jobs/rollups-settle.ts',
    routes: [],
    access: ['table:read', 'table:batch-read', 'table:write', 'table:delete'],
    timeoutSeconds: 60,
    // The projections requests left owed (benefit writes, requests that died): minutes behind at most.
    job: { name: 'rollups-settle', schedule: 'rate(1 minute)' },
  },
  {
    name: 'rollups-rebuild',
    entry: 'functions/jobs/rollups-rebuild.ts',
    routes: [],
    access: ['table:read', 'table:batch-read', 'table:write', 'table:delete'],
    memoryMb: 1024,
    timeoutSeconds: 900,
    // 07:00 UTC on the 3rd: checks the previous month once the reconciliation (the 2nd) is in; reports, repairs only by hand.
    job: { name: 'rollups-rebuild', schedule: 'cron(0 7 3 * ? *)' },
  },
  {
    name: 'reminders',
    entry: 'functions/jobs/reminders.ts',
    routes: [],
    access: ['table:read', 'table:write', 'table:index:due', 'ses:send', 'secret:member-ref'],
    timeoutSeconds: 300,
    job: { name: 'reminders', schedule: 'rate(15 minutes)' },
  },
  {
    name: 'stripe-sync',
    entry: 'functions/jobs/stripe-sync.ts',
    routes: [],
    access: [
      'table:read',
      'table:batch-read',
      'table:write',
      'table:delete',
      'idempotency:write',
      'secret:stripe-api',
      'secret:member-ref',
    ],
    timeoutSeconds: 900,
    // Replays what webhooks missed every run; the daily drift sweep continues over as many runs as it needs.
    job: { name: 'stripe-sync', schedule: 'rate(15 minutes)' },
  },
  {
    name: 'compliance',
    entry: 'functions/jobs/compliance.ts',
    routes: [],
    access: ['table:read', 'table:write', 'table:index:due', 'table:index:lookup', 'secret:stripe-api', 'secret:member-ref'],
    timeoutSeconds: 300,
    job: { name: 'compliance', schedule: 'rate(5 minutes)' },
  },
];

export const allFunctions: readonly FunctionSpec[] = [...httpFunctions, ...jobFunctions];

/**
 * Operator commands: run by hand with `npm run job -- <name>` against the account whose credentials
 * are in the environment. Neither deployed nor scheduled (infra builds `allFunctions` only).
 * The entry exports `handler(flags)`.
 */
export interface CommandSpec {
  name: string;
  entry: string;
  description: string;
}

export const operatorCommands: readonly CommandSpec[] = [
  {
    name: 'stripe-portal-setup',
    entry: 'functions/commands/stripe-portal-setup.ts',
    description:
      'create or update the Stripe customer portal configuration (plan switch, payment method, invoices, cancel) from the plan catalog',
  },
];
