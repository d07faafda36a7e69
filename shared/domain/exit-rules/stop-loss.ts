/** The stop: stop_loss, or the breakeven stop once breakeven is armed (both judged on the mark). */
import type { Candidate, RuleInput } from './rule-input';
import { EPS, pct } from './util';

/** The stop_loss or breakeven stop when it fires; null otherwise or without a mark. */
export function stopRule(input: RuleInput): Candidate | null {
  const { gain, plan, state, quantity, prices } = input;
  if (gain === null) return null;
  // Once breakeven is armed the stop sits at the entry price, above any stop_loss level, so a loss that
  // is past both is reported as the breakeven stop.
  if (plan.breakeven_at_pct !== null && state.breakeven_active && gain <= EPS) {
    return {
      reason: 'breakeven',
      qty: quantity,
      detail: `gain ${pct(gain)} <= 0 after breakeven armed at ${pct(plan.breakeven_at_pct)}${prices}`,
    };
  }
  if (plan.stop_loss_pct !== null && -gain >= plan.stop_loss_pct - EPS) {
    return {
      reason: 'stop_loss',
      qty: quantity,
      detail: `loss ${pct(-gain)} >= stop ${pct(plan.stop_loss_pct)}${prices}`,
    };
  }
  return null;
}
