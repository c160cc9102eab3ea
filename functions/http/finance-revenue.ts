import { revenueRoute } from '#shared/api/finance';
import { revenueCsv } from '#shared/domain/finance/figures-csv';
import { httpHandler, json } from '#shared/http/handler';
import { rollupStore } from '#shared/runtime/finance';
import { monthRevenue } from '#shared/usecases/finance';

const store = rollupStore();

export const handler = httpHandler(revenueRoute, async ({ query, event, now }) => {
  const revenue = await monthRevenue(store, query.month, { asOf: now, ...(query.currency ? { currency: query.currency } : {}) });
  if (!/\btext\/csv\b/i.test(event.headers?.accept ?? '')) return json(200, revenue);
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': `attachment; filename="revenue-${query.month}.csv"`,
      'cache-control': 'no-store',
    },
    body: revenueCsv(revenue),
  };
});
