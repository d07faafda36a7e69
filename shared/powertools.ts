/**
 * Powertools for AWS Lambda: structured JSON logs and embedded-metric-format metrics, per function and
 * account. The use cases see only the small {@link Log} / {@link MetricsSink} ports.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ACCOUNT_DIMENSION, METRIC_NAMESPACE } from './metric-names';
import type { Log, MetricsSink } from './observability';

export function createLogger(serviceName: string, account: string): Logger {
  return new Logger({ serviceName, persistentKeys: { account } });
}

/** Metrics for one function and account; its own warnings (e.g. nothing to publish) go to `log`. */
export function createMetrics(serviceName: string, account: string, log: Log): Metrics {
  const text = (args: unknown[]) =>
    args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRIC_NAMESPACE,
    serviceName,
    defaultDimensions: { [ACCOUNT_DIMENSION]: account },
    logger: {
      debug: () => undefined,
      info: (...a: unknown[]) => log.info(text(a)),
      warn: (...a: unknown[]) => log.warn(text(a)),
      error: (...a: unknown[]) => log.error(text(a)),
    },
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
    gauge(name, value) {
      metrics.addMetric(name, MetricUnit.NoUnit, value);
    },
  };
}
