/**
 * The jurisdiction rules table (config/jurisdictions.json, docs/compliance.md): per jurisdiction the
 * withdrawal period, the notice windows, the save-offer policy, the cancellation paths the law asks
 * for and how long proofs are kept. Validated when it loads (start, Lambda init, CDK synth) with the
 * bad field named. A member's rules are found by the most specific key (`US-CA`, then `US`, then a
 * region such as `EU`); a member whose jurisdiction is unknown, or has no entry at all, gets the
 * strictest combination of every entry, computed here so it can never drift from the table.
 */
import {
  array,
  boolean,
  check,
  enumOf,
  type Infer,
  int,
  issuesToErrors,
  literal,
  maximum,
  minimum,
  minLength,
  nullable,
  record,
  regex,
  strictObject,
  string,
  union,
} from '../validation';
import { type Jurisdiction, jurisdictionKey } from './jurisdiction';

/** Ways to end a membership this service offers; the table may only ask for these. */
export const CANCELLATION_PATHS = ['self_service', 'no_login', 'withdrawal'] as const;
export type CancellationPath = (typeof CANCELLATION_PATHS)[number];

/** From most to least permissive; the strictest combination takes the last one any entry names. */
export const SAVE_OFFER_POLICIES = ['allowed', 'opt_in', 'never'] as const;
export type SaveOfferPolicy = (typeof SAVE_OFFER_POLICIES)[number];

const days = int().check(minimum(0), maximum(366));
const windowChecks = check<{ minDays: number; maxDays: number }>((ctx) => {
  if (ctx.value.minDays > ctx.value.maxDays)
    ctx.issues.push({ code: 'custom', input: ctx.value, path: ['minDays'], message: 'minDays must not exceed maxDays' });
});

