import { ledgerRoute } from '#shared/api/finance';
import { ledgerCsvHeader, ledgerCsvRow } from '#shared/domain/finance/ledger-csv';
import { csv, httpHandler, json, wantsCsv } from '#shared/http/handler';
import { problems } from '#shared/http/problem';
import { ledgerRepository } from '#shared/runtime/dynamo';
import { InvalidCursorError } from '#shared/storage/ledger-repository';

const ledger = ledgerRepository();

/**
 * API Gateway HTTP API + Lambda cannot stream a response and caps it at 6 MB, so a month is served in
 * pages: JSON by `limit`, CSV until ~5 MiB of text, each but the last with the link to the next page.
 * Only one Query page (≤ 1000 entries) is in memory at a time besides the text already produced.
 */
const CSV_BUDGET_BYTES = 5 * 1024 * 1024;
/** Tests lower the budget to exercise CSV paging without writing megabytes. */
const csvBudget = () => Number(process.env.FINANCE_CSV_PAGE_BYTES) || CSV_BUDGET_BYTES;

/**
 * Every page but the last says so the standard way (RFC 8288 `Link: <…>; rel="next"`, the same for
 * CSV and JSON), so a client that does one GET can tell it holds part of the month, and a generic
 * client can follow it without knowing our cursor parameter.
 */
function nextPageHeaders(month: string, cursor: string | null, limit?: string): Record<string, string> {
  if (!cursor) return {};
  const params = new URLSearchParams({ month, ...(limit ? { limit } : {}), cursor });
  return { link: `</v1/finance/ledger?${params.toString()}>; rel="next"`, 'x-next-cursor': cursor };
}

export const handler = httpHandler(ledgerRoute, async ({ query, event }) => {
  const csvWanted = wantsCsv(event);
  try {
    if (!csvWanted) {
      const pages = ledger.pages(query.month, { ...(query.cursor ? { cursor: query.cursor } : {}), pageSize: Number(query.limit ?? 1000) });
      const first = await pages.next();
      await pages.return(undefined);
      const page = first.done ? { entries: [], cursor: null } : first.value;
      return json(
        200,
        { month: query.month, entries: page.entries, nextCursor: page.cursor },
        nextPageHeaders(query.month, page.cursor, query.limit),
      );
    }
    const chunks: string[] = query.cursor ? [] : [ledgerCsvHeader()];
    let bytes = 0;
    let nextCursor: string | null = null;
    for await (const page of ledger.pages(query.month, { ...(query.cursor ? { cursor: query.cursor } : {}), pageSize: 1000 })) {
      const text = page.entries.map(ledgerCsvRow).join('');
      chunks.push(text);
      bytes += Buffer.byteLength(text);
      nextCursor = page.cursor;
      if (bytes >= csvBudget()) break;
    }
    return csv(chunks.join(''), `ledger-${query.month}.csv`, nextPageHeaders(query.month, nextCursor));
  } catch (error) {
    if (error instanceof InvalidCursorError) throw problems.validation([{ path: '/query/cursor', message: error.message }]);
    throw error;
  }
});
