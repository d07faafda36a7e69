/**
 * Trade events: what an operator's e-mail, chat or another queue hears about an account's trades. One event
 * is one JSON message with a short human subject line ({@link tradeEventSubject}).
 */

/** A position opened: its opening order filled (the contracts held and the average fill price). */
export interface PositionOpenedEvent {
  readonly type: 'position_opened';
  readonly account: string;
  readonly position_id: string;
  readonly option_symbol: string;
  readonly side: 'long' | 'short';
  /** Contracts held. */
  readonly qty: number;
  /** Per share: the average fill price. */
  readonly price: number;
  readonly at: string;
}

/**
 * A position closed (any reason), with what it realized: the figures of the record's ledger (its fills,
 * option events and fees; docs/BOOKS.md), so the event says what the books say, to the cent.
 */
export interface PositionClosedEvent {
  readonly type: 'position_closed';
  readonly account: string;
  readonly position_id: string;
  readonly option_symbol: string;
  readonly reason: string;
  /**
   * Dollars before fees, partial exits included: the record's `realized_pnl`, the ledger's
   * `realized_before_fees_cents / 100` (kept for consumers written before the ledger's fields). Always
   * `(realized_cents + fees_cents) / 100`.
   */
  readonly realized_pnl: number;
  /** Cents realized after fees: the ledger's `realized_cents`. */
  readonly realized_cents: number;
  /** Cents of fees the broker booked on the position (a rebate is negative): the ledger's `fees_cents`. */
  readonly fees_cents: number;
  /** Per share, the average of what closed it (option events at their value); null when nothing did. */
  readonly exit_price: number | null;
  readonly at: string;
}

/** A spread opened: its opening mleg order filled (docs/SPREADS.md). */
export interface SpreadOpenedEvent {
  readonly type: 'spread_opened';
  readonly account: string;
  readonly position_id: string;
  /** Each leg as `long 1 SPY270618C00500000`. */
  readonly legs: readonly string[];
  /** Whole multiples every leg holds. */
  readonly multiple: number;
  /** Per share of one multiple: + a debit paid, − a credit received. */
  readonly net_price: number;
  readonly at: string;
}

/** A spread closed (any reason), with what its legs' ledgers realized, to the cent. */
export interface SpreadClosedEvent {
  readonly type: 'spread_closed';
  readonly account: string;
  readonly position_id: string;
  readonly legs: readonly string[];
  readonly reason: string;
  /** Cents realized after fees, over every leg (and any delivered shares sold). */
  readonly realized_cents: number;
  readonly fees_cents: number;
  readonly at: string;
}

/** A recommendation refused for good (it goes to the dead-letter queue). */
export interface RecommendationRefusedEvent {
  readonly type: 'recommendation_refused';
  readonly account: string;
  /** The recommendation_id, or `msg:<SQS messageId>` when the body had none. */
  readonly key: string;
  readonly reason: string;
  readonly detail: string;
  readonly at: string;
}

/** The account's kill switch changed: who changed it and why. */
export interface KillSwitchChangedEvent {
  readonly type: 'kill_switch_changed';
  readonly account: string;
  readonly trading_enabled: boolean;
  readonly flatten: boolean;
  /** `operator` or `daily_loss` (the breaker). */
  readonly set_by: string;
  readonly reason: string;
  readonly at: string;
}

export type TradeEvent =
  | PositionOpenedEvent
  | PositionClosedEvent
  | SpreadOpenedEvent
  | SpreadClosedEvent
  | RecommendationRefusedEvent
  | KillSwitchChangedEvent;

const usd = (x: number): string => `${x < 0 ? '-' : '+'}$${Math.abs(x).toFixed(2)}`;

/** A short human subject line (SNS caps subjects at 100 characters, ASCII, no line breaks). */
export function tradeEventSubject(e: TradeEvent): string {
  let text: string;
  switch (e.type) {
    case 'position_opened':
      text = `[${e.account}] opened ${e.side} ${e.qty} ${e.option_symbol} @ ${e.price.toFixed(2)}`;
      break;
    case 'position_closed':
      text =
        `[${e.account}] closed ${e.option_symbol} (${e.reason}) ${usd(e.realized_pnl)}` +
        (e.fees_cents ? `, fees $${(e.fees_cents / 100).toFixed(2)}` : '');
      break;
    case 'spread_opened':
      text = `[${e.account}] opened spread ${e.position_id} ${e.multiple}x @ ${e.net_price.toFixed(2)} net`;
      break;
    case 'spread_closed':
      text = `[${e.account}] closed spread ${e.position_id} (${e.reason}) ${usd(e.realized_cents / 100)}`;
      break;
    case 'recommendation_refused':
      text = `[${e.account}] refused ${e.key}: ${e.reason}`;
      break;
    case 'kill_switch_changed':
      text = `[${e.account}] openings ${e.trading_enabled ? 'ON' : 'OFF'}${e.flatten ? ' + flatten' : ''} by ${e.set_by}`;
      break;
  }
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}
