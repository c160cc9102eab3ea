import { reportRoute } from '#shared/api/finance';
import { renderFinanceReport } from '#shared/domain/finance/report-html';
import { httpHandler } from '#shared/http/handler';
import { ledgerRepository } from '#shared/runtime/dynamo';
import { revenueHistory } from '#shared/usecases/finance';

const ledger = ledgerRepository();
const MONTHS = 12;

export const handler = httpHandler(reportRoute, async ({ query, now }) => {
  const [history, reconciliation] = await Promise.all([
    revenueHistory(ledger, query.month, MONTHS),
    ledger.latestReconciliation(query.month),
  ]);
  const html = renderFinanceReport({
    month: query.month,
    history,
    generatedAt: now.toISOString(),
    reconciliation: reconciliation as Parameters<typeof renderFinanceReport>[0]['reconciliation'],
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
