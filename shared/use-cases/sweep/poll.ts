/**
 * Exits within the minute: after its full pass, a scheduled sweep keeps its lease and re-evaluates the
 * price rules every `sweep_poll_seconds` until shortly before the next sweep is due. A poll reads the
 * table's open positions and asks the broker only for their quotes (⌈N/100⌉ snapshot calls); only when a
 * price rule fires does it read positions, open orders and clock, and then it acts through the act phase
 * ({@link actOnFired}: claim, per-contract exit budget, `sendStep`), exactly as a full pass would, so
 * safety rule 3 holds unchanged. Time rules, reconciliation, learning fills and managing working orders
 * stay once per invocation, in the full pass.
 */
import type { AccountConfig } from '../../domain/account-config';
import { UnreadableRecordsError } from '../../domain/errors';
import { evaluateExit } from '../../domain/exit-rules';
import { brokerClockOffsetMs, onBrokerClock } from '../../domain/market-time';
import { pollIntervalMs } from '../../domain/poll-budget';
import { trailingAdvanced } from '../../domain/position-lifecycle';
import type { ExitReason, Position } from '../../domain/position';
import type { OptionQuote } from '../../ports';
import { actOnFired } from './act';
import { actOnFiredSpreads, firedSpreads } from './spreads';
import type { SpreadPosition } from '../../domain/spread-position';
import { SweepContext } from './context';
import { freezeSnapshot } from './snapshot';
import type { Mutable, PollWindow, SweepDeps, SweepReport } from './types';

export type { PollWindow } from './types';

/** The rules a poll acts on; everything else (expiry, max hold, time rules, flatten) waits for a full pass. */
const PRICE_REASONS: ReadonlySet<ExitReason> = new Set([
  'stop_loss',
  'take_profit',
  'trailing_stop',
  'partial_exit',
  'breakeven',
]);

/** The next sweep is due at the scheduled time + interval: polls end this long before it. */
export const POLL_END_MARGIN_MS = 5_000;
/** Kept from the invocation's remaining time (Lambda), so the handler returns before its timeout. */
export const REMAINING_MARGIN_MS = 3_000;
/** A poll starts only when this long (or twice the slowest poll so far) is left before the deadline. */
const MIN_POLL_BUDGET_MS = 2_000;

/** Polls end at least this long before the sweep lease runs out. */
export const LEASE_GUARD_MS = 5_000;

/**
 * The poll window of one invocation, or null for a single pass: when the account polls
 * (`sweep_poll_seconds` not null) and the event is a schedule's (EventBridge "Scheduled Event", whose
 * `time` is the scheduled time). It ends {@link POLL_END_MARGIN_MS} before the next scheduled sweep and
 * {@link REMAINING_MARGIN_MS} before the invocation's timeout, whichever is first. A direct call (tests,
 * the demo) gets a single pass.
 */
export function pollWindowFor(
  account: AccountConfig,
  event: unknown,
  nowMs: number,
  remainingMs?: number,
): { deadlineMs: number } | null {
  if (account.sweep_poll_seconds === null) return null;
  const scheduledMs = scheduledTimeOf(event);
  if (scheduledMs === null) return null;
  let deadlineMs = scheduledMs + account.sweep_interval_minutes * 60_000 - POLL_END_MARGIN_MS;
  if (remainingMs !== undefined) deadlineMs = Math.min(deadlineMs, nowMs + remainingMs - REMAINING_MARGIN_MS);
  return { deadlineMs };
}

/** The scheduled time of an EventBridge scheduled event; null for anything else. */
export function scheduledTimeOf(event: unknown): number | null {
  if (!event || typeof event !== 'object') return null;
  const e = event as { 'detail-type'?: unknown; time?: unknown };
  if (e['detail-type'] !== 'Scheduled Event' || typeof e.time !== 'string') return null;
  const t = Date.parse(e.time);
  return Number.isFinite(t) ? t : null;
}

/**
 * Polls until the window closes, or {@link LEASE_GUARD_MS} before the sweep lease (held since before the
 * full pass, until `leaseUntilMs`) runs out, whichever is first. The interval is `sweep_poll_seconds`,
 * stretched by the open-position count (poll-budget.ts). A poll starts only when it can end before the
 * deadline: the budget is twice the slowest poll so far, at least {@link MIN_POLL_BUDGET_MS}. Nothing is
 * polled while the market is closed (nothing would be sent).
 */
