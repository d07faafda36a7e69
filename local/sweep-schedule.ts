/**
 * What the EventBridge schedule does for the exit evaluator, locally: invoke the sweep every interval.
 * Like the deployed function (reserved concurrency 1, no retries), a sweep that falls due while the
 * previous one still runs is skipped and counted as throttled, never run beside it.
 */
import type { Log } from '../shared/observability';
import type { SweepReport } from '../shared/use-cases/sweep';

export interface SweepScheduleOptions {
  readonly handler: () => Promise<SweepReport>;
  readonly intervalMs: number;
  readonly log: Log;
  readonly onReport?: (report: SweepReport) => void;
}

/** Counters of one account's schedule (the live view shows them). */
export interface SweepStats {
  runs: number;
  failures: number;
  throttled: number;
  lastDurationMs: number | null;
  lastAt: string | null;
  lastError: string | null;
  lastReport: SweepReport | null;
}

export interface SweepSchedule {
  readonly stats: Readonly<SweepStats>;
  /** Runs a sweep now unless one is running (then waits for that one); the demo and tests use it. */
  runNow(): Promise<SweepReport | null>;
  /** Stops the timer and waits for a running sweep to finish. */
  stop(): Promise<void>;
}

export function startSweepSchedule(opts: SweepScheduleOptions): SweepSchedule {
  const stats: SweepStats = {
    runs: 0,
    failures: 0,
    throttled: 0,
    lastDurationMs: null,
    lastAt: null,
    lastError: null,
    lastReport: null,
  };
  let running: Promise<SweepReport | null> | null = null;
  let stopped = false;

  const run = (): Promise<SweepReport | null> => {
    const started = Date.now();
    const p = opts
      .handler()
      .then((report) => {
        stats.runs += 1;
        stats.lastReport = report;
        stats.lastError = null;
        opts.onReport?.(report);
        if (report.ordersSent.length > 0 || report.closed.length > 0 || report.errors.length > 0) {
          opts.log.info('Sweep acted', {
            ordersSent: report.ordersSent,
            closed: report.closed,
            errors: report.errors,
            alerts: report.alerts,
          });
        }
        return report;
      })
      .catch((err: unknown) => {
        stats.runs += 1;
        stats.failures += 1;
        stats.lastError = (err as Error).message;
        opts.log.error(`Sweep failed: ${(err as Error).message}`, { error: err });
        return null;
      })
      .finally(() => {
        stats.lastDurationMs = Date.now() - started;
        stats.lastAt = new Date().toISOString();
        running = null;
      });
    running = p;
    return p;
  };

  const timer = setInterval(() => {
    if (stopped) return;
    if (running) {
      stats.throttled += 1;
      opts.log.warn('Sweep due while the previous one still runs: skipped (throttled)');
      return;
    }
    void run();
  }, opts.intervalMs);

  return {
    stats,
    runNow: () => (stopped ? Promise.resolve(null) : (running ?? run())),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
