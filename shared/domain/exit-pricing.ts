/**
 * How an exit order is priced: market, or a limit on the US options price grid. Pure: the sweep passes the
 * position's side, the current quote and the account's `exit_execution`, and sends what this returns.
 */
import type { AccountConfig } from './account-config';

/** The order an exit step goes out as. `why` is a short sentence for the operational log. */
export type ExitOrderPricing =
  | { readonly type: 'market'; readonly limitPrice: null; readonly why: string }
  | { readonly type: 'limit'; readonly limitPrice: number; readonly why: string };

/** The part of `exit_execution` the pricing needs (a full `AccountConfig['exit_execution']` fits). */
export type ExitPricingConfig = Pick<
  AccountConfig['exit_execution'],
  'order_type' | 'limit_slippage_pct' | 'max_spread_pct' | 'max_reprices'
> &
  Partial<Pick<AccountConfig['exit_execution'], 'max_quote_age_seconds'>>;

/** `max_quote_age_seconds` when the config given has none (the schema's default). */
const DEFAULT_MAX_QUOTE_AGE_SECONDS = 120;

/**
 * The quote's age in seconds at `now`, or null when it cannot be told (no quote, no or unparsable time).
 * A quote slightly in the future (clock skew) reads as 0.
 */
export function quoteAgeSeconds(quote: BidAsk | undefined, now: Date): number | null {
  if (quote?.quoteTime === undefined) return null;
  const t = Date.parse(quote.quoteTime);
  if (!Number.isFinite(t)) return null;
  return Math.max(0, (now.getTime() - t) / 1000);
}

/** True when the quote is young enough (≤ `max_quote_age_seconds` at `now`) to price an order from. */
export function isFreshQuote(quote: BidAsk | undefined, now: Date, maxAgeSeconds: number): boolean {
  const age = quoteAgeSeconds(quote, now);
  return age !== null && age <= maxAgeSeconds;
}

/** A bid/ask pair, per share, and when it was quoted (an `OptionQuote` fits). */
export interface BidAsk {
  readonly bid: number;
  readonly ask: number;
  /** ISO time of the quote; without it a quote's age is unknown (stale once `now` is given). */
  readonly quoteTime?: string;
}

/** The lowest price a sell limit may carry (one nickel tick). */
const MIN_SELL_LIMIT = 0.05;

/** Below $3.00 options trade in nickels, at or above in dimes (a nickel/dime price is valid for penny classes). */
const DIME_GRID_FROM_CENTS = 300;

/** Tolerates float noise such as 2.95 * 100 = 294.99999999999994 without moving a real price. */
const CENT_EPSILON = 1e-9;

/**
 * Aligns a per-share price to the US options grid ($0.05 below $3.00, $0.10 at or above), in integer cents.
 * `down` for a sell limit (never above the input), `up` for a buy limit (never below it). A sell never goes
 * below {@link MIN_SELL_LIMIT}.
 */
export function alignToTick(pricePerShare: number, direction: 'down' | 'up'): number {
  if (!Number.isFinite(pricePerShare) || pricePerShare < 0) {
    throw new RangeError(`alignToTick: expected a finite price >= 0, got ${pricePerShare}`);
  }
  let cents: number;
  if (direction === 'down') {
    const raw = Math.floor(pricePerShare * 100 + CENT_EPSILON);
    const tick = raw < DIME_GRID_FROM_CENTS ? 5 : 10;
    cents = Math.max(Math.floor(raw / tick) * tick, MIN_SELL_LIMIT * 100);
  } else {
    const raw = Math.ceil(pricePerShare * 100 - CENT_EPSILON);
    // Up to $3.00 the nickel grid rounds onto 3.00 at most, which the dime grid also accepts.
    const tick = raw <= DIME_GRID_FROM_CENTS ? 5 : 10;
    cents = Math.max(Math.ceil(raw / tick) * tick, 5);
  }
  return cents / 100;
}

/**
 * True when the quote's spread, as a fraction of its mid, exceeds `maxSpreadPct` ((ask-bid)/mid >
 * maxSpreadPct). False when there is no quote or the guard is off (`null`); true when the mid is not
 * positive (a quote with nothing on it has no meaningful spread).
 */
export function spreadTooWide(quote: BidAsk | undefined, maxSpreadPct: number | null): boolean {
  if (quote === undefined || maxSpreadPct === null) return false;
  const mid = (quote.bid + quote.ask) / 2;
  if (!(mid > 0)) return true;
  return (quote.ask - quote.bid) / mid > maxSpreadPct;
}

