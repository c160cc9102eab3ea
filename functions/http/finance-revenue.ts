import { revenueRoute } from '#shared/api/finance';
import { revenueCsv } from '#shared/domain/finance/figures-csv';
import { csv, httpHandler, json, wantsCsv } from '#shared/http/handler';
import { rollupStore } from '#shared/runtime/finance';
import { monthRevenue } from '#shared/usecases/finance';

const store = rollupStore();

export const handler = httpHandler(revenueRoute, async ({ query, event, now }) => {
  const revenue = await monthRevenue(store, query.month, { asOf: now, ...(query.currency ? { currency: query.currency } : {}) });
  return wantsCsv(event) ? csv(revenueCsv(revenue), `revenue-${query.month}.csv`) : json(200, revenue);
});
