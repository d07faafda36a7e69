/**
 * How one account's two functions share Alpaca's request budget. Pure arithmetic, so the numbers in the
 * comments below are the numbers the stack deploys and the tests check.
 *
 * Alpaca allows 200 requests/minute per API key, and each account has its own key, so the budget is per
 * account. Two things spend it:
 *
 * 1. The sweep (exit evaluator), once per `sweep_interval_minutes` (shared/use-cases/sweep/run-sweep.ts):
 *      3 (clock, positions, open orders) + ⌈N/100⌉ (option quote snapshots, 100 symbols a call)
 *      + orders sent
 *    plus, only in a sweep that has fills to learn, one listing of closed orders (paged by 500) and, as a
 *    fallback, a lookup by client_order_id for an order the listing lacks (docs/BENCHMARKS.md, floors).
 *    N ≤ max_open_positions and, in the worst case, every position exits in the same run, so
 *      per run ≤ 3 + max(1, ⌈N/100⌉) + N.   `main` (N = 5, every minute): 3 + 1 + 5 = 9 requests/minute.
 *    The occasional closed-orders listing is not in this figure: the 20 requests/minute left unallocated
 *    under the limit (180 of 200, below) cover it.
 *
 * 2. Opening orders (open-order), per SQS batch of b ≤ B recommendations:
 *      b (one order each) + 3 amortised per batch (clock, account, one quote snapshot)
 *    B = 10 → at most 13 requests per invocation; maxConcurrency 2 → at most 2 batches and 26 requests in
 *    flight at once, so a burst of M recommendations costs M + 3·⌈M/10⌉ requests (100 → 130), drained by
 *    at most two invocations at a time.
 *
 * What is left for opens is 200 − sweep (191/minute for `main` without polls, 167 with its polls at the
 * worst, 3. below). A recommendation costs 1 + 3/b requests:
 *    - batches full (bursts, b = 10): 1.3 each → ⌊191 / 1.3⌋ = 146 recommendations/minute (128 with polls);
 *    - worst case, every recommendation alone in its batch (b = 1): 4 each → ⌊191 / 4⌋ = 47/minute (41).
 * There is no batching window (0 s): a trickle of recommendations is the second case, 41 a minute at
 * most, far above what a signal producer sends one at a time; a burst fills its batches (what is already
 * queued when a poller receives comes 10 at a time), the first case. A 5 s window would move a trickle
 * towards the first case at the price of up to 5 s before every order (issue 15: measured in
 * docs/BENCHMARKS.md, message sent → order at the broker).
 *
 * 3. The sweep's price-rule polls (`sweep_poll_seconds`, shared/use-cases/sweep/poll.ts): after its full
 *    pass a scheduled sweep asks every p seconds for the quotes of its open positions only (⌈N/100⌉
 *    snapshot calls) and, only when a price rule fires, reads positions, open orders and clock (3) before
 *    sending. At most ⌊60/p⌋ polls a minute, so at most ⌊60/p⌋ × (⌈N/100⌉ + 3) requests:
 *    p = 10, N ≤ 100: 6 × 4 = 24/minute. The poll loop stretches p from the open positions it sees so this
 *    never passes 24 (shared/domain/poll-budget.ts): 12.5 s at 200 positions, 32.5 s at 1,000.
 *    `main` (N = 5): sweep 9 + polls 24 = 33/minute for the exit evaluator.
 *
 * Event-source settings bound concurrency, not rate. If producers send more than the figures above for
 * minutes on end, Alpaca answers 429; the handler treats that as transient, so the message returns after
 * the visibility timeout and, after `maxReceiveCount` receives, lands in the DLQ (which alarms).
 */
import { pollRequestsPerMinute } from '../shared/domain/poll-budget';

/** Alpaca's documented limit for one API key. */
export const ALPACA_REQUESTS_PER_MINUTE = 200;

/** Broker requests the open-order handler makes once per batch (clock, account, quote snapshot). */
const OPEN_ORDER_REQUESTS_PER_BATCH = 3;

