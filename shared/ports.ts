/**
 * The interfaces the use cases depend on. Adapters in `shared/adapters/` implement them against Alpaca
 * and DynamoDB; tests may hand the use cases the real adapters pointed at local stand-ins.
 */
import type { OrderRequest } from './domain/orders';
import type { Position } from './domain/position';
import type { SpreadPosition } from './domain/spread-position';
import type { MlegOrderRequest } from './domain/spread-orders';
import type { DayBooks, StartMark, SwitchSetBy } from './domain/daily-loss';
import type { TradeEvent } from './domain/trade-events';
import type {
  BrokerActivity,
  BrokerAccount,
  BrokerOrder,
  BrokerPosition,
  MarketClock,
  OptionChainEntry,
  OptionQuote,
} from './domain/broker-types';

// The broker's value types are domain types; re-exported so adapters and use cases keep one import.
export * from './domain/broker-types';

/**
 * The time source of handlers and use cases: production passes the wall clock
 * (`shared/adapters/system-clock.ts`), tests a clock they set, so no decision reads the machine's date.
 */
export type Clock = () => Date;

/** Trading API. Errors: TransientError (429/5xx/timeouts), BrokerRejectedError, DuplicateClientOrderIdError. */
export interface Broker {
  getClock(): Promise<MarketClock>;
  getAccount(): Promise<BrokerAccount>;
  submitOrder(order: OrderRequest): Promise<BrokerOrder>;
  /**
   * `POST /v2/orders` with `order_class: mleg`: one order for every leg (an opening one's legs each carry
   * their intent; a closing one's none). Errors and the lookup-before-resend rule as for {@link submitOrder}.
   */
  submitMlegOrder(order: MlegOrderRequest): Promise<BrokerOrder>;
  /** null when the broker has no order with that client_order_id (404). */
  getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null>;
  listPositions(): Promise<BrokerPosition[]>;
  /** The broker's position in one symbol, read now; null when nothing is held. */
  getPosition(symbol: string): Promise<BrokerPosition | null>;
  listOpenOrders(): Promise<BrokerOrder[]>;
  /**
   * `DELETE /v2/orders/{id}`: asks the broker to cancel. Cancelling is asynchronous at Alpaca: look the
   * order up to learn when it ended (and what filled meanwhile). BrokerRejectedError (422) when the order
   * can no longer be cancelled (already filled, cancelled, ...).
   */
  cancelOrder(orderId: string): Promise<void>;
  /**
   * `POST /v2/positions/{symbol}/exercise`: exercises the held long contracts of `symbol` now (the position
   * goes, an OPEXC activity and the delivered shares follow). BrokerRejectedError (403/422) when refused:
   * nothing held long, or between the market close and midnight New York time.
   */
  exerciseOption(symbol: string): Promise<void>;
  /**
   * `POST /v2/positions/{symbol}/do-not-exercise`: asks the broker not to exercise the expiring long
   * contracts of `symbol` (in the money or not, they then expire: OPEXP). The 2xx answer confirms it.
   * BrokerRejectedError (403/422) when refused, as for {@link exerciseOption}.
   */
  doNotExercise(symbol: string): Promise<void>;
  /**
   * `PATCH /v2/orders/{id}`: replaces a working order's terms. The broker answers with a NEW order (new id,
   * the given `client_order_id`); the old one becomes `replaced`. BrokerRejectedError (422) when the order
   * is no longer replaceable (filled, cancelled, replaced), or 403 when the new qty is not available.
   */
  replaceOrder(orderId: string, change: OrderReplacement): Promise<BrokerOrder>;
  /**
   * Orders that ended (filled, canceled, expired, rejected, ...) submitted after `afterIso` (exclusive),
   * oldest first, across pages (bounded: an order past the last page is simply absent, so callers must
   * treat absence as "unknown", never as "no such order").
   */
  listClosedOrders(afterIso: string): Promise<BrokerOrder[]>;
  /**
   * Non-trade activities OPASN, OPEXC, OPEXP and FEE booked after `afterIso`, oldest first, across a
   * bounded number of pages (one listing; see `shared/use-cases/sweep/option-events.ts` for when it is made).
   */
  listActivities(afterIso: string): Promise<BrokerActivity[]>;
}

