/**
 * Every item type the service stores about a member, and how to find it (docs/erasure.md, "Export"):
 * the registry the shopper's export (GDPR Art. 15, 20) walks and the erasure reads its personal fields
 * from. Items in the member's partition are found by reading the partition whole, so a new item type
 * there is exported the day it is written, even before it is registered here (under `other`, with a
 * warning); items elsewhere that name the member (the customer link, money records) are found through
 * keys the member's own items hold or the ledger's member index — never a Scan.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerEntry } from '../domain/finance/ledger';
import { TIED_KINDS } from '../domain/finance/refunds';
import { batchGetAll } from './batch-get';
import { rollupKeys } from './finance-rollups';
import { keys, TTL_ATTRIBUTE } from './keys';
import { ledgerKeys } from './ledger-repository';
import { queryLookup, queryPartition } from './query-prefix';

export interface ItemType {
  /** The section of the export the items go to. */
  section: string;
  description: string;
  /** Fields that name the person, removed by an erasure that keeps the item (proofs, declarations). */
  personal?: readonly string[];
}

/** Items of the member's partition (`PK = MEMBER#<id>`), by their `type` attribute. */
export const MEMBER_ITEM_TYPES: Readonly<Record<string, ItemType>> = {
  membership: {
    section: 'membership',
    description: 'The membership as Stripe’s events made it (status, plan, periods, email, jurisdiction)',
  },
  grant: { section: 'grants', description: 'Coupons and shipping vouchers issued to the member, and their state' },
  'grant-issuance': { section: 'grantIssuance', description: 'Which period’s grants were issued, once per period' },
  'grant-redemption': { section: 'redemptions', description: 'Which order redeemed or released which code, when' },
  'order-slot': { section: 'orderSlots', description: 'Which code an order holds or used, one coupon and one shipping voucher per order' },
  'benefit-usage': { section: 'benefitUsages', description: 'Shipping savings reported per order' },
  savings: { section: 'savings', description: 'Savings and fees-paid counters' },
  // An acknowledgement's facts repeat the declaration (a name, a reason); its proof keeps the digest.
  reminder: { section: 'notices', description: 'Notices planned, sent or dropped, with why', personal: ['facts'] },
  notification: {
    section: 'proofsOfNotice',
    description: 'Proof of each notice sent: kind, time, channel, digest of the text',
    personal: ['to'],
  },
  outbox: { section: 'outbox', description: 'Copies of notices written to the local outbox', personal: ['to', 'text'] },
  preferences: { section: 'preferences', description: 'Marketing email preference' },
  'stripe-customer': { section: 'stripeCustomer', description: 'The member’s Stripe customer id' },
  consent: { section: 'consents', description: 'The renewal terms shown at each checkout' },
  'consent-acceptance': { section: 'consentAcceptances', description: 'When each checkout was completed' },
  declaration: {
    section: 'declarations',
    description: 'Withdrawals and cancellations the member declared, with receipt time and outcome',
    personal: ['name', 'email', 'reason'],
  },
  'save-offer': { section: 'saveOffers', description: 'Offers made when cancelling' },
  'save-offer-acceptance': { section: 'saveOfferAcceptances', description: 'Offers taken' },
  'save-offer-outcome': { section: 'saveOfferOutcomes', description: 'Whether the member left anyway within 90 days of taking an offer' },
  // The recipient's address and the buyer's message sit beside the gift so an erasure can drop them and the code still works.
  gift: {
    section: 'giftsBought',
    description: 'Gifts bought: what, for whom, their code and state',
    personal: ['recipientEmail', 'message'],
  },
  'rate-counter': { section: 'rateCounters', description: 'Requests counted against the per-shopper limit of the routes that call Stripe' },
  work: { section: 'pendingWork', description: 'Work queued for the member (a withdrawal to finish, a price change, a follow-up)' },
  household: { section: 'household', description: 'The household the member owns: who joined, with which role, and the standing invites' },
  'household-link': {
    section: 'householdMembership',
    description: 'The household the member belongs to, with a copy of its owner’s membership status, and where household notices go',
    personal: ['email'],
  },
  'household-lock': {
    section: 'householdMembership',
    description: 'When the member left a household, and until when they cannot join another',
  },
};

/** Items outside the partition that name the member, found through the member's own items. */
export const LINKED_ITEM_TYPES: Readonly<Record<string, ItemType>> = {
  'customer-link': { section: 'customerLinks', description: 'The link from the member’s Stripe customer to the member' },
  'ledger-entry': { section: 'ledgerEntries', description: 'Money records: payments, refunds, credit notes, disputes' },
  'invoice-facts': { section: 'invoiceFacts', description: 'A paid invoice’s ledger entry, kept under its invoice id' },
  'finance-fact': {
    section: 'financeAccount',
    description: 'Copies of the paid invoices, failed renewals and endings finance recognises revenue from',
  },
  'finance-savings': { section: 'financeAccount', description: 'Savings by month, for finance' },
  'finance-state': { section: 'financeAccount', description: 'What the member’s account added to the finance rollups, by year' },
  'finance-route': { section: 'financeAccount', description: 'Which invoice each refund, credit note or dispute was tied to' },
};

