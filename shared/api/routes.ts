/** Every route of the API, for the OpenAPI document and the route/function manifest checks. */
import type { RouteSpec } from '../http/types';
import { entitlementsCheckRoute } from './entitlements';
import { healthRoute, openapiRoute, stripeWebhookRoute } from './system';
import { adminMemberRoute, cancelMembershipRoute, checkoutSessionRoute, myMembershipRoute, portalSessionRoute, resumeMembershipRoute } from './shoppers';

export const allRoutes: readonly RouteSpec[] = [healthRoute, openapiRoute, stripeWebhookRoute, entitlementsCheckRoute,
  myMembershipRoute, checkoutSessionRoute, portalSessionRoute, cancelMembershipRoute, resumeMembershipRoute, adminMemberRoute];