/** The fields a replacement may change (prices per share, whole contracts). */
export interface OrderReplacement {
  readonly qty?: number;
  readonly stop_price?: number;
  readonly limit_price?: number;
  /** The new order's deterministic id (unique forever, like every client_order_id). */
  readonly client_order_id: string;
}

/** Filters for an option chain request. Dates `YYYY-MM-DD`, strikes per share. */
export interface OptionChainFilters {
  readonly type?: 'call' | 'put';
  readonly expirationDateGte?: string;
  readonly expirationDateLte?: string;
  readonly strikePriceGte?: number;
  readonly strikePriceLte?: number;
  /** Also read open interest (extra calls). @default false */
  readonly includeOpenInterest?: boolean;
}

/** Options market data. */
export interface MarketData {
  /** Latest quotes; symbols without a quote are absent from the map. Batches of ≤ 100 symbols per call. */
  getOptionQuotes(symbols: readonly string[]): Promise<Map<string, OptionQuote>>;
  /** An underlying's option chain with quotes and greeks (contract selection). */
  getOptionChain(underlying: string, filters?: OptionChainFilters): Promise<OptionChainEntry[]>;
  /** The underlying's latest trade price, per share. */
  getLatestStockPrice(symbol: string): Promise<number>;
}

/** Per-account runtime controls, read at run time (the kill switch). */
export interface AccountControl {
  /** false stops new openings at once (overrides the deployed configuration). */
  readonly trading_enabled: boolean;
  /** true asks the next sweep to close every open position through the guarded exit path. */
  readonly flatten: boolean;
  readonly updated_at?: string;
  readonly reason?: string;
  /** Who set it last: the operator (absent on items written before it existed) or the daily loss breaker. */
  readonly set_by?: SwitchSetBy;
  /** The New York trading day the daily loss breaker last tripped; operator changes keep it. */
  readonly daily_loss_day?: string;
}

/** Why a message was refused, kept where an operator (and the reconciliation check) can find it. */
export interface RejectionRecord {
  readonly account: string;
  /** recommendation_id when the body had a valid one, else `msg:<SQS messageId>`. */
  readonly key: string;
  readonly reason: string;
  readonly detail: string;
  readonly message_id: string;
  readonly body_excerpt: string;
  readonly receive_count: number;
  readonly at: string;
}

/** A record the sweep closed as `closed_outside_pipeline`, by contract. */
export interface ClosedOutsideNote {
  readonly symbol: string;
  readonly position_id: string;
  readonly closed_at: string;
}

/** Position persistence. Every state change is a single-item conditional write on `version`. */
export interface PositionStore {
  /** Creates the record only if no record exists for (account, position_id). */
  claim(position: Position): Promise<{ claimed: true } | { claimed: false; existing: Position }>;
  get(account: string, positionId: string): Promise<Position | null>;
  /**
   * Replaces `prev` with `next` if the stored version is still `prev.version`; returns the stored record
   * (version + 1). Throws ConcurrentUpdateError when someone else changed it first. A replace that books
   * something new on the record's ledger (a fill, an event, a fee) or closes it first sets the position's
   * absolute figures on the day item of each trading day it touched ({@link getDayBooks}); when that write
   * fails the record is not written (the error propagates, and the next sweep books the same reports again).
   */
  replace(prev: Position, next: Position): Promise<Position>;
  /**
   * The account's books of New York trading day `day` (`YYYY-MM-DD`): per position its day P&L and realized
   * figures, the start-of-day marks, and an older item's sum. One small item per day, so reading it costs the
   * same whatever the closed history; an empty day when there is none.
   */
  getDayBooks(account: string, day: string): Promise<DayBooks>;
  /**
   * Records start-of-day marks of `day`, each only where none is recorded yet (the day's first sweep with a
   * usable quote sets it; later ones never move it). One write per 40 contracts (DynamoDB's 4 KB cap on an
   * update expression).
   */
  recordStartMarks(account: string, day: string, marks: ReadonlyMap<string, StartMark>): Promise<void>;
  /**
   * The account's live positions (submitting, pending, open, closing), via the sparse index.
   * Throws UnreadableRecordsError (carrying the readable ones) when some records cannot be read.
   */
  listLive(account: string): Promise<Position[]>;
  countLive(account: string): Promise<number>;
  getControl(account: string): Promise<AccountControl | null>;
  putControl(account: string, control: AccountControl): Promise<void>;
  /**
   * Writes `next` only if the control item is still `prev` as read (same `updated_at`; `prev` null: no item),
   * so an automatic change never overwrites an operator's that landed since. false when it changed.
   */
  replaceControl(account: string, prev: AccountControl | null, next: AccountControl): Promise<boolean>;
  recordRejection(rejection: RejectionRecord): Promise<void>;
  /** The refusal recorded under `key` (a recommendation_id, or `msg:<messageId>`), if any. */
  getRejection(account: string, key: string): Promise<RejectionRecord | null>;
  listRejections(account: string): Promise<RejectionRecord[]>;
  /**
   * Remembers that a record was closed as `closed_outside_pipeline` on `symbol` (the latest one per
   * contract), so a sweep that finds the contract back at the broker can name the record.
   */
  noteClosedOutside(account: string, note: ClosedOutsideNote): Promise<void>;
  /** The latest {@link noteClosedOutside} for the contract, or null. */
  findClosedOutside(account: string, symbol: string): Promise<ClosedOutsideNote | null>;
}

