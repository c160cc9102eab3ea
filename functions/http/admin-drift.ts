import { driftRoute } from '#shared/api/drift';
import { httpHandler, json } from '#shared/http/handler';
import { stripeSyncStore } from '#shared/runtime/dynamo';
import { listDriftFindings } from '#shared/usecases/drift-findings';

const store = stripeSyncStore();

export const handler = httpHandler(driftRoute, async ({ query }) => {
  const list = await listDriftFindings(store, { limit: Number(query.limit ?? 100), cursor: query.cursor });
  const params = new URLSearchParams({
    ...(query.limit ? { limit: query.limit } : {}),
    ...(list.nextCursor ? { cursor: list.nextCursor } : {}),
  });
  return json(200, list, list.nextCursor ? { link: `</v1/admin/drift?${params.toString()}>; rel="next"` } : {});
});
