/**
 * Which reminders a membership calls for, when they are due, whether one is still worth sending,
 * and what it says. Pure: record, plan catalog and clock in, data out.
 *
 * Scheduling is a function of the stored record only (never of the clock), so the reminders planned
 * for a record are the same however often it is evaluated; a change schedules exactly the reminders
 * that its new record plans and the old one did not (see `newReminders`). Whether a reminder still
 * matters is decided again at send time (`reminderRelevance`), so a plan that went stale (cancelled,
 * paid, came back) costs nothing but a dropped item.
 */
import { ANNUAL_RENEWAL_NOTICE_WINDOW } from './auto-renewal-law';
import type { Plan, PlanCatalog } from './catalog';
import { type AcknowledgementKind, renderAcknowledgement, renderPriceChange } from './compliance-notices';
import type { JurisdictionRules, RulesResolver } from './compliance-rules';
import { type GiftNoticeKind, renderGiftNotice } from './gift-notices';
import { evaluateMembership, failedRenewal, type MembershipRecord, type SubscriptionState } from './membership';
import { formatMoney } from './money';
import { plannedPriceChange, priceChangeRelevance } from './price-change';

export const REMINDER_KINDS = [
  'renewal_upcoming',
  'annual_notice',
  'trial_ending',
  'payment_failed',
  'grace_ending',
  'membership_lapsed',
  'win_back',
  'price_change',
  'withdrawal_ack',
  'cancellation_confirmation',
  'erasure_confirmation',
  // To a household member: the owner's membership they share is ending (domain/household.ts).
  'household_ending',
  'gift_delivery',
  'gift_ending',
] as const;
export type ReminderKind = (typeof REMINDER_KINDS)[number];

/**
 * Notices a flow queues with the facts they confirm (a withdrawal, a cancellation, an erasure): never
 * planned from the record and always sent, whatever the membership does meanwhile (docs/compliance.md).
 */
export const ACKNOWLEDGEMENT_KINDS: ReadonlySet<ReminderKind> = new Set<AcknowledgementKind>([
  'withdrawal_ack',
  'cancellation_confirmation',
  'erasure_confirmation',
]);

/**
 * Gift notices (docs/gifts.md): the code to its recipient at `deliverAt`, and the notice before a gift
 * membership ends with the offer to subscribe. Queued by the gift flows with their facts, sent by the
 * reminders job like every notice, and dropped when their reason went away (a refund, a claim, a
 * subscription that took over).
 */
export const GIFT_NOTICE_KINDS: ReadonlySet<ReminderKind> = new Set(['gift_delivery', 'gift_ending']);

/** Marketing messages respect the member's opt-out; the rest are notices the law or the contract requires. */
export const MARKETING_KINDS: ReadonlySet<ReminderKind> = new Set(['win_back']);

/** Days before the end of grace to warn that benefits are about to end (the catalog has no field for it). */
export const GRACE_ENDING_DAYS_BEFORE = 2;

/** The notice planned when an annual subscription's catalog plan has none in that window. */
export const ANNUAL_RENEWAL_NOTICE_FALLBACK_DAYS = 30;

export interface PlannedReminder {
  /** `<kind>#<subscriptionId>#<anchor>#<offsetDays>`: the same reason always yields the same id. */
  id: string;
  kind: ReminderKind;
  memberId: string;
  subscriptionId: string;
  /** What the reminder is about: a renewal, trial end, grace end or lapse time (ISO), or an invoice id. */
  anchor: string;
  /** Days before the anchor (negative: after). */
  offsetDays: number;
  dueAt: string;
}

const DAY_MS = 86_400_000;
const shift = (iso: string, days: number) => new Date(Date.parse(iso) - days * DAY_MS).toISOString();

/** The deterministic reminder id. `#` never occurs in Stripe ids or ISO times, so it splits cleanly. */
export const reminderId = (kind: ReminderKind, subscriptionId: string, anchor: string, offsetDays: number) =>
  `${kind}#${subscriptionId}#${anchor}#${offsetDays}`;

function planned(
  record: MembershipRecord,
  kind: ReminderKind,
  subscriptionId: string,
  anchor: string,
  offsetDays: number,
  dueAt: string,
): PlannedReminder {
  return {
    id: reminderId(kind, subscriptionId, anchor, offsetDays),
    kind,
    memberId: record.memberId,
    subscriptionId,
    anchor,
    offsetDays,
    dueAt,
  };
}