/** SQS event source settings of the open-order function (see the arithmetic above). */
export const OPEN_ORDER_EVENT_SOURCE = {
  batchSize: 10,
  /**
   * No batching window (issue 15): a recommendation is handed over as soon as a poller receives it (up to
   * 5 s sooner); what is already queued still comes 10 to a batch.
   */
  maxBatchingWindowSeconds: 0,
  /** The SQS event source minimum: two batches in flight per account. */
  maxConcurrency: 2,
} as const;

/** Requests one sweep makes in the worst case: every one of `maxOpenPositions` positions sends an exit. */
function sweepRequestsPerRun(maxOpenPositions: number): number {
  return 3 + Math.max(1, Math.ceil(maxOpenPositions / 100)) + maxOpenPositions;
}

/** Worst-case sweep requests per minute, for a sweep every `intervalMinutes`. */
export function sweepRequestsPerMinute(maxOpenPositions: number, intervalMinutes: number): number {
  return Math.ceil(sweepRequestsPerRun(maxOpenPositions) / intervalMinutes);
}

/** Worst-case requests a minute of the exit evaluator: its sweep plus its polls (null: no polling). */
export function exitEvaluatorRequestsPerMinute(
  maxOpenPositions: number,
  intervalMinutes: number,
  sweepPollSeconds: number | null,
): number {
  return (
    sweepRequestsPerMinute(maxOpenPositions, intervalMinutes) +
    pollRequestsPerMinute(sweepPollSeconds, maxOpenPositions)
  );
}

/**
 * Recommendations per minute the account can absorb inside Alpaca's limit alongside its sweep, when
 * each batch holds `recommendationsPerBatch` recommendations (1 = worst case, 10 = full batches).
 */
export function sustainableRecommendationsPerMinute(
  maxOpenPositions: number,
  intervalMinutes: number,
  recommendationsPerBatch: number,
  sweepPollSeconds: number | null = null,
): number {
  const left =
    ALPACA_REQUESTS_PER_MINUTE -
    exitEvaluatorRequestsPerMinute(maxOpenPositions, intervalMinutes, sweepPollSeconds);
  const perRecommendation = 1 + OPEN_ORDER_REQUESTS_PER_BATCH / recommendationsPerBatch;
  return Math.max(0, Math.floor(left / perRecommendation));
}

/** Share of Alpaca's limit the functions' client-side budgets may use together (the rest is headroom). */
const CLIENT_BUDGET_FRACTION = 0.9;

/**
 * Each function's `BROKER_REQUESTS_PER_MINUTE` (the per-container client-side budget of
 * shared/adapters/rate-limiter.ts), so that the open-order function at its maximum concurrency plus the
 * one sweep stay under Alpaca's 200/minute together:
 *    exitEvaluator = max(10, worst-case sweep + poll requests per minute)
 *    openOrder     = ⌊(0.9 × 200 − exitEvaluator) / maxConcurrency⌋      `main`: ⌊(180 − 33) / 2⌋ = 73
 * and 2 × 73 + 33 = 179 ≤ 200. With 100 positions: sweep 104 + polls 24 = 128, opens ⌊52 / 2⌋ = 26 each,
 * 180 in all. Never below 1 (an account whose sweep needs more is warned about by
 * warnIfSweepCrowdsOutOpens).
 */
export function brokerRequestBudgets(
  maxOpenPositions: number,
  intervalMinutes: number,
  sweepPollSeconds: number | null = null,
): { readonly openOrder: number; readonly exitEvaluator: number } {
  const usable = Math.floor(ALPACA_REQUESTS_PER_MINUTE * CLIENT_BUDGET_FRACTION);
  const exitEvaluator = Math.min(
    usable - OPEN_ORDER_EVENT_SOURCE.maxConcurrency,
    Math.max(10, exitEvaluatorRequestsPerMinute(maxOpenPositions, intervalMinutes, sweepPollSeconds)),
  );
  const openOrder = Math.max(
    1,
    Math.floor((usable - exitEvaluator) / OPEN_ORDER_EVENT_SOURCE.maxConcurrency),
  );
  return { openOrder, exitEvaluator };
}
