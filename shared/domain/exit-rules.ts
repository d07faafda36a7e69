/**
 * The exit rules: a pure function of (position, quote, now) that says whether to hold or to close N
 * contracts, and why. It sends nothing and reads no clock; the exit use case turns a decision into a
 * guarded order and persists the returned trailing state.
 */
import type { OptionQuote } from './broker-types';
import { SYSTEM_EXIT_DEFAULTS, exitPlanSchema, isReadExitPlan, type ExitPlan } from './exit-plan';
import { daysUntil } from './market-time';
import { parseOccSymbol } from './occ';
import { evaluateProfileTimeRules, profileTimeRulesSchema } from './strategy-profiles';
import { gainFraction, type ExitReason, type Position, type PositionSide } from './position';

/** How a quote becomes a price: `mid` = (bid+ask)/2; `bid_ask` = the side a close trades on. */
export type MarkMode = 'mid' | 'bid_ask';

/** The part of an account's `exit_execution` the rules need (structurally a subset of it). */
export interface ExitPricing {
  /** @default 'mid' */
  readonly mark: MarkMode;
  /** A quote older than this (seconds, relative to `now`) is stale. @default 120 */
  readonly max_quote_age_seconds: number;
}

/** Same defaults as `exitExecutionSchema`. */
export const DEFAULT_EXIT_PRICING: ExitPricing = Object.freeze({ mark: 'mid', max_quote_age_seconds: 120 });

/** Why a quote cannot be used to price a position. */
export type QuoteProblem = 'no_quote' | 'stale_quote' | 'crossed_quote' | 'bad_quote';

/** Why an evaluation decided to hold. */
export type HoldReason =
  | 'not_open'
  | 'no_quantity'
  | 'no_entry_price'
  | 'exit_pending'
  | QuoteProblem
  | 'min_hold'
  | 'no_rule_fired';

/** The reasons the rules can give; `flatten` is an operator action, never a rule. */
export type RuleExitReason = Exclude<ExitReason, 'flatten'>;

/** One decision per evaluation. `detail` is a human sentence for the operational log. */
export type ExitDecision =
  | { readonly action: 'hold'; readonly reason: HoldReason; readonly detail: string }
  | {
      readonly action: 'close';
      /** Whole contracts, 1 ≤ qty ≤ position.quantity. */
      readonly qty: number;
      /** The rules only give {@link RuleExitReason}s; `flatten` is for a use case's own operator decision. */
      readonly reason: ExitReason;
      /** Index into `exit_plan.partial_exits` when reason is `partial_exit`. */
      readonly partialLevel?: number;
      /** Per share; null when a time rule fired without a usable quote. */
      readonly mark: number | null;
      readonly detail: string;
    };

/** Trailing fields of the position record, as they should be after this evaluation. */
export interface TrailingState {
  /** Best mark since entry: peak for a long, trough for a short (per share). */
  readonly peak_price: number | null;
  /** Per share; null until the trailing stop is active. */
  readonly trailing_stop_price: number | null;
  readonly breakeven_active: boolean;
}

/** What the sweep knows beyond the position and the quote. */
export interface ExitContext {
  /** The broker's close of today's session (early closes count); null/absent when unknown or closed. */
  readonly sessionClose?: Date | null;
}

/** Result of {@link evaluateExit}. */
export interface ExitEvaluation {
  readonly decision: ExitDecision;
  /** Persist these fields (conditionally on the record's version) when `stateChanged`, whatever the decision. */
  readonly state: TrailingState;
  /** True when `state` differs from what the record holds. */
  readonly stateChanged: boolean;
  /** Price used for the price rules, per share; null when the quote was unusable. */
  readonly mark: number | null;
  /** Gain at `mark` as a fraction of entry, signed for the side; null without a mark. */
  readonly gain: number | null;
  /**
   * The price a close would get now (bid for a long, ask for a short), per share: what take profit, partial
   * exits, the trailing peak and breakeven activation are judged on. Null without a usable quote or when
   * that side is empty.
   */
  readonly executable: number | null;
}

