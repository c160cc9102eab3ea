/**
 * Fixed-window rate limits (docs/shoppers.md): at most `limit` requests per `windowSeconds`, counted
 * in windows aligned to the epoch, so every container agrees on the window without coordination. A
 * caller can reach 2 × limit across a window boundary; the limit is about cost and abuse, not exact
 * fairness, and a fixed window needs one atomic counter per window.
 */
export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

export interface Window {
  /** ISO start of the window: part of the counter's key. */
  start: string;
  endsAt: Date;
  /** Whole seconds until the window ends (Retry-After), at least 1. */
  retryAfterSeconds: number;
}

export function fixedWindow(now: Date, windowSeconds: number): Window {
  const ms = windowSeconds * 1000;
  const start = Math.floor(now.getTime() / ms) * ms;
  const endsAt = new Date(start + ms);
  return {
    start: new Date(start).toISOString(),
    endsAt,
    retryAfterSeconds: Math.max(1, Math.ceil((endsAt.getTime() - now.getTime()) / 1000)),
  };
}

/** `limit/windowSeconds`, e.g. `10/600`; throws naming the setting on anything else. */
export function parseRateLimit(text: string, setting: string): RateLimit {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const limit = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!match || limit < 1 || windowSeconds < 1 || windowSeconds > 86_400) {
    throw new Error(`${setting} must be <requests>/<seconds> with both positive and at most a day, got "${text}"`);
  }
  return { limit, windowSeconds };
}
