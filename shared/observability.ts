/**
 * The logging and metrics surface the use cases need. Powertools' Logger satisfies {@link Log}; the
 * handlers adapt Powertools' Metrics to {@link MetricsSink}. Use cases never import Powertools directly.
 */
export interface Log {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface MetricsSink {
  /** Adds `value` (default 1) to a count metric, optionally with extra dimensions (e.g. `reason`). */
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
  /** Records a millisecond duration. */
  durationMs(name: string, ms: number): void;
  /** Records a level (dollars, a number of positions...) as it is now: no unit, one value per call. */
  gauge(name: string, value: number): void;
}

/** A metrics sink that drops everything (tools and tests that don't look at metrics). */
export const NO_METRICS: MetricsSink = {
  count: () => undefined,
  durationMs: () => undefined,
  gauge: () => undefined,
};

/** A log that drops everything (benchmarks and tests that don't read the log). */
export const SILENT_LOG: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
