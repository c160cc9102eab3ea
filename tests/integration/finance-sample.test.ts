import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FINANCE_SAMPLE, financeSampleEvents } from '../../local/finance-sample';
import { KEYS, useApi } from '../support/api';

const api = useApi();
const csv = readFileSync(fileURLToPath(new URL(`../../${FINANCE_SAMPLE.file}`, import.meta.url)), 'utf8');

describe('the README’s reconciliation walk-through', () => {
  it('reconciles the sample report against what send-test-event --finance-sample records', async () => {
    for (const event of financeSampleEvents()) expect((await api.postEvent(event)).status).toBe(200);
    const res = await api.call('POST', `/v1/finance/reconciliations?month=${FINANCE_SAMPLE.month}`, {
      key: KEYS.finance,
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    expect(res.status).toBe(200);
    const result = (await res.json()) as Record<string, any>;
    // Other test files may book entries in the same month; none of the sample's may be left over.
    expect(result).toMatchObject({ matched: 4, missingInLedger: [], amountMismatches: [], ignored: { fee: 1 }, outsideMonth: 1 });
    expect(JSON.stringify(result.missingInStripe)).not.toMatch(/Sample/);
    expect(result.settlement).toEqual([{ currency: 'usd', rows: 4, grossCents: 1499 + 13900 + 1407 - 500 }]);
    expect(result.totals.find((t: { currency: string }) => t.currency === 'eur')).toMatchObject({ stripe: { rows: 1, amountCents: 1299 } });
  });
});
