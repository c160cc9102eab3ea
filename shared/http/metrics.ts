/**
 * The edge's own metrics: one EMF record per problem answer (4xx and 5xx), counted per route group
 * (the function, one per group of routes in functions/manifest.ts) by status class and by cause (the
 * problem type's slug: `unauthorized`, `forbidden`, `unavailable`, `internal`, ...). infra/ alarms on
 * 5xx per route group and on 401/403 surges from these.
 *
 * Successful answers are not counted here: Lambda's `Invocations` and API Gateway's `Count` already
 * count every request for free, and one more log line per checkout call would double the log volume
 * of the busiest function (docs/decisions.md). So the happy path pays nothing, not even the import:
 * Powertools Metrics is loaded on the first problem a container answers.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { logger } from '../observability';

export const HTTP_PROBLEMS_METRIC = 'HttpProblems';

let metrics: Promise<Metrics> | undefined;

/**
 * Powertools warns when one key is in two dimension sets ("EMF key ... defined as both"): here that is
 * the design (`routeGroup` in both breakdowns, one value), so only that warning is dropped.
 */
const metricsLogger = {
  debug: () => undefined,
  info: (message: string) => logger.info(message),
  warn: (message: string) => {
    if (!String(message).startsWith('EMF key')) logger.warn(message);
  },
  error: (message: string) => logger.error(message),
};

const load = () =>
  (metrics ??= import('@aws-lambda-powertools/metrics').then(
    ({ Metrics }) =>
      new Metrics({
        namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Membership',
        serviceName: 'membership',
        logger: metricsLogger,
      }),
  ));

/** `/problems/unauthorized` → `unauthorized`; anything unreadable counts as `internal`. */
function causeOf(body: unknown): string {
  if (typeof body !== 'string') return 'internal';
  try {
    const type = (JSON.parse(body) as { type?: unknown }).type;
    return typeof type === 'string' && type.startsWith('/problems/') ? type.slice('/problems/'.length) : 'internal';
  } catch {
    return 'internal';
  }
}

/**
 * Counts one answer if it is a problem; flushed at once, so the record is written even when the
 * container is frozen right after. The route group is what infra says (ROUTE_GROUP), else the function.
 */
export async function countProblem(response: { statusCode?: number; body?: unknown } | undefined, context: Context): Promise<void> {
  const status = response?.statusCode ?? 200;
  if (status < 400) return;
  try {
    const m = await load();
    const routeGroup = process.env.ROUTE_GROUP || context.functionName || 'unknown';
    const statusClass = status >= 500 ? '5xx' : '4xx';
    m.addDimensions({ routeGroup, statusClass });
    m.addDimensions({ routeGroup, cause: causeOf(response?.body) });
    m.addMetric(HTTP_PROBLEMS_METRIC, 'Count', 1);
    m.publishStoredMetrics();
  } catch (error) {
    // Counting must never change the answer.
    logger.warn('could not count a problem answer', { error: (error as Error).name });
  }
}
