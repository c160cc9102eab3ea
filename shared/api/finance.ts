import type { RouteSpec } from '../http/types';
import { array, int, looseObject, meta, nullable, number, optional, record, regex, strictObject, string, union } from '../validation';
import { currencySchema, problem, problemResponses, problemWith, validationProblemSchema } from './common';

const month = string().check(
  regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM'),
  meta({ description: 'Calendar month in UTC, YYYY-MM' }),
);
const finance = { kind: 'service', roles: ['finance'] } as const;

export const ledgerQuerySchema = strictObject({
  month,
  cursor: optional(string().check(meta({ description: 'nextCursor of the previous page' }))),
  limit: optional(
    string().check(
      regex(/^([1-9]\d{0,3}|5000)$/, 'must be an integer from 1 to 5000'),
      meta({ description: 'JSON page size (default 1000, at most 5000)' }),
    ),
  ),
});

const ledgerEntrySchema = looseObject({ entryId: string(), kind: string(), occurredAt: string(), currency: string(), amountCents: int() });

export const ledgerRoute = {
  method: 'GET',
  path: '/v1/finance/ledger',
  operationId: 'getLedger',
  summary:
    'A month\'s ledger entries in time order, one page per call. Every page but the last carries `Link: <…>; rel="next"` (RFC 8288) and `x-next-cursor`; JSON also has `nextCursor`. `Accept: text/csv` gives RFC 4180 CSV (header row on the first page only, so pages concatenate into one file). A response without `Link: rel="next"` is the end of the month.',
  tags: ['finance'],
  auth: finance,
  query: ledgerQuerySchema,
  responses: {
    200: {
      description: 'Entries and the cursor of the next page (null on the last); with `Accept: text/csv` a page of CSV instead',
      schema: strictObject({ month: string(), entries: array(ledgerEntrySchema), nextCursor: nullable(string()) }),
      alternateContentTypes: ['text/csv'],
    },
    ...problemResponses,
  },
} as const satisfies RouteSpec;

export const revenueQuerySchema = strictObject({ month, currency: optional(currencySchema) });

const cents = (description: string) => int().check(meta({ description }));
const netCents = cents(
  "collected − refunded − disputed: cash, tax included, before Stripe's fees (a Stripe fee is not known to the ledger; see the reconciliation's settlement totals)",
);
const collectedCents = cents(
  "What the month's paid invoices took by card (`amount_paid`); the rest of billed came from the customer's balance",
);
const refundedCents = cents('Refunds created in the month minus refunds that failed in the month (cash, tax included)');
const refundedNetOfTaxCents = cents(
  'Reversals tied to an invoice (refunds, credit notes to the balance, lost disputes), net of tax, minus failures of earlier refunds: what they took out of recognized and deferred revenue this month',
);
const creditedCents = cents(
  "Credit notes of the month not refunded to the card (a credit to the customer's balance, or a refund outside Stripe): revenue taken back without cash",
);
const monthStatus = string().check(
  meta({
    description:
      '`closed` (the month is over), `in_progress` (figures as of now: members whose paid period ends later this month still count), `not_started` (a projection of what is known now, as if nothing more were paid)',
  }),
);

const planRevenueSchema = strictObject({
  planId: string(),
  invoices: int(),
  billedCents: int(),
  collectedCents,
  taxCents: int(),
  refunds: int(),
  refundedCents,
  refundedNetOfTaxCents,
  creditedCents,
  disputedCents: cents('Dispute funds withdrawn − reinstated in the month, for disputes of this plan’s invoices'),
  netCents,
  recognizedCents: int(),
  deferredCents: int(),
  mrrCents: int(),
  activeMembers: int(),
});
export const currencyRevenueSchema = strictObject({
  currency: string(),
  invoices: int(),
  billedCents: cents('Σ total (tax included) of invoices paid in the month'),
  collectedCents,
  taxCents: int(),
  discountCents: int(),
  refunds: int(),
  refundedCents,
  refundedNetOfTaxCents,
  creditedCents,
  disputedCents: cents('Dispute funds withdrawn − reinstated in the month'),
  netCents,
  recognizedCents: cents('Subscription fees net of tax earned in the month (ratable by day, line by line), after reversals'),
  deferredCents: cents('Billed net of tax, less reversals net of tax, not yet recognized at the end of the month'),
  mrrCents: cents(
    'Recurring price per month of the members paying at the end of the month (non-proration lines, after discounts, without tax; annual at 1/12 per line), those in dunning included',
  ),
  members: strictObject({
    active: int().check(meta({ description: 'Paying members at the end of the month (in a month in progress: now)' })),
    new: int().check(meta({ description: 'Paying at the end of the month, not at the end of the month before (first-time or returning)' })),
    churned: int().check(
      meta({ description: 'Members whose paid service and grace ran out in the month (so far, in a month in progress)' }),
    ),
  }),
  byPlan: array(planRevenueSchema),
  gifts: strictObject({
    sold: int().check(meta({ description: 'Gifts paid in the month' })),
    soldCents: cents('What those gifts billed (tax included); part of billedCents'),
    claimed: int().check(meta({ description: 'Gifts claimed in the month' })),
    expired: int().check(meta({ description: 'Gifts whose claim deadline fell in the month, unclaimed' })),
    breakageCents: cents('Net of tax of the gifts that expired unclaimed in the month, recognized as breakage; part of recognizedCents'),
    recognizedCents: cents(
      'Gift revenue recognized in the month (over the gifted service from the claim, or breakage); part of recognizedCents',
    ),
    deferredCents: cents('Gifts paid and not yet recognized at the end of the month; part of deferredCents'),
  }).check(meta({ description: 'Gift memberships (docs/gifts.md): their figures, also counted in the totals above and in their plan' })),
  unattributed: strictObject({ refunds: int(), refundedCents: int(), disputedCents: int() }).check(
    meta({
      description: 'Refunds and dispute funds of the month that no invoice in the ledger could be found for: in the totals, in no plan',
    }),
  ),
});

