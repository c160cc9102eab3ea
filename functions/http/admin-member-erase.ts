import { eraseMemberRoute } from '#shared/api/erasure';
import { httpHandler, json } from '#shared/http/handler';
import { memberItems } from '#shared/runtime/compliance';
import { membershipRepository } from '#shared/runtime/dynamo';
import { reminderStore } from '#shared/runtime/reminders';
import { shopperRepository } from '#shared/runtime/shopper';
import { eraseMember } from '#shared/usecases/erase-member';

const deps = { memberships: membershipRepository(), shoppers: shopperRepository(), reminders: reminderStore(), items: memberItems() };

export const handler = httpHandler(eraseMemberRoute, async ({ params, now }) => json(200, await eraseMember(deps, params.memberId, now)));