/** Exit fields of a position with the derived values older records lack. */
export interface ExitFields {
  readonly plan: ExitPlan;
  /** Contracts the position opened with; never less than what is held now. */
  readonly originalQuantity: number;
  readonly partialExitsDone: ReadonlySet<number>;
  readonly peakPrice: number | null;
  readonly trailingStopPrice: number | null;
  readonly breakevenActive: boolean;
  /** Epoch ms of entry (`entry_time`, else `created_at`); null when neither parses. */
  readonly entryTimeMs: number | null;
}

/** Result of {@link checkQuote}. */
export type QuoteCheck =
  | { readonly ok: true; readonly mark: number }
  | { readonly ok: false; readonly problem: QuoteProblem; readonly detail: string };

// Gains and prices are doubles computed from cent prices: (1.21 - 1.10) / 1.10 is 0.0999...88, so a
// threshold hit "exactly" must tolerate rounding noise. 1e-9 is far below any meaningful price move.
const EPS = 1e-9;

const PLAN_KEYS = Object.keys(SYSTEM_EXIT_DEFAULTS) as Array<keyof ExitPlan>;

/**
 * The price of a position from a quote: `mid` = (bid+ask)/2; `bid_ask` = bid for a long (what selling
 * gets), ask for a short (what buying back costs). Null when that price is not a positive finite number.
 */
export function markPrice(side: PositionSide, quote: OptionQuote, mode: MarkMode): number | null {
  if (mode === 'bid_ask') return positiveOrNull(side === 'long' ? quote.bid : quote.ask);
  return positiveOrNull((quote.bid + quote.ask) / 2);
}

/**
 * Checks a quote for `symbol` at `now` and prices it. A missing, malformed, stale (older than
 * `max_quote_age_seconds`), crossed (bid > ask) or non-positive quote is refused with the reason.
 */
export function checkQuote(
  symbol: string,
  side: PositionSide,
  quote: OptionQuote | undefined | null,
  now: Date,
  pricing: ExitPricing = DEFAULT_EXIT_PRICING,
): QuoteCheck {
  if (!quote) return { ok: false, problem: 'no_quote', detail: `no quote for ${symbol}` };
  const { bid, ask } = quote;
  if (quote.symbol !== symbol) {
    return { ok: false, problem: 'bad_quote', detail: `quote is for ${quote.symbol}, not ${symbol}` };
  }
  if (!isFiniteNumber(bid) || !isFiniteNumber(ask) || bid < 0 || ask <= 0) {
    return { ok: false, problem: 'bad_quote', detail: `unusable quote bid ${bid} ask ${ask}` };
  }
  const quotedAt = Date.parse(quote.quoteTime);
  if (Number.isNaN(quotedAt)) {
    return {
      ok: false,
      problem: 'bad_quote',
      detail: `unparsable quote time ${JSON.stringify(quote.quoteTime)}`,
    };
  }
  const ageSeconds = (now.getTime() - quotedAt) / 1000;
  // A quote slightly in the future is clock skew between Alpaca and us, not a reason to distrust it.
  if (ageSeconds > pricing.max_quote_age_seconds) {
    return {
      ok: false,
      problem: 'stale_quote',
      detail: `quote is ${Math.round(ageSeconds)}s old > max ${pricing.max_quote_age_seconds}s`,
    };
  }
  if (bid > ask) {
    return { ok: false, problem: 'crossed_quote', detail: `crossed quote bid ${px(bid)} > ask ${px(ask)}` };
  }
  const mark = markPrice(side, quote, pricing.mark);
  if (mark === null) {
    return {
      ok: false,
      problem: 'bad_quote',
      detail: `no positive ${pricing.mark} price (bid ${px(bid)}, ask ${px(ask)})`,
    };
  }
  return { ok: true, mark };
}

/**
 * Contracts a partial-exit level closes: `fraction` of the ORIGINAL quantity rounded down, at least 1,
 * never more than `remaining`.
 */
