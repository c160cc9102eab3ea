import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type JurisdictionRulesTable, parseRulesTable } from '../domain/compliance-rules';

/** The project's own rules table; Lambda bundles get a copy and `JURISDICTION_RULES_FILE` pointing at it. */
export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../../config/jurisdictions.json', import.meta.url));

let cached: { file: string; table: JurisdictionRulesTable } | undefined;

/** Loads and validates the jurisdiction rules once per container; a bad file fails start-up with the field named. */
export function jurisdictionRules(env: NodeJS.ProcessEnv = process.env): JurisdictionRulesTable {
  const file = env.JURISDICTION_RULES_FILE || DEFAULT_RULES_FILE;
  if (cached?.file === file) return cached.table;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read jurisdiction rules ${file}: ${(error as Error).message}`);
  }
  cached = { file, table: parseRulesTable(raw, `jurisdiction rules ${file}`) };
  return cached.table;
}