export const revenueRoute = {
  method: 'GET',
  path: '/v1/finance/revenue',
  operationId: 'getRevenue',
  summary:
    'Billed, collected, refunded, credited, disputed, net, recognized revenue and deferred balance at month end, per currency (never summed across currencies) and per plan; members and MRR at the month end (annual plans at 1/12). Read from the month rollup: the cost does not grow with the number of members. `Accept: text/csv` gives CSV. Definitions in docs/finance.md.',
  tags: ['finance'],
  auth: finance,
  query: revenueQuerySchema,
  responses: {
    200: {
      description: 'Revenue of the month; with `Accept: text/csv` one CSV row per currency and plan instead',
      schema: strictObject({ month: string(), status: monthStatus, currencies: array(currencyRevenueSchema) }),
      alternateContentTypes: ['text/csv'],
    },
    ...problemResponses,
  },
} as const satisfies RouteSpec;

const rate = (description: string) =>
  nullable(number()).check(meta({ description: `${description}; a fraction in [0, 1], null when there is nothing to divide by` }));
const count = (description: string) => int().check(meta({ description }));

export const metricsQuerySchema = strictObject({
  from: month,
  to: month,
  currency: currencySchema,
});

const monthMetricsSchema = strictObject({
  month: string(),
  status: monthStatus,
  mrr: strictObject({
    start: cents('MRR at the end of the month before'),
    new: cents('MRR of first-time paying members'),
    expansion: cents('Increases of members paying at both month ends'),
    contraction: cents('Decreases of members paying at both month ends'),
    churned: cents('MRR of members who lapsed (a positive amount)'),
    reactivation: cents('MRR of returning members'),
    net: cents('new + expansion + reactivation − contraction − churned = end − start'),
    end: cents('MRR at the end of the month (in a month in progress: now)'),
  }),
  members: strictObject({
    start: count('Paying members at the end of the month before'),
    end: count('Paying members at the end of the month (in a month in progress: now)'),
    new: count('First-time paying members'),
    reactivated: count('Returning members'),
    churned: count('Members whose paid service and grace ran out'),
  }),
  churned: strictObject({
    voluntary: count('Left by cancelling, or by a refund or credit of what was left'),
    involuntary: count('Lost to a renewal that could not be collected, or a lost dispute'),
  }),
  churnRate: strictObject({
    voluntary: rate('voluntary churned ÷ members at start'),
    involuntary: rate('involuntary churned ÷ members at start'),
  }),
  trials: strictObject({ ended: count('Trials whose period ended in the month'), converted: count('Of those, followed by a paid period') }),
  trialConversionRate: rate('converted ÷ ended'),
  arpuCents: nullable(int()).check(meta({ description: 'MRR at the end ÷ members at the end, rounded to the cent' })),
  ltvCents: nullable(int()).check(
    meta({
      description: 'A stated estimate: ARPU ÷ the average monthly churn rate of the (up to) twelve closed months ending with this one',
    }),
  ),
  renewals: strictObject({
    due: count('Annual terms that ended in the month'),
    renewed: count('Of those, followed by a paid period within the grace'),
  }),
  renewalRate: rate('renewed ÷ due (annual plans)'),
  paymentRecovery: strictObject({
    failed: count('Renewal invoices of the month whose payment failed'),
    recovered: count('Of those, paid since'),
    rate: rate('recovered ÷ failed'),
  }),
  memberValue: strictObject({
    savingsCents: cents('Savings delivered in the month to the members paying at its end (coupons at face value, shipping saved)'),
    feesCents: cents('Their monthly fees (their MRR)'),
    members: count('Members paying at the end of the month'),
    atLeastFee: count('Of those, whose savings in the month reached their monthly fee'),
    shareSavingsAtLeastFee: rate('atLeastFee ÷ members'),
  }),
  benefitCostCents: cents('All savings delivered in the month, trials and lapsed members included: what the benefits cost at face value'),
  recognizedCents: cents('Fee revenue recognized in the month'),
  byPlan: array(
    strictObject({
      planId: string(),
      members: int(),
      mrrCents: int(),
      recognizedCents: int(),
      benefitCostCents: int(),
      marginCents: cents('recognized − benefit cost: what a plan earns over what its benefits cost'),
    }),
  ),
});

