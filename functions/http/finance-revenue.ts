import { revenueRoute } from '#shared/api/finance';
import { httpHandler, json } from '#shared/http/handler';
import { ledgerRepository } from '#shared/runtime/dynamo';
import { monthRevenue } from '#shared/usecases/finance';

const ledger = ledgerRepository();

export const handler = httpHandler(revenueRoute, async ({ query }) => json(200, await monthRevenue(ledger, query.month, query.currency)));
