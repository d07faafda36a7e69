/**
 * Builders for the ledger's inputs (order reads, FILL / FEE / option activities), shared by the ledger,
 * day-book and invariant tests. Each returns a complete value; pass only the fields a test is about.
 */
import type { BrokerActivity, BrokerOrder } from '../../shared/domain/broker-types';
import { applyActivity, applyOrderReport, emptyLedger } from '../../shared/domain/ledger';
import type { FillActivity, PositionLedger } from '../../shared/domain/ledger-events';
import { FACTORY_NOW, FACTORY_OPTION_SYMBOL } from './factories';

export const LEDGER_SYMBOL = FACTORY_OPTION_SYMBOL;
export const LEDGER_NOW = FACTORY_NOW.toISOString();

/** An instant `minutes` after {@link FACTORY_NOW} (a Monday, 11:00 New York). */
export function minutesAfter(minutes: number): string {
  return new Date(FACTORY_NOW.getTime() + minutes * 60_000).toISOString();
}

/** A broker order as read: a filled market buy of 2 at 2.10 on the default contract. */
export function makeOrderReport(overrides: Partial<BrokerOrder> = {}): BrokerOrder {
  return {
    id: 'order-open-1',
    client_order_id: 'ops-main-o-rec-0001',
    symbol: LEDGER_SYMBOL,
    qty: 2,
    filled_qty: 2,
    filled_avg_price: 2.1,
    side: 'buy',
    type: 'market',
    position_intent: 'buy_to_open',
    time_in_force: 'day',
    limit_price: null,
    status: 'filled',
    created_at: LEDGER_NOW,
    filled_at: LEDGER_NOW,
    ...overrides,
  };
}

/** A resting stop (sell 2, working, nothing filled) of the default position. */
export function makeStopReport(overrides: Partial<BrokerOrder> = {}): BrokerOrder {
  return makeOrderReport({
    id: 'order-stop-1',
    client_order_id: 'ops-main-s-rec-0001-1',
    side: 'sell',
    type: 'stop',
    position_intent: null,
    time_in_force: 'gtc',
    stop_price: 1.6,
    filled_qty: 0,
    filled_avg_price: null,
    status: 'new',
    filled_at: null,
    ...overrides,
  });
}

/** One execution of an order: 1 contract sold at 1.60. */
export function makeFillActivity(overrides: Partial<FillActivity> = {}): FillActivity {
  return {
    id: '20260601150000000::fill-1',
    type: 'FILL',
    order_id: 'order-stop-1',
    symbol: LEDGER_SYMBOL,
    side: 'sell',
    qty: 1,
    price: 1.6,
    transaction_time: LEDGER_NOW,
    ...overrides,
  };
}

/** A non-trade activity on the default contract: a $0.02 fee on 2026-06-01. */
export function makeActivity(overrides: Partial<BrokerActivity> = {}): BrokerActivity {
  return {
    id: '20260601200000000::fee-1',
    type: 'FEE',
    date: '2026-06-01',
    symbol: LEDGER_SYMBOL,
    qty: 0,
    net_amount: -0.02,
    ...overrides,
  };
}

/**
 * The case-1 ledger: a long of 2 bought at 2.10 whose resting stop filled 1 at 1.60, then 1 at 1.50 (read
 * as a partial, then as filled at the 1.55 average), with a $0.65 fee: −$110 realized before fees.
 */
export function stoppedOutLedger(): PositionLedger {
  let l = applyOrderReport(emptyLedger(LEDGER_SYMBOL), 'open', makeOrderReport(), LEDGER_NOW).ledger;
  l = applyOrderReport(
    l,
    'stop',
    makeStopReport({ filled_qty: 1, filled_avg_price: 1.6, status: 'partially_filled' }),
    minutesAfter(1),
  ).ledger;
  l = applyOrderReport(
    l,
    'stop',
    makeStopReport({ filled_qty: 2, filled_avg_price: 1.55, status: 'filled', filled_at: minutesAfter(2) }),
    minutesAfter(3),
  ).ledger;
  return applyActivity(l, makeActivity({ net_amount: -0.65 }), { at: minutesAfter(4) }).ledger;
}
