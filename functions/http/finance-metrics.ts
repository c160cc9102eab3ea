import { metricsRoute } from '#shared/api/finance';
import { metricsCsv } from '#shared/domain/finance/figures-csv';
import { monthsBetween } from '#shared/domain/finance/months';
import { csv, httpHandler, json, wantsCsv } from '#shared/http/handler';
import { problems } from '#shared/http/problem';
import { rollupStore } from '#shared/runtime/finance';
import { financeMetrics } from '#shared/usecases/finance';

const store = rollupStore();
/** Three years of months: 48 small Queries with the LTV's look-back, well inside API Gateway's 30 s. */
const MAX_MONTHS = 36;

export const handler = httpHandler(metricsRoute, async ({ query, event, now }) => {
  if (query.to < query.from) throw problems.validation([{ path: '/query/to', message: 'must not be before from' }]);
  if (monthsBetween(query.from, query.to).length > MAX_MONTHS)
    throw problems.validation([{ path: '/query/to', message: `at most ${MAX_MONTHS} months from from` }]);
  const metrics = await financeMetrics(store, { currency: query.currency, from: query.from, to: query.to, asOf: now });
  return wantsCsv(event) ? csv(metricsCsv(metrics), `metrics-${query.currency}-${query.from}-${query.to}.csv`) : json(200, metrics);
});
