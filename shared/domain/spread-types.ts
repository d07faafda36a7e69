/**
 * The vocabulary of multi-leg spreads (Alpaca `order_class: mleg`, 2-4 legs on one underlying), shared by
 * the message schema, the builders, the risk checks, the close planner and the order builders. No logic.
 */
import type { OccSymbol } from './occ';

/** Alpaca's mleg limits: at least 2 and at most 4 legs. */
export const MIN_SPREAD_LEGS = 2;
export const MAX_SPREAD_LEGS = 4;

/** Structures a profile can build from a chain (`spread.strategy` in a message). */
export const SPREAD_STRATEGIES = [
  'vertical',
  'straddle',
  'strangle',
  'iron_condor',
  'iron_butterfly',
] as const;
export type SpreadStrategy = (typeof SPREAD_STRATEGIES)[number];

/**
 * Structures whose loss is not bounded by the spread itself, refused unless the account lists them in
 * `limits.allow_undefined_risk`: a short call and a short put (same strike / different strikes) with no long
 * of the same type to cover them, and a short call or a short put left uncovered on its own.
 */
export const UNDEFINED_RISK_STRUCTURES = [
  'short_straddle',
  'short_strangle',
  'naked_short_call',
  'naked_short_put',
] as const;
export type UndefinedRiskStructure = (typeof UNDEFINED_RISK_STRUCTURES)[number];

/** Alpaca's `options_trading_level`: 1 covered calls / cash-secured puts, 2 long calls and puts, 3 spreads. */
export const SPREAD_TRADING_LEVEL = 3;

/** One leg as opened: buy or sell `ratio_qty` contracts of `option_symbol` per multiple of the spread. */
export interface SpreadLeg {
  readonly option_symbol: string;
  readonly side: 'buy' | 'sell';
  /** Whole contracts per multiple of the spread (>= 1). */
  readonly ratio_qty: number;
  readonly occ: OccSymbol;
}

/** One leg as held: `long` after a buy, `short` after a sell. */
export interface HeldSpreadLeg {
  readonly option_symbol: string;
  readonly side: 'long' | 'short';
  readonly ratio_qty: number;
}

/** A leg's held side: a bought leg is long, a sold leg short. */
export function heldSideOf(side: 'buy' | 'sell'): 'long' | 'short' {
  return side === 'buy' ? 'long' : 'short';
}
