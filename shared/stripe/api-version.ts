/**
 * The Stripe API version every payload is read in. The webhook endpoint must be created with this
 * version; events rendered in another one are refused rather than misread. A unit test keeps it equal
 * to the installed SDK's `Stripe.API_VERSION` (imported there, not here, to keep the SDK out of bundles).
 */
export const STRIPE_API_VERSION = '2026-10-28.endive';
