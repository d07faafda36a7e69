/**
 * The exit-evaluator function, as a factory of the environment (Lambda: lambdas/exit-evaluator/handler.ts;
 * local mode: once per account). One invocation = one sweep of one account; a scheduled one then polls
 * the price rules until shortly before the next is due (use-cases/sweep/poll.ts).
 */
import type { Context } from 'aws-lambda';
import { loadRuntimeConfig } from '../config';
import { createLogger, createMetrics, metricsSink } from '../powertools';
import { buildPipelineDeps, lazy } from '../wiring';
import { runSweep, type SweepReport } from '../use-cases/sweep';
import type { HandlerOverrides } from './open-order';
import { systemClock } from '../adapters/system-clock';
import { pollWindowFor, REMAINING_MARGIN_MS, scheduledTimeOf } from '../use-cases/sweep/poll';

/** Lambda's context, as far as the sweep needs it. */
type InvocationContext = Pick<Context, 'getRemainingTimeInMillis'>;

export type ExitEvaluatorHandler = (event?: unknown, context?: InvocationContext) => Promise<SweepReport>;

/** Added to the invocation's remaining time: the sweep lease outlives the invocation that holds it. */
const LEASE_MARGIN_MS = 5_000;

/** The handler's test seams, plus how a polling sweep waits (the reliability model moves its own clock). */
export interface ExitEvaluatorOverrides extends HandlerOverrides {
  readonly pollSleep?: (ms: number) => Promise<void>;
}

export function createExitEvaluatorHandler(
  env: NodeJS.ProcessEnv,
  overrides: ExitEvaluatorOverrides = {},
): ExitEvaluatorHandler {
  const config = loadRuntimeConfig(env);
  const logger = overrides.log ?? createLogger('exit-evaluator', config.accountName);
  const metrics = createMetrics('exit-evaluator', config.accountName, logger);
  const sink = metricsSink(metrics);
  const deps = overrides.deps ?? lazy(() => buildPipelineDeps(env, config));
  const now = overrides.now ?? systemClock;

  return async (event, context) => {
    const { broker, marketData, store, spreads, lease, tradeEvents, requestBudget } = await deps();
    const startMs = now().getTime();
    const remainingMs = context?.getRemainingTimeInMillis();
    const window = pollWindowFor(config.account, event, startMs, remainingMs);
    // The lease covers the whole invocation, polls included: on Lambda its remaining time bounds both. A
    // scheduled sweep's lease also ends before the next scheduled sweep: a sweep killed at its timeout, or
    // a release that failed, never costs the next one (it stops sending at its deadline, before then).
    let leaseMs =
      remainingMs !== undefined
        ? remainingMs + LEASE_MARGIN_MS
        : window
          ? Math.max(60_000, window.deadlineMs - startMs + LEASE_MARGIN_MS)
          : undefined;
    const scheduledMs = scheduledTimeOf(event);
    if (leaseMs !== undefined && scheduledMs !== null && remainingMs !== undefined) {
      const nextTickMs = scheduledMs + config.account.sweep_interval_minutes * 60_000;
      // The next scheduled sweep starts at or after its scheduled time: the lease has run out by then.
      leaseMs = Math.max(1_000, Math.min(leaseMs, nextTickMs - startMs));
    }
    // Nothing that sends starts after the invocation's deadline (its remaining time less the margin). A
    // context too short to hold the margin twice (a local schedule ticking faster than a Lambda could) sets
    // no send deadline: its polls are still bounded by the window.
    const deadlineMs =
      remainingMs !== undefined && remainingMs > 2 * REMAINING_MARGIN_MS
        ? startMs + remainingMs - REMAINING_MARGIN_MS
        : undefined;
    try {
      const report = await runSweep({
        account: config.account,
        broker,
        marketData,
        store,
        ...(spreads ? { spreads } : {}),
        lease,
        tradeEvents,
        now,
        log: logger,
        metrics: sink,
        claimLeaseMs: config.claimLeaseMs,
        ...(leaseMs !== undefined ? { sweepLeaseMs: leaseMs } : {}),
        ...(deadlineMs !== undefined ? { deadlineMs } : {}),
        ...(requestBudget ? { requestBudget } : {}),
        ...(window ? { poll: { ...window, sleep: overrides.pollSleep } } : {}),
      });
      return report;
    } finally {
      // Only when there is something to publish: Powertools warns "No application metrics to publish"
      // on every flush of an empty store.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
