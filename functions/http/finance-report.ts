import { reportRoute } from '#shared/api/finance';
import { type ReportReconciliation, renderFinanceReport } from '#shared/domain/finance/report-html';
import { httpHandler } from '#shared/http/handler';
import { ledgerRepository } from '#shared/runtime/dynamo';
import { rollupStore } from '#shared/runtime/finance';
import { financeReport } from '#shared/usecases/finance';

const ledger = ledgerRepository();
const store = rollupStore();
const MONTHS = 12;

export const handler = httpHandler(reportRoute, async ({ query, now }) => {
  const [{ history, metrics }, reconciliation] = await Promise.all([
    financeReport(store, query.month, MONTHS, now),
    ledger.latestReconciliation(query.month),
  ]);
  const html = renderFinanceReport({
    month: query.month,
    history,
    metrics,
    generatedAt: now.toISOString(),
    reconciliation: reconciliation as ReportReconciliation | null,
  });
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // Self-contained by construction; the policy makes sure nothing is ever fetched.
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    },
    body: html,
  };
});
