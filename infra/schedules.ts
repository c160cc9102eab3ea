/**
 * How often a job runs, read from its EventBridge Scheduler expression, and from that its heartbeat
 * window: "no successful run in N". A job may name its own window (manifest `job.heartbeatMinutes`);
 * otherwise N is one interval plus a grace of three intervals, at least 30 minutes and at most a day:
 * every 15 minutes → 1 hour, daily → 2 days, monthly → 32 days.
 */
const UNIT_MINUTES: Record<string, number> = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 };

/** Minutes between runs: exact for `rate(...)`, the longest gap for the usual `cron(...)` shapes. */
export function scheduleIntervalMinutes(expression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) return Number(rate[1]) * UNIT_MINUTES[rate[2]!]!;
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expression);
  if (!cron) throw new Error(`schedule "${expression}" is neither rate(...) nor cron(...)`);
  const [, minute, hour, dayOfMonth, month, dayOfWeek] = cron as unknown as [string, string, string, string, string, string];
  const fixed = (field: string) => /^\d+$/.test(field);
  if (month !== '*') return 366 * 1440; // some months only: at most a year apart
  if (fixed(dayOfMonth) || dayOfMonth === 'L') return 31 * 1440; // monthly
  if (dayOfWeek !== '*' && dayOfWeek !== '?') return 7 * 1440; // weekly (some weekdays)
  if (fixed(hour)) return 1440; // daily
  if (fixed(minute)) return 60; // hourly
  throw new Error(`schedule "${expression}": name the job's heartbeatMinutes in functions/manifest.ts`);
}

export function heartbeatMinutes(job: { schedule: string; heartbeatMinutes?: number }): number {
  if (job.heartbeatMinutes !== undefined) return job.heartbeatMinutes;
  const interval = scheduleIntervalMinutes(job.schedule);
  return interval + Math.min(Math.max(3 * interval, 30), 1440);
}

/** How often each job's heartbeat is checked: a window of an hour still gets two readings. */
export const HEARTBEAT_CHECK = 'rate(30 minutes)';
