/** Every route of the API, for the OpenAPI document and the route/function manifest checks. */
import type { RouteSpec } from '../http/types';
import { entitlementsCheckRoute } from './entitlements';
import { healthRoute, openapiRoute, stripeWebhookRoute } from './system';
import { ledgerRoute, reconciliationRoute, reportRoute, revenueRoute } from './finance';

export const allRoutes: readonly RouteSpec[] = [healthRoute, openapiRoute, stripeWebhookRoute, entitlementsCheckRoute, ledgerRoute, revenueRoute, reconciliationRoute, reportRoute];
