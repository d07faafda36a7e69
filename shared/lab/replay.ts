/**
 * The exit-plan lab's replay: steps one trade through recorded option bars under one exit plan, calling
 * the sweep's own {@link evaluateExit} at every price, so the lab and production can never disagree on a
 * rule. Pure: no I/O, no clock.
 *
 * Assumptions (also in the README's "Compare exit plans"):
 * - A bar stands for a path of prices at the bar's time `t` (its start, as Alpaca stamps it): open, then
 *   the adverse extreme (low for a long, high for a short), then the favourable one, then close. Each is a
 *   quote with bid = ask = that price (spread 0), so `mid`, `bid_ask` and any executable-side pricing all
 *   read the same number. Taking the adverse extreme first means a stop inside a bar is never missed, and
 *   when one bar touches both the stop and the target, the stop wins (the conservative reading).
 * - At most one exit step per bar, like one decision per sweep; the rest of that bar is not evaluated.
 * - An exit fills at the next bar's open (`next_open`, default, conservative: the order goes out after the
 *   bar that triggered it) or at the price that triggered it (`trigger`). Without a next bar it fills at
 *   the triggering bar's close.
 * - A position still open after the last bar is marked at that bar's close with reason `end_of_data` (not
 *   a rule: the data ran out).
 */
import { protectiveStopLevel } from '../domain/broker-stop';
import { evaluateExit, type ExitPricing } from '../domain/exit-rules';
import { readStoredExitPlan, type ExitPlan } from '../domain/exit-plan';
import { newYorkTime } from '../domain/market-time';
import { FRESH_EXIT_STATE, realizedPnl, type ExitReason, type Position } from '../domain/position';
import { exitStepReplayed, trailingAdvanced } from '../domain/position-lifecycle';
import type { ProfileTimeRules } from '../domain/strategy-profiles';
import type { OptionQuote } from '../ports';
import type { LabBar } from './bars';

/** One trade to replay (from `--trades` or the positions table). */
export interface LabTrade {
  /** Stable id for reports: the position id, or `trade-<n>` from a trades file. */
  readonly id: string;
  readonly option_symbol: string;
  readonly side: 'long' | 'short';
  /** ISO 8601. */
  readonly entry_time: string;
  /** Per share; absent = the open of the first bar at or after `entry_time`. */
  readonly entry_price?: number | null;
  readonly qty: number;
  /** The strategy profile the position opened under (its exit plan layer and time rules), if any. */
  readonly strategy?: string | null;
  readonly time_rules?: ProfileTimeRules | null;
}

/** When an exit fills: the next bar's open (default) or the price that triggered it. */
export type FillMode = 'next_open' | 'trigger';

/** Why a lab exit step happened: a rule's reason, or the data ran out with the position still open. */
export type LabExitReason = Exclude<ExitReason, 'flatten'> | 'end_of_data';

/** One exit step of one trade under one plan. */
export interface LabExitStep {
  readonly option_symbol: string;
  readonly trade_id: string;
  readonly plan: string;
  readonly reason: LabExitReason;
  /** Time of the bar whose price triggered the step. */
  readonly decided_at: string;
  /** Time of the fill (the next bar's time under `next_open`). */
  readonly exit_time: string;
  readonly qty: number;
  /** Per share. */
  readonly exit_price: number;
  /** Dollars, signed for the side. */
  readonly pnl: number;
  /** The rule's own sentence (from evaluateExit). */
  readonly detail: string;
}

/** A replayed trade. */
export interface LabTradeResult {
  readonly trade_id: string;
  readonly option_symbol: string;
  readonly side: 'long' | 'short';
  readonly plan: string;
  readonly entry_time: string;
  readonly entry_price: number;
  readonly qty: number;
  readonly steps: LabExitStep[];
  /** Dollars over every step. */
  readonly pnl: number;
  /** Minutes from entry to the last exit step. */
  readonly hold_minutes: number;
  /**
   * The plan's levels at entry, per share: the protective stop (the broker stop's own level,
   * `protectiveStopLevel`, before any trail or breakeven moves it) and the take-profit target; null
   * when the plan has none.
   */
  readonly stop_level: number | null;
  readonly target_level: number | null;
}

/** Replay settings. */
export interface ReplayOptions {
  readonly planName: string;
  readonly plan: ExitPlan;
  /** The account's `exit_execution` (mark mode, quote age); with spread 0 and age 0 it rarely matters. */
  readonly execution?: Partial<ExitPricing>;
  /** @default 'next_open' */
  readonly fill?: FillMode;
}

/** Thrown when a trade cannot be replayed (no bars at or after its entry). */
export class NoBarsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoBarsError';
  }
}

/**
 * Replays `trade` over `bars` (one symbol's bars, in time order, already validated) under one plan.
 * @throws NoBarsError when no bar is at or after the entry time.
 */
