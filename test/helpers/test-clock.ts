/**
 * A test clock: time moves only when the code under test sleeps on it (or the test advances it), so a test
 * asserts counts and order, never milliseconds of the machine it runs on. `sleep(ms)` moves `now` forward
 * by `ms`, running on the way every action the test scheduled with `at` (in time order, awaited, with the
 * clock at that action's time), and resolves without waiting. Hand `now` and `sleep` to the seams the
 * code offers (handler overrides `now` / `pollSleep`, `PollWindow.sleep`, `BrokerRateLimiter` `now` /
 * `sleep`, `RetrySchedule` …).
 */
export interface TestClock {
  /** The clock as a `Clock` port. */
  readonly now: () => Date;
  /** The clock in epoch ms. */
  readonly nowMs: () => number;
  /** Moves the clock forward by `ms` (running the actions due on the way) and resolves at once. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Moves the clock forward by `ms` (running the actions due on the way). */
  readonly advance: (ms: number) => Promise<void>;
  /** Runs `action` when the clock reaches `atMs` (at once, at the next move, if it already has). */
  at(atMs: number, action: () => unknown): void;
  /** Every `sleep` asked for, in order (ms). */
  readonly sleeps: readonly number[];
}

export function testClock(startMs: number = Date.now()): TestClock {
  let nowMs = startMs;
  const sleeps: number[] = [];
  const pending: Array<{ atMs: number; seq: number; action: () => unknown }> = [];
  let seq = 0;

  async function advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`test clock: cannot move by ${ms} ms`);
    const target = nowMs + ms;
    for (;;) {
      pending.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      const next = pending[0];
      if (!next || next.atMs > target) break;
      pending.shift();
      nowMs = Math.max(nowMs, next.atMs);
      await next.action();
    }
    nowMs = Math.max(nowMs, target);
  }

  return {
    now: () => new Date(nowMs),
    nowMs: () => nowMs,
    sleep: async (ms) => {
      sleeps.push(ms);
      await advance(ms);
    },
    advance,
    at(atMs, action) {
      pending.push({ atMs, seq: seq++, action });
    },
    sleeps,
  };
}
