import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONFLICT_REASONS,
  ConflictError,
  GONE_REASONS,
  GoneError,
  InvalidInputError,
  NOT_FOUND_REASONS,
  NotFoundError,
  ProviderFailedError,
  ProviderUnavailableError,
  RateLimitedError,
  REJECTION_REASONS,
  RejectedError,
  type UseCaseError,
} from '#shared/errors';
import { PROBLEM_TYPES, problemFor, rejectionSlug } from '#shared/http/problem';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const rows = doc.split('\n').filter((line) => line.startsWith('|'));
const rowsWith = (...needles: string[]) => rows.filter((row) => needles.every((n) => row.includes(n)));

describe('docs/errors.md', () => {
  it('lists every problem type with its status', () => {
    for (const [slug, { status }] of Object.entries(PROBLEM_TYPES)) {
      expect(rowsWith(`| ${status} |`, `\`/problems/${slug}\``), `/problems/${slug} (${status})`).not.toHaveLength(0);
    }
  });

  it('lists every reason the service can give', () => {
    for (const reason of REJECTION_REASONS) {
      expect(rowsWith(`\`/problems/${rejectionSlug(reason)}\``, `\`${reason}\``), `422 ${reason}`).not.toHaveLength(0);
    }
    for (const reason of CONFLICT_REASONS) expect(rowsWith(`| \`${reason}\` |`), `409 ${reason}`).not.toHaveLength(0);
    for (const reason of NOT_FOUND_REASONS) expect(rowsWith(`| \`${reason}\` |`), `404 ${reason}`).not.toHaveLength(0);
    for (const reason of GONE_REASONS) expect(rowsWith(`| \`${reason}\` |`), `410 ${reason}`).not.toHaveLength(0);
  });

  it('documents the answer of every kind of use-case error as the edge gives it', () => {
    const samples: UseCaseError[] = [
      new InvalidInputError([{ path: '/body/planId', message: 'unknown plan' }]),
      new NotFoundError('No such member.', 'unknown_member'),
      new GoneError('invite_expired', 'The invite has expired.'),
      new ConflictError('already_member', 'You already have a membership.', { membershipStatus: 'active' }),
      new GoneError('gift_expired', 'Expired.', { claimBy: '2027-01-01T00:00:00.000Z' }),
      new RejectedError('below_min_subtotal', 'Below the minimum.'),
      new RateLimitedError('Slow down.', 30),
      new ProviderUnavailableError('stripe', 'busy', 'Busy.'),
      new ProviderUnavailableError('dynamodb', 'unavailable', 'Down.'),
      new ProviderFailedError('stripe', 'failed', 'Failed.'),
      new ProviderFailedError('email', 'failed', 'Failed.'),
    ];
    for (const error of samples) {
      const problem = problemFor(error);
      expect(rowsWith(`\`${error.kind}\``, `| ${problem.status} |`), `${error.kind} → ${problem.status}`).not.toHaveLength(0);
      expect(doc, `${error.kind} → ${problem.body.type}`).toContain(`\`${problem.body.type}\``);
    }
  });

  it('answers with the reason and the state found, and Retry-After where a retry helps', () => {
    const conflict = problemFor(new ConflictError('already_member', 'x', { membershipStatus: 'active' }));
    expect(conflict.body).toMatchObject({ type: '/problems/conflict', status: 409, reason: 'already_member', membershipStatus: 'active' });
    const rejected = problemFor(new RejectedError('not_member_code', 'x'));
    expect(rejected.body).toMatchObject({ type: '/problems/not-member-code', status: 422, reason: 'not_member_code' });
    expect(problemFor(new RateLimitedError('x', 30)).headers['retry-after']).toBe('30');
    expect(problemFor(new ProviderUnavailableError('stripe', 'not_configured', 'x')).headers['retry-after']).toBe('5');
    expect(problemFor(new ProviderUnavailableError('stripe', 'not_configured', 'x')).body.type).toBe('/problems/unavailable');
  });
});
