/**
 * Rollups: the month figures as the sum of every account's contributions (account.ts) and of the
 * unattributed facts'. Pure helpers to diff and sum contributions, and the recomputation of the
 * whole rollup from a set of ledger entries in one pass: what the incremental rollups must always
 * equal (the property test holds them to it) and what the rebuild job compares against.
 */
import {
  ACCOUNT_KINDS,
  accountKeyOf,
  addAccountEntry,
  addFigure,
  type Contributions,
  emptyAccount,
  type ProjectionSettings,
  parseContributionKey,
  projectAccount,
  type SavingsFact,
  unattributedContributions,
} from './account';
import type { LedgerEntry } from './ledger';
import { canOwn, pointedInvoiceId, TIED_KINDS } from './refunds';
import type { RollupRow } from './revenue';

/** `into += sign × from`, field by field. */
export function addContributions(into: Contributions, from: Contributions, sign: 1 | -1 = 1): Contributions {
  for (const [key, figures] of from) {
    const { month, currency, plan } = parseContributionKey(key);
    for (const [field, value] of Object.entries(figures)) addFigure(into, month, currency, plan, field, sign * value);
  }
  return into;
}

/** What must be added to the rollups when an account's contributions go from `before` to `after`. */
export const diffContributions = (after: Contributions, before: Contributions): Contributions =>
  addContributions(addContributions(new Map(), after), before, -1);

/** The rows of one month (each (currency, plan) once). */
export function rowsOfMonth(contributions: Contributions, month: string): RollupRow[] {
  const rows: RollupRow[] = [];
  for (const [key, figures] of contributions) {
    const k = parseContributionKey(key);
    if (k.month === month) rows.push({ currency: k.currency, plan: k.plan, figures: { ...figures } });
  }
  return rows.sort((a, b) => `${a.currency}|${a.plan}`.localeCompare(`${b.currency}|${b.plan}`));
}

/** Savings of a member, keyed by the account (the memberId) they were delivered to. */
export interface AccountSavings extends SavingsFact {
  accountKey: string;
}

/**
 * Every contribution of a set of ledger entries (duplicates allowed) and savings, computed in one
 * pass with everything known: each refund-like entry tied to its invoice through the credit notes
 * and payment links of the whole set.
 */
export function recomputeRollup(
  entries: readonly LedgerEntry[],
  savings: readonly AccountSavings[],
  settings: ProjectionSettings,
): Contributions {
  const byId = new Map(entries.map((e) => [e.entryId, e]));
  const invoices = new Map<string, LedgerEntry>();
  const links = new Map<string, string>();
  const notes = new Map<string, string>();
  for (const e of byId.values()) {
    if (e.kind === 'invoice_paid') invoices.set(e.entryId, e);
    // A gift sale is its own invoice, linked to its payment by the ledger (docs/finance.md, "Gifts").
    if (e.kind === 'gift_paid') {
      invoices.set(e.entryId, e);
      for (const ref of [e.paymentIntentId, e.chargeId]) if (ref) links.set(ref, e.entryId);
    }
    if (e.kind === 'invoice_payment' && e.invoiceId)
      for (const ref of [e.paymentIntentId, e.chargeId]) if (ref) links.set(ref, e.invoiceId);
    if (e.kind === 'credit_note' && e.invoiceId) for (const r of e.refundIds) notes.set(r, e.invoiceId);
  }
  const lookup = { creditNoteInvoice: (r: string) => notes.get(r), paymentInvoice: (ref: string) => links.get(ref) };
  const accounts = new Map<string, ReturnType<typeof emptyAccount>>();
  const account = (key: string) => {
    const a = accounts.get(key) ?? emptyAccount();
    accounts.set(key, a);
    return a;
  };
  const total: Contributions = new Map();
  for (const e of byId.values()) {
    if (ACCOUNT_KINDS.has(e.kind)) addAccountEntry(account(accountKeyOf(e)), e);
    else if (TIED_KINDS.has(e.kind)) {
      const invoiceId = pointedInvoiceId(e, lookup);
      const invoice = invoiceId ? invoices.get(invoiceId) : undefined;
      if (invoice && canOwn(invoice, e)) account(accountKeyOf(invoice)).tied.push({ entry: e, invoiceId: invoice.entryId });
      else addContributions(total, unattributedContributions(e));
    }
  }
  for (const s of savings) account(s.accountKey).savings.push({ month: s.month, currency: s.currency, cents: s.cents });
  for (const facts of accounts.values()) addContributions(total, projectAccount(facts, settings));
  return total;
}
