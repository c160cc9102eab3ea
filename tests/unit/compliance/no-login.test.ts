import { describe, expect, it } from 'vitest';
import { escapeHtml, pageLanguage, renderCancelPage, renderReceivedPage } from '#shared/domain/cancel-page';
import { renderAcknowledgement } from '#shared/domain/compliance-notices';
import { RateLimitedError } from '#shared/errors';
import { type RateLimiter, receiveCancellationRequest } from '#shared/usecases/cancellation-requests';

/** What receiving a request does, step by step: the fakes record every call. */
function recording(limits: { client?: boolean; email?: boolean } = {}) {
  const calls: string[] = [];
  const limiter: RateLimiter = {
    consume: async (scope) => {
      calls.push(`limit:${scope}`);
      const allowed = limits[scope] ?? true;
      return { allowed, retryAfterSeconds: scope === 'client' ? 600 : 3600 };
    },
  };
  const queue = {
    enqueue: async (work: { kind: string; PK: string }, extra: Record<string, unknown>) => {
      calls.push(`queue:${work.kind}:${Object.keys(extra).sort().join(',')}`);
      return true;
    },
  };
  return { deps: { limiter, queue }, calls };
}

describe('cancellation without login: the same work for every address, by construction', () => {
  it('counts twice and queues once, with no access to any membership, whoever the address belongs to', async () => {
    const now = new Date('2027-01-01T00:00:00Z');
    const client = { address: '203.0.113.7', lang: 'en' as const };
    const a = recording();
    const b = recording();
    const first = await receiveCancellationRequest(a.deps, { name: 'Ada', email: 'member@example.com' }, client, now);
    const second = await receiveCancellationRequest(b.deps, { name: 'Ada', email: 'stranger@example.com' }, client, now);
    expect(a.calls).toEqual(b.calls);
    expect(a.calls).toEqual([
      'limit:client',
      'limit:email',
      'queue:cancellation_request:cancellationType,email,emailHash,lang,name,receivedAt',
    ]);
    expect(Object.keys(first)).toEqual(Object.keys(second));
    expect(first.reference).not.toBe(second.reference);
  });

  it('refuses past either limit with the longer wait, after counting both', async () => {
    const limited = recording({ email: false });
    await expect(
      receiveCancellationRequest(limited.deps, { name: 'Ada', email: 'a@example.com' }, { address: '1', lang: 'en' }, new Date()),
    ).rejects.toEqual(expect.objectContaining({ retryAfterSeconds: 3600 }));
    expect(limited.calls).toEqual(['limit:client', 'limit:email']);
    const both = recording({ client: false, email: false });
    await expect(
      receiveCancellationRequest(both.deps, { name: 'Ada', email: 'a@example.com' }, { address: '1', lang: 'en' }, new Date()),
    ).rejects.toBeInstanceOf(RateLimitedError);
  });
});

describe('the cancellation pages', () => {
  it('never let typed text become markup', () => {
    const hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';
    const received = renderReceivedPage(
      'en',
      { type: 'ordinary', name: hostile, email: 'a@example.com', reason: hostile },
      { reference: 'CXL-1', receivedAt: '2027-01-01T00:00:00Z' },
    );
    const form = renderCancelPage('de', { values: { name: hostile, email: hostile }, errors: [{ path: '/body/email', message: 'x' }] });
    for (const html of [received, form]) {
      expect(html).not.toContain('<script>');
      expect(html).not.toContain('<img');
      expect(html).toContain(escapeHtml('<script>alert(1)</script>'));
    }
  });

  it('link each error in the summary to its field, and mark the field invalid', () => {
    const html = renderCancelPage('en', { values: { name: 'Ada' }, errors: [{ path: '/body/email', message: 'bad' }] });
    expect(html).toContain('<a href="#email">Enter the email address of your membership');
    expect(html).toMatch(/id="email"[^>]*aria-describedby="email-hint email-error" aria-invalid="true"/);
    expect(html).toContain('value="Ada"');
  });

  it('speak the language asked for, else the browser’s first preference when it is German', () => {
    expect(pageLanguage(undefined, 'de-DE,de;q=0.9,en;q=0.8')).toBe('de');
    expect(pageLanguage(undefined, 'en-GB,de;q=0.5')).toBe('en');
    expect(pageLanguage('en', 'de-DE')).toBe('en');
    expect(pageLanguage(undefined, undefined)).toBe('en');
  });
});

describe('the cancellation confirmation', () => {
  it('says so when a withdrawal came too late and was taken as an ordinary cancellation', () => {
    const facts = { receivedAt: '2027-01-01T10:00:00Z', type: 'ordinary', name: 'Ada', withdrawalRefused: 'withdrawal_period_over' };
    expect(renderAcknowledgement('cancellation_confirmation', facts, 'https://shop.example').text).toContain('after the withdrawal period');
    expect(renderAcknowledgement('cancellation_confirmation', { ...facts, lang: 'de' }, 'https://shop.example').text).toContain(
      'nach Ablauf der Widerrufsfrist',
    );
  });
});