/**
 * Spread records (docs/SPREADS.md), in the positions table under the same keys as single-leg records: one
 * recommendation has one record whatever its form. Every change is a single-item conditional write on
 * `version`, as for positions.
 */
export interface SpreadStore {
  /** Creates the record only if no record (spread or single leg) exists for the recommendation. */
  claimSpread(
    sp: SpreadPosition,
  ): Promise<{ claimed: true } | { claimed: false; existing: SpreadPosition | null }>;
  /** null when there is none, or when the record under that id is a single leg's. */
  getSpread(account: string, id: string): Promise<SpreadPosition | null>;
  /**
   * Replaces `prev` with `next` if still at `prev.version` (ConcurrentUpdateError otherwise); each leg's
   * day figures are written first, as a single-leg record's are (its ledger is the leg's).
   */
  replaceSpread(prev: SpreadPosition, next: SpreadPosition): Promise<SpreadPosition>;
  /** The account's live spreads (submitting, pending, open, closing). */
  listLiveSpreads(account: string): Promise<SpreadPosition[]>;
  /** Every spread record of the account, live and closed (reports). */
  listSpreads(account: string): Promise<SpreadPosition[]>;
}

/**
 * A container's broker request budget, as the sweep sees it: how many requests may start now without
 * waiting, and how long until one more may. The sweep never waits on it past its deadline.
 */
export interface RequestBudget {
  startableNow(): number;
  msUntilStartable(): number;
}

/**
 * The account's sweep lease: one sweep at a time acts for an account. Apart from {@link PositionStore}
 * (which keeps records) although the DynamoDB adapter keeps both in the positions table.
 */
export interface SweepLease {
  /**
   * Takes the account's sweep lease for `owner` until `untilMs` (epoch ms) if nobody holds it or the
   * holder's lease ran out before `nowMs`; false when another sweep holds it. One sweep at a time acts for
   * an account, so the broker snapshot it reads after taking the lease includes every order sent before.
   */
  acquireSweepLease(account: string, owner: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Gives the lease back if `owner` still holds it (a lease that ran out and was taken over is left). */
  releaseSweepLease(account: string, owner: string): Promise<void>;
}

/** Makes a failed queue message come back after a chosen delay (SQS ChangeMessageVisibility). */
export interface RetryScheduler {
  retryIn(receiptHandle: string, seconds: number): Promise<void>;
}

/**
 * Where trade events go (an SNS topic on AWS; nowhere when none is configured). Callers publish best effort
 * through `emitTradeEvent` (shared/use-cases/emit-trade-event.ts): a failure never fails a trade.
 */
export interface TradeEvents {
  publish(event: TradeEvent): Promise<void>;
}
