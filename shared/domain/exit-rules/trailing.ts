/** The trailing stop: its state (peak, stop, breakeven armed) and the rule that fires on it. */
import type { ExitPlan } from '../exit-plan';
import { gainFraction, type PositionSide } from '../position';
import type { Candidate, RuleInput } from './rule-input';
import type { TrailingState } from './types';
import { EPS, pct, px, round6 } from './util';

/**
 * Moves the trailing and breakeven state for one usable executable price (bid for a long, ask for a short):
 * a peak or an activation the position could not realize is no peak. Never loosens a stop.
 */
export function advanceState(
  side: PositionSide,
  entry: number,
  mark: number,
  gain: number,
  plan: ExitPlan,
  stored: TrailingState,
): TrailingState {
  let { peak_price: peak, trailing_stop_price: stop } = stored;
  const better = side === 'long' ? Math.max : Math.min;
  if (plan.trailing_stop_pct !== null) {
    // The entry fill is itself a price since entry, so a record without a peak starts from it.
    peak = better(peak ?? entry, entry, mark);
    // "Once gain >= activation" is the same as "the best price so far reached it": no extra flag needed.
    const active =
      plan.trail_activation_pct === null ||
      gainFraction(side, entry, peak) >= plan.trail_activation_pct - EPS;
    if (active) {
      const candidate = round6(
        side === 'long' ? peak * (1 - plan.trailing_stop_pct) : peak * (1 + plan.trailing_stop_pct),
      );
      stop = stop === null ? candidate : better(stop, candidate);
    }
  }
  const breakevenActive =
    stored.breakeven_active || (plan.breakeven_at_pct !== null && gain >= plan.breakeven_at_pct - EPS);
  return { peak_price: peak, trailing_stop_price: stop, breakeven_active: breakevenActive };
}

/** The trailing stop when the mark has crossed it; null otherwise or without a mark. */
export function trailingStopRule(input: RuleInput): Candidate | null {
  const { mark, plan, state, side, quantity, entry } = input;
  if (mark === null || plan.trailing_stop_pct === null || state.trailing_stop_price === null) return null;
  const stop = state.trailing_stop_price;
  const hit = side === 'long' ? mark <= stop + EPS : mark >= stop - EPS;
  if (!hit) return null;
  const best = side === 'long' ? 'peak' : 'trough';
  return {
    reason: 'trailing_stop',
    qty: quantity,
    detail:
      `mark ${px(mark)} ${side === 'long' ? '<=' : '>='} trailing stop ${px(stop)} ` +
      `(${best} ${state.peak_price === null ? '?' : px(state.peak_price)}, trail ${pct(plan.trailing_stop_pct)}, entry ${px(entry)})`,
  };
}