export function partialExitQty(fraction: number, originalQuantity: number, remaining: number): number {
  // 0.29 * 100 is 28.999...96 in doubles; the epsilon keeps a whole product whole before flooring.
  const raw = Math.floor(fraction * originalQuantity + EPS);
  return Math.max(0, Math.min(remaining, Math.max(1, raw)));
}

/**
 * Reads the exit-related fields of a record written by any version of the pipeline, never throwing:
 * a missing or invalid exit-plan field takes the system default (the rule `readStoredExitPlan` uses),
 * `original_quantity` ← `quantity`, `partial_exits_done` ← [], `breakeven_active` ← false, entry time
 * ← `created_at`. `partial_exits` keeps its stored order, because `partial_exits_done` indexes into it.
 */
export function readExitFields(position: Position): ExitFields {
  const p = position as Partial<Record<keyof Position, unknown>>;
  const quantity = isFiniteNumber(p.quantity) ? p.quantity : 0;
  const original = isFiniteNumber(p.original_quantity) ? Math.floor(p.original_quantity) : quantity;
  const done = Array.isArray(p.partial_exits_done)
    ? p.partial_exits_done.filter((i): i is number => Number.isInteger(i))
    : [];
  return {
    plan: readPlan(p.exit_plan),
    originalQuantity: Math.max(original, quantity),
    partialExitsDone: new Set(done),
    peakPrice: positiveOrNull(p.peak_price),
    trailingStopPrice: positiveOrNull(p.trailing_stop_price),
    breakevenActive: p.breakeven_active === true,
    entryTimeMs: parseTime(p.entry_time) ?? parseTime(p.created_at),
  };
}

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
  const hold = (reason: HoldReason, detail: string): ExitEvaluation => ({
    decision: { action: 'hold', reason, detail },
    state: stored,
    stateChanged: false,
    mark: null,
    gain: null,
    executable: null,
  });

  if (position.state !== 'open') return hold('not_open', `state is ${String(position.state)}`);
  const quantity = position.quantity;
  if (!Number.isInteger(quantity) || quantity < 1) {
    return hold('no_quantity', `quantity is ${String(quantity)}`);
  }
  const entry = position.entry_price;
  if (!isFiniteNumber(entry) || entry <= 0) return hold('no_entry_price', `entry price is ${String(entry)}`);
  // An exit step already claimed must finish (or be reconciled) before another one is decided.
  if (position.pending_exit) {
    return hold('exit_pending', `exit step ${String(position.pending_exit.seq)} is in flight`);
  }

  const side: PositionSide = position.side === 'short' ? 'short' : 'long';
  const { plan } = fields;
  const check = checkQuote(position.option_symbol, side, quote, now, pricing);
  const mark = check.ok ? check.mark : null;
  const gain = mark === null ? null : gainFraction(side, entry, mark);
  // Profit is judged on what a close would get: a wide spread's mid (0.50 / 16.00 → 8.25) is not a price
  // the position can realize. Stops stay on the mark (protection first).
  const executable = check.ok && quote ? markPrice(side, quote, 'bid_ask') : null;
  const profit = executable === null ? null : gainFraction(side, entry, executable);
  // State only moves on a usable price: a stale or broken quote must not drag the peak or arm a stop.
  const state =
    executable === null || profit === null
      ? stored
      : advanceState(side, entry, executable, profit, plan, stored);
  const stateChanged =
    state.peak_price !== stored.peak_price ||
    state.trailing_stop_price !== stored.trailing_stop_price ||
    state.breakeven_active !== stored.breakeven_active;
  const prices = mark === null ? '' : ` (mark ${px(mark)}, entry ${px(entry)})`;
  const profitPrices =
    executable === null ? '' : ` (${side === 'long' ? 'bid' : 'ask'} ${px(executable)}, entry ${px(entry)})`;

  type Candidate = { reason: RuleExitReason; qty: number; detail: string; partialLevel?: number };
  const stops: Candidate[] = [];
  const others: Candidate[] = [];

  if (gain !== null) {
    // Once breakeven is armed the stop sits at the entry price, above any stop_loss level, so a loss that
    // is past both is reported as the breakeven stop.
    if (plan.breakeven_at_pct !== null && state.breakeven_active && gain <= EPS) {
      stops.push({
        reason: 'breakeven',
        qty: quantity,
        detail: `gain ${pct(gain)} <= 0 after breakeven armed at ${pct(plan.breakeven_at_pct)}${prices}`,
      });
    } else if (plan.stop_loss_pct !== null && -gain >= plan.stop_loss_pct - EPS) {
      stops.push({
        reason: 'stop_loss',
        qty: quantity,
        detail: `loss ${pct(-gain)} >= stop ${pct(plan.stop_loss_pct)}${prices}`,
      });
    }
  }

  if (mark !== null && plan.trailing_stop_pct !== null && state.trailing_stop_price !== null) {
    const stop = state.trailing_stop_price;
    const hit = side === 'long' ? mark <= stop + EPS : mark >= stop - EPS;
    if (hit) {
      const best = side === 'long' ? 'peak' : 'trough';
      others.push({
        reason: 'trailing_stop',
        qty: quantity,
        detail:
          `mark ${px(mark)} ${side === 'long' ? '<=' : '>='} trailing stop ${px(stop)} ` +
          `(${best} ${state.peak_price === null ? '?' : px(state.peak_price)}, trail ${pct(plan.trailing_stop_pct)}, entry ${px(entry)})`,
      });
    }
  }

  // A strategy profile's time rules (close by 15:55 ET, no overnight, out on expiry day) are the profile's
  // stop in time: like the stop, they fire during min_hold and without a quote.
  if (position.time_rules) {
    const rules = profileTimeRulesSchema.safeParse(position.time_rules);
    const occ = parseOccSymbol(String(position.option_symbol));
    if (rules.success && occ.ok && fields.entryTimeMs !== null) {
      const t = evaluateProfileTimeRules({
        rules: rules.data,
        now,
        sessionClose: context.sessionClose ?? null,
        expiry: occ.value.expiry,
        openedAt: new Date(fields.entryTimeMs),
      });
      if (t.action === 'close')
        stops.push({ reason: 'time_rule', qty: quantity, detail: `${t.rule}: ${t.detail}` });
    }
  }

  // expiry and max_hold are about time, not price: a position must not be carried into expiry (or past
  // its holding limit) just because its quote is missing or stale, so they fire without a usable quote.
  const notes: string[] = [];
  if (plan.close_before_expiry_days !== null) {
    const occ = parseOccSymbol(String(position.option_symbol));
    if (occ.ok) {
      const days = daysUntil(occ.value.expiry, now);
      if (days <= plan.close_before_expiry_days) {
        others.push({
          reason: 'expiry',
          qty: quantity,
          detail: `expires ${occ.value.expiry}, ${days} day(s) away (New York) <= close_before_expiry_days ${plan.close_before_expiry_days}`,
        });
      }
    } else {
      notes.push(`expiry rule skipped: ${occ.error}`);
    }
  }

  const heldMinutes = fields.entryTimeMs === null ? null : (now.getTime() - fields.entryTimeMs) / 60_000;
  if (plan.max_hold_minutes !== null) {
    if (heldMinutes === null) {
      notes.push('max_hold skipped: no entry time');
    } else if (heldMinutes >= plan.max_hold_minutes) {
      others.push({
        reason: 'max_hold',
        qty: quantity,
        detail: `held ${heldMinutes.toFixed(1)} min >= max_hold ${plan.max_hold_minutes} min`,
      });
    }
  }

  if (profit !== null && plan.take_profit_pct !== null && profit >= plan.take_profit_pct - EPS) {
    others.push({
      reason: 'take_profit',
      qty: quantity,
      detail: `gain ${pct(profit)} >= take profit ${pct(plan.take_profit_pct)}${profitPrices}`,
    });
  }

  if (profit !== null && plan.partial_exits !== null) {
    const level = plan.partial_exits
      .map((l, index) => ({ ...l, index }))
      .filter((l) => !fields.partialExitsDone.has(l.index) && profit >= l.gain_pct - EPS)
      .sort((a, b) => a.gain_pct - b.gain_pct || a.index - b.index)[0];
    if (level) {
      const qty = partialExitQty(level.fraction, fields.originalQuantity, quantity);
      others.push({
        reason: 'partial_exit',
        qty,
        partialLevel: level.index,
        detail:
          `gain ${pct(profit)} >= partial level ${level.index} at ${pct(level.gain_pct)}: close ${qty} of ${quantity} ` +
          `(${level.fraction} of original ${fields.originalQuantity})${profitPrices}`,
      });
    }
  }

  const inMinHold =
    plan.min_hold_minutes !== null && heldMinutes !== null && heldMinutes < plan.min_hold_minutes;
  const chosen = stops[0] ?? (inMinHold ? undefined : others[0]);
  if (chosen) {
    const quoteNote = check.ok ? '' : ` [${check.problem}: ${check.detail}]`;
    return {
      decision: {
        action: 'close',
        qty: chosen.qty,
        reason: chosen.reason,
        ...(chosen.partialLevel === undefined ? {} : { partialLevel: chosen.partialLevel }),
        mark,
        detail: chosen.detail + quoteNote,
      },
      state,
      stateChanged,
      mark,
      gain,
      executable,
    };
  }

  const tail = notes.length ? `; ${notes.join('; ')}` : '';
  let decision: ExitDecision;
  if (!check.ok) {
    decision = {
      action: 'hold',
      reason: check.problem,
      detail: `${check.detail}; price rules not evaluated${tail}`,
    };
  } else if (inMinHold) {
    const suppressed = others.map((c) => c.reason);
    decision = {
      action: 'hold',
      reason: 'min_hold',
      detail:
        `held ${(heldMinutes ?? 0).toFixed(1)} min < min_hold ${plan.min_hold_minutes} min` +
        (suppressed.length ? `; suppressed ${suppressed.join(', ')}` : '') +
        `; gain ${pct(gain ?? 0)}${prices}${tail}`,
    };
  } else {
    decision = { action: 'hold', reason: 'no_rule_fired', detail: `gain ${pct(gain ?? 0)}${prices}${tail}` };
  }
  return { decision, state, stateChanged, mark, gain, executable };
}