export async function pollUntilDeadline(
  deps: SweepDeps,
  window: PollWindow,
  report: Mutable<SweepReport>,
  leaseUntilMs: number,
  brokerOffsetMs = 0,
): Promise<void> {
  const configured = deps.account.sweep_poll_seconds;
  if (configured === null || !report.marketOpen) return;
  const sleep = window.sleep ?? realSleep;
  // Every poll ends while this sweep still holds the lease (rule 5), whatever the window says.
  const deadlineMs = Math.min(window.deadlineMs, leaseUntilMs - LEASE_GUARD_MS);
  let last = deps.now().getTime();
  let openCount = report.livePositions;
  let slowestMs = 0;
  report.polls = 0;
  for (;;) {
    const startAt = last + pollIntervalMs(configured, openCount);
    if (startAt + Math.max(MIN_POLL_BUDGET_MS, 2 * slowestMs) > deadlineMs) return;
    const wait = startAt - deps.now().getTime();
    if (wait > 0) await sleep(wait);
    last = deps.now().getTime();
    const outcome = await pollOnce(deps, report, brokerOffsetMs);
    report.polls++;
    slowestMs = Math.max(slowestMs, deps.now().getTime() - last);
    if (outcome === 'market_closed') return;
    openCount = outcome;
  }
}

/**
 * One poll: the open positions' quotes, the price rules, and an act phase for those that fire. Returns the
 * number of open positions (for the stretch), or 'market_closed' when the fresh clock says so.
 */
async function pollOnce(
  deps: SweepDeps,
  report: Mutable<SweepReport>,
  brokerOffsetMs: number,
): Promise<number | 'market_closed'> {
  const live = await deps.store.listLive(deps.account.name).catch((err: unknown) => {
    if (err instanceof UnreadableRecordsError) return err.readable as Position[];
    throw err;
  });
  const open = live.filter((p) => p.state === 'open' && !p.pending_exit);
  const spreads = await openSpreads(deps);
  if (open.length === 0 && spreads.length === 0) return 0;
  const legSymbols = spreads.flatMap((sp) => sp.legs.map((l) => l.option_symbol));
  let quotes: ReadonlyMap<string, OptionQuote>;
  try {
    quotes = await deps.marketData.getOptionQuotes([
      ...new Set([...open.map((p) => p.option_symbol), ...legSymbols]),
    ]);
  } catch (err) {
    deps.log.warn(
      `Poll: option quotes could not be read; the next poll or sweep tries again: ${String(err)}`,
    );
    return open.length;
  }
  const now = deps.now();
  const fired: Position[] = [];
  for (const p of open) {
    const ev = evaluateExit(
      p,
      quotes.get(p.option_symbol),
      onBrokerClock(now, brokerOffsetMs),
      deps.account.exit_execution,
    );
    const d = ev.decision;
    if (d.action === 'close' && PRICE_REASONS.has(d.reason)) fired.push(p);
    else if (ev.stateChanged) await keepTrailingState(deps, p, ev.state, now);
  }
  const firedSp = firedSpreads(spreads, quotes, onBrokerClock(now, brokerOffsetMs));
  if (fired.length === 0 && firedSp.length === 0) return open.length;

  // A rule fired: the same fresh broker reads a full pass starts from, then the act phase (rule 3).
  const [held, orders, clock] = await Promise.all([
    deps.broker.listPositions(),
    deps.broker.listOpenOrders(),
    deps.broker.getClock(),
  ]);
  if (!clock.isOpen) return 'market_closed';
  // A contract the broker no longer holds was closed outside the pipeline: the next full pass reconciles
  // it (closed_outside_pipeline); a poll neither sends nor alerts for it.
  const heldSymbols = new Set(held.map((h) => h.symbol));
  const acting = fired.filter((p) => heldSymbols.has(p.option_symbol));
  if (acting.length === 0 && firedSp.length === 0) return open.length;
  // The act phase on a snapshot of these fresh reads, with allowances of its own.
  const s = new SweepContext(
    deps,
    freezeSnapshot({
      live,
      spreads: firedSp,
      brokerPositions: held,
      openOrders: orders,
      clock,
      brokerOffsetMs: brokerClockOffsetMs(clock, deps.now()),
    }),
    report,
  );
  deps.log.info(`Poll: a price rule fired for ${acting.length} position(s); acting`, {
    positions: acting.map((p) => p.position_id),
  });
  if (acting.length) await actOnFired(s, acting, quotes);
  await actOnFiredSpreads(s, firedSp, quotes);
  await s.eventsSettled();
  return open.length;
}

/** The open spreads with no exit step in flight (none when the deployment has no spread store). */
async function openSpreads(deps: SweepDeps): Promise<SpreadPosition[]> {
  if (!deps.spreads) return [];
  const all = await deps.spreads.listLiveSpreads(deps.account.name);
  return all.filter((sp) => sp.state === 'open' && !sp.pending_exit);
}

/** The trailing peak and breakeven activation move between polls too: store them as a full pass would. */
async function keepTrailingState(
  deps: SweepDeps,
  p: Position,
  state: Pick<Position, 'peak_price' | 'trailing_stop_price' | 'breakeven_active'>,
  now: Date,
): Promise<void> {
  const next = trailingAdvanced(p, state, now.toISOString());
  // A conflict means another writer moved the record on; the next poll reads it again.
  await deps.store.replace(p, next).catch((err: unknown) => deps.log.info(`Poll: ${String(err)}`));
}

function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
