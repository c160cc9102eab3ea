import {
  array,
  check,
  enumOf,
  type Infer,
  int,
  issuesToErrors,
  literal,
  maximum,
  minimum,
  minLength,
  optional,
  regex,
  strictObject,
  string,
  union,
} from '../validation';
import { autoRenewalViolations } from './auto-renewal-law';
import { currencySchema } from './money';

/** Order service levels the shop knows. Open-ended in the catalog so a new level needs no deploy. */
const serviceLevel = string().check(minLength(1), regex(/^[a-z0-9-]+$/));
const nonNegativeCents = int().check(minimum(0));

const couponGrant = strictObject({
  id: string().check(minLength(1)),
  kind: literal('coupon'),
  every: enumOf(['signup', 'period']),
  amountOffCents: int().check(minimum(1)),
  currency: currencySchema,
  minSubtotalCents: optional(nonNegativeCents),
  validDays: int().check(minimum(1)),
});

const shippingVoucherGrant = strictObject({
  id: string().check(minLength(1)),
  kind: literal('shipping-voucher'),
  every: enumOf(['signup', 'period']),
  serviceLevel,
  count: optional(int().check(minimum(1), maximum(100))),
  validDays: int().check(minimum(1)),
});

export const grantSchema = union([couponGrant, shippingVoucherGrant]);

/** What a household member of a role gets at checkout (docs/household.md); `coupons` covers the owner's vouchers too. */
export const HOUSEHOLD_BENEFITS = ['freeShipping', 'memberDiscount', 'coupons'] as const;
const householdBenefits = array(enumOf(HOUSEHOLD_BENEFITS));

/**
 * Sharing a membership with a household (contract additions). The owner counts as an adult. Per role,
 * `benefits` lists what applies at checkout; unset, adults and teens get all, children none.
 */
export const householdSchema = strictObject({
  adults: int().check(minimum(1), maximum(10)),
  teens: int().check(minimum(0), maximum(10)),
  children: int().check(minimum(0), maximum(10)),
  inviteValidDays: int().check(minimum(1), maximum(90)),
  rejoinLockDays: int().check(minimum(0), maximum(730)),
  benefits: optional(
    strictObject({ adult: optional(householdBenefits), teen: optional(householdBenefits), child: optional(householdBenefits) }),
  ),
}).check(
  check((ctx) => {
    // Every copy of the owner's membership is written in the owner's ingestion transaction (100 items at most).
    const { adults, teens, children } = ctx.value;
    if (adults + teens + children > 10)
      ctx.issues.push({ code: 'custom', input: ctx.value, path: [], message: 'a household holds at most 10 people, the owner included' });
  }),
);

/**
 * A gift of this plan (docs/gifts.md): a one-time Stripe price buys `months` of the plan, claimable
 * within `claimValidDays` of payment. Gift ids are unique across the catalog (the buyer names only it).
 */
export const giftSchema = strictObject({
  id: string().check(minLength(1), regex(/^[a-z0-9-]+$/)),
  months: int().check(minimum(1), maximum(36)),
  stripePriceId: string().check(regex(/^price_\w+$/)),
  claimValidDays: int().check(minimum(1), maximum(3650)),
});

export const planSchema = strictObject({
  id: string().check(minLength(1), regex(/^[a-z0-9-]+$/)),
  name: string().check(minLength(1)),
  stripePriceIds: array(string().check(regex(/^price_\w+$/))).check(minLength(1)),
  /** `month` or `year`; informs MRR (annual counts 1/12) and the renewal-notice window rules. */
  interval: optional(enumOf(['month', 'year'])),
  trialDays: nonNegativeCents,
  graceDays: int().check(minimum(0), maximum(60)),
  benefits: strictObject({
    freeShipping: strictObject({
      serviceLevels: array(serviceLevel),
      minSubtotalCents: nonNegativeCents,
    }),
    memberDiscountBps: int().check(minimum(0), maximum(10_000)),
    grants: array(grantSchema),
  }),
  reminders: strictObject({
    renewalDaysBefore: array(int().check(minimum(1), maximum(365))),
    trialEndingDaysBefore: int().check(minimum(1), maximum(30)),
    winBackDaysAfter: array(int().check(minimum(1), maximum(365))),
  }),
  household: optional(householdSchema),
  /**
   * A new price for existing members (docs/compliance.md): one of `stripePriceIds`, what it charges
   * (printed in the notice and checked against Stripe before a subscription moves) and the first date
   * a renewal may charge it. Members move only after the notice their jurisdiction requires.
   */
  priceChange: optional(
    strictObject({
      priceId: string().check(regex(/^price_\w+$/)),
      amountCents: int().check(minimum(0)),
      currency: currencySchema,
      from: string().check(regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/, 'must be an ISO time in UTC')),
    }),
  ),
  /** Gift memberships of this plan that shoppers can buy for someone (docs/gifts.md). */
  gifts: optional(array(giftSchema)),
}).check(
  check((ctx) => {
    for (const v of autoRenewalViolations(ctx.value))
      ctx.issues.push({ code: 'custom', input: ctx.value, path: v.path, message: v.message });
    const change = ctx.value.priceChange;
    if (change && !ctx.value.stripePriceIds.includes(change.priceId)) {
      ctx.issues.push({
        code: 'custom',
        input: change.priceId,
        path: ['priceChange', 'priceId'],
        message: 'must be one of the plan’s stripePriceIds, so the moved subscriptions stay this plan’s',
      });
    }
  }),
);

