/**
 * What every scheduled job shares, as `shared/http/handler.ts` is for routes: a job records its
 * successful runs, and answers the heartbeat check its second schedule sends (infra: every 30 minutes,
 * `{ "heartbeat": "true" }`) with how long ago it last succeeded, as the metric
 * `JobMinutesSinceSuccess{job}`. infra/ alarms when that exceeds the job's heartbeat window, or when
 * the check itself stops reporting: "no successful run in N" for every job, monthly ones included,
 * which a plain "no success metric in N" alarm cannot watch (CloudWatch looks back at most 7 days).
 */
import type { Context } from 'aws-lambda';
import { MetricNames, MetricUnit, metrics } from '../metrics';
import { logger } from '../observability';
import { dynamo } from '../runtime/dynamo';
import { JobRuns } from '../storage/job-runs';

/** What a scheduled job receives: EventBridge Scheduler sends `{}` (or the heartbeat check); `npm run job` passes the flags. */
export interface JobEvent {
  asOf?: string;
  month?: string;
  /** `"true"` on the heartbeat schedule's invocations. */
  heartbeat?: string;
  [flag: string]: string | undefined;
}

export interface HeartbeatResult {
  job: string;
  heartbeat: true;
  lastSuccessAt: string | null;
  minutesSinceSuccess: number;
}

let runs: JobRuns | undefined;
const jobRuns = () => {
  const { doc, tables } = dynamo();
  runs ??= new JobRuns(doc, tables.main);
  return runs;
};

function publish(job: string, name: string, value: number, unit: (typeof MetricUnit)[keyof typeof MetricUnit]) {
  // A metric of its own: the job's other metrics keep their dimensions (alarms match them exactly).
  const single = metrics.singleMetric();
  single.addDimension('job', job);
  single.addMetric(name, unit, value);
}

/** A job's Lambda handler: its run's result, or the heartbeat check's. */
export interface JobLambda<E extends JobEvent, R, C> {
  (event?: E & { heartbeat?: undefined }, context?: C): Promise<R>;
  (event: { heartbeat: 'true' }, context?: C): Promise<HeartbeatResult>;
}

export function jobHandler<E extends JobEvent, R, C = Context>(
  job: string,
  run: (event: E, context?: C) => Promise<R>,
): JobLambda<E, R, C> {
  const handler = async (event: E = {} as E, context?: C): Promise<R | HeartbeatResult> => {
    if (event.heartbeat === 'true' || (event.heartbeat as unknown) === true) {
      const now = new Date();
      const state = await jobRuns().check(job, now);
      const since = Date.parse(state.lastSuccessAt ?? state.firstCheckedAt);
      const minutesSinceSuccess = Math.max(0, Math.floor((now.getTime() - since) / 60_000));
      publish(job, MetricNames.jobMinutesSinceSuccess, minutesSinceSuccess, MetricUnit.Count);
      logger.info('job heartbeat', { job, lastSuccessAt: state.lastSuccessAt, minutesSinceSuccess });
      return { job, heartbeat: true, lastSuccessAt: state.lastSuccessAt, minutesSinceSuccess };
    }
    const result = await run(event, context);
    await jobRuns().recordSuccess(job, new Date());
    publish(job, MetricNames.jobSucceeded, 1, MetricUnit.Count);
    return result;
  };
  return handler as JobLambda<E, R, C>;
}
