/** Every route of the API, for the OpenAPI document and the route/function manifest checks. */
import type { RouteSpec } from '../http/types';
import { entitlementsCheckRoute } from './entitlements';
import { healthRoute, openapiRoute, stripeWebhookRoute } from './system';
import { memberNotificationsRoute, memberPreferencesRoute } from './admin-notifications';

export const allRoutes: readonly RouteSpec[] = [healthRoute, openapiRoute, stripeWebhookRoute, entitlementsCheckRoute, memberNotificationsRoute, memberPreferencesRoute];
