import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '#shared/stripe/api-version';
import { INGESTED_EVENT_TYPES } from '#shared/stripe/event-types';

const runbook = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');

describe('docs/operations.md', () => {
  it('registers the webhook endpoint with the pinned API version and exactly the event types the service acts on', () => {
    const listed = [...runbook.matchAll(/enabled_events\[\]=([a-z_.]+)/g)].map((m) => m[1]).sort();
    expect(listed).toEqual([...INGESTED_EVENT_TYPES]);
    expect(runbook).toContain(`--api-version ${STRIPE_API_VERSION}`);
  });
});
