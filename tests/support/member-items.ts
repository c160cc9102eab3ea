import { dynamo } from '#shared/runtime/dynamo';
import { keys } from '#shared/storage/keys';
import { queryPartition } from '#shared/storage/query-prefix';

/** Every stored item of a member (consistent read, every page), for tests that check what a call wrote or left alone. */
export async function memberItems(memberId: string): Promise<Array<Record<string, any>>> {
  const { doc, tables } = dynamo();
  return queryPartition(doc, tables.main, keys.memberPk(memberId), { consistent: true });
}