const renewalWindow = strictObject({ minDays: days, maxDays: days, plans: enumOf(['annual', 'all']) }).check(windowChecks);
const trialWindow = strictObject({ minDays: days, maxDays: days, minTrialDays: days }).check(windowChecks);
const priceChange = union([
  strictObject({ mode: literal('notice'), minDays: days, maxDays: days }).check(windowChecks),
  strictObject({ mode: literal('consent') }),
]);
const isoDate = string().check(regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD'));

const rulesSchema = strictObject({
  name: string().check(minLength(1)),
  withdrawal: nullable(strictObject({ days: int().check(minimum(1), maximum(60)) })),
  notices: strictObject({
    renewal: array(renewalWindow),
    trialEnding: array(trialWindow),
    annualReminder: boolean(),
    priceChange,
  }),
  saveOffers: enumOf(SAVE_OFFER_POLICIES),
  cancellation: array(enumOf(CANCELLATION_PATHS)).check(minLength(1)),
  proofRetentionYears: int().check(minimum(1), maximum(30)),
  sources: array(
    strictObject({
      rule: enumOf([
        'withdrawal',
        'renewal',
        'trialEnding',
        'annualReminder',
        'priceChange',
        'saveOffers',
        'cancellation',
        'proofRetentionYears',
      ]),
      citation: string().check(minLength(10)),
      effective: isoDate,
      url: string().check(regex(/^https?:\/\//, 'must be an http(s) URL')),
    }),
  ).check(minLength(1)),
});

/** A country (`DE`), a subdivision (`US-CA`) or a region (`EU`). */
const KEY = /^[A-Z]{2,8}(-[A-Z0-9]{1,3})?$/;

export const rulesTableSchema = strictObject({
  regions: record(string().check(regex(KEY)), array(string().check(regex(/^[A-Z]{2}$/)))),
  jurisdictions: record(string().check(regex(KEY, 'must be a country (DE), country-subdivision (US-CA) or region (EU) code')), rulesSchema),
}).check(
  check((ctx) => {
    const { regions, jurisdictions } = ctx.value;
    for (const region of Object.keys(regions)) {
      if (!jurisdictions[region])
        ctx.issues.push({ code: 'custom', input: region, path: ['regions', region], message: `region "${region}" has no rules entry` });
    }
    for (const [key, rules] of Object.entries(jurisdictions)) {
      // A withdrawal period is exercised through the withdrawal path, and only there.
      if ((rules.withdrawal !== null) !== rules.cancellation.includes('withdrawal')) {
        ctx.issues.push({
          code: 'custom',
          input: rules.cancellation,
          path: ['jurisdictions', key, 'cancellation'],
          message: 'lists "withdrawal" exactly when the entry has a withdrawal period',
        });
      }
    }
  }),
);

export type RenewalWindow = Infer<typeof renewalWindow>;
export type TrialWindow = Infer<typeof trialWindow>;
export type PriceChangeRule = Infer<typeof priceChange>;
export type RulesEntry = Infer<typeof rulesSchema>;

/** The rules that apply to one member, and which entry they came from (`strictest` for unknowns). */
export interface JurisdictionRules extends Omit<RulesEntry, 'sources' | 'name'> {
  key: string;
  name: string;
}

/** What planning and the flows need: the rules of a member's jurisdiction (null: unknown). */
export interface RulesResolver {
  rulesFor(jurisdiction: Jurisdiction | null | undefined): JurisdictionRules;
}

export class RulesTableError extends Error {
  override name = 'RulesTableError';
}

const uniqueBy = <T>(items: T[]) => {
  const seen = new Map<string, T>();
  for (const item of items) seen.set(JSON.stringify(item), item);
  return [...seen.values()];
};

/**
 * The strictest combination of every entry: the longest withdrawal period and proof retention,
 * every notice window any entry asks for (planning puts a notice in each), the annual reminder if
 * any asks for it, the narrowest price-change window (consent if any entry needs it, or if the
 * windows do not overlap), the most restrictive save-offer policy and every cancellation path.
 */
export function strictestRules(entries: readonly RulesEntry[]): JurisdictionRules {
  const withdrawalDays = Math.max(0, ...entries.map((e) => e.withdrawal?.days ?? 0));
  const notices = entries.map((e) => e.notices.priceChange);
  let priceChangeRule: PriceChangeRule = { mode: 'consent' };
  if (notices.every((p) => p.mode === 'notice')) {
    const minDays = Math.max(...notices.map((p) => (p.mode === 'notice' ? p.minDays : 0)));
    const maxDays = Math.min(...notices.map((p) => (p.mode === 'notice' ? p.maxDays : 366)));
    if (minDays <= maxDays) priceChangeRule = { mode: 'notice', minDays, maxDays };
  }
  return {
    key: 'strictest',
    name: 'Unknown jurisdiction: the strictest combination of every entry',
    withdrawal: withdrawalDays > 0 ? { days: withdrawalDays } : null,
    notices: {
      renewal: uniqueBy(entries.flatMap((e) => e.notices.renewal)),
      trialEnding: uniqueBy(entries.flatMap((e) => e.notices.trialEnding)),
      annualReminder: entries.some((e) => e.notices.annualReminder),
      priceChange: priceChangeRule,
    },
    saveOffers: SAVE_OFFER_POLICIES[Math.max(...entries.map((e) => SAVE_OFFER_POLICIES.indexOf(e.saveOffers)))]!,
    cancellation: [...new Set(entries.flatMap((e) => e.cancellation))].sort() as CancellationPath[],
    proofRetentionYears: Math.max(...entries.map((e) => e.proofRetentionYears)),
  };
}

export class JurisdictionRulesTable implements RulesResolver {
  readonly strictest: JurisdictionRules;
  private readonly byKey = new Map<string, JurisdictionRules>();
  private readonly regionOf = new Map<string, string>();

  constructor(readonly table: Infer<typeof rulesTableSchema>) {
    for (const [key, { sources: _sources, ...rules }] of Object.entries(table.jurisdictions)) this.byKey.set(key, { ...rules, key });
    for (const [region, countries] of Object.entries(table.regions)) for (const c of countries) this.regionOf.set(c, region);
    this.strictest = strictestRules(Object.values(table.jurisdictions));
  }

  /** The entry for a key (`US-CA`), without fallback; for tests and the docs check. */
  entry(key: string): JurisdictionRules | undefined {
    return this.byKey.get(key);
  }

  get keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** Most specific first: `US-CA`, `US`, the country's region (`EU`); else the strictest combination. */
  rulesFor(jurisdiction: Jurisdiction | null | undefined): JurisdictionRules {
    if (!jurisdiction) return this.strictest;
    const region = this.regionOf.get(jurisdiction.country);
    for (const key of [jurisdictionKey(jurisdiction), jurisdiction.country, region]) {
      const found = key ? this.byKey.get(key) : undefined;
      if (found) return found;
    }
    return this.strictest;
  }
}

/** Validates the raw table; the error names every bad field (`jurisdictions/US-CA/notices/...`). */
export function parseRulesTable(raw: unknown, source = 'jurisdiction rules'): JurisdictionRulesTable {
  const result = rulesTableSchema.safeParse(raw);
  if (!result.success) {
    const details = issuesToErrors(result.error.issues)
      .map((e) => `${e.path}: ${e.message}`)
      .join('; ');
    throw new RulesTableError(`invalid ${source}: ${details}`);
  }
  return new JurisdictionRulesTable(result.data);
}

/** The same rules for every member: unit tests and tools that look at one jurisdiction at a time. */
export const fixedRules = (rules: JurisdictionRules): RulesResolver => ({ rulesFor: () => rules });