/**
 * When benefits of the deciding subscription end if nothing else happens, or null while it renews.
 * Uses the same dates `evaluateMembership` reads, so the lapse notice and the status agree.
 */
export function plannedLapseAt(record: MembershipRecord, plan: Plan | undefined): string | null {
  const sub = record.subscription;
  if (!sub) return null;
  const graceDays = plan?.graceDays ?? 0;
  const renewalFailure = failedRenewal(record);
  switch (sub.stripeStatus) {
    case 'canceled':
      // A subscription that never gave access (never past `incomplete`) has nothing to lapse from.
      return sub.endedAt ?? sub.canceledAt;
    case 'past_due':
    case 'unpaid':
      if (renewalFailure) return shift(renewalFailure.at, -graceDays);
      return sub.currentPeriodStart ? shift(sub.currentPeriodStart, -graceDays) : null;
    case 'trialing':
    case 'active': {
      if (renewalFailure) return shift(renewalFailure.at, -graceDays);
      const periodEnd = sub.stripeStatus === 'trialing' ? (sub.trialEnd ?? sub.currentPeriodEnd) : sub.currentPeriodEnd;
      return sub.cancelAt ?? (sub.cancelAtPeriodEnd ? periodEnd : null);
    }
    default:
      return null;
  }
}

const autoRenewing = (record: MembershipRecord) => {
  const sub = record.subscription;
  return (
    sub !== null && (sub.stripeStatus === 'active' || sub.stripeStatus === 'trialing') && !sub.cancelAtPeriodEnd && sub.cancelAt === null
  );
};

/**
 * The anniversary of `startIso` (one or more calendar years later, UTC) that falls in the half-open
 * range [fromIso, toIso), or null. Billing periods are contiguous half-open ranges, so each
 * anniversary lies in exactly one of them, even when it is a few seconds off the renewal time.
 */
export function anniversaryWithin(startIso: string, fromIso: string, toIso: string): string | null {
  const start = new Date(startIso);
  for (let years = 1; ; years++) {
    const candidate = new Date(start);
    candidate.setUTCFullYear(start.getUTCFullYear() + years);
    const iso = candidate.toISOString();
    if (iso >= toIso) return null;
    if (iso >= fromIso) return iso;
  }
}

/** Halfway between a period's start and end, to the second. */
export const midTermOf = (startIso: string, endIso: string) =>
  new Date(Math.floor((Date.parse(startIso) + Date.parse(endIso)) / 2000) * 1000).toISOString();

/**
 * Every reminder the record calls for, from its dates alone. Notice windows come from the catalog plan
 * and the member's jurisdiction (`rules`): a window the plan's days miss gets a notice of its own.
 */
