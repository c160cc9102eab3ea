import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRulesTable, RulesTableError } from '#shared/domain/compliance-rules';
import { jurisdictionKey, jurisdictionOf, trackJurisdiction } from '#shared/domain/jurisdiction';

const raw = JSON.parse(readFileSync(new URL('../../../config/jurisdictions.json', import.meta.url), 'utf8'));
const table = parseRulesTable(raw);
const doc = readFileSync(new URL('../../../docs/compliance.md', import.meta.url), 'utf8');

describe('the jurisdiction rules table', () => {
  it('finds the most specific entry: state, country, region; anyone else gets the strictest combination', () => {
    const key = (country: string, state: string | null = null) => table.rulesFor({ country, state }).key;
    expect(key('US', 'CA')).toBe('US-CA');
    expect(key('US', 'MN')).toBe('US-MN');
    expect(key('US', 'TX')).toBe('US');
    expect(key('US')).toBe('US');
    expect(key('DE')).toBe('DE');
    expect(key('AT')).toBe('EU');
    expect(key('NO')).toBe('EU');
    expect(key('GB')).toBe('GB');
    expect(key('JP')).toBe('strictest');
    expect(table.rulesFor(null).key).toBe('strictest');
  });

  it('computes the strictest combination from the table, so it cannot drift from it', () => {
    const s = table.strictest;
    expect(s.withdrawal).toEqual({ days: 14 });
    expect(s.saveOffers).toBe('never');
    expect(s.notices.priceChange).toEqual({ mode: 'consent' });
    expect(s.notices.annualReminder).toBe(true);
    expect(s.proofRetentionYears).toBe(6);
    expect(s.cancellation).toEqual(['no_login', 'self_service', 'withdrawal']);
    // Every window any entry asks for, once: planning puts a notice into each.
    expect(s.notices.renewal).toEqual(
      expect.arrayContaining([
        { minDays: 15, maxDays: 45, plans: 'annual' },
        { minDays: 30, maxDays: 90, plans: 'annual' },
        { minDays: 5, maxDays: 5, plans: 'all' },
      ]),
    );
    expect(new Set(s.notices.renewal.map((w) => JSON.stringify(w))).size).toBe(s.notices.renewal.length);
  });

  it('takes the narrowest price-change window when every entry gives notice, consent when they do not overlap', () => {
    const onlyNotice = structuredClone(raw);
    for (const key of ['EU', 'DE']) delete onlyNotice.jurisdictions[key];
    delete onlyNotice.regions.EU;
    expect(parseRulesTable(onlyNotice).strictest.notices.priceChange).toEqual({ mode: 'notice', minDays: 30, maxDays: 30 });
    onlyNotice.jurisdictions.GB.notices.priceChange = { mode: 'notice', minDays: 40, maxDays: 90 };
    expect(parseRulesTable(onlyNotice).strictest.notices.priceChange).toEqual({ mode: 'consent' });
  });

  it('refuses a bad table, naming the field', () => {
    const bad = structuredClone(raw);
    bad.jurisdictions['US-CA'].notices.renewal[0].minDays = 50;
    expect(() => parseRulesTable(bad)).toThrow(RulesTableError);
    expect(() => parseRulesTable(bad)).toThrow(/jurisdictions\/US-CA\/notices\/renewal\/0\/minDays: minDays must not exceed maxDays/);
    const noEntry = structuredClone(raw);
    noEntry.regions.APAC = ['JP'];
    expect(() => parseRulesTable(noEntry)).toThrow(/regions\/APAC: region "APAC" has no rules entry/);
    const mismatch = structuredClone(raw);
    mismatch.jurisdictions.DE.withdrawal = null;
    expect(() => parseRulesTable(mismatch)).toThrow(/jurisdictions\/DE\/cancellation: lists "withdrawal" exactly when/);
    const unknownPath = structuredClone(raw);
    unknownPath.jurisdictions.FR.cancellation = ['by_phone'];
    expect(() => parseRulesTable(unknownPath)).toThrow(/jurisdictions\/FR\/cancellation\/0/);
    const noSource = structuredClone(raw);
    noSource.jurisdictions.CN.sources = [];
    expect(() => parseRulesTable(noSource)).toThrow(/jurisdictions\/CN\/sources/);
  });

  it('is documented entry by entry in docs/compliance.md, with every source', () => {
    for (const key of table.keys) expect(doc, `entry ${key}`).toContain(`| \`${key}\` |`);
    for (const entry of Object.values(raw.jurisdictions) as Array<{ sources: Array<{ url: string }> }>)
      for (const source of entry.sources) expect(doc, source.url).toContain(source.url);
  });
});

describe('a member’s jurisdiction', () => {
  it('is read from a billing address: country upper case, the US state as its code, even when written out', () => {
    expect(jurisdictionOf({ country: 'us', state: 'California' })).toEqual({ country: 'US', state: 'CA' });
    expect(jurisdictionOf({ country: 'US', state: ' mn ' })).toEqual({ country: 'US', state: 'MN' });
    expect(jurisdictionOf({ country: 'US', state: 'Atlantis' })).toEqual({ country: 'US', state: null });
    expect(jurisdictionOf({ country: 'de', state: 'Bayern' })).toEqual({ country: 'DE', state: null });
    expect(jurisdictionOf({ country: null })).toBeNull();
    expect(jurisdictionOf({ country: 'Germany' })).toBeNull();
    expect(jurisdictionKey({ country: 'US', state: 'CA' })).toBe('US-CA');
  });

  it('ends the same whatever order its facts arrive in: the newest wins, an address without a country changes nothing', () => {
    const fact = fc.record({
      version: fc.integer({ min: 0, max: 50 }).map((n) => `${String(n).padStart(12, '0')}#x`),
      address: fc.oneof(
        fc.constantFrom({ country: 'DE' }, { country: 'US', state: 'CA' }, { country: 'FR' }),
        fc.constant({ country: null }),
      ),
      source: fc.constantFrom('checkout' as const, 'customer' as const),
    });
    fc.assert(
      fc.property(fc.uniqueArray(fact, { selector: (f) => f.version, minLength: 1, maxLength: 6 }), (facts) => {
        const apply = (list: typeof facts) => list.reduce((j, f) => trackJurisdiction(j, f), null as ReturnType<typeof trackJurisdiction>);
        expect(apply([...facts].reverse())).toEqual(apply(facts));
        expect(apply([...facts, ...facts])).toEqual(apply(facts));
      }),
    );
  });
});
