import type { Context } from 'aws-lambda';
import { eraseMeRoute, myExportRoute } from '#shared/api/compliance';
import { httpHandler, json } from '#shared/http/handler';
import { shopperId } from '#shared/http/shopper';
import type { HttpEvent } from '#shared/http/types';
import { planCatalog } from '#shared/runtime/catalog';
import { declarationStore, memberItems } from '#shared/runtime/compliance';
import { membershipRepository } from '#shared/runtime/dynamo';
import { jurisdictionRules } from '#shared/runtime/jurisdictions';
import { reminderStore } from '#shared/runtime/reminders';
import { shopperRepository } from '#shared/runtime/shopper';
import { eraseMyself, exportMyData } from '#shared/usecases/member-privacy';

const deps = {
  catalog: planCatalog(),
  rules: jurisdictionRules(),
  items: memberItems(),
  memberships: membershipRepository(),
  shoppers: shopperRepository(),
  reminders: reminderStore(),
  declarations: declarationStore(),
};

const exportData = httpHandler(myExportRoute, async ({ principal, now }) => json(200, await exportMyData(deps, shopperId(principal), now)));
const erase = httpHandler(eraseMeRoute, async ({ principal, now }) => json(202, await eraseMyself(deps, shopperId(principal), now)));

/** The shopper's own privacy rights: see and erase what is stored (one function, one grant). */
export const handler = (event: HttpEvent, context: Context) =>
  event.routeKey === `${eraseMeRoute.method} ${eraseMeRoute.path}` ? erase(event, context) : exportData(event, context);
