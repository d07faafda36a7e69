/**
 * The exit-plan lab as a use case: every trade under every plan, through {@link replayTrade}, and each
 * plan's totals. Pure: the caller reads files, fetches bars and writes the outputs.
 */
import type { AccountConfig } from '../domain/account-config';
import type { BarsBySymbol } from './bars';
import { labTimeRules, resolveLabPlan, type LabPlanInput } from './inputs';
import {
  NoBarsError,
  replayTrade,
  type FillMode,
  type LabExitStep,
  type LabTrade,
  type LabTradeResult,
} from './replay';

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

/** Everything one lab run found. */
export interface LabResult {
  readonly plans: PlanSummary[];
  readonly results: LabTradeResult[];
  readonly skipped: SkippedTrade[];
  readonly fill: FillMode;
}

/** Replays every trade under every plan. A trade without bars is skipped (and listed) for every plan. */
export function runLab(args: {
  account: AccountConfig;
  trades: readonly LabTrade[];
  plans: readonly LabPlanInput[];
  bars: BarsBySymbol;
  fill?: FillMode;
}): LabResult {
  const fill = args.fill ?? 'next_open';
  const results: LabTradeResult[] = [];
  const skipped: SkippedTrade[] = [];
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
  const plans = args.plans.map((p) =>
    summarize(
      p.name,
      results.filter((r) => r.plan === p.name),
    ),
  );
  return { plans, results, skipped, fill };
}

/** A plan's totals and equity curve (exit steps in fill-time order). */
export function summarize(plan: string, results: readonly LabTradeResult[]): PlanSummary {
  const n = results.length;
  const pnls = results.map((r) => r.pnl);
  const steps: LabExitStep[] = results.flatMap((r) => r.steps);
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
