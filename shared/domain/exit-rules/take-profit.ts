/** The profit rules, judged on the executable side: take profit and partial exits. */
import type { Candidate, RuleInput } from './rule-input';
import { EPS, pct } from './util';

/**
 * Contracts a partial-exit level closes: `fraction` of the ORIGINAL quantity rounded down, at least 1,
 * never more than `remaining`.
 */
export function partialExitQty(fraction: number, originalQuantity: number, remaining: number): number {
  // 0.29 * 100 is 28.999...96 in doubles; the epsilon keeps a whole product whole before flooring.
  const raw = Math.floor(fraction * originalQuantity + EPS);
  return Math.max(0, Math.min(remaining, Math.max(1, raw)));
}

/** Take profit when the executable gain reached it; null otherwise. */
export function takeProfitRule(input: RuleInput): Candidate | null {
  const { profit, plan, quantity, profitPrices } = input;
  if (profit === null || plan.take_profit_pct === null || profit < plan.take_profit_pct - EPS) return null;
  return {
    reason: 'take_profit',
    qty: quantity,
    detail: `gain ${pct(profit)} >= take profit ${pct(plan.take_profit_pct)}${profitPrices}`,
  };
}

/** The lowest partial-exit level reached and not yet taken; null when none. */
export function partialExitRule(input: RuleInput): Candidate | null {
  const { profit, plan, fields, quantity, profitPrices } = input;
  if (profit === null || plan.partial_exits === null) return null;
  const level = plan.partial_exits
    .map((l, index) => ({ ...l, index }))
    .filter((l) => !fields.partialExitsDone.has(l.index) && profit >= l.gain_pct - EPS)
    .sort((a, b) => a.gain_pct - b.gain_pct || a.index - b.index)[0];
  if (!level) return null;
  const qty = partialExitQty(level.fraction, fields.originalQuantity, quantity);
  return {
    reason: 'partial_exit',
    qty,
    partialLevel: level.index,
    detail:
      `gain ${pct(profit)} >= partial level ${level.index} at ${pct(level.gain_pct)}: close ${qty} of ${quantity} ` +
      `(${level.fraction} of original ${fields.originalQuantity})${profitPrices}`,
  };
}
