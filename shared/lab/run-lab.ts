/**
 * The exit-plan lab as a use case: every trade under every plan, through {@link replayTrade}, and each
 * plan's totals. Pure: the caller reads files, fetches bars and writes the outputs.
 */
import type { AccountConfig } from '../domain/account-config';
import type { BarsBySymbol, LabBar } from './bars';
import { labTimeRules, resolveLabPlan, type LabPlanInput } from './inputs';
import {
  NoBarsError,
  replayTrade,
  type FillMode,
  type LabExitStep,
  type LabTrade,
  type LabTradeResult,
} from './replay';
import { replaySpread, spreadLegsSummary, type LabSpreadResult, type LabSpreadTrade } from './spread-replay';

/** A trade the lab could not replay, and why (reported, never silently dropped). */
export interface SkippedTrade {
  readonly trade_id: string;
  readonly option_symbol: string;
  readonly reason: string;
}

/** One point of a plan's equity curve: cumulative P&L after an exit step. */
export interface EquityPoint {
  readonly time: string;
  readonly equity: number;
}

/** A plan's totals over the replayed trades. */
export interface PlanSummary {
  readonly plan: string;
  readonly trades: number;
  readonly total_pnl: number;
  /** Fraction of trades with P&L > 0. */
  readonly win_rate: number;
  readonly avg_pnl: number;
  readonly worst_pnl: number;
  /** Largest fall of the equity curve from a previous high, dollars (≥ 0). */
  readonly max_drawdown: number;
  readonly avg_hold_minutes: number;
  readonly exits_by_reason: Record<string, number>;
  readonly equity: EquityPoint[];
}

/**
 * A trade whose given entry price is outside the high–low range of its entry bar (the first bar at or
 * after its entry time): every plan's P&L counts from that price, so a wrong one shifts them all.
 */
export interface EntryWarning {
  readonly trade_id: string;
  readonly option_symbol: string;
  readonly entry_price: number;
  readonly bar_time: string;
  readonly bar_low: number;
  readonly bar_high: number;
  readonly message: string;
}

/** Everything one lab run found. */
export interface LabResult {
  readonly plans: PlanSummary[];
  readonly results: LabTradeResult[];
  /** Every spread under every plan (in the plans' totals with the single-leg trades). */
  readonly spread_results?: LabSpreadResult[];
  readonly skipped: SkippedTrade[];
  /** Entry prices outside their entry bar's range (the trades are replayed all the same). */
  readonly warnings: EntryWarning[];
  readonly fill: FillMode;
}

/** Replays every trade under every plan. A trade without bars is skipped (and listed) for every plan. */
export function runLab(args: {
  account: AccountConfig;
  trades: readonly LabTrade[];
  plans: readonly LabPlanInput[];
  bars: BarsBySymbol;
  fill?: FillMode;
  /** Spreads to replay on their legs' bars (`replaySpread`). */
  spreads?: readonly LabSpreadTrade[];
}): LabResult {
  const fill = args.fill ?? 'next_open';
  const results: LabTradeResult[] = [];
  const skipped: SkippedTrade[] = [];
  const warnings: EntryWarning[] = [];
  for (const trade of args.trades) {
    const bars = args.bars.get(trade.option_symbol) ?? [];
    if (bars.length === 0) {
      skipped.push({
        trade_id: trade.id,
        option_symbol: trade.option_symbol,
        reason: 'no bars for this symbol',
      });
      continue;
    }
    const warning = entryWarning(trade, bars);
    if (warning) warnings.push(warning);
    const withRules = { ...trade, time_rules: labTimeRules(args.account, trade) };
    try {
      for (const plan of args.plans) {
        results.push(
          replayTrade(withRules, bars, {
            planName: plan.name,
            plan: resolveLabPlan(args.account, trade, plan),
            execution: args.account.exit_execution,
            fill,
          }),
        );
      }
    } catch (err) {
      if (!(err instanceof NoBarsError)) throw err;
      skipped.push({ trade_id: trade.id, option_symbol: trade.option_symbol, reason: err.message });
    }
  }
  const spreadResults = replaySpreads(args, skipped);
  const plans = args.plans.map((p) =>
    summarize(p.name, [
      ...results.filter((r) => r.plan === p.name),
      ...spreadResults.filter((r) => r.plan === p.name),
    ]),
  );
  return { plans, results, spread_results: spreadResults, skipped, warnings, fill };
}

