import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type PlanCatalog, parseCatalog } from '../domain/catalog';

/** The project's own catalog; Lambda bundles get a copy and `PLAN_CATALOG_FILE` pointing at it. */
export const DEFAULT_CATALOG_FILE = fileURLToPath(new URL('../../config/plan-catalog.json', import.meta.url));

let cached: { file: string; catalog: PlanCatalog } | undefined;

/** Loads and validates the plan catalog once per container; a bad file fails start-up with the field named. */
export function planCatalog(env: NodeJS.ProcessEnv = process.env): PlanCatalog {
  const file = env.PLAN_CATALOG_FILE || DEFAULT_CATALOG_FILE;
  if (cached?.file === file) return cached.catalog;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read plan catalog ${file}: ${(error as Error).message}`);
  }
  cached = { file, catalog: parseCatalog(raw, `plan catalog ${file}`) };
  return cached.catalog;
}
