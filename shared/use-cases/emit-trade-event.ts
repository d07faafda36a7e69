/**
 * Publishing trade events best effort: a publish that fails or takes longer than a moment is logged and
 * counted ({@link Metric.TradeEventsFailed}), never thrown, so a notification never fails or holds up a trade.
 */
import { spreadBooks, type SpreadPosition } from '../domain/spread-position';
import type { CloseReason, Position } from '../domain/position';
import { projectionOf } from '../domain/position-books';
import type { TradeEvent } from '../domain/trade-events';
import { Metric } from '../metric-names';
import type { Log, MetricsSink } from '../observability';
import type { TradeEvents } from '../ports';

/** How long a trade waits for its event's publish at most. */
const TRADE_EVENT_TIMEOUT_MS = 2_000;

/** What {@link emitTradeEvent} needs: the events port (absent: nothing to do), a log and metrics. */
export interface TradeEventDeps {
  readonly tradeEvents?: TradeEvents;
  readonly log: Log;
  readonly metrics: MetricsSink;
}

/** Publishes `event`; resolves within `timeoutMs` whatever happens, and never rejects. */
export async function emitTradeEvent(
  deps: TradeEventDeps,
  event: TradeEvent,
  timeoutMs = TRADE_EVENT_TIMEOUT_MS,
): Promise<void> {
  if (!deps.tradeEvents) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    // A synchronous throw of a faulty adapter is a failed publish too.
    await Promise.race([Promise.resolve().then(() => deps.tradeEvents!.publish(event)), timeout]);
  } catch (err) {
    deps.metrics.count(Metric.TradeEventsFailed, 1, { type: event.type });
    deps.log.warn(`Trade event ${event.type} not published: ${String(err)}`, { trade_event: event.type });
  } finally {
    clearTimeout(timer);
  }
}

/** The `position_opened` event of a position that holds what its opening order filled; null before that. */
export function positionOpenedEvent(p: Position, at: string): TradeEvent | null {
  if (p.state !== 'open' || typeof p.entry_price !== 'number' || p.quantity <= 0) return null;
  return {
    type: 'position_opened',
    account: p.account,
    position_id: p.position_id,
    option_symbol: p.option_symbol,
    side: p.side,
    qty: p.quantity,
    price: p.entry_price,
    at,
  };
}

/** Each leg of a spread as `long 1 SYMBOL`. */
const legNames = (sp: SpreadPosition) => sp.legs.map((l) => `${l.side} ${l.ratio_qty} ${l.option_symbol}`);

/** The `spread_opened` event of a spread whose opening order filled; null before that. */
export function spreadOpenedEvent(sp: SpreadPosition, at: string): TradeEvent | null {
  const books = spreadBooks(sp);
  if (sp.state !== 'open' || books.multiple <= 0 || books.net_open_per_share === null) return null;
  return {
    type: 'spread_opened',
    account: sp.account,
    position_id: sp.position_id,
    legs: legNames(sp),
    multiple: books.multiple,
    net_price: books.net_open_per_share,
    at,
  };
}

/** The `spread_closed` event of a closed spread, its money from its legs' ledgers. */
export function spreadClosedEvent(sp: SpreadPosition, reason: string, at: string): TradeEvent {
  const books = spreadBooks(sp);
  return {
    type: 'spread_closed',
    account: sp.account,
    position_id: sp.position_id,
    legs: legNames(sp),
    reason,
    realized_cents: books.realized_before_fees_cents - books.fees_cents,
    fees_cents: books.fees_cents,
    at,
  };
}

/**
 * The `position_closed` event of a closed record, its money from the record's ledger (`projectionOf`):
 * `realized_cents` after fees, `fees_cents`, `exit_price`, and `realized_pnl` (dollars before fees, the
 * record's own figure, which the ledger projects) so older consumers read what they always read.
 */
export function positionClosedEvent(p: Position, reason: CloseReason, at: string): TradeEvent {
  const proj = projectionOf(p);
  return {
    type: 'position_closed',
    account: p.account,
    position_id: p.position_id,
    option_symbol: p.option_symbol,
    reason,
    realized_pnl: proj.realized_before_fees_cents / 100,
    realized_cents: proj.realized_cents,
    fees_cents: proj.fees_cents,
    exit_price: proj.exit_price,
    at,
  };
}
