/**
 * Builders for test values, shared by all tests. Each returns a complete, valid value; pass only the
 * fields a test is about.
 */
import type { ExitPlan } from '../../shared/domain/exit-plan';
import { FRESH_EXIT_STATE, type Position } from '../../shared/domain/position';
import type { OptionQuote } from '../../shared/ports';
import { contractFor } from './contracts';

/** The instant factories treat as "now" (a Monday, 11:00 in New York). */
export const FACTORY_NOW = new Date('2026-06-01T15:00:00.000Z');

/** Option symbol of the default position: a GOOGL 340 call expiring 564 days after {@link FACTORY_NOW}. */
export const FACTORY_OPTION_SYMBOL = contractFor('GOOGL', 564, 'C', 340, FACTORY_NOW);

/** An exit plan with every rule off; override the fields a test is about. */
export function makeExitPlan(overrides: Partial<ExitPlan> = {}): ExitPlan {
  return {
    stop_loss_pct: null,
    take_profit_pct: null,
    trailing_stop_pct: null,
    trail_activation_pct: null,
    partial_exits: null,
    breakeven_at_pct: null,
    min_hold_minutes: null,
    max_hold_minutes: null,
    close_before_expiry_days: null,
    ...overrides,
  };
}

/**
 * An open long position of 10 contracts filled at 2.00 one hour before {@link FACTORY_NOW}, with every
 * exit rule off (see {@link makeExitPlan}).
 */
export function makePosition(overrides: Partial<Position> = {}): Position {
  const entryTime = new Date(FACTORY_NOW.getTime() - 60 * 60_000).toISOString();
  return {
    account: 'main',
    position_id: 'rec-0001',
    recommendation_id: 'rec-0001',
    ticker: 'GOOGL',
    option_symbol: FACTORY_OPTION_SYMBOL,
    side: 'long',
    state: 'open',
    quantity: 10,
    original_quantity: 10,
    requested_quantity: 10,
    open_client_order_id: 'ops-main-o-rec-0001',
    open_order_id: 'order-0001',
    open_order_type: 'market',
    open_limit_price: null,
    entry_price: 2.0,
    entry_time: entryTime,
    entry_underlying_price: null,
    exit_plan: makeExitPlan(),
    ...FRESH_EXIT_STATE,
    created_at: entryTime,
    updated_at: entryTime,
    version: 1,
    ...overrides,
  };
}

/** A fresh quote (made at {@link FACTORY_NOW}) for the default symbol: bid 1.95, ask 2.05. */
export function makeQuote(overrides: Partial<OptionQuote> = {}): OptionQuote {
  return {
    symbol: FACTORY_OPTION_SYMBOL,
    bid: 1.95,
    ask: 2.05,
    bidSize: 10,
    askSize: 10,
    quoteTime: FACTORY_NOW.toISOString(),
    lastPrice: null,
    ...overrides,
  };
}

/** A fresh quote with bid = ask = `price`, so every mark mode reads exactly `price`. */
export function makeQuoteAt(price: number, overrides: Partial<OptionQuote> = {}): OptionQuote {
  return makeQuote({ bid: price, ask: price, ...overrides });
}
