/**
 * A spread's risk, from its legs alone: its structure (defined or undefined risk, by name), its maximum
 * loss and profit at expiry, the options trading level it needs, and the account's limits on it. Pure.
 */
import type { AccountConfig } from './account-config';
import { RiskLimitError } from './errors';
import { roundToCents } from './money';
import type { OccSymbol } from './occ';
import { SPREAD_TRADING_LEVEL, type UndefinedRiskStructure } from './spread-types';

/** What the risk rules read of a leg. */
export interface RiskLeg {
  readonly side: 'buy' | 'sell';
  readonly ratio_qty: number;
  readonly occ: Pick<OccSymbol, 'type' | 'strike' | 'expiry'>;
}

/** The structure of a set of legs. */
export interface SpreadStructure {
  /** Null when every short leg is covered by a long of its type (defined risk). */
  readonly undefinedRisk: UndefinedRiskStructure | null;
  /** Whether every leg expires on one date (the only structures whose risk is computed here). */
  readonly oneExpiry: boolean;
}

/**
 * Names the structure's undefined risk, if any: per type, short contracts beyond the long contracts of that
 * type that expire no earlier (a long expiring first stops covering). Uncovered calls and puts together
 * are a `short_straddle` (a shared strike) or a `short_strangle`; alone a `naked_short_call` / `_put`.
 */
export function spreadStructure(legs: readonly RiskLeg[]): SpreadStructure {
  const uncovered = (type: 'call' | 'put') => {
    const ofType = legs.filter((l) => l.occ.type === type);
    const shorts = ofType.filter((l) => l.side === 'sell');
    if (shorts.length === 0) return [];
    const lastShortExpiry = shorts.map((l) => l.occ.expiry).sort()[shorts.length - 1];
    const longs = ofType
      .filter((l) => l.side === 'buy' && l.occ.expiry >= lastShortExpiry)
      .reduce((n, l) => n + l.ratio_qty, 0);
    const shortQty = shorts.reduce((n, l) => n + l.ratio_qty, 0);
    return shortQty > longs ? shorts : [];
  };
  const calls = uncovered('call');
  const puts = uncovered('put');
  let undefinedRisk: UndefinedRiskStructure | null = null;
  if (calls.length > 0 && puts.length > 0) {
    const putStrikes = new Set(puts.map((l) => l.occ.strike));
    undefinedRisk = calls.some((l) => putStrikes.has(l.occ.strike)) ? 'short_straddle' : 'short_strangle';
  } else if (calls.length > 0) undefinedRisk = 'naked_short_call';
  else if (puts.length > 0) undefinedRisk = 'naked_short_put';
  return { undefinedRisk, oneExpiry: new Set(legs.map((l) => l.occ.expiry)).size === 1 };
}

/**
 * Dollars one multiple of the spread gains or loses at expiry if the underlying ends at `price`, given the
 * net price paid to open (per share: positive debit, negative credit).
 */
export function payoffAtExpiry(legs: readonly RiskLeg[], netOpenPerShare: number, price: number): number {
  let value = 0;
  for (const l of legs) {
    const intrinsic =
      l.occ.type === 'call' ? Math.max(0, price - l.occ.strike) : Math.max(0, l.occ.strike - price);
    value += (l.side === 'buy' ? 1 : -1) * l.ratio_qty * intrinsic;
  }
  return (value - netOpenPerShare) * 100;
}

/**
 * Maximum loss and profit of one multiple at expiry, dollars (positive numbers; `Infinity` when unbounded).
 * The payoff is piecewise linear with kinks at the strikes, so its extremes are at 0, at a strike, or at
 * infinity (the slope past the highest strike is the net long calls). For a debit vertical the loss is the
 * debit paid; for a credit vertical width x 100 - credit; for an iron condor the wider wing's width less the
 * credit. Only for one-expiry structures (`null` otherwise).
 */
export function spreadMaxLossAndProfit(
  legs: readonly RiskLeg[],
  netOpenPerShare: number,
): { readonly maxLoss: number; readonly maxProfit: number } | null {
  if (!spreadStructure(legs).oneExpiry) return null;
  const strikes = [0, ...legs.map((l) => l.occ.strike)];
  const values = strikes.map((s) => payoffAtExpiry(legs, netOpenPerShare, s));
  const netCalls = legs
    .filter((l) => l.occ.type === 'call')
    .reduce((n, l) => n + (l.side === 'buy' ? l.ratio_qty : -l.ratio_qty), 0);
  const worst = Math.min(...values);
  const best = Math.max(...values);
  return {
    maxLoss: netCalls < 0 ? Infinity : roundToCents(Math.max(0, -worst)),
    maxProfit: netCalls > 0 ? Infinity : roundToCents(Math.max(0, best)),
  };
}

