/**
 * The exit-plan lab's replay of a spread: one bar series per leg, on common timestamps; at each bar time
 * the spread's net executable value from the legs' bars, and the sweep's own {@link evaluateSpreadExit}
 * under one plan, so the lab and production can never disagree on a spread rule. Pure: no I/O, no clock.
 *
 * Assumptions (also in docs/LAB.md):
 * - A leg's quote at a bar time is its bar's `bp`/`ap` (bid and ask) when the bar carries them, else the
 *   bar's close for both sides (spread 0: the net value is then the legs' closes netted, said so in the
 *   output). A leg without a bar at that time has no quote: the price rules wait (time rules still act).
 * - At most one exit, of the whole spread (as the sweep closes a spread as a unit), at the net value the
 *   decision was taken at; a time rule taken while a leg is unpriced exits at the last priced net value.
 * - A spread still open after the last bar time exits at its last priced net value as `end_of_data`.
 * - P&L = (exit net − net open) × 100 × multiple, dollars.
 */
import type { ExitPlan } from '../domain/exit-plan';
import { evaluateSpreadExit } from '../domain/spread-exit-rules';
import type { SpreadExitReason } from '../domain/spread-position';
import type { LegQuote } from '../domain/spread-pricing';
import type { HeldSpreadLeg } from '../domain/spread-types';
import type { BarsBySymbol, LabBar } from './bars';
import { NoBarsError } from './replay';

/** One spread to replay (from `--trades`). */
export interface LabSpreadTrade {
  /** `trade-<n>` from a trades file. */
  readonly id: string;
  readonly legs: readonly HeldSpreadLeg[];
  /** Per share of one multiple: + debit paid, − credit received. */
  readonly net_open_per_share: number;
  /** Per share of one multiple; needed for a credit spread's stop. */
  readonly max_loss_per_share: number | null;
  /** ISO 8601. */
  readonly entry_time: string;
  readonly multiple: number;
  readonly strategy?: string | null;
}

/** Why a replayed spread exited: a spread rule's reason, or the data ran out. */
export type LabSpreadExitReason = SpreadExitReason | 'end_of_data';

/** The net value at one bar time (null when a leg had no bar there), and the rule's sentence. */
export interface NetValuePoint {
  readonly t: string;
  readonly net: number | null;
  readonly detail: string;
}

/** The spread's exit under one plan. */
export interface LabSpreadExit {
  readonly trade_id: string;
  readonly option_symbol: string;
  readonly plan: string;
  readonly reason: LabSpreadExitReason;
  readonly decided_at: string;
  readonly exit_time: string;
  /** Multiples closed. */
  readonly qty: number;
  /** The net value per share it exited at. */
  readonly exit_price: number;
  readonly pnl: number;
  readonly detail: string;
}

