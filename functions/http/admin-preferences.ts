import { memberPreferencesRoute } from '#shared/api/admin-notifications';
import { httpHandler, json } from '#shared/http/handler';
import { reminderStore } from '#shared/runtime/reminders';
import { setMemberPreferences } from '#shared/usecases/member-preferences';

const store = reminderStore();

export const handler = httpHandler(memberPreferencesRoute, async ({ params, body, now }) =>
  json(200, await setMemberPreferences(store, params.memberId, body, now)),
);
