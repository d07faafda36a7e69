/**
 * What the sweep's price-rule polls (shared/use-cases/sweep/poll.ts) may spend of Alpaca's 200 requests a
 * minute, and how far their interval stretches when an account holds many positions. Pure arithmetic:
 * the stack's budget (lib/broker-rate-budget.ts) and the poll loop use the same numbers.
 *
 * A poll costs ⌈N/100⌉ option-snapshot calls (100 symbols a call) for N open positions, plus, only when a
 * price rule fires, the full broker reads that precede any send (positions, open orders, clock): 3. The
 * orders a poll sends are the sweep's own worst case (each position one exit an invocation), counted there.
 */

/** Symbols one option-snapshot call takes (Alpaca's limit; MAX_SNAPSHOT_SYMBOLS in the adapter). */
const SNAPSHOT_SYMBOLS_PER_CALL = 100;

/** Broker reads a poll makes when a rule fires, before sending: positions, open orders, clock. */
const POLL_FIRE_READS = 3;

/** Open positions polled at the configured interval: one snapshot call a poll. Above, the interval stretches. */
const POLL_FULL_RATE_POSITIONS = SNAPSHOT_SYMBOLS_PER_CALL;

/** Worst-case broker requests of one poll over `openPositions` positions (a rule fires). */
export function pollRequests(openPositions: number): number {
  return Math.max(1, Math.ceil(openPositions / SNAPSHOT_SYMBOLS_PER_CALL)) + POLL_FIRE_READS;
}

/**
 * The interval the poll loop uses: the account's `sweep_poll_seconds` up to
 * {@link POLL_FULL_RATE_POSITIONS} open positions, stretched above that so that polls never spend more a
 * minute than they do at 100 positions (what the stack allocates, {@link pollRequestsPerMinute}):
 *    sweep_poll_seconds × pollRequests(N) / pollRequests(100) = sweep_poll_seconds × (⌈N/100⌉ + 3) / 4
 * At 10 s: 10 s up to 100 positions, 12.5 s at 200, 32.5 s at 1,000.
 */
export function pollIntervalMs(sweepPollSeconds: number, openPositions: number): number {
  const stretch = Math.max(1, pollRequests(openPositions) / pollRequests(POLL_FULL_RATE_POSITIONS));
  return Math.ceil(sweepPollSeconds * 1000 * stretch);
}

/**
 * Worst-case poll requests a minute for `maxOpenPositions` positions (every poll fires): at most
 * ⌊60 s / interval⌋ polls a minute, as each invocation polls only after its full pass, one interval apart.
 * At 10 s: 6 × 4 = 24 a minute, whatever the number of positions (the stretch). null costs nothing.
 */
export function pollRequestsPerMinute(sweepPollSeconds: number | null, maxOpenPositions: number): number {
  if (sweepPollSeconds === null) return 0;
  const polls = Math.floor(60_000 / pollIntervalMs(sweepPollSeconds, maxOpenPositions));
  return polls * pollRequests(maxOpenPositions);
}
