import { buildOpenApi } from '#shared/api/openapi';
import { allRoutes } from '#shared/api/routes';
import { openapiRoute } from '#shared/api/system';
import { httpHandler, json } from '#shared/http/handler';

const document = buildOpenApi(allRoutes, { version: process.env.SERVICE_VERSION ?? '0.1.0' });

export const handler = httpHandler(openapiRoute, async () => json(200, document, { 'cache-control': 'public, max-age=300' }));
