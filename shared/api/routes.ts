/** Every route of the API, for the OpenAPI document and the route/function manifest checks. */
import type { RouteSpec } from '../http/types';
import { memberNotificationsRoute, memberPreferencesRoute } from './admin-notifications';
import { benefitUsageRoute, redeemCouponRoute, releaseCouponRoute } from './benefits';
import { entitlementsCheckRoute } from './entitlements';
import { eraseMemberRoute } from './erasure';
import { ledgerRoute, reconciliationRoute, reportRoute, revenueRoute } from './finance';
import { myPreferencesRoute } from './me-preferences';
import {
  adminMemberRoute,
  cancelMembershipRoute,
  checkoutSessionRoute,
  myMembershipRoute,
  portalSessionRoute,
  resumeMembershipRoute,
} from './shoppers';
import { healthRoute, openapiRoute, stripeWebhookRoute } from './system';

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
