/**
 * The pages of the cancellation without login (docs/compliance.md): the form (the confirmation page of
 * § 312k BGB, reached from the shop's "cancel contracts here" button), the receipt a form post answers
 * with, and the form again with its errors or a rate-limit notice. Plain HTML: no script, no external
 * resource, labels and fieldsets for every control, an error summary that links to its fields, the
 * page language set, in English and German. The receipt shows exactly what was declared and when, and
 * never whether a membership matched. Pure.
 */
import { dateTimeText } from './compliance-notices';

export type PageLang = 'en' | 'de';

const TEXT = {
  en: {
    title: 'Cancel your membership',
    intro:
      'Use this form to cancel your membership. No login is needed. We confirm the cancellation by email to the address of your membership.',
    other: { lang: 'de', label: 'Deutsch' },
    typeLegend: 'Type of cancellation',
    ordinary: 'Ordinary cancellation: the membership ends at the end of the period you have paid for',
    extraordinary: 'Extraordinary cancellation for good cause (please give the reason below)',
    withdrawal: 'Withdrawal within 14 days of joining (EU and UK): ends at once, with a refund less the days used',
    reason: 'Reason (for an extraordinary cancellation; optional otherwise)',
    name: 'Your name',
    email: 'Email address of your membership',
    emailHint: 'We send the confirmation to the address your membership uses.',
    memberId: 'Customer number (optional)',
    memberIdHint: 'Helps us find the right membership if you have several.',
    when: 'When: at the earliest possible date, the end of the period you have paid for (a withdrawal ends it at once).',
    submit: 'Cancel now',
    errorsTitle: 'Please correct the following',
    limited: (minutes: number) =>
      `Too many cancellation requests came from here or for this address. Please try again in ${minutes} minute(s).`,
    receivedTitle: 'Your cancellation has been received',
    receivedIntro: 'Keep this page (save or print it): it is your record of your cancellation, with the date and time we received it.',
    receivedAt: 'Received',
    reference: 'Reference',
    typeLabel: 'Type',
    receipt: { name: 'Name', email: 'Email', memberId: 'Customer number', reason: 'Reason' },
    types: { ordinary: 'Ordinary cancellation', extraordinary: 'Extraordinary cancellation', withdrawal: 'Withdrawal' },
    whatNext:
      'If a membership uses this email address, it ends as stated above and we send a confirmation with the end date to that address. You do not need to do anything else.',
    errorMessages: {
      name: 'Enter your name.',
      email: 'Enter the email address of your membership, like name@example.com.',
      memberId: 'A customer number has only letters, digits and . _ : -',
      reason: 'The reason can be at most 1000 characters.',
      type: 'Choose a type of cancellation.',
      other: 'Check this field.',
    },
  },
  de: {
    title: 'Mitgliedschaft kündigen',
    intro:
      'Mit diesem Formular kündigen Sie Ihre Mitgliedschaft. Eine Anmeldung ist nicht nötig. Wir bestätigen die Kündigung per E-Mail an die Adresse Ihrer Mitgliedschaft.',
    other: { lang: 'en', label: 'English' },
    typeLegend: 'Art der Kündigung',
    ordinary: 'Ordentliche Kündigung: die Mitgliedschaft endet zum Ende des bezahlten Zeitraums',
    extraordinary: 'Außerordentliche Kündigung aus wichtigem Grund (bitte unten den Grund angeben)',
    withdrawal: 'Widerruf innerhalb von 14 Tagen nach Vertragsschluss: endet sofort, Erstattung abzüglich der genutzten Tage',
    reason: 'Grund (bei außerordentlicher Kündigung; sonst freiwillig)',
    name: 'Ihr Name',
    email: 'E-Mail-Adresse Ihrer Mitgliedschaft',
    emailHint: 'Die Bestätigung senden wir an die Adresse, die Ihre Mitgliedschaft verwendet.',
    memberId: 'Kundennummer (freiwillig)',
    memberIdHint: 'Hilft uns, die richtige Mitgliedschaft zu finden, wenn Sie mehrere haben.',
    when: 'Zeitpunkt: zum nächstmöglichen Termin, dem Ende des bezahlten Zeitraums (ein Widerruf beendet sie sofort).',
    submit: 'Jetzt kündigen',
    errorsTitle: 'Bitte korrigieren Sie Folgendes',
    limited: (minutes: number) =>
      `Von hier oder für diese Adresse kamen zu viele Kündigungen. Bitte versuchen Sie es in ${minutes} Minute(n) erneut.`,
    receivedTitle: 'Ihre Kündigung ist eingegangen',
    receivedIntro:
      'Bewahren Sie diese Seite auf (speichern oder drucken): sie ist Ihr Nachweis der Kündigung mit Datum und Uhrzeit des Eingangs.',
    receivedAt: 'Eingegangen',
    reference: 'Aktenzeichen',
    typeLabel: 'Art',
    receipt: { name: 'Name', email: 'E-Mail', memberId: 'Kundennummer', reason: 'Grund' },
    types: { ordinary: 'Ordentliche Kündigung', extraordinary: 'Außerordentliche Kündigung', withdrawal: 'Widerruf' },
    whatNext:
      'Verwendet eine Mitgliedschaft diese E-Mail-Adresse, endet sie wie oben angegeben, und wir senden eine Bestätigung mit dem Enddatum an diese Adresse. Sie müssen nichts weiter tun.',
    errorMessages: {
      name: 'Geben Sie Ihren Namen ein.',
      email: 'Geben Sie die E-Mail-Adresse Ihrer Mitgliedschaft ein, z. B. name@example.com.',
      memberId: 'Eine Kundennummer enthält nur Buchstaben, Ziffern und . _ : -',
      reason: 'Der Grund darf höchstens 1000 Zeichen lang sein.',
      type: 'Wählen Sie die Art der Kündigung.',
      other: 'Bitte prüfen Sie dieses Feld.',
    },
  },
} as const;