export const catalogSchema = strictObject({
  plans: array(planSchema).check(
    minLength(1),
    check((ctx) => {
      const plans = ctx.value;
      const seenPlans = new Set<string>();
      const seenPrices = new Map<string, string>();
      const seenGifts = new Set<string>();
      plans.forEach((plan, i) => {
        (plan.gifts ?? []).forEach((gift, j) => {
          if (seenGifts.has(gift.id))
            ctx.issues.push({ code: 'custom', input: gift.id, path: [i, 'gifts', j, 'id'], message: `duplicate gift id "${gift.id}"` });
          seenGifts.add(gift.id);
          const owner = seenPrices.get(gift.stripePriceId) ?? plans.find((p) => p.stripePriceIds.includes(gift.stripePriceId))?.id;
          if (owner !== undefined)
            ctx.issues.push({
              code: 'custom',
              input: gift.stripePriceId,
              path: [i, 'gifts', j, 'stripePriceId'],
              message: `price "${gift.stripePriceId}" is already a subscription price of plan "${owner}": a gift needs its own one-time price`,
            });
        });
        if (seenPlans.has(plan.id)) {
          ctx.issues.push({ code: 'custom', input: plan.id, path: [i, 'id'], message: `duplicate plan id "${plan.id}"` });
        }
        seenPlans.add(plan.id);
        plan.stripePriceIds.forEach((price, j) => {
          const owner = seenPrices.get(price);
          if (owner !== undefined) {
            ctx.issues.push({
              code: 'custom',
              input: price,
              path: [i, 'stripePriceIds', j],
              message: `price "${price}" is already mapped to plan "${owner}"`,
            });
          }
          seenPrices.set(price, plan.id);
        });
        const grantIds = new Set<string>();
        plan.benefits.grants.forEach((grant, j) => {
          if (grantIds.has(grant.id)) {
            ctx.issues.push({
              code: 'custom',
              input: grant.id,
              path: [i, 'benefits', 'grants', j, 'id'],
              message: `duplicate grant id "${grant.id}"`,
            });
          }
          grantIds.add(grant.id);
        });
      });
    }),
  ),
});

export type Catalog = Infer<typeof catalogSchema>;
export type Plan = Infer<typeof planSchema>;
export type Grant = Infer<typeof grantSchema>;
export type HouseholdConfig = Infer<typeof householdSchema>;
export type GiftOffer = Infer<typeof giftSchema>;

export class CatalogError extends Error {
  override name = 'CatalogError';
}

/** Validates raw catalog JSON; the error names every bad field (`plans/0/graceDays: ...`). */
export function parseCatalog(raw: unknown, source = 'plan catalog'): PlanCatalog {
  const result = catalogSchema.safeParse(raw);
  if (!result.success) {
    const details = issuesToErrors(result.error.issues)
      .map((e) => `${e.path}: ${e.message}`)
      .join('; ');
    throw new CatalogError(`invalid ${source}: ${details}`);
  }
  return new PlanCatalog(result.data);
}

export class PlanCatalog {
  readonly plans: readonly Plan[];
  private readonly byId = new Map<string, Plan>();
  private readonly byPrice = new Map<string, Plan>();
  private readonly giftsById = new Map<string, { plan: Plan; gift: GiftOffer }>();

  constructor(catalog: Catalog) {
    this.plans = catalog.plans;
    for (const plan of catalog.plans) {
      this.byId.set(plan.id, plan);
      for (const price of plan.stripePriceIds) this.byPrice.set(price, plan);
      for (const gift of plan.gifts ?? []) this.giftsById.set(gift.id, { plan, gift });
    }
  }

  /** A gift offer and the plan it gives, by the gift's catalog id. */
  gift(id: string | null | undefined): { plan: Plan; gift: GiftOffer } | undefined {
    return id ? this.giftsById.get(id) : undefined;
  }

  plan(id: string | null | undefined): Plan | undefined {
    return id ? this.byId.get(id) : undefined;
  }

  planForPrice(priceId: string | null | undefined): Plan | undefined {
    return priceId ? this.byPrice.get(priceId) : undefined;
  }
}
