import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerEntry } from '#shared/domain/finance/ledger';
import { dynamo } from '#shared/runtime/dynamo';
import { ledgerItems } from '#shared/storage/ledger-repository';

/**
 * Stores generated ledger entries as `LedgerRepository.record` would (the same items, from
 * `ledgerItems`), in batches of 25 plain puts instead of one conditional transaction per entry.
 * Thousands of transactions against the one DynamoDB Local every test file shares took most of two
 * minutes on a loaded machine, past the hook's limit. The entries are the test's own, new and
 * distinct, so the once-only conditions that make `record` a transaction would never fire here.
 */
export async function seedLedger(entries: readonly LedgerEntry[]): Promise<void> {
  const { doc, tables } = dynamo();
  const byKey = new Map<string, Record<string, unknown>>();
  // Without their queue entries: seeded months are read as a ledger, not projected (a test that wants
  // rollups records through the projecting ledger).
  for (const entry of entries)
    for (const { item } of ledgerItems(entry, new Date())) if (item.type !== 'rollup-marker') byKey.set(`${item.PK}\u0000${item.SK}`, item);
  const batches: Array<Array<{ PutRequest: { Item: Record<string, unknown> } }>> = [];
  const items = [...byKey.values()];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let pending = batches[next++]!;
      while (pending.length) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tables.main]: pending } }));
        pending = (out.UnprocessedItems?.[tables.main] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}