/** Every spread under every plan; a spread whose legs have no bars after its entry is skipped (listed). */
function replaySpreads(
  args: Pick<Parameters<typeof runLab>[0], 'account' | 'plans' | 'bars' | 'spreads'>,
  skipped: SkippedTrade[],
): LabSpreadResult[] {
  const out: LabSpreadResult[] = [];
  for (const sp of args.spreads ?? []) {
    try {
      for (const plan of args.plans) {
        out.push(
          replaySpread(sp, args.bars, {
            planName: plan.name,
            plan: resolveLabPlan(args.account, sp, plan),
          }),
        );
      }
    } catch (err) {
      if (!(err instanceof NoBarsError)) throw err;
      skipped.push({ trade_id: sp.id, option_symbol: spreadLegsSummary(sp.legs), reason: err.message });
    }
  }
  return out;
}

/** The warning for a given entry price outside its entry bar's [low, high], else null. */
export function entryWarning(trade: LabTrade, bars: readonly LabBar[]): EntryWarning | null {
  const price = trade.entry_price;
  if (typeof price !== 'number') return null;
  const entryMs = Date.parse(trade.entry_time);
  const bar = bars.find((b) => b.tMs >= entryMs);
  if (!bar || (price >= bar.l && price <= bar.h)) return null;
  return {
    trade_id: trade.id,
    option_symbol: trade.option_symbol,
    entry_price: price,
    bar_time: bar.t,
    bar_low: bar.l,
    bar_high: bar.h,
    message:
      `${trade.id} ${trade.option_symbol}: entry price ${price.toFixed(2)} is outside its bar's range ` +
      `${bar.l.toFixed(2)}–${bar.h.toFixed(2)} (bar at ${bar.t}); every plan's P&L counts from it`,
  };
}

/** A plan's totals and equity curve (exit steps in fill-time order). */
export function summarize(
  plan: string,
  results: ReadonlyArray<Pick<LabTradeResult | LabSpreadResult, 'pnl' | 'hold_minutes' | 'steps'>>,
): PlanSummary {
  const n = results.length;
  const pnls = results.map((r) => r.pnl);
  const steps: Array<
    Pick<LabExitStep, 'exit_time' | 'trade_id' | 'pnl' | 'reason'> | LabSpreadResult['steps'][number]
  > = results.flatMap((r): ReadonlyArray<LabExitStep | LabSpreadResult['steps'][number]> => r.steps);
  steps.sort((a, b) => a.exit_time.localeCompare(b.exit_time) || a.trade_id.localeCompare(b.trade_id));
  const equity: EquityPoint[] = [];
  let cum = 0;
  let high = 0;
  let drawdown = 0;
  for (const s of steps) {
    cum = round2(cum + s.pnl);
    high = Math.max(high, cum);
    drawdown = Math.max(drawdown, high - cum);
    equity.push({ time: s.exit_time, equity: cum });
  }
  const byReason: Record<string, number> = {};
  for (const s of steps) byReason[s.reason] = (byReason[s.reason] ?? 0) + 1;
  return {
    plan,
    trades: n,
    total_pnl: round2(pnls.reduce((a, b) => a + b, 0)),
    win_rate: n ? pnls.filter((x) => x > 0).length / n : 0,
    avg_pnl: n ? round2(pnls.reduce((a, b) => a + b, 0) / n) : 0,
    worst_pnl: n ? Math.min(...pnls) : 0,
    max_drawdown: round2(drawdown),
    avg_hold_minutes: n ? results.reduce((a, r) => a + r.hold_minutes, 0) / n : 0,
    exits_by_reason: byReason,
    equity,
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
