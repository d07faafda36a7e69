/**
 * The exit-evaluator function, as a factory of the environment (Lambda: lambdas/exit-evaluator/handler.ts;
 * local mode: once per account). One invocation = one sweep of one account.
 */
import { loadRuntimeConfig } from '../config';
import { createLogger, createMetrics, metricsSink } from '../powertools';
import { buildPipelineDeps, lazy } from '../wiring';
import { runSweep, type SweepReport } from '../use-cases/sweep';
import type { HandlerOverrides } from './open-order';

export type ExitEvaluatorHandler = () => Promise<SweepReport>;

export function createExitEvaluatorHandler(
  env: NodeJS.ProcessEnv,
  overrides: HandlerOverrides = {},
): ExitEvaluatorHandler {
  const config = loadRuntimeConfig(env);
  const logger = overrides.log ?? createLogger('exit-evaluator', config.accountName);
  const metrics = createMetrics('exit-evaluator', config.accountName, logger);
  const sink = metricsSink(metrics);
  const deps = overrides.deps ?? lazy(() => buildPipelineDeps(env, config));

  // What the last sweep of this container quoted: the next one asks for those quotes at once.
  let expectedSymbols: readonly string[] = [];
  return async () => {
    const { broker, marketData, store } = await deps();
    try {
      const report = await runSweep({
        account: config.account,
        broker,
        marketData,
        store,
        now: () => new Date(),
        log: logger,
        metrics: sink,
        claimLeaseMs: config.claimLeaseMs,
        expectedSymbols,
      });
      expectedSymbols = report.quotedSymbols;
      return report;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
