/**
 * The exit rules: a pure function of (position, quote, now) that says whether to hold or to close N
 * contracts, and why. It sends nothing and reads no clock; the exit use case turns a decision into a
 * guarded order and persists the returned trailing state. Each rule lives in its own module beside this.
 */
import type { OptionQuote } from '../broker-types';
import { gainFraction, type Position, type PositionSide } from '../position';
import { readExitFields } from './fields';
import { checkQuote, markPrice } from './quote';
import type { Candidate, RuleInput } from './rule-input';
import { stopRule } from './stop-loss';
import { partialExitRule, takeProfitRule } from './take-profit';
import { expiryRule, maxHoldRule, profileTimeRule } from './time-rules';
import { advanceState, trailingStopRule } from './trailing';
import {
  DEFAULT_EXIT_PRICING,
  type ExitContext,
  type ExitDecision,
  type ExitEvaluation,
  type ExitPricing,
  type HoldReason,
  type QuoteCheck,
  type TrailingState,
} from './types';
import { isFiniteNumber, pct, px } from './util';

/**
 * Evaluates a position's exit plan at `now` against its latest quote. Pure: the same inputs always give
 * the same result, nothing is mutated, nothing is sent.
 *
 * Only an `open` position with a whole quantity ≥ 1, a positive entry price and no exit in flight is
 * evaluated. Priority when several rules fire: stop_loss / breakeven stop, trailing_stop, expiry,
 * max_hold, take_profit, partial_exit. During `min_hold_minutes` only the stop (stop_loss / breakeven)
 * may fire. Price rules need a usable quote (see {@link checkQuote}); expiry, max_hold and the profile's
 * time rules do not. The stops (stop_loss, breakeven stop, trailing stop) fire on the mark (`execution.mark`);
 * take profit, partial exits, the trailing peak and breakeven activation are judged on the executable side
 * (bid for a long, ask for a short) whatever the mark mode, so no exit fires on a price the position cannot
 * realize.
 *
 * @throws TypeError when `now` is an invalid Date (a caller bug, not a data problem).
 */
export function evaluateExit(
  position: Position,
  quote: OptionQuote | undefined | null,
  now: Date,
  execution: Partial<ExitPricing> = {},
  context: ExitContext = {},
): ExitEvaluation {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new TypeError('evaluateExit: now must be a valid Date');
  }
  const pricing: ExitPricing = {
    mark: execution.mark ?? DEFAULT_EXIT_PRICING.mark,
    max_quote_age_seconds: execution.max_quote_age_seconds ?? DEFAULT_EXIT_PRICING.max_quote_age_seconds,
  };
  const fields = readExitFields(position);
  const stored: TrailingState = {
    peak_price: fields.peakPrice,
    trailing_stop_price: fields.trailingStopPrice,
    breakeven_active: fields.breakevenActive,
  };
  const notEvaluated = notEvaluable(position);
  if (notEvaluated) {
    return {
      decision: { action: 'hold', ...notEvaluated },
      state: stored,
      stateChanged: false,
      mark: null,
      gain: null,
      executable: null,
    };
  }
  const entry = position.entry_price as number;
  const side: PositionSide = position.side === 'short' ? 'short' : 'long';
  const check = checkQuote(position.option_symbol, side, quote, now, pricing);
  const mark = check.ok ? check.mark : null;
  // Profit is judged on what a close would get: a wide spread's mid (0.50 / 16.00 → 8.25) is not a price
  // the position can realize. Stops stay on the mark (protection first).
  const executable = check.ok && quote ? markPrice(side, quote, 'bid_ask') : null;
  const profit = executable === null ? null : gainFraction(side, entry, executable);
  // State only moves on a usable price: a stale or broken quote must not drag the peak or arm a stop.
  const state =
    executable === null || profit === null
      ? stored
      : advanceState(side, entry, executable, profit, fields.plan, stored);
  const stateChanged =
    state.peak_price !== stored.peak_price ||
    state.trailing_stop_price !== stored.trailing_stop_price ||
    state.breakeven_active !== stored.breakeven_active;
  const input: RuleInput = {
    position,
    side,
    entry,
    quantity: position.quantity,
    plan: fields.plan,
    fields,
    now,
    context,
    mark,
    gain: mark === null ? null : gainFraction(side, entry, mark),
    profit,
    state,
    heldMinutes: fields.entryTimeMs === null ? null : (now.getTime() - fields.entryTimeMs) / 60_000,
    prices: mark === null ? '' : ` (mark ${px(mark)}, entry ${px(entry)})`,
    profitPrices:
      executable === null
        ? ''
        : ` (${side === 'long' ? 'bid' : 'ask'} ${px(executable)}, entry ${px(entry)})`,
  };
  return { decision: decide(input, check), state, stateChanged, mark, gain: input.gain, executable };
}