export const metricsResponseSchema = strictObject({
  currency: string(),
  from: string(),
  to: string(),
  asOf: string().check(meta({ description: 'When the figures were read: a month in progress is as of then' })),
  months: array(monthMetricsSchema),
  cohorts: array(
    strictObject({
      cohort: string().check(meta({ description: 'The month its members first counted as paying at a month end' })),
      size: int(),
      retention: array(number()).check(
        meta({ description: 'Share still paying at the end of each following month (1, 2, … 12), for the months that are over' }),
      ),
    }),
  ),
});

export const metricsRoute = {
  method: 'GET',
  path: '/v1/finance/metrics',
  operationId: 'getFinanceMetrics',
  summary:
    'Per month of `from`..`to` (at most 36), in one currency: MRR movements, members at start and end, churn split voluntary/involuntary, trial conversion, ARPU, an LTV estimate, annual renewal rate, failed-payment recovery, member value (savings vs fee) and benefit cost against fee revenue per plan; and cohort retention by first paying month. Read from the month rollups: the cost does not grow with the number of members. `Accept: text/csv` gives one CSV row per month. Formulas in docs/finance.md.',
  tags: ['finance'],
  auth: finance,
  query: metricsQuerySchema,
  responses: {
    200: {
      description: 'The metrics; with `Accept: text/csv` one CSV row per month instead',
      schema: metricsResponseSchema,
      alternateContentTypes: ['text/csv'],
    },
    ...problemResponses,
  },
} as const satisfies RouteSpec;

export const reconciliationQuerySchema = strictObject({ month });

export const reconciliationResultSchema = strictObject({
  month: string(),
  matched: int(),
  counts: strictObject({ missingInLedger: int(), missingInStripe: int(), amountMismatches: int() }).check(
    meta({
      description: 'How many of each finding there are (the lists below are complete here; a stored job result keeps the first 200)',
    }),
  ),
  missingInLedger: array(
    looseObject({ balanceTransactionId: string(), reportingCategory: string(), currency: string(), amountCents: int() }),
  ),
  missingInStripe: array(looseObject({ entryId: string(), kind: string(), currency: string(), amountCents: int() })),
  amountMismatches: array(
    looseObject({
      balanceTransactionId: string(),
      entryId: string(),
      comparedOn: string().check(
        meta({
          description:
            "`customer_facing` (the report's customer-facing amount against the entry) or `settlement` (gross, when the row has no customer-facing amount, against what the entry's balance transaction moved)",
        }),
      ),
    }),
  ),
  ignored: record(string(), number()),
  outsideMonth: int().check(meta({ description: 'Rows whose created_utc is outside the requested UTC month: skipped, counted here' })),
  totals: array(
    looseObject({ currency: string(), differenceCents: int() }).check(
      meta({
        description:
          'Per customer-facing currency (what the ledger books): Stripe rows and sum, ledger entries and sum, matched sum, difference',
      }),
    ),
  ),
  settlement: array(
    strictObject({ currency: string(), rows: int(), grossCents: int() }).check(
      meta({
        description: "Per settlement currency: what the reconciled rows moved on the Stripe balance (the report's gross), for the books",
      }),
    ),
  ),
});

export const reconciliationRoute = {
  method: 'POST',
  path: '/v1/finance/reconciliations',
  operationId: 'reconcileMonth',
  summary:
    'Reconciles the month\'s ledger against Stripe\'s "Balance change from activity — itemized" CSV (as downloaded: any column order, extra columns, BOM, CRLF). Bodies over 256 KiB get 413: reconcile larger months with `npm run job -- reconcile`.',
  tags: ['finance'],
  auth: finance,
  query: reconciliationQuerySchema,
  rawBody: { contentType: 'text/csv', description: 'The itemized balance change report, as downloaded from the Stripe Dashboard.' },
  responses: {
    200: {
      description: 'What matched, what is missing on either side, amount mismatches, totals per currency',
      schema: reconciliationResultSchema,
    },
    ...problemResponses,
    400: problem(
      'Not a usable report: the problem names the line and column (`line`, `column`, `errors[].path` = `/body/line/<n>/<column>`); or an empty body, or a bad `month`',
      union([
        problemWith({
          errors: array(strictObject({ path: string(), message: string() })),
          line: int().check(meta({ description: 'Line of the report (1 = the header row)' })),
          column: string().check(meta({ description: 'Column name as in the header row' })),
        }),
        validationProblemSchema,
      ]),
    ),
    415: problem('Send the report as text/csv'),
  },
} as const satisfies RouteSpec;

export const reportRoute = {
  method: 'GET',
  path: '/v1/finance/report.html',
  operationId: 'getFinanceReport',
  summary: 'The monthly report: a self-contained HTML page (inline SVG charts, no external resources) with the 12 months up to `month`.',
  tags: ['finance'],
  auth: finance,
  query: strictObject({ month }),
  responses: { 200: { description: 'HTML page', contentType: 'text/html' }, ...problemResponses },
} as const satisfies RouteSpec;
