import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixedWindow, parseRateLimit } from '#shared/domain/rate-limit';

describe('fixed-window rate limit', () => {
  it('puts every instant in the window that contains it, and Retry-After reaches its end', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000_000 }), fc.constantFrom(1, 60, 600, 3600), (ms, seconds) => {
        const now = new Date(ms);
        const w = fixedWindow(now, seconds);
        const start = Date.parse(w.start);
        expect(start).toBeLessThanOrEqual(ms);
        expect(w.endsAt.getTime() - start).toBe(seconds * 1000);
        expect(ms).toBeLessThan(w.endsAt.getTime());
        expect(w.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(ms + w.retryAfterSeconds * 1000).toBeGreaterThanOrEqual(w.endsAt.getTime());
      }),
    );
  });

  it('agrees across containers: two instants of one window share its key', () => {
    const a = fixedWindow(new Date('2026-12-01T10:00:01Z'), 600);
    const b = fixedWindow(new Date('2026-12-01T10:09:59Z'), 600);
    expect(a.start).toBe(b.start);
    expect(fixedWindow(new Date('2026-12-01T10:10:00Z'), 600).start).not.toBe(a.start);
  });

  it('reads <requests>/<seconds> and names the setting when it cannot', () => {
    expect(parseRateLimit('10/600', 'X')).toEqual({ limit: 10, windowSeconds: 600 });
    for (const bad of ['10', '0/600', '10/0', 'ten/600', '10/100000']) expect(() => parseRateLimit(bad, 'X_LIMIT')).toThrow(/X_LIMIT/);
  });
});