/** A replayed spread under one plan. */
export interface LabSpreadResult {
  readonly trade_id: string;
  readonly plan: string;
  /** `long 1 SYMBOL, short 1 SYMBOL`. */
  readonly legs: string;
  readonly entry_time: string;
  readonly net_open_per_share: number;
  readonly multiple: number;
  /** `bid_ask`: every leg's bars carried `bp`/`ap`; `close`: some did not (their closes stood for both). */
  readonly priced_from: 'bid_ask' | 'close';
  readonly series: readonly NetValuePoint[];
  /** One exit (the spread closes as a unit). */
  readonly steps: readonly LabSpreadExit[];
  readonly pnl: number;
  readonly hold_minutes: number;
  /** The plan's stop and target as net values per share; null when the plan (or the basis) has none. */
  readonly stop_level: number | null;
  readonly target_level: number | null;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The legs of a spread in a few words. */
export function spreadLegsSummary(legs: readonly HeldSpreadLeg[]): string {
  return legs.map((l) => `${l.side} ${l.ratio_qty} ${l.option_symbol}`).join(', ');
}

/** A leg's quote from its bar: `bp`/`ap` when it carries them, else its close for both sides. */
export function barQuote(bar: LabBar): LegQuote {
  return bar.bp !== undefined && bar.ap !== undefined
    ? { bid: bar.bp, ask: bar.ap }
    : { bid: bar.c, ask: bar.c };
}

/**
 * The net values at which the plan's stop and take profit act (per share of one multiple), the inverse
 * of `spreadGainFraction`: a debit's levels are shares of the debit, a credit's target a share of the
 * credit and its stop a share of the maximum loss.
 */
export function spreadPlanLevels(
  plan: Pick<ExitPlan, 'stop_loss_pct' | 'take_profit_pct'>,
  netOpen: number,
  maxLoss: number | null,
): { stop: number | null; target: number | null } {
  const profitBasis = Math.abs(netOpen);
  const lossBasis = netOpen > 0 ? netOpen : maxLoss;
  return {
    stop:
      plan.stop_loss_pct === null || lossBasis === null
        ? null
        : round2(netOpen - plan.stop_loss_pct * lossBasis),
    target:
      plan.take_profit_pct === null || profitBasis === 0
        ? null
        : round2(netOpen + plan.take_profit_pct * profitBasis),
  };
}

/** The legs' quotes at one bar time (a leg without a bar there has none), and whether all carried bid/ask. */
function quotesAt(
  legs: readonly HeldSpreadLeg[],
  byLeg: ReadonlyArray<ReadonlyMap<number, LabBar>>,
  ms: number,
): { quotes: Map<string, LegQuote>; bidAsk: boolean } {
  const quotes = new Map<string, LegQuote>();
  let bidAsk = true;
  for (const [i, leg] of legs.entries()) {
    const bar = byLeg[i]!.get(ms);
    if (!bar) continue;
    if (bar.bp === undefined || bar.ap === undefined) bidAsk = false;
    quotes.set(leg.option_symbol, barQuote(bar));
  }
  return { quotes, bidAsk };
}

/**
 * Replays `trade` over its legs' bars under one plan.
 * @throws NoBarsError when no leg has a bar at or after the entry time.
 */
export function replaySpread(
  trade: LabSpreadTrade,
  bars: BarsBySymbol,
  opts: { readonly planName: string; readonly plan: ExitPlan },
): LabSpreadResult {
  const entryMs = Date.parse(trade.entry_time);
  const byLeg = trade.legs.map(
    (l) => new Map((bars.get(l.option_symbol) ?? []).filter((b) => b.tMs >= entryMs).map((b) => [b.tMs, b])),
  );
  const times = [...new Set(byLeg.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const summary = spreadLegsSummary(trade.legs);
  if (times.length === 0) {
    throw new NoBarsError(`${trade.id} (${summary}): no leg has a bar at or after ${trade.entry_time}`);
  }
  const series: NetValuePoint[] = [];
  let bidAsk = true;
  let last: { t: string; net: number } | null = null;
  let exit: LabSpreadExit | null = null;
  const exitAt = (reason: LabSpreadExitReason, t: string, net: number, detail: string): LabSpreadExit => ({
    trade_id: trade.id,
    option_symbol: summary,
    plan: opts.planName,
    reason,
    decided_at: t,
    exit_time: t,
    qty: trade.multiple,
    exit_price: net,
    pnl: round2((net - trade.net_open_per_share) * 100 * trade.multiple),
    detail,
  });
  for (const ms of times) {
    const { quotes, bidAsk: quoted } = quotesAt(trade.legs, byLeg, ms);
    if (!quoted) bidAsk = false;
    const t = new Date(ms).toISOString();
    const d = evaluateSpreadExit({
      legs: trade.legs,
      plan: opts.plan,
      netOpenPerShare: trade.net_open_per_share,
      maxLossPerShare: trade.max_loss_per_share,
      entryTime: trade.entry_time,
      quotes,
      now: new Date(ms),
    });
    series.push({ t, net: d.valuePerShare, detail: d.detail });
    if (d.valuePerShare !== null) last = { t, net: d.valuePerShare };
    if (d.due) {
      const net = d.valuePerShare ?? last?.net ?? trade.net_open_per_share;
      const priced = d.valuePerShare !== null ? '' : ' (a leg unpriced: at the last priced net value)';
      exit = exitAt(d.reason, t, net, `${d.detail}${priced}`);
      break;
    }
  }
  if (!exit) {
    const end = new Date(times[times.length - 1]!).toISOString();
    exit = exitAt(
      'end_of_data',
      end,
      last?.net ?? trade.net_open_per_share,
      last ? `still open after the last bar: at the net value of ${last.t}` : 'never priced',
    );
  }
  const levels = spreadPlanLevels(opts.plan, trade.net_open_per_share, trade.max_loss_per_share);
  return {
    trade_id: trade.id,
    plan: opts.planName,
    legs: summary,
    entry_time: trade.entry_time,
    net_open_per_share: trade.net_open_per_share,
    multiple: trade.multiple,
    priced_from: bidAsk ? 'bid_ask' : 'close',
    series,
    steps: [exit],
    pnl: exit.pnl,
    hold_minutes: Math.max(0, (Date.parse(exit.exit_time) - entryMs) / 60_000),
    stop_level: levels.stop,
    target_level: levels.target,
  };
}