/**
 * Moves the trailing and breakeven state for one usable executable price (bid for a long, ask for a short):
 * a peak or an activation the position could not realize is no peak. Never loosens a stop.
 */
function advanceState(
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

/** Each field on its own: a valid stored value wins, a missing or invalid one takes the system default. */
function readPlan(raw: unknown): ExitPlan {
  // A plan the store read (every position a sweep evaluates) is complete, valid and frozen already.
  if (isReadExitPlan(raw)) return raw;
  const stored = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...SYSTEM_EXIT_DEFAULTS };
  for (const key of PLAN_KEYS) {
    if (stored[key] === undefined) continue;
    const parsed = exitPlanSchema.safeParse({ [key]: stored[key] });
    if (parsed.success) out[key] = parsed.data[key] ?? null;
  }
  const partials = out.partial_exits as ExitPlan['partial_exits'];
  if (partials && partials.length === 0) out.partial_exits = null;
  return out as unknown as ExitPlan;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function positiveOrNull(v: unknown): number | null {
  return isFiniteNumber(v) && v > 0 ? v : null;
}

function parseTime(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

// Stops are persisted and logged: 3.00 * 0.8 is 2.4000000000000004 in doubles, stored as 2.4.
function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function pct(f: number): string {
  return `${(f * 100).toFixed(1)}%`;
}

function px(p: number): string {
  return p.toFixed(4).replace(/0{1,2}$/, '');
}
