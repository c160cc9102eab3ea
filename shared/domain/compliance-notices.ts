/**
 * The text of the compliance notices: a price change (what, from when, how to cancel before), and the
 * acknowledgements a flow queues with the facts they confirm (a withdrawal, a cancellation received
 * without login, an erasure). Each acknowledgement repeats the declaration's content with the date and
 * time it was received, so the email is the durable record the law asks for. Pure.
 */
import { formatMoney } from './money';

export type AcknowledgementKind = 'withdrawal_ack' | 'cancellation_confirmation' | 'erasure_confirmation';

export interface RenderedNotice {
  subject: string;
  text: string;
}

/** `2026-07-01T10:15:00.000Z` → "1 July 2026, 10:15 UTC": a time a reader can keep, unambiguous across zones. */
export function dateTimeText(iso: string, lang: 'en' | 'de' = 'en'): string {
  const d = new Date(iso);
  const date = d.toLocaleDateString(lang === 'de' ? 'de-DE' : 'en-GB', { timeZone: 'UTC', year: 'numeric', month: 'long', day: 'numeric' });
  const time = d.toLocaleTimeString('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return lang === 'de' ? `${date}, ${time} Uhr (UTC)` : `${date}, ${time} UTC`;
}

const dateText = (iso: string | undefined, lang: 'en' | 'de' = 'en') =>
  iso
    ? new Date(iso).toLocaleDateString(lang === 'de' ? 'de-DE' : 'en-GB', {
        timeZone: 'UTC',
        year: 'numeric',
        month: 'long',
        day: 'numeric',
      })
    : lang === 'de'
      ? 'zum nächstmöglichen Termin'
      : 'at the earliest possible date';

export function renderAcknowledgement(kind: AcknowledgementKind, facts: Record<string, string>, portalUrl: string): RenderedNotice {
  switch (kind) {
    case 'withdrawal_ack': {
      const received = dateTimeText(facts.receivedAt ?? '');
      const refund =
        facts.refundCents && facts.currency
          ? `Refund: ${formatMoney(Number(facts.refundCents), facts.currency)} of the ${formatMoney(Number(facts.paidCents ?? 0), facts.currency)} paid, less ${formatMoney(Number(facts.chargedCents ?? 0), facts.currency)} for ${facts.daysServed} of ${facts.daysInPeriod} days of membership used. It reaches your payment method within a few days.`
          : 'Nothing was paid, so nothing is refunded.';
      return {
        subject: `We received your withdrawal from ${facts.planName ?? 'your membership'}`,
        text: [
          `We received your withdrawal on ${received}.`,
          `Your declaration: "I withdraw from my contract for ${facts.planName ?? 'the membership'} (contract ${facts.contract ?? ''})."${facts.name ? ` Name: ${facts.name}.` : ''}`,
          `Your membership ended on ${dateTimeText(facts.endedAt ?? facts.receivedAt ?? '')}. You will not be charged again.`,
          refund,
          `Reference: ${facts.reference ?? ''}. Keep this email as your confirmation.`,
        ].join('\n\n'),
      };
    }
    case 'cancellation_confirmation': {
      const lang = facts.lang === 'de' ? 'de' : 'en';
      const extraordinary = facts.type === 'extraordinary';
      if (lang === 'de') {
        return {
          subject: `Eingangsbestätigung Ihrer Kündigung: ${facts.planName ?? 'Mitgliedschaft'}`,
          text: [
            `Ihre Kündigung ist am ${dateTimeText(facts.receivedAt ?? '', 'de')} bei uns eingegangen.`,
            `Art der Kündigung: ${extraordinary ? 'außerordentliche Kündigung' : 'ordentliche Kündigung'}${facts.reason ? ` (Grund: ${facts.reason})` : ''}.`,
            ...(facts.withdrawalRefused
              ? ['Ihr Widerruf kam nach Ablauf der Widerrufsfrist; wir haben ihn als ordentliche Kündigung behandelt.']
              : []),
            `Name: ${facts.name ?? ''}. Vertrag: ${facts.planName ?? ''} (${facts.contract ?? ''}).`,
            `Ihre Mitgliedschaft endet am ${dateText(facts.endsAt, 'de')}; danach wird nichts mehr abgebucht.`,
            `Aktenzeichen: ${facts.reference ?? ''}. Bitte bewahren Sie diese E-Mail als Bestätigung auf.`,
          ].join('\n\n'),
        };
      }
      return {
        subject: `We received your cancellation of ${facts.planName ?? 'your membership'}`,
        text: [
          `We received your cancellation on ${dateTimeText(facts.receivedAt ?? '')}.`,
          `Type: ${extraordinary ? 'extraordinary cancellation' : 'ordinary cancellation'}${facts.reason ? ` (reason: ${facts.reason})` : ''}.`,
          ...(facts.withdrawalRefused
            ? ['Your withdrawal came after the withdrawal period had ended, so we took it as an ordinary cancellation.']
            : []),
          `Name: ${facts.name ?? ''}. Contract: ${facts.planName ?? ''} (${facts.contract ?? ''}).`,
          `Your membership ends on ${dateText(facts.endsAt)}; you will not be charged again.`,
          `Reference: ${facts.reference ?? ''}. Keep this email as your confirmation. Changed your mind? Resume at ${portalUrl} before then.`,
        ].join('\n\n'),
      };
    }
    case 'erasure_confirmation':
      return {
        subject: 'Your personal data has been erased',
        text: [
          `You asked us on ${dateTimeText(facts.requestedAt ?? '')} to erase your personal data; it was erased on ${dateTimeText(facts.erasedAt ?? facts.requestedAt ?? '')}.`,
          'Your email address is removed from your membership and from every notice we sent you; this message is the last one it is used for.',
          'What the law requires us to keep stays, without your address: payment records (tax and accounting law), proofs that notices were sent and of what you agreed to at checkout.',
        ].join('\n\n'),
      };
  }
}

/** California asks for the change and how to cancel, 7–30 days ahead; every jurisdiction's notice says as much. */
export function renderPriceChange(ctx: {
  planName: string;
  amountCents: number | null;
  currency: string | null;
  interval: string | null;
  portalUrl: string;
  priceChange: { amountCents: number; currency: string; firstChargeAt: string } | null;
}): RenderedNotice {
  const change = ctx.priceChange;
  const currency = change?.currency ?? ctx.currency ?? 'usd';
  const before = ctx.amountCents === null ? 'the current price' : formatMoney(ctx.amountCents, ctx.currency ?? currency);
  const after = change ? formatMoney(change.amountCents, change.currency) : 'a new price';
  const every = ctx.interval === 'year' ? 'year' : ctx.interval === 'month' ? 'month' : (ctx.interval ?? 'period');
  const on = dateText(change?.firstChargeAt);
  return {
    subject: `The price of ${ctx.planName} changes to ${after} per ${every}`,
    text: [
      `The price of your ${ctx.planName} membership changes from ${before} to ${after} per ${every}.`,
      `The new price applies from your renewal on or about ${on}; until then nothing changes.`,
      `If you do not want to continue at the new price, cancel before ${on} at ${ctx.portalUrl}. Cancelling takes one click, and you keep your benefits until the end of the period you paid for.`,
    ].join('\n\n'),
  };
}
