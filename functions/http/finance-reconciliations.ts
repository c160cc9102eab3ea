import { reconciliationRoute } from '#shared/api/finance';
import { httpHandler, json } from '#shared/http/handler';
import { HttpProblem, problems } from '#shared/http/problem';
import { ledgerRepository } from '#shared/runtime/dynamo';
import { CsvFormatError, parseBalanceReport, type ReportRow } from '#shared/stripe/balance-report';
import { reconcileMonth } from '#shared/usecases/finance';

const ledger = ledgerRepository();

export const handler = httpHandler(reconciliationRoute, async ({ query, event, rawBody, now }) => {
  const contentType = event.headers?.['content-type'] ?? '';
  if (!/^(text\/csv|application\/csv|text\/plain)\b/i.test(contentType))
    throw problems.unsupportedMediaType('Send the report as text/csv.');
  if (rawBody.trim().length === 0) throw problems.badRequest('The body is empty: send the itemized balance change report as CSV.');
  // Parse the whole report before touching the ledger, so a bad file changes nothing.
  const rows: ReportRow[] = [];
  try {
    for await (const row of parseBalanceReport(rawBody)) rows.push(row);
  } catch (error) {
    if (error instanceof CsvFormatError) {
      throw new HttpProblem(400, `The report cannot be read: ${error.message}`, {
        slug: 'invalid-report',
        errors: [{ path: `/body/line/${error.line}/${error.column}`, message: error.problem }],
        extensions: { line: error.line, column: error.column },
      });
    }
    throw error;
  }
  const result = await reconcileMonth(
    ledger,
    query.month,
    (async function* () {
      yield* rows;
    })(),
    { source: 'report-csv', now },
  );
  return json(200, result);
});