export function replayTrade(trade: LabTrade, bars: readonly LabBar[], opts: ReplayOptions): LabTradeResult {
  const entryMs = Date.parse(trade.entry_time);
  const first = bars.findIndex((b) => b.tMs >= entryMs);
  if (first < 0) {
    throw new NoBarsError(`${trade.id} (${trade.option_symbol}): no bar at or after ${trade.entry_time}`);
  }
  const entry = trade.entry_price ?? bars[first].o;
  let pos = openPosition(trade, entry, opts.plan);
  const steps: LabExitStep[] = [];
  const step = (reason: LabExitReason, qty: number, at: LabBar, fill: Fill, detail: string) =>
    steps.push({
      option_symbol: trade.option_symbol,
      trade_id: trade.id,
      plan: opts.planName,
      reason,
      decided_at: at.t,
      exit_time: fill.time,
      qty,
      exit_price: fill.price,
      pnl: realizedPnl(trade.side, entry, fill.price, qty),
      detail,
    });

  for (let i = first; i < bars.length && pos.quantity > 0; i++) {
    const bar = bars[i];
    const now = new Date(bar.tMs);
    // Only a profile's time rules read the session close; computing it costs time-zone conversions.
    const sessionClose = trade.time_rules ? regularSessionClose(now) : null;
    for (const price of barPath(bar, trade.side)) {
      const ev = evaluateExit(pos, quoteAt(trade.option_symbol, price, bar.t), now, opts.execution ?? {}, {
        sessionClose,
      });
      // The lab keeps no clock on the record: updated_at stays as it was.
      if (ev.stateChanged) pos = trailingAdvanced(pos, ev.state, pos.updated_at);
      if (ev.decision.action === 'hold') continue;
      const { qty, reason, partialLevel, detail } = ev.decision;
      step(reason as LabExitReason, qty, bar, fillOf(bars, i, price, opts.fill ?? 'next_open'), detail);
      pos = exitStepReplayed(pos, qty, partialLevel);
      // One exit step per bar, as one decision per sweep: the step is in flight until it fills.
      break;
    }
  }
  if (pos.quantity > 0) {
    const last = bars[bars.length - 1];
    step('end_of_data', pos.quantity, last, { price: last.c, time: last.t }, 'still open after the last bar');
  }
  const lastExit = steps.length ? Date.parse(steps[steps.length - 1].exit_time) : entryMs;
  return {
    trade_id: trade.id,
    option_symbol: trade.option_symbol,
    side: trade.side,
    plan: opts.planName,
    entry_time: trade.entry_time,
    entry_price: entry,
    qty: trade.qty,
    steps,
    pnl: Math.round(steps.reduce((s, x) => s + x.pnl, 0) * 100) / 100,
    hold_minutes: Math.max(0, (lastExit - entryMs) / 60_000),
    ...planLevels(trade.side, entry, opts.plan),
  };
}

/** The stop and take-profit levels of `plan` for a position entered at `entry` (per share, 4 decimals). */
export function planLevels(
  side: 'long' | 'short',
  entry: number,
  plan: ExitPlan,
): { stop_level: number | null; target_level: number | null } {
  const stop = protectiveStopLevel({ side, entry_price: entry, exit_plan: plan }, FRESH_EXIT_STATE);
  const tp = plan.take_profit_pct;
  const target = tp === null ? null : side === 'long' ? entry * (1 + tp) : Math.max(0, entry * (1 - tp));
  const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
  return { stop_level: stop ? r4(stop.price) : null, target_level: target === null ? null : r4(target) };
}

/** The prices a bar stands for, in the order the lab assumes (adverse extreme first), repeats dropped. */
export function barPath(bar: Pick<LabBar, 'o' | 'h' | 'l' | 'c'>, side: 'long' | 'short'): number[] {
  const path = side === 'long' ? [bar.o, bar.l, bar.h, bar.c] : [bar.o, bar.h, bar.l, bar.c];
  return path.filter((p, i) => i === 0 || p !== path[i - 1]);
}

interface Fill {
  readonly price: number;
  readonly time: string;
}

function fillOf(bars: readonly LabBar[], i: number, trigger: number, mode: FillMode): Fill {
  if (mode === 'trigger') return { price: trigger, time: bars[i].t };
  const next = bars[i + 1];
  return next ? { price: next.o, time: next.t } : { price: bars[i].c, time: bars[i].t };
}

/** A quote with bid = ask = `price`, quoted at the bar's time (so never stale at that time). */
function quoteAt(symbol: string, price: number, time: string): OptionQuote {
  return { symbol, bid: price, ask: price, bidSize: 0, askSize: 0, quoteTime: time, lastPrice: price };
}

/**
 * 16:00 New York on a weekday, else null: the lab knows no holidays or early closes (only the profiles'
 * `close_minutes_before_session_close` reads it).
 */
function regularSessionClose(now: Date): Date | null {
  const { date } = newYorkTime(now);
  const known = sessionCloses.get(date);
  if (known !== undefined) return known;
  const close = findSessionClose(date);
  sessionCloses.set(date, close);
  return close;
}

const sessionCloses = new Map<string, Date | null>();

function findSessionClose(date: string): Date | null {
  const day = new Date(`${date}T12:00:00Z`).getUTCDay();
  if (day === 0 || day === 6) return null;
  // 16:00 New York is 21:00 UTC in winter (EST) and 20:00 UTC in summer (EDT).
  for (const hourUtc of [20, 21]) {
    const candidate = new Date(`${date}T${hourUtc}:00:00Z`);
    const ny = newYorkTime(candidate);
    if (ny.date === date && ny.minuteOfDay === 16 * 60) return candidate;
  }
  return null;
}

/** The position record the sweep would hold right after the opening fill. */
function openPosition(trade: LabTrade, entry: number, plan: ExitPlan): Position {
  return {
    account: 'lab',
    position_id: trade.id,
    recommendation_id: trade.id,
    ticker: trade.option_symbol.replace(/\d.*$/, ''),
    option_symbol: trade.option_symbol,
    side: trade.side,
    state: 'open',
    quantity: trade.qty,
    original_quantity: trade.qty,
    requested_quantity: trade.qty,
    open_client_order_id: `lab-${trade.id}`,
    open_order_type: 'market',
    entry_price: entry,
    entry_time: trade.entry_time,
    // As the store reads it back for the sweep: validated once and sealed, so no evaluation re-validates it.
    exit_plan: readStoredExitPlan(plan),
    strategy: trade.strategy ?? null,
    time_rules: trade.time_rules ?? null,
    ...FRESH_EXIT_STATE,
    created_at: trade.entry_time,
    updated_at: trade.entry_time,
    version: 1,
  };
}
