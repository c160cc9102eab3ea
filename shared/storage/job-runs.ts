/**
 * When each scheduled job last succeeded: `{ PK: JOB#<name>, SK: RUN, type: 'job-run', lastSuccessAt,
 * firstCheckedAt }`, one item per job, no TTL. The job writes `lastSuccessAt` after a run that
 * completed; its heartbeat check reads it (and sets `firstCheckedAt` once, so a job deployed but not
 * yet due is measured from then). The one writer and reader of the item.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export const jobRunKey = (job: string) => ({ PK: `JOB#${job}`, SK: 'RUN' });

export interface JobRun {
  lastSuccessAt: string | null;
  firstCheckedAt: string;
}

export class JobRuns {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordSuccess(job: string, at: Date): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: jobRunKey(job),
        UpdateExpression: 'SET #type = :type, lastSuccessAt = :at, firstCheckedAt = if_not_exists(firstCheckedAt, :at)',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':type': 'job-run', ':at': at.toISOString() },
      }),
    );
  }

  /** Reads the job's record for a heartbeat check, marking the first check (one write, returning the item). */
  async check(job: string, at: Date): Promise<JobRun> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: jobRunKey(job),
        UpdateExpression: 'SET #type = :type, firstCheckedAt = if_not_exists(firstCheckedAt, :at)',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':type': 'job-run', ':at': at.toISOString() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return {
      lastSuccessAt: typeof out.Attributes?.lastSuccessAt === 'string' ? out.Attributes.lastSuccessAt : null,
      firstCheckedAt: String(out.Attributes?.firstCheckedAt ?? at.toISOString()),
    };
  }
}
