/**
 * A spread's exit rules, on its net executable value (docs/SPREADS.md "Managing on the net price"): the
 * sweep, its polls and the exit-plan lab all decide with {@link evaluateSpreadExit}. Pure.
 *
 * In order: flatten (the kill switch or the daily loss breaker), the expiry day (closed as a unit from
 * 15:10 New York time unless `at_expiry` holds it), `close_before_expiry_days`, `max_hold_minutes`, then
 * the price rules on the net value: `stop_loss_pct` (a debit's loss as a share of the debit; a credit's as
 * a share of its maximum loss), `take_profit_pct` (a debit's gain as a share of the debit; a credit's as a
 * share of its maximum profit, the credit). During `min_hold_minutes` only the stop acts. Trailing,
 * partial and breakeven rules are single-leg only (a spread message asking for them is refused).
 */
import type { ExitPlan } from './exit-plan';
import { daysUntil } from './market-time';
import { parseOccSymbol } from './occ';
import { spreadExpiryCloseDue } from './spread-expiry';
import type { SpreadExitReason } from './spread-position';
import { netCloseValue, spreadGainFraction, type LegQuote } from './spread-pricing';
import type { HeldSpreadLeg } from './spread-types';

const EPS = 1e-9;

/** What {@link evaluateSpreadExit} reads. */
export interface SpreadExitInput {
  readonly legs: readonly HeldSpreadLeg[];
  readonly plan: ExitPlan;
  /** Per share of one multiple: + debit paid, − credit received (from the legs' fills). */
  readonly netOpenPerShare: number;
  /** Per share of one multiple (the defined maximum loss); null when undefined. */
  readonly maxLossPerShare: number | null;
  /** When the open filled. */
  readonly entryTime: string | null;
  readonly quotes: ReadonlyMap<string, LegQuote>;
  readonly now: Date;
  /** The broker's close of today's session, when known. */
  readonly sessionClose?: Date | null;
  /** The account asks every position closed (kill switch flatten, daily loss breaker). */
  readonly flatten?: boolean;
}

/** The decision, with the net value it was taken at (null when the legs could not all be priced). */
export type SpreadExitDecision =
  | {
      readonly due: true;
      readonly reason: SpreadExitReason;
      readonly detail: string;
      readonly valuePerShare: number | null;
    }
  | { readonly due: false; readonly detail: string; readonly valuePerShare: number | null };

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The expiry dates of the legs (`YYYY-MM-DD`); a leg whose symbol does not parse is left out. */
export function legExpiries(legs: readonly Pick<HeldSpreadLeg, 'option_symbol'>[]): string[] {
  return legs.flatMap((l) => {
    const occ = parseOccSymbol(l.option_symbol);
    return occ.ok ? [occ.value.expiry] : [];
  });
}

/** Whether the spread's plan closes it now, and why. */
export function evaluateSpreadExit(input: SpreadExitInput): SpreadExitDecision {
  const { plan, now } = input;
  const priced = netCloseValue(input.legs, input.quotes);
  const value = priced.ok ? priced.perShare : null;
  const due = (reason: SpreadExitReason, detail: string): SpreadExitDecision => ({
    due: true,
    reason,
    detail,
    valuePerShare: value,
  });
  if (input.flatten) return due('flatten', 'the account asks every position closed');
  const expiries = legExpiries(input.legs);
  const expiry = spreadExpiryCloseDue({
    legExpiries: expiries,
    plan,
    now,
    sessionClose: input.sessionClose ?? null,
  });
  if (expiry.due) return due('expiry', expiry.reason);
  if (plan.close_before_expiry_days !== null && expiries.length) {
    const days = daysUntil([...expiries].sort()[0]!, now);
    if (days <= plan.close_before_expiry_days) {
      return due('time_rule', `the first leg expires in ${days} day(s) <= close_before_expiry_days`);
    }
  }
  const heldMinutes =
    input.entryTime === null ? null : (now.getTime() - Date.parse(input.entryTime)) / 60_000;
  if (plan.max_hold_minutes !== null && heldMinutes !== null && heldMinutes >= plan.max_hold_minutes) {
    return due('max_hold', `held ${heldMinutes.toFixed(1)} min >= max_hold ${plan.max_hold_minutes} min`);
  }
  if (!priced.ok) return { due: false, detail: `price rules wait: ${priced.reason}`, valuePerShare: null };
  const gain = spreadGainFraction({
    netOpenPerShare: input.netOpenPerShare,
    closeValuePerShare: priced.perShare,
    maxLossPerShare: input.maxLossPerShare,
  });
  if (gain === null) return { due: false, detail: 'no gain share to judge', valuePerShare: value };
  const at = `net value ${priced.perShare.toFixed(2)} vs open ${input.netOpenPerShare.toFixed(2)}`;
  if (plan.stop_loss_pct !== null && gain <= -plan.stop_loss_pct + EPS) {
    return due('stop_loss', `loss ${pct(-gain)} >= stop loss ${pct(plan.stop_loss_pct)} (${at})`);
  }
  const holding =
    plan.min_hold_minutes !== null && heldMinutes !== null && heldMinutes < plan.min_hold_minutes;
  if (plan.take_profit_pct !== null && gain >= plan.take_profit_pct - EPS) {
    if (holding)
      return { due: false, detail: `take profit waits for min_hold (${at})`, valuePerShare: value };
    return due('take_profit', `gain ${pct(gain)} >= take profit ${pct(plan.take_profit_pct)} (${at})`);
  }
  return { due: false, detail: `gain ${pct(gain)} (${at})`, valuePerShare: value };
}