/** The options trading level a spread needs at Alpaca: every mleg order needs Level 3. */
export function requiredTradingLevel(): number {
  return SPREAD_TRADING_LEVEL;
}

/** Input of {@link checkSpreadRisk}. */
export interface SpreadRiskInput {
  readonly recommendation_id: string;
  readonly legs: readonly RiskLeg[];
  /** The multiple: each leg trades ratio_qty x multiple. */
  readonly multiple: number;
  /** Net per share the open will pay (positive) or receive (negative): the limit, or the executable net. */
  readonly netOpenPerShare: number;
  readonly account: Pick<AccountConfig, 'name' | 'limits'>;
  /** The account's `options_trading_level` from the broker; null/undefined = unknown (refused). */
  readonly tradingLevel: number | null | undefined;
}

/** What {@link checkSpreadRisk} found, for the record. */
export interface SpreadRisk {
  readonly structure: SpreadStructure;
  /** Dollars for the whole spread (all multiples); Infinity for an allowed undefined-risk structure. */
  readonly maxLoss: number;
  readonly maxProfit: number;
}

/**
 * The spread limits, in order: the trading level (read from the account, never assumed), one expiry,
 * undefined risk (refused unless `limits.allow_undefined_risk` names the structure), contracts per order
 * (the largest leg), `limits.max_risk_per_spread` on the defined maximum loss, and `max_premium_per_position`
 * on a debit. Throws {@link RiskLimitError} naming the limit.
 */
export function checkSpreadRisk(input: SpreadRiskInput): SpreadRisk {
  const { account, legs, multiple } = input;
  const id = input.recommendation_id;
  const limits = account.limits;
  const needed = requiredTradingLevel();
  if (input.tradingLevel === null || input.tradingLevel === undefined || input.tradingLevel < needed) {
    throw new RiskLimitError(
      `account ${account.name} has options trading level ${input.tradingLevel ?? 'unknown'}; spreads (mleg) need level ${needed}`,
      'options_trading_level',
      id,
    );
  }
  const structure = spreadStructure(legs);
  if (!structure.oneExpiry) {
    throw new RiskLimitError(
      'legs expire on different dates (a calendar or diagonal): their risk is not computed, so they are refused',
      'unsupported_structure',
      id,
    );
  }
  if (structure.undefinedRisk && !limits.allow_undefined_risk.includes(structure.undefinedRisk)) {
    throw new RiskLimitError(
      `the legs make a ${structure.undefinedRisk} (undefined risk); limits.allow_undefined_risk does not name it`,
      'undefined_risk',
      id,
    );
  }
  const largestLeg = Math.max(...legs.map((l) => l.ratio_qty)) * multiple;
  if (largestLeg > limits.max_contracts_per_order) {
    throw new RiskLimitError(
      `a leg of ${largestLeg} contracts exceeds max_contracts_per_order ${limits.max_contracts_per_order}`,
      'max_contracts_per_order',
      id,
    );
  }
  const perMultiple = spreadMaxLossAndProfit(legs, input.netOpenPerShare)!;
  const maxLoss = perMultiple.maxLoss === Infinity ? Infinity : roundToCents(perMultiple.maxLoss * multiple);
  const maxProfit =
    perMultiple.maxProfit === Infinity ? Infinity : roundToCents(perMultiple.maxProfit * multiple);
  if (!structure.undefinedRisk && maxLoss > limits.max_risk_per_spread) {
    throw new RiskLimitError(
      `the spread's maximum loss $${maxLoss.toFixed(2)} exceeds limits.max_risk_per_spread $${limits.max_risk_per_spread}`,
      'max_risk_per_spread',
      id,
    );
  }
  const debit = roundToCents(Math.max(0, input.netOpenPerShare) * multiple * 100);
  if (debit > limits.max_premium_per_position) {
    throw new RiskLimitError(
      `net debit $${debit.toFixed(2)} exceeds max_premium_per_position $${limits.max_premium_per_position}`,
      'max_premium_per_position',
      id,
    );
  }
  return { structure, maxLoss, maxProfit };
}
