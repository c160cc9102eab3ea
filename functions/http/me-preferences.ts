import { myPreferencesRoute } from '#shared/api/me-preferences';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import { reminderStore } from '#shared/runtime/reminders';
import { setMemberPreferences } from '#shared/usecases/member-preferences';

const store = reminderStore();

export const handler = httpHandler(myPreferencesRoute, async ({ principal, body, now }) =>
  json(200, await setMemberPreferences(store, shopperId(principal), body, now)),
);
