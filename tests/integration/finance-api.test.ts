import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportingCategory } from '#shared/domain/finance/ledger';
import { dynamo } from '#shared/runtime/dynamo';
import { KEYS, useApi } from '../support/api';
import { checkedFetch } from '../support/api-contract';
import { balanceReportCsv, generateMonth } from '../support/finance-month';
import { seedLedger } from '../support/ledger-seed';

const api = useApi();
const MONTH = '2034-03';
// A USD account selling in three currencies: EUR and JPY rows settle in USD.
const month = generateMonth({
  month: MONTH,
  invoices: 1200,
  refundEvery: 10,
  currencies: ['usd', 'eur', 'jpy'],
  settlement: { eur: { currency: 'usd', rate: 1.0834 }, jpy: { currency: 'usd', rate: 0.0067 } },
  seed: 7,
});

beforeAll(() => seedLedger(month.entries));

async function reconciliations(m: string) {
  const { doc, tables } = dynamo();
  const out = await doc.send(
    new QueryCommand({
      TableName: tables.main,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': `RECON#${m}` },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

describe('finance endpoints: auth and validation', () => {
  it('needs the finance role', async () => {
    expect((await api.call('GET', `/v1/finance/ledger?month=${MONTH}`, { key: null })).status).toBe(401);
    expect((await api.call('GET', `/v1/finance/ledger?month=${MONTH}`, { key: KEYS.checkout })).status).toBe(403);
    expect((await api.call('GET', `/v1/finance/revenue?month=${MONTH}`, { key: KEYS.admin })).status).toBe(403);
    expect(
      (
        await api.call('POST', `/v1/finance/reconciliations?month=${MONTH}`, {
          key: KEYS.checkout,
          body: 'x',
          headers: { 'content-type': 'text/csv' },
        })
      ).status,
    ).toBe(403);
  });

  it('refuses a bad month, currency, cursor or limit with problem+json', async () => {
    for (const path of [
      '/v1/finance/ledger?month=2034-13',
      '/v1/finance/ledger',
      '/v1/finance/revenue?month=2034-03&currency=USD',
      `/v1/finance/ledger?month=${MONTH}&cursor=nonsense`,
      // Crafted cursors: well-formed JSON DynamoDB would refuse as a start key, or another month's.
      ...[
        { PK: `LEDGER#${MONTH}`, SK: '' },
        { PK: `LEDGER#${MONTH}`, SK: `2034-03-01T00:00:00.000Z#${'x'.repeat(2000)}` },
        { PK: `LEDGER#${MONTH}`, SK: 42 },
        { PK: 'LEDGER#2034-04', SK: '2034-04-01T00:00:00.000Z#in_1' },
        null,
        [],
      ].map((key) => `/v1/finance/ledger?month=${MONTH}&cursor=${Buffer.from(JSON.stringify(key)).toString('base64url')}`),
      `/v1/finance/ledger?month=${MONTH}&limit=0`,
      `/v1/finance/ledger?month=${MONTH}&extra=1`,
    ]) {
      const res = await api.call('GET', path, { key: KEYS.finance });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    // A cursor with attributes besides its key is read for its key alone (DynamoDB refused it: a 500).
    const padded = { PK: `LEDGER#${MONTH}`, SK: '2034-03-01T00:00:00.000Z#in_1', extra: { S: 'x' } };
    const res = await api.call(
      'GET',
      `/v1/finance/ledger?month=${MONTH}&cursor=${Buffer.from(JSON.stringify(padded)).toString('base64url')}`,
      {
        key: KEYS.finance,
      },
    );
    expect(res.status).toBe(200);
  });
});

/** `Link: <url>; rel="next"` (RFC 8288) as an absolute URL of the test server, or null. */
function nextLink(res: Response): string | null {
  const link = res.headers.get('link');
  if (!link) return null;
  const m = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  expect(m, link).not.toBeNull();
  return new URL(m![1]!, res.url).toString();
}

describe('GET /v1/finance/ledger', () => {
  it('pages through a month as JSON in time order, every entry exactly once, each page but the last linking the next', async () => {
    const seen: string[] = [];
    let url: string | null = api.url(`/v1/finance/ledger?month=${MONTH}&limit=500`);
    let pages = 0;
    do {
      const res: Response = await checkedFetch(url, { headers: { authorization: `Bearer ${KEYS.finance}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { entries: Array<{ entryId: string; occurredAt: string }>; nextCursor: string | null };
      seen.push(...body.entries.map((e) => `${e.occurredAt}#${e.entryId}`));
      // A client doing one GET learns from the headers alone that more follows; the link keeps the page size.
      url = nextLink(res);
      expect(res.headers.get('x-next-cursor')).toBe(body.nextCursor);
      if (url) {
        expect(new URL(url).searchParams.get('cursor')).toBe(body.nextCursor);
        expect(new URL(url).searchParams.get('limit')).toBe('500');
        expect(body.entries).toHaveLength(500);
      } else {
        expect(body.nextCursor).toBeNull();
      }
      pages++;
    } while (url);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen).toHaveLength(month.entries.length);
    expect(new Set(seen).size).toBe(month.entries.length);
    expect([...seen].sort()).toEqual(seen);
  });

  it('gives RFC 4180 CSV with integer cents and a decimal column, paged by cursor, pages concatenating into one file', async () => {
    process.env.FINANCE_CSV_PAGE_BYTES = String(100 * 1024);
    try {
      let text = '';
      let url: string | null = api.url(`/v1/finance/ledger?month=${MONTH}`);
      let pages = 0;
      do {
        const res: Response = await checkedFetch(url, { headers: { authorization: `Bearer ${KEYS.finance}`, accept: 'text/csv' } });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
        text += await res.text();
        // Followed verbatim: a page that is not the last says so with Link rel="next" (and x-next-cursor).
        url = nextLink(res);
        expect(res.headers.get('x-next-cursor') !== null).toBe(url !== null);
        pages++;
      } while (url);
      expect(pages).toBeGreaterThan(1);
      expect(text.endsWith('\r\n')).toBe(true);
      const records = parse(text, { columns: true }) as Array<Record<string, string>>;
      expect(records).toHaveLength(month.entries.length);
      const jpy = records.find((r) => r.currency === 'jpy' && r.kind === 'invoice_paid')!;
      expect(jpy.amount).toBe(jpy.amount_cents);
      const usd = records.find((r) => r.currency === 'usd' && r.kind === 'invoice_paid')!;
      expect(Number(usd.amount) * 100).toBeCloseTo(Number(usd.amount_cents));
      expect(usd.amount).toMatch(/^\d+\.\d\d$/);
    } finally {
      delete process.env.FINANCE_CSV_PAGE_BYTES;
    }
  });
});

describe('POST /v1/finance/reconciliations', () => {
  it("reconciles Stripe's itemized report: every injected fault found, nothing else", async () => {
    const rows = month.rows.map((r) => ({ ...r }));
    const droppedInLedger = rows.find((r) => r.invoiceId === 'in_gen00000003')!; // ledger has it; remove from Stripe
    rows.splice(rows.indexOf(droppedInLedger), 1);
    // The customer paid 1.00 less than the ledger says (a EUR charge: its USD gross moves too).
    const changed = rows.find((r) => r.invoiceId === 'in_gen00000004' && r.reportingCategory === 'charge')!;
    expect(changed).toMatchObject({ currency: 'usd', customerFacingCurrency: 'eur' });
    changed.customerFacingCents! -= 100;
    changed.grossCents -= 108;
    rows.push({
      ...rows[0]!,
      balanceTransactionId: 'txn_lost_webhook',
      invoiceId: 'in_unknown',
      sourceId: 'ch_unknown',
      chargeId: 'ch_unknown',
    });
    rows.push({ ...rows[0]!, balanceTransactionId: 'txn_fee', reportingCategory: 'fee', grossCents: -25 });
    // A report run over a wider range: a row of the next UTC month is not this month's.
    rows.push({
      ...rows[1]!,
      balanceTransactionId: 'txn_next_month',
      createdUtc: '2034-04-01T00:00:00.000Z',
      invoiceId: 'in_next',
      sourceId: 'ch_next',
      chargeId: 'ch_next',
    });
    // Keep the body under 256 KiB: the first 600 rows, plus the faults.
    const firstIds = new Set(rows.slice(0, 600).map((r) => r.balanceTransactionId));
    const sent = rows.filter(
      (r) =>
        firstIds.has(r.balanceTransactionId) ||
        r.balanceTransactionId.startsWith('txn_lost') ||
        r.balanceTransactionId === 'txn_fee' ||
        r.balanceTransactionId === 'txn_next_month' ||
        r.invoiceId === 'in_gen00000004',
    );
    const csv = [...balanceReportCsv(sent, { bom: true })].join('');
    expect(Buffer.byteLength(csv)).toBeLessThan(256 * 1024);
    const res = await api.call('POST', `/v1/finance/reconciliations?month=${MONTH}`, {
      key: KEYS.finance,
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(res.status).toBe(200);
    const result = (await res.json()) as Record<string, any>;
    expect(result.missingInLedger.map((m: any) => m.balanceTransactionId)).toEqual(['txn_lost_webhook']);
    expect(result.amountMismatches.map((m: any) => m.entryId)).toEqual(['in_gen00000004']);
    expect(result.outsideMonth).toBe(1);
    const sentIds = new Set(sent.map((r) => (r.reportingCategory === 'refund' ? r.sourceId : r.invoiceId)));
    // Balance-moving entries whose row was not sent (links move no money and are never missing).
    const expectedMissing = month.entries
      .filter((e) => reportingCategory(e.kind) !== null && !sentIds.has(e.entryId))
      .map((e) => e.entryId)
      .sort();
    expect(result.missingInStripe.map((m: any) => m.entryId).sort()).toEqual(expectedMissing);
    expect(expectedMissing).toContain('in_gen00000003');
    expect(result.matched).toBe(sent.length - 1 /* fee */ - 1 /* lost */ - 1 /* mismatch */ - 1 /* next month */);
    expect(result.ignored).toEqual({ fee: 1 });
    // Compared per customer-facing currency; what moved on the balance is all USD.
    expect(result.totals.map((t: any) => t.currency)).toEqual(['eur', 'jpy', 'usd']);
    expect(result.settlement.map((t: any) => t.currency)).toEqual(['usd']);
    const stored = await reconciliations(MONTH);
    expect(stored.at(-1)).toMatchObject({
      source: 'report-csv',
      matched: result.matched,
      counts: { missingInLedger: 1, amountMismatches: 1 },
    });
  });

  it('answers 400 problem+json naming line and column for a bad report, and stores nothing', async () => {
    const m = '2034-05';
    const cases: Array<[string, number, string]> = [
      ['{"id": "evt_1", "object": "event"}', 1, 'balance_transaction_id'],
      ['balance_transaction_id,created_utc,gross\r\ntxn_1,2034-05-01,1.00\r\n', 1, 'currency'],
      [
        '\uFEFFcurrency,gross,reporting_category,balance_transaction_id,created_utc\r\nusd,1.00,charge,txn_1,2034-05-01 10:00:00\r\nusd,1.0O,charge,txn_2,2034-05-01 10:00:00\r\n',
        3,
        'gross',
      ],
      [
        'currency,gross,reporting_category,balance_transaction_id,created_utc\nusd,1.00,charge,txn_1,2034-05-01 10:00:00\nusd,"2.00,charge,txn_2,2034-05-01 10:00:00\n',
        3,
        'record',
      ],
      // A Dashboard export in local time only: the month cannot be cut in UTC.
      [
        'balance_transaction_id,created,currency,gross,reporting_category\r\ntxn_1,2034-05-01 00:30:00,usd,1.00,charge\r\n',
        1,
        'created_utc',
      ],
    ];
    for (const [csv, line, column] of cases) {
      const res = await api.call('POST', `/v1/finance/reconciliations?month=${m}`, {
        key: KEYS.finance,
        body: csv,
        headers: { 'content-type': 'text/csv' },
      });
      expect(res.status, csv).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const body = (await res.json()) as Record<string, any>;
      expect(body).toMatchObject({ status: 400, line, column });
      expect(body.detail).toContain(`line ${line}`);
      expect(body.errors[0].path).toBe(`/body/line/${line}/${column}`);
      if (column === 'created_utc')
        expect(body.detail).toMatch(/only "created".*Download the report again with the "created_utc" column selected/s);
    }
    const wrongType = await api.call('POST', `/v1/finance/reconciliations?month=${m}`, { key: KEYS.finance, body: { a: 1 } });
    expect(wrongType.status).toBe(415);
    expect(await reconciliations(m)).toEqual([]);
  });
});