export function planReminders(record: MembershipRecord | null, catalog: PlanCatalog, rules: RulesResolver): PlannedReminder[] {
  const sub = record?.subscription;
  if (!record || !sub) return [];
  const plan = catalog.plan(sub.planId);
  if (!plan) return [];
  const out: PlannedReminder[] = [];
  const subId = sub.subscriptionId;
  const law = rules.rulesFor(record.jurisdiction);

  if (autoRenewing(record)) {
    if (sub.stripeStatus === 'trialing' && sub.trialEnd) {
      for (const days of trialNoticeDays(plan, sub, law)) {
        out.push(planned(record, 'trial_ending', subId, sub.trialEnd, days, shift(sub.trialEnd, days)));
      }
    }
    if (sub.stripeStatus === 'active' && sub.currentPeriodEnd) {
      for (const days of renewalNoticeDays(plan, sub, law)) {
        out.push(planned(record, 'renewal_upcoming', subId, sub.currentPeriodEnd, days, shift(sub.currentPeriodEnd, days)));
      }
    }
    const priceChange = plannedPriceChange(record, plan, law);
    if (priceChange) {
      out.push(planned(record, 'price_change', subId, priceChangeAnchor(priceChange), 0, priceChange.dueAt));
    }
    if (!law.notices.annualReminder) {
      // The yearly reminder is a duty of some jurisdictions only (California's and the US baseline).
    } else if (isAnnual(plan, sub)) {
      // Annual plans: once a year at mid-term (halfway through each paid year), far from the renewal
      // notices 15–45 days before renewal, so the yearly summary never arrives with them.
      if (sub.stripeStatus === 'active' && sub.currentPeriodStart && sub.currentPeriodEnd) {
        const midTerm = midTermOf(sub.currentPeriodStart, sub.currentPeriodEnd);
        out.push(planned(record, 'annual_notice', subId, midTerm, 0, midTerm));
      }
    } else if (sub.stripeStatus === 'active' && record.firstSubscribedAt && sub.currentPeriodStart && sub.currentPeriodEnd) {
      // Shorter plans: the billing period that contains the anniversary of the first subscription
      // carries that year's notice, due in the middle of the period. Without a trial the anniversary
      // is a renewal day, and a notice due then would be re-planned by the renewal itself before the
      // job saw it; mid-period no renewal can overtake it. The id names the anniversary, so a moved
      // period (plan switch) moves the due time and the proof check still sends it once.
      const anniversary = anniversaryWithin(record.firstSubscribedAt, sub.currentPeriodStart, sub.currentPeriodEnd);
      if (anniversary)
        out.push(planned(record, 'annual_notice', subId, anniversary, 0, midTermOf(sub.currentPeriodStart, sub.currentPeriodEnd)));
    }
  }

  const failed = failedRenewal(record);
  if (failed && sub.stripeStatus !== 'canceled') {
    out.push(planned(record, 'payment_failed', subId, failed.invoiceId, 0, failed.at));
    const graceEndsAt = shift(failed.at, -plan.graceDays);
    const days = Math.min(GRACE_ENDING_DAYS_BEFORE, plan.graceDays);
    if (plan.graceDays > 0) out.push(planned(record, 'grace_ending', subId, graceEndsAt, days, shift(graceEndsAt, days)));
  }

  const lapseAt = plannedLapseAt(record, plan);
  if (lapseAt) {
    // One lapse (and one win-back series) per subscription: its id carries no time, so a better-known
    // end (grace end, then Stripe's `ended_at`) moves the due time instead of adding a second notice.
    out.push(planned(record, 'membership_lapsed', subId, 'end', 0, lapseAt));
    for (const days of new Set(plan.reminders.winBackDaysAfter))
      out.push(planned(record, 'win_back', subId, 'end', -days, shift(lapseAt, -days)));
  }
  return out;
}

/**
 * The reminders a change must (re)write: planned after it and not planned, with the same due time,
 * before it. Redelivering an event changes nothing and so writes nothing.
 */
export function newReminders(
  before: MembershipRecord | null,
  after: MembershipRecord,
  catalog: PlanCatalog,
  rules: RulesResolver,
): PlannedReminder[] {
  const known = new Set(planReminders(before, catalog, rules).map((r) => `${r.id}@${r.dueAt}`));
  return planReminders(after, catalog, rules).filter((r) => !known.has(`${r.id}@${r.dueAt}`));
}

/** A price-change notice's anchor: the renewal before the new price's first charge, and that price. */
export const priceChangeAnchor = (change: { prev: string; toPriceId: string }) => `${change.prev}@${change.toPriceId}`;
export const parsePriceChangeAnchor = (anchor: string) => {
  const at = anchor.lastIndexOf('@');
  return { prev: anchor.slice(0, at), toPriceId: anchor.slice(at + 1) };
};

/**
 * `customer.subscription.trial_will_end`: the trial notice goes out now if the schedule has not sent it
 * yet. The plan's own notice is the one moved (a jurisdiction's extra trial notice keeps its day).
 */
export function trialEndingNow(record: MembershipRecord, catalog: PlanCatalog, now: Date, rules: RulesResolver): PlannedReminder | null {
  const days = catalog.plan(record.subscription?.planId)?.reminders.trialEndingDaysBefore;
  const reminder = planReminders(record, catalog, rules).find((r) => r.kind === 'trial_ending' && r.offsetDays === days);
  if (!reminder) return null;
  const nowIso = now.toISOString();
  return reminder.dueAt <= nowIso ? reminder : { ...reminder, dueAt: nowIso };
}

