/** Every route of the API, for the OpenAPI document and the route/function manifest checks. */
import type { ResponseSpec, RouteSpec } from '../http/types';
import { memberNotificationsRoute, memberPreferencesRoute } from './admin-notifications';
import { benefitUsageRoute, commitCouponRoute, holdCouponRoute, redeemCouponRoute, releaseCouponRoute } from './benefits';
import { problem } from './common';
import { acceptSaveOfferRoute, cancellationsRoute, cancelPageRoute, eraseMeRoute, myExportRoute, withdrawRoute } from './compliance';
import { driftRoute } from './drift';
import { entitlementsCheckRoute } from './entitlements';
import { eraseMemberRoute } from './erasure';
import { ledgerRoute, metricsRoute, reconciliationRoute, reportRoute, revenueRoute } from './finance';
import { claimGiftRoute, giftCheckoutRoute, myGiftsRoute, refundGiftRoute } from './gifts';
import { createInviteRoute, joinHouseholdRoute, myHouseholdRoute, removeHouseholdMemberRoute } from './household';
import { myPreferencesRoute } from './me-preferences';
import { quoteOrderRoute } from './orders';
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
  quoteOrderRoute,
  holdCouponRoute,
  commitCouponRoute,
  redeemCouponRoute,
  releaseCouponRoute,
  benefitUsageRoute,
  myMembershipRoute,
  checkoutSessionRoute,
  portalSessionRoute,
  cancelMembershipRoute,
  resumeMembershipRoute,
  giftCheckoutRoute,
  myGiftsRoute,
  claimGiftRoute,
  refundGiftRoute,
  myPreferencesRoute,
  adminMemberRoute,
  memberNotificationsRoute,
  memberPreferencesRoute,
  driftRoute,
  ledgerRoute,
  revenueRoute,
  metricsRoute,
  reconciliationRoute,
  reportRoute,
  eraseMemberRoute,
  cancelPageRoute,
  cancellationsRoute,
  withdrawRoute,
  acceptSaveOfferRoute,
  myExportRoute,
  eraseMeRoute,
  myHouseholdRoute,
  createInviteRoute,
  joinHouseholdRoute,
  removeHouseholdMemberRoute,
];

/**
 * What the router answers to a request that no route takes, before any handler runs. Locally that is
 * local/http-adapter.ts; in AWS, API Gateway answers such a request 404 with its own (non-problem) body.
 */
export const routerResponses = {
  404: problem('No route has this path'),
  405: problem('A route has this path, for another method (the detail names the methods)'),
} as const satisfies Record<number, ResponseSpec>;
