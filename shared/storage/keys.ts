/**
 * Key layout of the single table. One item collection per member holds everything the checkout
 * needs (`ENT#` prefix), so an entitlement check is one Query. See docs/data-model.md.
 */
/**
 * Item shapes that several features share:
 * - membership: `{ PK: MEMBER#id, SK: ENT#MEMBERSHIP, type: 'membership', rev, ...MembershipRecord }`
 * - grant:      `{ PK: MEMBER#id, SK: ENT#GRANT#<code>, type: 'grant', grant: IssuedGrant, lookupPk, lookupSk, ttl }` (storage/grants.ts)
 * - savings:    `{ PK: MEMBER#id, SK: SAVINGS, type: 'savings', ...SavingsTotals, periodStart }` (storage/savings.ts)
 * - reminders:  `{ PK: MEMBER#id, SK: NOTE#R#<reminderId>, type: 'reminder', dueShard?, dueAt? }`, proof
 *               `NOTE#S#<reminderId>`, outbox `NOTE#OUTBOX#<reminderId>`, prefs `PREFS` (storage/reminder-store.ts)
 */
export const keys = {
  memberPk: (memberId: string) => `MEMBER#${memberId}`,
  membershipSk: 'ENT#MEMBERSHIP',
  grantSk: (code: string) => `ENT#GRANT#${code}`,
  /** A household member's copy of the owner's membership (storage/households.ts): read by the member's check. */
  householdLinkSk: 'ENT#HOUSEHOLD',
  entitlementPrefix: 'ENT#',
  savingsSk: 'SAVINGS',
  customerLink: (customerId: string) => ({ PK: `CUSTOMER#${customerId}`, SK: 'LINK' }),
  /**
   * A payment (PaymentIntent `pi_`, or a bare charge `ch_`): its link to the invoice it paid
   * (storage/payment-links.ts) and its refunds that arrived before that link.
   */
  paymentPk: (paymentRef: string) => `PAYMENT#${paymentRef}`,
  parkedRefundSk: (chargeId: string) => `REFUND#${chargeId}`,
  parkedRefundPrefix: 'REFUND#',
} as const;

/** Names of the table's secondary indexes (created by infra and by local setup alike). */
export const indexes = {
  /** Alternate-key lookups: `lookupPk` / `lookupSk` (e.g. a coupon code to its member). */
  lookup: 'lookup',
  /** Sparse time-ordered work queue: `dueShard` / `dueAt` (e.g. reminders due to be sent). */
  due: 'due',
} as const;

/** TTL attribute of the main table (epoch seconds). */
export const TTL_ATTRIBUTE = 'ttl';
