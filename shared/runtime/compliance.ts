import { WorkQueue } from '../storage/work-queue';
import { dynamo } from './dynamo';

/** The compliance job's queue (no-login cancellations, withdrawals to finish, price moves, save-offer follow-ups). */
export function workQueue(): WorkQueue {
  const { doc, tables } = dynamo();
  return new WorkQueue(doc, tables.main);
}
