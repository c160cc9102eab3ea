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
  "billed − refunded − disputed: cash, tax included, before Stripe's fees (a Stripe fee is not known to the ledger; see the reconciliation's settlement totals)",
);
const refundedCents = cents('Refunds created in the month minus refunds that failed in the month (cash, tax included)');
const refundedNetOfTaxCents = cents(
  'Refunds tied to an invoice, net of tax, minus failures of earlier ones: what refunds took out of recognized and deferred revenue this month',
);

const planRevenueSchema = strictObject({
  planId: string(),
  invoices: int(),
  billedCents: int(),
  taxCents: int(),
  refunds: int(),
  refundedCents,
  refundedNetOfTaxCents,
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
  taxCents: int(),
  discountCents: int(),
  refunds: int(),
  refundedCents,
  refundedNetOfTaxCents,
  disputedCents: cents('Dispute funds withdrawn − reinstated in the month'),
  netCents,
  recognizedCents: cents('Subscription fees net of tax earned in the month (ratable by day), after refunds'),
  deferredCents: cents('Billed net of tax, less refunds net of tax, not yet recognized at the end of the month'),
  mrrCents: cents('Recurring price per month of active members (non-proration lines, after discounts, without tax; annual at 1/12)'),
  members: strictObject({ active: int(), new: int(), churned: int() }),
  byPlan: array(planRevenueSchema),
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
    'Billed, refunded, disputed, net, recognized revenue and deferred balance at month end, per currency (never summed across currencies) and per plan; active/new/churned members; MRR (annual plans at 1/12). Definitions in docs/finance.md.',
  tags: ['finance'],
  auth: finance,
  query: revenueQuerySchema,
  responses: {
    200: { description: 'Revenue of the month', schema: strictObject({ month: string(), currencies: array(currencyRevenueSchema) }) },
    ...problemResponses,
  },
} as const satisfies RouteSpec;

export const reconciliationQuerySchema = strictObject({ month });

export const reconciliationResultSchema = strictObject({
  month: string(),
  matched: int(),
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
