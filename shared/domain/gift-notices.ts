/**
 * The text of the gift notices (docs/gifts.md): the code to its recipient, and the notice a week before
 * a gift membership ends, with the offer to subscribe. Built from the facts the gift flow queued. Pure.
 */
import { dateTimeText } from './compliance-notices';

export type GiftNoticeKind = 'gift_delivery' | 'gift_ending';

const dateText = (iso: string | undefined) =>
  iso ? new Date(iso).toLocaleDateString('en-GB', { timeZone: 'UTC', year: 'numeric', month: 'long', day: 'numeric' }) : 'soon';

export function renderGiftNotice(kind: GiftNoticeKind, facts: Record<string, string>, shopUrl: string): { subject: string; text: string } {
  const months = Number(facts.months ?? 0);
  switch (kind) {
    case 'gift_delivery':
      return {
        subject: `You received a gift: ${months} month${months === 1 ? '' : 's'} of membership`,
        text: [
          `Someone gave you ${months} month${months === 1 ? '' : 's'} of membership (${facts.planId ?? 'membership'}).`,
          ...(facts.message ? [`Their message: "${facts.message}"`] : []),
          `Your code: ${facts.code ?? ''}`,
          `Claim it in your account at ${shopUrl} by ${dateTimeText(facts.claimBy ?? '')}; after that it expires. The membership starts when you claim it and does not renew: nobody will charge you.`,
        ].join('\n\n'),
      };
    case 'gift_ending':
      return {
        subject: `Your gift membership ends on ${dateText(facts.endsAt)}`,
        text: [
          `The membership you were given ends on ${dateText(facts.endsAt)}. It does not renew, and you will not be charged.`,
          `To keep your free shipping and member prices, subscribe at ${shopUrl} when it ends.`,
        ].join('\n\n'),
      };
  }
}
