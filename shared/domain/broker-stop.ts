/**
 * The protective stop resting at the broker (`exit_execution.broker_stop`): where it sits, how it is
 * built, and when it must be replaced. Pure: the sweep (`use-cases/sweep/protective-stops.ts`) sends what this
 * decides. The order is a plain intent-free `stop` / `stop_limit` on the recorded symbol, reducing side,
 * `gtc`, so it fires at exchange speed and survives any outage of the pipeline.
 */
import type { AccountConfig } from './account-config';
import { alignToTick } from './exit-pricing';
import { reducingSide, stopClientOrderId, type OrderRequest } from './orders';
import type { Position } from './position';
import type { TrailingState } from './exit-rules/types';

/** Which exit rule the resting stop stands for (the close reason when it fills). */
export type BrokerStopReason = 'stop_loss' | 'trailing_stop' | 'breakeven';

/** A position's protective order at the broker, as recorded on the position. */
export interface BrokerStop {
  /** Placements and replacements so far; part of the client_order_id. */
  readonly seq: number;
  readonly client_order_id: string;
  /** null while the placement is claimed and not yet acknowledged. */
  readonly order_id: string | null;
  readonly type: 'stop' | 'stop_limit';
  /** Per share, on the tick grid. */
  readonly stop_price: number;
  /** Per share, for `stop_limit`. */
  readonly limit_price: number | null;
  readonly qty: number;
  readonly reason: BrokerStopReason;
  readonly placed_at: string;
  /** Contracts of this order already booked on the position (a stop may fill in parts). */
  readonly filled_booked?: number;
  /** Set when this pipeline asked the broker to cancel it (to free its contracts for another exit). */
  readonly cancel_requested_at?: string | null;
  /**
   * The order this one replaced (a PATCH), and what of it was booked then. A successful PATCH does not
   * guarantee the old order was replaced: if it filled first, this one is rejected or cancelled. When this
   * one ends without a fill, the replaced order is looked up and what it filled is booked.
   */
  readonly replaced?: { readonly client_order_id: string; readonly filled_booked: number } | null;
}

/** What the resting stop should be now. */
export interface BrokerStopTerms {
  readonly type: 'stop' | 'stop_limit';
  readonly stop_price: number;
  readonly limit_price: number | null;
  readonly reason: BrokerStopReason;
}

/** The grid's tick at a price: $0.05 below $3.00, $0.10 at or above. */
export function gridTick(pricePerShare: number): number {
  return pricePerShare < 3 ? 0.05 : 0.1;
}

/**
 * The plan's stop level now, before alignment: the tightest of stop_loss, the breakeven stop (entry, once
 * armed) and the trailing stop (for a long the highest, for a short the lowest), with the rule it stands
 * for. null when no stop rule is on (nothing to rest at the broker) or the entry is unknown.
 */
export function protectiveStopLevel(
  p: Pick<Position, 'side' | 'entry_price' | 'exit_plan'>,
  state: TrailingState,
): { price: number; reason: BrokerStopReason } | null {
  const entry = p.entry_price;
  if (!entry || entry <= 0) return null;
  const long = p.side === 'long';
  const plan = p.exit_plan;
  const levels: Array<{ price: number; reason: BrokerStopReason }> = [];
  if (plan.stop_loss_pct !== null) {
    levels.push({
      price: long ? entry * (1 - plan.stop_loss_pct) : entry * (1 + plan.stop_loss_pct),
      reason: 'stop_loss',
    });
  }
  if (plan.breakeven_at_pct !== null && state.breakeven_active)
    levels.push({ price: entry, reason: 'breakeven' });
  if (plan.trailing_stop_pct !== null && state.trailing_stop_price !== null) {
    levels.push({ price: state.trailing_stop_price, reason: 'trailing_stop' });
  }
  if (levels.length === 0) return null;
  // Ties keep the earlier rule (stop_loss before breakeven before trailing), like the exit rules' priority.
  return levels.reduce((best, l) => ((long ? l.price > best.price : l.price < best.price) ? l : best));
}

