/**
 * The exit-evaluator function, as a factory of the environment (Lambda: lambdas/exit-evaluator/handler.ts;
 * local mode: once per account). One invocation = one sweep of one account.
 */
import type { Context } from 'aws-lambda';
import { loadRuntimeConfig } from '../config';
import { createLogger, createMetrics, metricsSink } from '../powertools';
import { buildPipelineDeps, lazy } from '../wiring';
import { runSweep, type SweepReport } from '../use-cases/sweep';
import type { HandlerOverrides } from './open-order';
import { systemClock } from '../adapters/system-clock';

/** Lambda's context, as far as the sweep needs it. */
type InvocationContext = Pick<Context, 'getRemainingTimeInMillis'>;

export type ExitEvaluatorHandler = (event?: unknown, context?: InvocationContext) => Promise<SweepReport>;

/** Added to the invocation's remaining time: the sweep lease outlives the invocation that holds it. */
const LEASE_MARGIN_MS = 5_000;

export function createExitEvaluatorHandler(
  env: NodeJS.ProcessEnv,
  overrides: HandlerOverrides = {},
): ExitEvaluatorHandler {
  const config = loadRuntimeConfig(env);
  const logger = overrides.log ?? createLogger('exit-evaluator', config.accountName);
  const metrics = createMetrics('exit-evaluator', config.accountName, logger);
  const sink = metricsSink(metrics);
  const deps = overrides.deps ?? lazy(() => buildPipelineDeps(env, config));
  const now = overrides.now ?? systemClock;

  // What the last sweep of this container quoted: the next one asks for those quotes at once.
  let expectedSymbols: readonly string[] = [];
  return async (_event, context) => {
    const { broker, marketData, store, tradeEvents } = await deps();
    try {
      const report = await runSweep({
        account: config.account,
        broker,
        marketData,
        store,
        tradeEvents,
        now,
        log: logger,
        metrics: sink,
        claimLeaseMs: config.claimLeaseMs,
        expectedSymbols,
        // On Lambda the invocation cannot outlive its remaining time, so neither can the sweep.
        ...(context ? { sweepLeaseMs: context.getRemainingTimeInMillis() + LEASE_MARGIN_MS } : {}),
      });
      if (!report.skipped) expectedSymbols = report.quotedSymbols;
      return report;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