/** Why a position is not evaluated at all (not open, nothing held, no entry, a step in flight); null if it is. */
function notEvaluable(position: Position): { reason: HoldReason; detail: string } | null {
  if (position.state !== 'open') return { reason: 'not_open', detail: `state is ${String(position.state)}` };
  const quantity = position.quantity;
  if (!Number.isInteger(quantity) || quantity < 1) {
    return { reason: 'no_quantity', detail: `quantity is ${String(quantity)}` };
  }
  const entry = position.entry_price;
  if (!isFiniteNumber(entry) || entry <= 0)
    return { reason: 'no_entry_price', detail: `entry price is ${String(entry)}` };
  // An exit step already claimed must finish (or be reconciled) before another one is decided.
  if (position.pending_exit) {
    return { reason: 'exit_pending', detail: `exit step ${String(position.pending_exit.seq)} is in flight` };
  }
  return null;
}

/** Runs the rules in priority order and picks the decision: the first stop, else (outside min hold) the first other. */
function decide(input: RuleInput, check: QuoteCheck): ExitDecision {
  const { plan, heldMinutes, mark } = input;
  const stops = [stopRule(input), profileTimeRule(input)].filter((c): c is Candidate => c !== null);
  const expiry = expiryRule(input);
  const maxHold = maxHoldRule(input);
  const others = [
    trailingStopRule(input),
    expiry.candidate,
    maxHold.candidate,
    takeProfitRule(input),
    partialExitRule(input),
  ].filter((c): c is Candidate => c !== null);
  const notes = [expiry.note, maxHold.note].filter((n): n is string => n !== null);

  const inMinHold =
    plan.min_hold_minutes !== null && heldMinutes !== null && heldMinutes < plan.min_hold_minutes;
  const chosen = stops[0] ?? (inMinHold ? undefined : others[0]);
  if (chosen) {
    const quoteNote = check.ok ? '' : ` [${check.problem}: ${check.detail}]`;
    return {
      action: 'close',
      qty: chosen.qty,
      reason: chosen.reason,
      ...(chosen.partialLevel === undefined ? {} : { partialLevel: chosen.partialLevel }),
      mark,
      detail: chosen.detail + quoteNote,
    };
  }

  const tail = notes.length ? `; ${notes.join('; ')}` : '';
  if (!check.ok) {
    return {
      action: 'hold',
      reason: check.problem,
      detail: `${check.detail}; price rules not evaluated${tail}`,
    };
  }
  const gainNote = `gain ${pct(input.gain ?? 0)}${input.prices}${tail}`;
  if (inMinHold) {
    const suppressed = others.map((c) => c.reason);
    return {
      action: 'hold',
      reason: 'min_hold',
      detail:
        `held ${(heldMinutes ?? 0).toFixed(1)} min < min_hold ${plan.min_hold_minutes} min` +
        (suppressed.length ? `; suppressed ${suppressed.join(', ')}` : '') +
        `; ${gainNote}`,
    };
  }
  return { action: 'hold', reason: 'no_rule_fired', detail: gainNote };
}
