import { memberNotificationsRoute } from '#shared/api/admin-notifications';
import { httpHandler, json } from '#shared/http/handler';
import { reminderStore } from '#shared/runtime/reminders';
import { memberNotifications } from '#shared/usecases/member-notifications';

const store = reminderStore();

export const handler = httpHandler(memberNotificationsRoute, async ({ params }) =>
  json(200, await memberNotifications(store, params.memberId)),
);
