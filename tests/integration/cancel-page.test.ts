import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signupEvents } from '../../local/stripe-test-events';
import { uniqueMemberId, useApi } from '../support/api';
import { checkedFetch, contractViolations } from '../support/api-contract';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && !process.env.CI) {
  console.warn(
    `cancel-page.test.ts skipped: ${CHROMIUM} is not installed (apt-get install -y chromium). In CI it runs and fails without it.`,
  );
}
/** Screenshots kept by the run (ignored by git): what a person sees, for review. */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

const api = useApi();

async function documented(response: Awaited<ReturnType<Page['goto']>>) {
  const answer = { status: response!.status(), contentType: response!.headers()['content-type'] ?? null, body: await response!.text() };
  expect(contractViolations({ method: response!.request().method(), url: response!.url(), ...answer })).toEqual([]);
  return answer;
}

/** Fills and sends the form with the keyboard only, as someone who cannot use a mouse would. */
async function submitByKeyboard(page: Page, values: { name: string; email: string; reason?: string; extraordinary?: boolean }) {
  await page.keyboard.press('Tab'); // the language link
  await page.keyboard.press('Tab'); // the type of cancellation: one stop for the radio group
  expect(await page.locator(':focus').getAttribute('id')).toBe('type-ordinary');
  if (values.extraordinary) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Tab');
  if (values.reason) await page.keyboard.type(values.reason);
  await page.keyboard.press('Tab');
  await page.keyboard.type(values.name);
  await page.keyboard.press('Tab');
  await page.keyboard.type(values.email);
  await page.keyboard.press('Tab'); // customer number: left empty
  await page.keyboard.press('Tab');
  expect(await page.locator(':focus').textContent()).toMatch(/Cancel now|Jetzt kündigen/);
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes('/v1/cancellations')), page.keyboard.press('Enter')]);
  await page.waitForLoadState('domcontentloaded');
  return response;
}

describe.skipIf(!hasChromium && !process.env.CI)('GET /cancel in headless Chromium, without JavaScript', () => {
  let browser: Browser;
  const memberId = uniqueMemberId('cancel-page');
  const memberEmail = `${memberId}@example.com`;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const { events } = signupEvents({
      memberId,
      start: Math.floor(Date.now() / 1000) - 3600,
      email: memberEmail,
      address: { country: 'DE' },
    });
    for (const event of events) expect((await api.postEvent(event)).status).toBe(200);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 120_000);
  afterAll(async () => browser?.close());

  it('is a labelled, keyboard-operable form that posts without script and answers with a receipt to keep', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US' });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    const res = await page.goto(api.url('/cancel'));
    const answer = await documented(res);
    expect(answer.status).toBe(200);
    expect(res!.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('h1').textContent()).toBe('Cancel your membership');
    // Every control has a visible label, the radio group a legend.
    for (const label of [
      'Your name',
      'Email address of your membership',
      'Customer number (optional)',
      'Reason (for an extraordinary cancellation; optional otherwise)',
    ])
      expect(await page.getByLabel(label, { exact: true }).count(), label).toBe(1);
    expect(await page.getByRole('group', { name: 'Type of cancellation' }).getByRole('radio').count()).toBe(3);
    await page.screenshot({ path: `${ARTIFACTS}cancel-page-form.png`, fullPage: true });

    const response = await submitByKeyboard(page, {
      name: 'Ada Lovelace',
      email: memberEmail,
      reason: 'Moving abroad',
      extraordinary: true,
    });
    expect(response.status()).toBe(202);
    expect(await page.locator('h1').textContent()).toBe('Your cancellation has been received');
    const receipt = (await page.locator('dl > *').allTextContents()).join('\n');
    expect(receipt).toContain('Extraordinary cancellation');
    expect(receipt).toContain('Ada Lovelace');
    expect(receipt).toContain('Moving abroad');
    expect(receipt).toMatch(/Received\s+\d{1,2} \w+ \d{4}, \d{2}:\d{2}:\d{2} UTC/);
    expect(receipt).toMatch(/Reference\s+CXL-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}/);
    await page.screenshot({ path: `${ARTIFACTS}cancel-page-received.png`, fullPage: true });
    expect(existsSync(`${ARTIFACTS}cancel-page-received.png`)).toBe(true);
    // Self-contained: the page and the post, nothing else.
    expect(requested).toEqual(['/cancel', '/v1/cancellations']);
    await context.close();
  });

  it('answers exactly alike for a member’s address and an unknown one', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US' });
    const receipt = async (email: string) => {
      const page = await context.newPage();
      await page.goto(api.url('/cancel'));
      const response = await submitByKeyboard(page, { name: 'Ada Lovelace', email });
      const headers = response.headers();
      const body = (await response.text())
        .replace(email, '<email>')
        .replace(/CXL-[A-Z0-9-]+/, '<reference>')
        .replace(/\d{1,2} \w+ \d{4}, \d{2}:\d{2}:\d{2} UTC/, '<time>');
      return { status: response.status(), type: headers['content-type'], csp: headers['content-security-policy'], body };
    };
    const member = await receipt(memberEmail);
    const stranger = await receipt(`nobody-${memberEmail}`);
    expect(stranger).toEqual(member);
    expect(member.status).toBe(202);
    await context.close();
  });

  it('speaks German, with a “Jetzt kündigen” button, and shows a bad post its errors', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'de-DE' });
    const page = await context.newPage();
    await documented(await page.goto(api.url('/cancel')));
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    expect(await page.getByRole('button').textContent()).toBe('Jetzt kündigen');
    await context.close();
    // A post the browser would not send (no client-side checks in the way): the form again, with its errors.
    const bad = await checkedFetch(api.url('/v1/cancellations?lang=de'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Max', email: 'keine-adresse', type: 'ordinary' }).toString(),
    });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain('role="alert"');
    expect(html).toMatch(/id="email"[^>]*aria-invalid="true"/);
    expect(html).toContain('value="Max"');
  });
});
