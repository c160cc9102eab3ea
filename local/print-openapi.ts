/** `npm run openapi`: writes the OpenAPI document generated from the route specs to docs/openapi.json. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApi } from '#shared/api/openapi';
import { allRoutes } from '#shared/api/routes';

const file = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));
writeFileSync(file, `${JSON.stringify(buildOpenApi(allRoutes, { version: process.env.npm_package_version ?? '0.1.0' }), null, 2)}\n`);
console.log(`wrote ${file}`);
