/**
 * The privacy rights a shopper exercises alone (GDPR Art. 15, 17, 20; CCPA; docs/erasure.md):
 * everything stored about them as one machine-readable document, and erasure with the operator's rules
 * (money records and proofs stay, without the address), confirmed by email to the address erased.
 */
import type { PlanCatalog } from '../domain/catalog';
import type { RulesResolver } from '../domain/compliance-rules';
import { evaluateMembership, evaluateSubscription } from '../domain/membership';
import { ConflictError, NotFoundError } from '../errors';
import type { DeclarationStore } from '../storage/declarations';
import type { MemberItems } from '../storage/item-registry';
import { acknowledgementPut } from '../storage/reminder-store';
import { eraseMember } from './erase-member';

export const EXPORT_FORMAT = 'membership-export/1';

export async function exportMyData(
  deps: { catalog: PlanCatalog; rules: RulesResolver; items: Pick<MemberItems, 'export'> },
  memberId: string,
  now: Date,
) {
  const { sections, itemCount } = await deps.items.export(memberId);
  if (itemCount === 0) throw new NotFoundError('Nothing is stored about you.');
  const membership = sections.membership?.items[0]?.data ?? null;
  const record = membership as Parameters<typeof evaluateMembership>[0];
  const view = evaluateMembership(record, deps.catalog, now);
  const rules = deps.rules.rulesFor(record?.jurisdiction);
  return {
    format: EXPORT_FORMAT,
    memberId,
    exportedAt: now.toISOString(),
    summary: {
      status: view.status,
      jurisdiction: record?.jurisdiction ? { country: record.jurisdiction.country, state: record.jurisdiction.state } : null,
      rules: rules.key,
      itemCount,
    },
    sections,
  };
}

/** Statuses in which the membership would still charge the member: erasing the address would silence the notices the law requires. */
const RENEWING = new Set(['pending', 'trialing', 'active', 'grace', 'paused']);

export async function eraseMyself(
  deps: Parameters<typeof eraseMember>[0] & {
    catalog: PlanCatalog;
    declarations: Pick<DeclarationStore, 'commit' | 'tableName'>;
  },
  memberId: string,
  now: Date,
) {
  const record = (await deps.memberships.getMembership(memberId))?.record ?? null;
  // What charges is the subscription: a gift membership never does (docs/gifts.md).
  const view = evaluateSubscription(record, deps.catalog, now);
  if (RENEWING.has(view.status)) {
    throw new ConflictError(
      'membership_renewing',
      'Your membership still renews, and we must be able to tell you before we charge you: cancel it first (it ends at the end of the paid period), then ask again.',
      { membershipStatus: view.status },
    );
  }
  const address = record?.email ?? null;
  const result = await eraseMember(deps, memberId, now);
  const erasedAt = result.erasedAt ?? now.toISOString();
  if (address) {
    // The last message to the address: it rides on the notice machinery (proof without the address),
    // and the address on the queued notice is removed once it is settled.
    await deps.declarations.commit([
      acknowledgementPut(
        deps.declarations.tableName,
        {
          memberId,
          kind: 'erasure_confirmation',
          subscriptionId: null,
          anchor: erasedAt,
          facts: { requestedAt: now.toISOString(), erasedAt },
          deliverTo: address,
        },
        now,
      ),
    ]);
  }
  return { ...result, status: 'erased' as const, confirmation: address ? ('queued' as const) : ('no_address' as const) };
}
