import { memberPreferencesRoute } from '../../shared/api/admin-notifications';
import { httpHandler, json } from '../../shared/http/handler';
import { reminderStore } from '../../shared/runtime/reminders';

const store = reminderStore();

export const handler = httpHandler(memberPreferencesRoute, async ({ params, body, now }) => {
  await store.setPreferences(params.memberId, { marketingOptOut: body.marketingOptOut }, now);
  return json(200, { memberId: params.memberId, marketingOptOut: body.marketingOptOut, updatedAt: now.toISOString() });
});