/**
 * Annual if Stripe bills the subscription yearly or the catalog says so: the catalog's `interval` is
 * optional (the contract's example has none), and the law follows what the member is charged.
 */
export const isAnnual = (plan: Pick<Plan, 'interval'> | undefined, sub: Pick<SubscriptionState, 'interval'>) =>
  sub.interval === 'year' || plan?.interval === 'year';

/** How often the member is charged, for the notice text: Stripe's own interval first, then the catalog's. */
export const billingInterval = (plan: Pick<Plan, 'interval'> | undefined, sub: Pick<SubscriptionState, 'interval'>) =>
  sub.interval ?? plan?.interval ?? null;

/**
 * True when an annual subscription's plan has no renewal notice in California's 15–45-day window. The
 * catalog check catches this for plans that declare `interval: "year"`; a plan that does not, sold
 * through a yearly Stripe price, gets here. Planning then adds one (see `renewalNoticeDays`).
 */
export function annualRenewalNoticeMissing(plan: Pick<Plan, 'interval' | 'reminders'>, sub: Pick<SubscriptionState, 'interval'>): boolean {
  const { min, max } = ANNUAL_RENEWAL_NOTICE_WINDOW;
  return isAnnual(plan, sub) && !plan.reminders.renewalDaysBefore.some((d) => d >= min && d <= max);
}

/** Where a notice goes when the plan's days miss a window: its middle (30 for California's 15–45). */
const windowMiddle = (w: { minDays: number; maxDays: number }) => Math.round((w.minDays + w.maxDays) / 2);

/**
 * The catalog's renewal notice days, plus one inside each window of the member's jurisdiction that
 * none of them falls in (annual windows only for annual subscriptions): California's 15–45 days for an
 * annual plan, China's 5 days before every renewal.
 */
export function renewalNoticeDays(
  plan: Pick<Plan, 'interval' | 'reminders'>,
  sub: Pick<SubscriptionState, 'interval'>,
  rules: Pick<JurisdictionRules, 'notices'>,
): Set<number> {
  const days = new Set(plan.reminders.renewalDaysBefore);
  for (const window of rules.notices.renewal) {
    if (window.plans === 'annual' && !isAnnual(plan, sub)) continue;
    if (![...days].some((d) => d >= window.minDays && d <= window.maxDays)) days.add(windowMiddle(window));
  }
  return days;
}

/** The catalog's trial notice day, plus one inside each trial window of the jurisdiction that applies to this trial's length. */
export function trialNoticeDays(
  plan: Pick<Plan, 'reminders' | 'trialDays'>,
  sub: Pick<SubscriptionState, 'trialStart' | 'trialEnd'>,
  rules: Pick<JurisdictionRules, 'notices'>,
): Set<number> {
  const days = new Set([plan.reminders.trialEndingDaysBefore]);
  const trialDays =
    sub.trialStart && sub.trialEnd ? Math.round((Date.parse(sub.trialEnd) - Date.parse(sub.trialStart)) / DAY_MS) : plan.trialDays;
  for (const window of rules.notices.trialEnding) {
    if (trialDays < window.minTrialDays) continue;
    if (![...days].some((d) => d >= window.minDays && d <= window.maxDays)) days.add(windowMiddle(window));
  }
  return days;
}

export type Relevance = { send: true } | { send: false; reason: string };

/**
 * Whether a reminder still has a reason at send time, from the member's current record. A reminder
 * whose reason went away (cancelled, paid, came back, the date moved) is dropped with that reason.
 */
