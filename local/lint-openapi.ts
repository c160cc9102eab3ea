/**
 * `npm run lint:openapi` (part of `npm test`): Redocly's recommended rules (redocly.yaml) over the
 * OpenAPI document as the service generates it. Redocly fails only on errors; a client generated
 * from the document deserves no warnings either, so any problem at all fails the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from './openapi-files';

const root = fileURLToPath(new URL('..', import.meta.url));
const file = `${root}.data/openapi.json`;
mkdirSync(`${root}.data`, { recursive: true });
writeFileSync(file, JSON.stringify(openApiDocument(), null, 2));

const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
const redocly = (format: string) =>
  spawnSync(`${root}node_modules/.bin/redocly`, ['lint', file, `--format=${format}`, '--config', `${root}redocly.yaml`], {
    cwd: root,
    env,
    encoding: 'utf8',
  });

const run = redocly('json');
let totals: { errors: number; warnings: number } | undefined;
try {
  totals = JSON.parse(run.stdout).totals;
} catch {
  console.error(run.stdout, run.stderr);
  throw new Error('redocly lint gave no JSON report');
}
if (!totals || totals.errors + totals.warnings > 0) {
  process.stdout.write(redocly('codeframe').stdout);
  console.error(`OpenAPI lint: ${totals?.errors} errors, ${totals?.warnings} warnings (Redocly recommended; zero of each is the rule)`);
  process.exit(1);
}
console.log('OpenAPI lint: 0 errors, 0 warnings (Redocly recommended)');