/** The executable side of a usable quote (bid for a long's sell, ask for a short's buy), else null. */
function executableSide(side: 'long' | 'short', quote: BidAsk | undefined): number | null {
  if (quote === undefined || !Number.isFinite(quote.bid) || !Number.isFinite(quote.ask)) return null;
  // A crossed quote is not a price anyone can trade on.
  if (quote.bid > quote.ask) return null;
  const price = side === 'long' ? quote.bid : quote.ask;
  return price > 0 ? price : null;
}

/**
 * Prices one exit order:
 * 0. with `now`: a quote older than `max_quote_age_seconds` (or missing, or of unknown age) prices
 *    nothing: market while the market is open and market is allowed, else null (wait for a fresh quote);
 * 1. after `max_reprices` replacements, while the market is open: market;
 * 2. spread wider than `max_spread_pct`: a limit AT the executable side (never market into a wide book);
 * 3. `order_type: marketable_limit`: a limit through the executable side by `limit_slippage_pct`;
 * 4. otherwise market.
 * With `marketAllowed: false` (a plan that forbids market orders) rules 0, 1 and 4 never send market: a
 * marketable limit from a fresh quote, or null. Limits are on the grid, rounded toward marketable. Returns
 * null when a limit is needed and the quote gives no usable executable price (missing, stale, crossed, or
 * zero on that side): the step cannot be priced now.
 *
 * `now` is the broker's clock of the sweep. Without it the quote's age is not checked (the behaviour before
 * issue 26; every caller should pass it).
 */
export function priceExitOrder(args: {
  side: 'long' | 'short';
  quote: BidAsk | undefined;
  exec: ExitPricingConfig;
  repriceCount: number;
  marketOpen: boolean;
  now?: Date;
  /** False for a plan that forbids market orders. @default true */
  marketAllowed?: boolean;
}): ExitOrderPricing | null {
  const { side, exec, repriceCount, marketOpen, now } = args;
  const marketAllowed = args.marketAllowed !== false;
  const quote = args.quote;
  if (now !== undefined) {
    const maxAge = exec.max_quote_age_seconds ?? DEFAULT_MAX_QUOTE_AGE_SECONDS;
    if (!isFreshQuote(quote, now, maxAge)) {
      if (!marketOpen || !marketAllowed) return null;
      const age = quoteAgeSeconds(quote, now);
      return {
        type: 'market',
        limitPrice: null,
        why:
          quote === undefined
            ? 'no quote to price a limit from: market'
            : age === null
              ? 'quote of unknown age: market'
              : `quote ${Math.round(age)}s old > max_quote_age_seconds ${maxAge}: market`,
      };
    }
  }
  if (!marketAllowed) return limitPricing(side, quote, exec, spreadTooWide(quote, exec.max_spread_pct));
  if (repriceCount >= exec.max_reprices && marketOpen) {
    return {
      type: 'market',
      limitPrice: null,
      why: `replaced ${repriceCount} times (max_reprices ${exec.max_reprices}): market`,
    };
  }
  const wide = spreadTooWide(quote, exec.max_spread_pct);
  if (!wide && exec.order_type !== 'marketable_limit') {
    return { type: 'market', limitPrice: null, why: 'order_type market' };
  }
  return limitPricing(side, quote, exec, wide);
}

/** The limit of rules 2 and 3 of {@link priceExitOrder}, or null without a usable executable price. */
function limitPricing(
  side: 'long' | 'short',
  quote: BidAsk | undefined,
  exec: ExitPricingConfig,
  wide: boolean,
): ExitOrderPricing | null {
  const far = executableSide(side, quote);
  if (far === null) return null;
  const direction = side === 'long' ? 'down' : 'up';
  if (wide) {
    return {
      type: 'limit',
      limitPrice: alignToTick(far, direction),
      why: `spread wider than max_spread_pct ${exec.max_spread_pct}: limit at the ${side === 'long' ? 'bid' : 'ask'}`,
    };
  }
  const through = side === 'long' ? far * (1 - exec.limit_slippage_pct) : far * (1 + exec.limit_slippage_pct);
  return {
    type: 'limit',
    limitPrice: alignToTick(through, direction),
    why: `marketable limit ${exec.limit_slippage_pct} through the ${side === 'long' ? 'bid' : 'ask'}`,
  };
}