export function reminderRelevance(
  reminder: Pick<PlannedReminder, 'id' | 'kind' | 'subscriptionId' | 'anchor'>,
  record: MembershipRecord | null,
  catalog: PlanCatalog,
  now: Date,
  preferences: { marketingOptOut: boolean },
  rules: RulesResolver,
): Relevance {
  const drop = (reason: string): Relevance => ({ send: false, reason });
  // A confirmation of something the member did stays true whatever happens to the membership after.
  if (ACKNOWLEDGEMENT_KINDS.has(reminder.kind)) return { send: true };
  // The gift's own state decides its delivery (the reminders job reads the gift): nothing here to judge.
  if (reminder.kind === 'gift_delivery') return { send: true };
  if (reminder.kind === 'gift_ending') {
    // Sent only while the gift is still what ends the membership then: a later gift or a subscription moves the end.
    const view = evaluateMembership(record, catalog, now);
    return view.entitled && view.accessEndsAt === reminder.anchor ? { send: true } : drop('gift_no_longer_ending');
  }
  if (!record?.subscription) return drop('no_membership');
  const view = evaluateMembership(record, catalog, now);
  const sub = record.subscription;
  const nowIso = now.toISOString();
  if (MARKETING_KINDS.has(reminder.kind) && preferences.marketingOptOut) return drop('marketing_opt_out');
  if (reminder.kind === 'membership_lapsed' || reminder.kind === 'win_back') {
    if (view.status !== 'lapsed') return drop('member_came_back');
    if (sub.subscriptionId !== reminder.subscriptionId) return drop('superseded_by_newer_subscription');
    return { send: true };
  }
  if (sub.subscriptionId !== reminder.subscriptionId) return drop('superseded_by_newer_subscription');
  // Only what the current record still plans is sent: this catches cancel, resume, a moved renewal
  // date or trial end, and a failed payment that was paid since.
  const stillPlanned = planReminders(record, catalog, rules).some((r) => r.id === reminder.id);
  switch (reminder.kind) {
    case 'price_change': {
      const decision = priceChangeRelevance(
        parsePriceChangeAnchor(reminder.anchor),
        record,
        catalog.plan(sub.planId),
        rules.rulesFor(record.jurisdiction),
        now,
      );
      return decision.send ? { send: true } : drop(decision.reason);
    }
    case 'renewal_upcoming':
    case 'trial_ending':
      if (!stillPlanned) return drop(autoRenewing(record) ? 'date_changed' : 'not_renewing');
      if (reminder.anchor <= nowIso) return drop('too_late');
      return view.status === 'active' || view.status === 'trialing' ? { send: true } : drop(`status_${view.status}`);
    case 'annual_notice':
      if (!stillPlanned) return drop(autoRenewing(record) ? 'date_changed' : 'not_renewing');
      return view.entitled ? { send: true } : drop(`status_${view.status}`);
    case 'payment_failed':
    case 'grace_ending':
      if (record.payment?.outcome === 'paid') return drop('paid');
      if (view.status !== 'grace') return drop(view.status === 'lapsed' ? 'grace_over' : `status_${view.status}`);
      return stillPlanned ? { send: true } : drop('superseded');
    default:
      return drop('unknown_kind');
  }
}

/** What a notice needs to be useful; gathered by the sender's caller, rendered here. */
export interface ReminderContext {
  planName: string;
  interval: string | null;
  amountCents: number | null;
  currency: string | null;
  /** The next charge (renewal or trial conversion), when one is coming. */
  nextChargeAt: string | null;
  graceEndsAt: string | null;
  accessEndsAt: string | null;
  portalUrl: string;
  /** Where a member turns marketing email off; printed in every marketing notice. */
  preferencesUrl: string;
  /** Savings in the current period ("you saved $84 this year"); 0 when nothing is recorded. */
  periodSavedCents: number;
  lifetimeSavedCents: number;
  /** The recall coupon issued with a win-back. */
  coupon: { code: string; amountOffCents: number; currency: string; expiresAt: string } | null;
  /** A price-change notice: the new price and its first charge. */
  priceChange?: { amountCents: number; currency: string; firstChargeAt: string } | null;
  /** What an acknowledgement confirms, as the flow that queued it recorded it (strings only). */
  facts?: Record<string, string> | null;
}

export interface RenderedMessage {
  subject: string;
  text: string;
}

const day = (iso: string | null) =>
  iso ? new Date(iso).toLocaleDateString('en-US', { timeZone: 'UTC', year: 'numeric', month: 'long', day: 'numeric' }) : 'soon';
const frequency = (interval: string | null) =>
  interval === 'year' ? 'every year' : interval === 'month' ? 'every month' : `every ${interval ?? 'period'}`;
const periodWord = (interval: string | null) => (interval === 'year' ? 'this year' : interval === 'month' ? 'this month' : 'this period');

