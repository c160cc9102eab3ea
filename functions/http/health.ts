import { healthRoute } from '#shared/api/system';
import { httpHandler, json } from '#shared/http/handler';

export const handler = httpHandler(healthRoute, async ({ now }) => json(200, { status: 'ok', time: now.toISOString() }));
