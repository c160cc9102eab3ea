/** Every route of the API, for the OpenAPI document and the route/function manifest checks. */
import type { RouteSpec } from '../http/types';
import { entitlementsCheckRoute } from './entitlements';
import { healthRoute, openapiRoute, stripeWebhookRoute } from './system';
import { adminMemberRoute, cancelMembershipRoute, checkoutSessionRoute, myMembershipRoute, portalSessionRoute, resumeMembershipRoute } from './shoppers';
import { benefitUsageRoute, redeemCouponRoute, releaseCouponRoute } from './benefits';
import { ledgerRoute, reconciliationRoute, reportRoute, revenueRoute } from './finance';
import { memberNotificationsRoute, memberPreferencesRoute } from './admin-notifications';
import { eraseMemberRoute } from './erasure';
import { myPreferencesRoute } from './me-preferences';

export const allRoutes: readonly RouteSpec[] = [
  healthRoute,
  openapiRoute,
  stripeWebhookRoute,
  entitlementsCheckRoute,
  redeemCouponRoute,
  releaseCouponRoute,
  benefitUsageRoute,
  myMembershipRoute,
  checkoutSessionRoute,
  portalSessionRoute,
  cancelMembershipRoute,
  resumeMembershipRoute,
  myPreferencesRoute,
  adminMemberRoute,
  memberNotificationsRoute,
  memberPreferencesRoute,
  ledgerRoute,
  revenueRoute,
  reconciliationRoute,
  reportRoute,
  eraseMemberRoute,
];
