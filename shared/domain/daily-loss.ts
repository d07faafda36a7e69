/**
 * The account's P&L of the New York trading day and the daily loss breaker's decision (pure: figures, the
 * kill switch and a clock in, a verdict out). Money is summed in integer cents, as in the P&L journal.
 *
 * The day's P&L = what positions that closed today realized (partial exits included, booked on the day the
 * position closed) + what live positions' partial exits realized + the unrealized P&L of what live
 * positions hold, at the executable side of the sweep's quotes (bid for a long: what selling gets; ask for a
 * short: what buying back costs). A live position without a usable quote (missing, stale, crossed: the exit
 * rules' checks) counts 0 and is reported unpriced.
 */
import type { OptionQuote } from './broker-types';
import { checkQuote } from './exit-rules';
import { newYorkTime } from './market-time';
import { LIVE_STATES, type Position } from './position';

/** Who last set an account's kill switch: the operator (CLI, console) or the daily loss breaker. */
export type SwitchSetBy = 'operator' | 'daily_loss';

/** The kill switch as the breaker reads it (a subset of the control item). */
export interface SwitchState {
  readonly trading_enabled: boolean;
  readonly flatten: boolean;
  readonly set_by?: SwitchSetBy;
  /** The New York trading day the breaker last switched openings off (kept by operator changes too). */
  readonly daily_loss_day?: string;
}

/** The day's P&L of one account, dollars. */
export interface DayPnl {
  /** New York date (`YYYY-MM-DD`). */
  readonly day: string;
  readonly realized_usd: number;
  readonly unrealized_usd: number;
  readonly day_pnl_usd: number;
  /** Live positions holding contracts with no usable quote (counted at 0). */
  readonly unpriced: number;
}

const cents = (usd: number): number => Math.round(usd * 100);
const dollars = (usd: number): string => `${usd < 0 ? '-' : ''}$${Math.abs(usd).toFixed(2)}`;

/** The New York trading day of `now` (`YYYY-MM-DD`): the day P&L and the breaker are keyed by it. */
export function tradingDay(now: Date): string {
  return newYorkTime(now).date;
}

/**
 * Unrealized P&L in cents of what `p` holds at the executable side of `quote`; 0 when it holds nothing,
 * null when it holds contracts but the quote is unusable as the exit rules judge it (missing, stale, crossed).
 */
export function unrealizedCents(
  p: Position,
  quote: OptionQuote | undefined,
  now: Date,
  maxQuoteAgeSeconds: number,
): number | null {
  if (!LIVE_STATES.has(p.state) || p.quantity <= 0 || typeof p.entry_price !== 'number') return 0;
  // The exit rules' checks, on the mid: a long's bid of 0 is a real (worthless) price here.
  const check = checkQuote(p.option_symbol, p.side, quote, now, {
    mark: 'mid',
    max_quote_age_seconds: maxQuoteAgeSeconds,
  });
  if (!check.ok || !quote) return null;
  const perShare = p.side === 'long' ? quote.bid - p.entry_price : p.entry_price - quote.ask;
  return cents(perShare * p.quantity * 100);
}

/** The day's P&L from the day's realized total (positions closed today) and the live positions. */
export function computeDayPnl(input: {
  readonly now: Date;
  readonly realizedClosedUsd: number;
  readonly live: readonly Position[];
  readonly quotes: ReadonlyMap<string, OptionQuote>;
  /** A quote older than this is not used (the account's `exit_execution.max_quote_age_seconds`). */
  readonly maxQuoteAgeSeconds: number;
}): DayPnl {
  let realized = cents(input.realizedClosedUsd);
  let unrealized = 0;
  let unpriced = 0;
  for (const p of input.live) {
    if (!LIVE_STATES.has(p.state)) continue;
    realized += cents(p.realized_pnl);
    const u = unrealizedCents(p, input.quotes.get(p.option_symbol), input.now, input.maxQuoteAgeSeconds);
    if (u === null) unpriced++;
    else unrealized += u;
  }
  return {
    day: tradingDay(input.now),
    realized_usd: realized / 100,
    unrealized_usd: unrealized / 100,
    day_pnl_usd: (realized + unrealized) / 100,
    unpriced,
  };
}

/** What the breaker does this sweep. */
export type BreakerVerdict =
  | { readonly action: 'none' }
  /** The loss reached the limit: switch openings off (and flatten when configured). */
  | { readonly action: 'trip'; readonly next: SwitchState; readonly reason: string }
  /** The breaker's own switch from an earlier day, at the next trading day's open: switch openings on. */
  | { readonly action: 'reset'; readonly next: SwitchState; readonly reason: string };

/**
 * Whether the breaker switches openings back on now: only its own switch (an operator's stays until the
 * operator changes it), only on a later trading day than the one it tripped, only while the market is open.
 */
export function breakerReset(control: SwitchState | null, now: Date, marketOpen: boolean): BreakerVerdict {
  if (!control || control.trading_enabled || control.set_by !== 'daily_loss') return { action: 'none' };
  const today = tradingDay(now);
  if (!marketOpen || !control.daily_loss_day || control.daily_loss_day >= today) return { action: 'none' };
  return {
    action: 'reset',
    next: {
      trading_enabled: true,
      flatten: false,
      set_by: 'daily_loss',
      daily_loss_day: control.daily_loss_day,
    },
    reason: `daily_loss: reset at the open of ${today} (tripped on ${control.daily_loss_day})`,
  };
}

/**
 * Whether the breaker trips now: a limit is set, the day's P&L is at or below −limit, and it has not tripped
 * today already (an operator who switched openings back on after it tripped is not overruled the same day).
 * An operator's own switch-off is left as it is: the breaker never takes over (and later re-enables) it.
 */
export function breakerTrip(input: {
  readonly maxDailyLoss: number | null;
  readonly flattenOnLoss: boolean;
  readonly pnl: DayPnl;
  readonly control: SwitchState | null;
}): BreakerVerdict {
  const { maxDailyLoss, pnl, control } = input;
  if (maxDailyLoss === null || pnl.day_pnl_usd > -maxDailyLoss) return { action: 'none' };
  if (control?.daily_loss_day === pnl.day) return { action: 'none' };
  if (control && !control.trading_enabled && control.set_by !== 'daily_loss') return { action: 'none' };
  return {
    action: 'trip',
    next: {
      trading_enabled: false,
      flatten: input.flattenOnLoss || control?.flatten === true,
      set_by: 'daily_loss',
      daily_loss_day: pnl.day,
    },
    reason:
      `daily_loss: the day's P&L ${dollars(pnl.day_pnl_usd)} reached the limit ${dollars(-maxDailyLoss)}` +
      (input.flattenOnLoss ? '; flattening' : ''),
  };
}
