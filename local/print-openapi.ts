/**
 * `npm run openapi`: writes the OpenAPI document generated from the route specs to docs/openapi.json
 * (or `--out <file>`), and the checkout client's types to clients/checkout/openapi.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_TYPES_FILE, clientTypes, openApiDocument } from './openapi-files';

const at = process.argv.indexOf('--out');
const file = at > 0 ? resolve(process.argv[at + 1]!) : fileURLToPath(new URL('../docs/openapi.json', import.meta.url));
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(openApiDocument(process.env.npm_package_version ?? '0.1.0'), null, 2)}\n`);
console.log(`wrote ${file}`);
if (at < 0) {
  writeFileSync(CLIENT_TYPES_FILE, await clientTypes());
  console.log(`wrote ${CLIENT_TYPES_FILE}`);
}