/** Attributes that only serve keys and indexes: not part of what is stored about anyone. */
const KEY_ATTRIBUTES = new Set(['PK', 'SK', 'lookupPk', 'lookupSk', 'dueShard', 'dueAt', TTL_ATTRIBUTE]);

export interface ExportedItem {
  itemType: string;
  /** When the item expires on its own (its TTL), if it does. */
  retainedUntil: string | null;
  data: Record<string, unknown>;
}

export interface MemberExport {
  /** Every section with its description and items; `other` holds items of a type the registry does not know yet. */
  sections: Record<string, { description: string; items: ExportedItem[] }>;
  itemCount: number;
}

const exported = (item: Record<string, unknown>): ExportedItem => {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!KEY_ATTRIBUTES.has(k) && k !== 'type') data[k] = v;
  const ttl = item[TTL_ATTRIBUTE];
  return {
    itemType: String(item.type ?? 'unknown'),
    retainedUntil: typeof ttl === 'number' ? new Date(ttl * 1000).toISOString() : null,
    data,
  };
};

export class MemberItems {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Everything stored about the member, grouped by the registry; the member's partition is read consistently. */
  async export(memberId: string): Promise<MemberExport> {
    const own = await queryPartition(this.db, this.tableName, keys.memberPk(memberId), { consistent: true });
    const customerIds = new Set(
      own.flatMap((i) => [i.type === 'membership' ? i.customerId : null, i.type === 'stripe-customer' ? i.customerId : null]),
    );
    customerIds.delete(null);
    customerIds.delete(undefined);
    const links = await batchGetAll(
      this.db,
      this.tableName,
      [...customerIds].map((id) => keys.customerLink(String(id))),
    );
    const entries = await this.ledgerEntries(memberId);
    const derivedKeys = entries.flatMap((e) => [
      ...(e.kind === 'invoice_paid' ? [ledgerKeys.invoice(e.entryId)] : []),
      ...(TIED_KINDS.has(e.kind) ? [rollupKeys.route(e.entryId)] : []),
    ]);
    const derived = [
      ...(await batchGetAll(this.db, this.tableName, derivedKeys)),
      // The member's finance account (their facts, savings by month, what they added to the rollups).
      ...(await queryPartition(this.db, this.tableName, rollupKeys.accountPk(memberId), { consistent: true })),
    ];
    const ledgerItems = entries.map((e) => ({ ...e, type: 'ledger-entry' }) as Record<string, unknown>);

    const sections: MemberExport['sections'] = {};
    const add = (item: Record<string, unknown>, registry: Readonly<Record<string, ItemType>>) => {
      const type = String(item.type ?? 'unknown');
      const known = registry[type];
      const section = known?.section ?? 'other';
      sections[section] ??= { description: known?.description ?? 'Items of a type the export registry does not describe yet', items: [] };
      sections[section].items.push(exported(item));
    };
    for (const item of own) add(item, MEMBER_ITEM_TYPES);
    for (const item of [...links, ...ledgerItems, ...derived]) add(item, LINKED_ITEM_TYPES);
    return { sections, itemCount: own.length + links.length + ledgerItems.length + derived.length };
  }

  /** The member's ledger entries, through the ledger's member index (GSI `lookup`). */
  async ledgerEntries(memberId: string): Promise<LedgerEntry[]> {
    return (await queryLookup(this.db, this.tableName, ledgerKeys.memberLookupPk(memberId))).map((item) => {
      const { PK: _pk, SK: _sk, type: _type, lookupPk: _l, lookupSk: _s, ...entry } = item;
      return entry as unknown as LedgerEntry;
    });
  }

  /**
   * Removes the personal fields of every item of the member's partition whose registered type has
   * some, keeping the item (a declaration stays proof of what was declared, and when). The first
   * erasure time stays. Returns how many items changed.
   */
  async erasePersonalFields(memberId: string, now: Date, skip: ReadonlySet<string> = new Set()): Promise<number> {
    let changed = 0;
    for (const item of await queryPartition(this.db, this.tableName, keys.memberPk(memberId), { consistent: true })) {
      const type = String(item.type ?? '');
      const fields = (MEMBER_ITEM_TYPES[type]?.personal ?? []).filter((f) => item[f] !== undefined && item[f] !== null);
      if (skip.has(type) || fields.length === 0) continue;
      const names = Object.fromEntries(fields.map((f, i) => [`#p${i}`, f]));
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: item.PK, SK: item.SK },
          UpdateExpression: `SET erasedAt = if_not_exists(erasedAt, :now) REMOVE ${Object.keys(names).join(', ')}`,
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':now': now.toISOString() },
        }),
      );
      changed++;
    }
    return changed;
  }
}