/** Plain-text notice. Renewal notices carry plan, amount, date, frequency and the way to cancel. */
export function renderReminder(kind: ReminderKind, ctx: ReminderContext): RenderedMessage {
  if (ACKNOWLEDGEMENT_KINDS.has(kind)) return renderAcknowledgement(kind as AcknowledgementKind, ctx.facts ?? {}, ctx.portalUrl);
  if (GIFT_NOTICE_KINDS.has(kind)) return renderGiftNotice(kind as GiftNoticeKind, ctx.facts ?? {}, ctx.portalUrl);
  if (kind === 'price_change') return renderPriceChange({ ...ctx, priceChange: ctx.priceChange ?? null });
  const money = (amountMinor: number) => formatMoney(amountMinor, ctx.currency ?? 'usd');
  const price = ctx.amountCents === null ? 'the plan price' : money(ctx.amountCents);
  const charge = `${ctx.planName}: ${price}, charged ${frequency(ctx.interval)}. Next charge: ${price} on ${day(ctx.nextChargeAt)}.`;
  const cancel = `To cancel, or change your plan, visit ${ctx.portalUrl} before ${day(ctx.nextChargeAt)}. Cancelling takes one click.`;
  const savings = `You saved ${money(ctx.periodSavedCents)} ${periodWord(ctx.interval)} with ${ctx.planName}.`;
  switch (kind) {
    case 'renewal_upcoming':
      return {
        subject: `Your ${ctx.planName} membership renews on ${day(ctx.nextChargeAt)}`,
        text: [charge, savings, cancel].join('\n\n'),
      };
    case 'annual_notice':
      return {
        subject: `Your yearly ${ctx.planName} membership summary`,
        text: [`Your membership renews automatically. ${charge}`, savings, cancel].join('\n\n'),
      };
    case 'trial_ending':
      return {
        subject: `Your ${ctx.planName} trial ends on ${day(ctx.nextChargeAt)}`,
        text: [`Your free trial ends on ${day(ctx.nextChargeAt)} and your paid membership starts then. ${charge}`, cancel].join('\n\n'),
      };
    case 'payment_failed':
      return {
        subject: `We could not collect your ${ctx.planName} payment`,
        text: [
          `Your renewal payment of ${price} did not go through. Your benefits continue until ${day(ctx.graceEndsAt)} while we retry.`,
          `Update your payment method at ${ctx.portalUrl}.`,
        ].join('\n\n'),
      };
    case 'grace_ending':
      return {
        subject: `Your ${ctx.planName} benefits end on ${day(ctx.graceEndsAt)}`,
        text: [
          `Your renewal payment of ${price} is still unpaid. Benefits end on ${day(ctx.graceEndsAt)}.`,
          `Update your payment method at ${ctx.portalUrl}.`,
        ].join('\n\n'),
      };
    case 'household_ending':
      return {
        subject: `The ${ctx.planName} membership you share ends on ${day(ctx.accessEndsAt)}`,
        text: [
          `The ${ctx.planName} membership your household shares ends on ${day(ctx.accessEndsAt)}, and your member benefits end with it.`,
          `To keep them, ask the household's owner to renew, or start a membership of your own at ${ctx.portalUrl}.`,
        ].join('\n\n'),
      };
    case 'membership_lapsed':
      return {
        subject: `Your ${ctx.planName} membership has ended`,
        text: [
          `Your membership ended on ${day(ctx.accessEndsAt)}. You will not be charged again.`,
          `Rejoin any time at ${ctx.portalUrl}.`,
        ].join('\n\n'),
      };
    case 'win_back': {
      const coupon = ctx.coupon
        ? `Come back and take ${formatMoney(ctx.coupon.amountOffCents, ctx.coupon.currency)} off with code ${ctx.coupon.code} (valid until ${day(ctx.coupon.expiresAt)}).`
        : 'Come back any time.';
      return {
        subject: `We miss you at ${ctx.planName}`,
        text: [
          `As a member you saved ${money(ctx.lifetimeSavedCents)} in all.`,
          coupon,
          `Rejoin at ${ctx.portalUrl}.`,
          `You receive this because you were a ${ctx.planName} member. To stop these emails, change your email preferences at ${ctx.preferencesUrl}.`,
        ].join('\n\n'),
      };
    }
    default:
      throw new Error(`no template for ${kind}`);
  }
}