const FIELDS = ['type', 'reason', 'name', 'email', 'memberId'] as const;
type Field = (typeof FIELDS)[number];

export const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #fff; }
  main { max-width: 40rem; margin: 0 auto; padding: 1.5rem; }
  h1 { font-size: 1.6rem; }
  label, legend { display: block; font-weight: 600; margin-top: 1.1rem; }
  .hint { color: #4a4a4a; font-size: 0.95rem; margin: 0.2rem 0; }
  input[type=text], input[type=email], textarea { width: 100%; box-sizing: border-box; padding: 0.5rem; font: inherit; border: 2px solid #4a4a4a; border-radius: 4px; }
  fieldset { border: 0; padding: 0; margin: 0; }
  .choice { display: flex; gap: 0.5rem; align-items: flex-start; margin-top: 0.5rem; font-weight: 400; }
  .choice input { flex: none; margin: 0.3rem 0 0; width: 1.1rem; height: 1.1rem; }
  button { margin-top: 1.5rem; padding: 0.75rem 1.5rem; font: inherit; font-weight: 700; background: #8b0000; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
  :focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
  .errors { border: 3px solid #8b0000; padding: 0.5rem 1rem; }
  .error { color: #8b0000; font-weight: 600; }
  [aria-invalid=true] { border-color: #8b0000; }
  dl { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: 0.3rem 1rem; }
  dd { margin: 0; overflow-wrap: anywhere; }
  dt { font-weight: 600; }
  @media print { nav, button { display: none; } }
`;

function page(lang: PageLang, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface FormState {
  values?: Partial<Record<Field, string>>;
  /** `errors` as the API reports them (`/body/email`). */
  errors?: ReadonlyArray<{ path: string; message: string }>;
  /** Seconds until another request is accepted, when rate-limited. */
  retryAfterSeconds?: number;
}

/** The form: on first view, with errors after a bad post, or with the rate-limit notice. */
export function renderCancelPage(lang: PageLang, state: FormState = {}): string {
  const t = TEXT[lang];
  const values = state.values ?? {};
  const invalid = new Set<Field>();
  for (const e of state.errors ?? []) {
    const field = e.path.split('/')[2] as Field | undefined;
    invalid.add(field && (FIELDS as readonly string[]).includes(field) ? field : 'name');
  }
  const errorText = (f: Field) => t.errorMessages[f] ?? t.errorMessages.other;
  const errorId = (f: Field) => `${f}-error`;
  const described = (f: Field, hint?: string) => {
    const ids = [hint, invalid.has(f) ? errorId(f) : undefined].filter(Boolean).join(' ');
    return `${ids ? ` aria-describedby="${ids}"` : ''}${invalid.has(f) ? ' aria-invalid="true"' : ''}`;
  };
  const fieldError = (f: Field) => (invalid.has(f) ? `<p class="error" id="${errorId(f)}">${escapeHtml(errorText(f))}</p>` : '');
  const value = (f: Field) => escapeHtml(values[f] ?? '');
  const type = values.type === 'extraordinary' || values.type === 'withdrawal' ? values.type : 'ordinary';
  const radio = (v: 'ordinary' | 'extraordinary' | 'withdrawal') =>
    `<label class="choice" for="type-${v}"><input type="radio" id="type-${v}" name="type" value="${v}"${type === v ? ' checked' : ''}> <span>${escapeHtml(t[v])}</span></label>`;
  const summary = state.retryAfterSeconds
    ? `<div class="errors" role="alert"><p>${escapeHtml(t.limited(Math.ceil(state.retryAfterSeconds / 60)))}</p></div>`
    : invalid.size
      ? `<div class="errors" role="alert" aria-labelledby="errors-title"><h2 id="errors-title">${escapeHtml(t.errorsTitle)}</h2><ul>${[
          ...invalid,
        ]
          .map((f) => `<li><a href="#${f === 'type' ? 'type-ordinary' : f}">${escapeHtml(errorText(f))}</a></li>`)
          .join('')}</ul></div>`
      : '';
  return page(
    lang,
    t.title,
    `<nav><a href="/cancel?lang=${t.other.lang}" lang="${t.other.lang}" hreflang="${t.other.lang}">${t.other.label}</a></nav>
<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.intro)}</p>
${summary}
<form method="post" action="/v1/cancellations?lang=${lang}" accept-charset="utf-8">
<fieldset${invalid.has('type') ? ` aria-describedby="${errorId('type')}"` : ''}>
<legend>${escapeHtml(t.typeLegend)}</legend>
${radio('ordinary')}
${radio('extraordinary')}
${radio('withdrawal')}
</fieldset>
${fieldError('type')}
<label for="reason">${escapeHtml(t.reason)}</label>
<textarea id="reason" name="reason" rows="3" maxlength="1000"${described('reason')}>${value('reason')}</textarea>
${fieldError('reason')}
<label for="name">${escapeHtml(t.name)}</label>
<input type="text" id="name" name="name" autocomplete="name" required maxlength="200" value="${value('name')}"${described('name')}>
${fieldError('name')}
<label for="email">${escapeHtml(t.email)}</label>
<p class="hint" id="email-hint">${escapeHtml(t.emailHint)}</p>
<input type="email" id="email" name="email" autocomplete="email" required maxlength="254" value="${value('email')}"${described('email', 'email-hint')}>
${fieldError('email')}
<label for="memberId">${escapeHtml(t.memberId)}</label>
<p class="hint" id="memberId-hint">${escapeHtml(t.memberIdHint)}</p>
<input type="text" id="memberId" name="memberId" maxlength="128" value="${value('memberId')}"${described('memberId', 'memberId-hint')}>
${fieldError('memberId')}
<p>${escapeHtml(t.when)}</p>
<button type="submit">${escapeHtml(t.submit)}</button>
</form>`,
  );
}

/** The receipt of a form post: what was declared, when it was received, and the reference. */
export function renderReceivedPage(
  lang: PageLang,
  declared: { type: 'ordinary' | 'extraordinary' | 'withdrawal'; name: string; email: string; memberId?: string; reason?: string },
  received: { reference: string; receivedAt: string },
): string {
  const t = TEXT[lang];
  const row = (label: string, value: string) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`;
  return page(
    lang,
    t.receivedTitle,
    `<h1>${escapeHtml(t.receivedTitle)}</h1>
<p>${escapeHtml(t.receivedIntro)}</p>
<dl>
${row(t.receivedAt, dateTimeText(received.receivedAt, lang))}
${row(t.reference, received.reference)}
${row(t.typeLabel, t.types[declared.type])}
${row(t.receipt.name, declared.name)}
${row(t.receipt.email, declared.email)}
${declared.memberId ? row(t.receipt.memberId, declared.memberId) : ''}
${declared.reason ? row(t.receipt.reason, declared.reason) : ''}
</dl>
<p>${escapeHtml(t.when)}</p>
<p>${escapeHtml(t.whatNext)}</p>`,
  );
}

/** The page's language: asked for, else the browser's first preference if German, else English. */
export function pageLanguage(asked: string | undefined, acceptLanguage: string | undefined): PageLang {
  if (asked === 'de' || asked === 'en') return asked;
  return /^\s*de\b/i.test(acceptLanguage ?? '') ? 'de' : 'en';
}
