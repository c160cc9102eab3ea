import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * CloudWatch EMF metrics, only for functions that publish them (kept out of the checkout bundle).
 * infra/ alarms on the failure counters in ./metric-names.
 */
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Membership', serviceName: 'membership' });
export { MetricNames } from './metric-names';
export { MetricUnit };