/**
 * The resting order's terms: the stop on the grid in the protective direction (up for a long's sell stop,
 * so it fires no later than the plan's level; down for a short's buy stop), and for `stop_limit` the limit
 * `broker_stop_limit_slippage_pct` beyond it, rounded further in the same direction it gives room (down
 * for a sell, up for a buy). null when the account keeps no broker stop or the plan has no stop level.
 */
export function brokerStopTerms(
  p: Pick<Position, 'side' | 'entry_price' | 'exit_plan'>,
  state: TrailingState,
  exec: Pick<AccountConfig['exit_execution'], 'broker_stop' | 'broker_stop_limit_slippage_pct'>,
): BrokerStopTerms | null {
  if (exec.broker_stop === null) return null;
  const level = protectiveStopLevel(p, state);
  if (!level || !(level.price > 0)) return null;
  const long = p.side === 'long';
  const stop = alignToTick(level.price, long ? 'up' : 'down');
  if (exec.broker_stop === 'stop') {
    return { type: 'stop', stop_price: stop, limit_price: null, reason: level.reason };
  }
  const slip = exec.broker_stop_limit_slippage_pct;
  const limit = long ? alignToTick(stop * (1 - slip), 'down') : alignToTick(stop * (1 + slip), 'up');
  return { type: 'stop_limit', stop_price: stop, limit_price: limit, reason: level.reason };
}

/**
 * The change the resting stop needs, or null when it is true enough: a new stop price only when it moved
 * by at least one tick (a PATCH costs a request and a new order), a new qty whenever the position's differs.
 */
export function brokerStopChange(
  current: Pick<BrokerStop, 'stop_price' | 'limit_price' | 'qty' | 'type'>,
  desired: BrokerStopTerms,
  qty: number,
): { stop_price?: number; limit_price?: number; qty?: number } | null {
  const tick = gridTick(Math.min(current.stop_price, desired.stop_price));
  const moved = Math.abs(desired.stop_price - current.stop_price) >= tick - 1e-9;
  const change: { stop_price?: number; limit_price?: number; qty?: number } = {};
  if (moved) {
    change.stop_price = desired.stop_price;
    if (current.type === 'stop_limit' && desired.limit_price !== null)
      change.limit_price = desired.limit_price;
  }
  if (qty !== current.qty) change.qty = qty;
  return Object.keys(change).length ? change : null;
}

/**
 * True when the resting stop protects at least as well as `desired` (a long's sell stop at or above the
 * level, a short's buy stop at or below): the sweep's own stop then leaves the close to it.
 */
export function protectsAtLeast(side: Position['side'], restingStop: number, desired: number): boolean {
  return side === 'long' ? restingStop >= desired - 1e-9 : restingStop <= desired + 1e-9;
}

/**
 * The protective order: intent-free (Alpaca infers the close from the position it holds; safety rule 1),
 * on the recorded option symbol (rule 2), reducing side, `gtc`, for `qty` the caller took from the exit
 * budget (rule 3), with its deterministic client_order_id (rule 4).
 */
export function buildProtectiveStopOrder(args: {
  position: Pick<Position, 'account' | 'position_id' | 'option_symbol' | 'side'>;
  qty: number;
  seq: number;
  terms: BrokerStopTerms;
}): OrderRequest {
  const { position: p, terms } = args;
  if (!Number.isInteger(args.qty) || args.qty < 1) {
    throw new RangeError(`protective stop qty must be a whole number >= 1, got ${args.qty}`);
  }
  return {
    symbol: p.option_symbol,
    qty: args.qty,
    side: reducingSide(p.side),
    type: terms.type,
    time_in_force: 'gtc',
    stop_price: terms.stop_price,
    ...(terms.type === 'stop_limit' && terms.limit_price !== null ? { limit_price: terms.limit_price } : {}),
    client_order_id: stopClientOrderId(p.account, p.position_id, args.seq),
  };
}
