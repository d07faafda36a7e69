/**
 * Exit-evaluator function: triggered on a schedule for one account; runs one sweep (see
 * shared/use-cases/sweep.ts) and reports what it did.
 */
import { loadRuntimeConfig } from '../../shared/config';
import { createLogger, createMetrics, metricsSink } from '../../shared/powertools';
import { buildPipelineDeps, lazy } from '../../shared/wiring';
import { runSweep, type SweepReport } from '../../shared/use-cases/sweep';

const config = loadRuntimeConfig(process.env);
const logger = createLogger('exit-evaluator', config.accountName);
const metrics = createMetrics('exit-evaluator', config.accountName);
const sink = metricsSink(metrics);
const deps = lazy(() => buildPipelineDeps(process.env, config));

export const handler = async (): Promise<SweepReport> => {
  const { broker, marketData, store } = await deps();
  try {
    return await runSweep({
      account: config.account,
      broker,
      marketData,
      store,
      now: () => new Date(),
      log: logger,
      metrics: sink,
      claimLeaseMs: config.claimLeaseMs,
    });
  } finally {
    metrics.publishStoredMetrics();
  }
};
