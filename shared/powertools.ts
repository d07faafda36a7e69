/**
 * Powertools for AWS Lambda: structured JSON logs and embedded-metric-format metrics, per function and
 * account. The use cases see only the small {@link Log} / {@link MetricsSink} ports.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ACCOUNT_DIMENSION, METRIC_NAMESPACE } from './metric-names';
import type { MetricsSink } from './observability';

export function createLogger(serviceName: string, account: string): Logger {
  return new Logger({ serviceName, persistentKeys: { account } });
}

export function createMetrics(serviceName: string, account: string): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRIC_NAMESPACE,
    serviceName,
    defaultDimensions: { [ACCOUNT_DIMENSION]: account },
  });
}

/** Adapts Powertools Metrics to the use cases' sink; extra dimensions go out as a single metric. */
export function metricsSink(metrics: Metrics): MetricsSink {
  return {
    count(name, value = 1, dimensions) {
      if (!dimensions) {
        metrics.addMetric(name, MetricUnit.Count, value);
        return;
      }
      const single = metrics.singleMetric();
      for (const [k, v] of Object.entries(dimensions)) single.addDimension(k, v);
      single.addMetric(name, MetricUnit.Count, value);
    },
    durationMs(name, ms) {
      metrics.addMetric(name, MetricUnit.Milliseconds, ms);
    },
  };
}
