import type { Position, PositionSide } from './position';
import type { BrokerPosition } from './broker-types';
import { roundToCents } from './money';

/** Alpaca accepts these four; this project only ever *sends* the two opening ones. */
export type OpeningIntent = 'buy_to_open' | 'sell_to_open';

/**
 * An order as the pipeline sends it. `position_intent` is only ever present on opening orders:
 * the type makes it impossible to put a closing intent on anything.
 */
export interface OrderRequest {
  readonly symbol: string;
  /** Whole contracts. */
  readonly qty: number;
  readonly side: 'buy' | 'sell';
  /** `stop` / `stop_limit` only for the protective order resting at the broker (`broker-stop.ts`). */
  readonly type: 'market' | 'limit' | 'stop' | 'stop_limit';
  /** `gtc` only for the protective order resting at the broker. */
  readonly time_in_force: 'day' | 'gtc';
  /** Per share. */
  readonly limit_price?: number;
  /** Per share, for `stop` / `stop_limit`. */
  readonly stop_price?: number;
  readonly client_order_id: string;
  readonly position_intent?: OpeningIntent;
}

/** Max length Alpaca accepts for client_order_id. */
export const MAX_CLIENT_ORDER_ID = 128;

/** Deterministic client_order_id of a recommendation's opening order. */
export function openClientOrderId(account: string, recommendationId: string): string {
  return checkedId(`ops-${account}-o-${recommendationId}`);
}

/** Deterministic client_order_id of exit step `seq` of a position. */
export function exitClientOrderId(account: string, positionId: string, seq: number): string {
  return checkedId(`ops-${account}-x${seq}-${positionId}`);
}

/**
 * Deterministic client_order_id of a position's protective stop resting at the broker: `seq` counts its
 * placements and replacements (1, 2, ...), so every PATCH carries a fresh id derived from the record.
 */
export function stopClientOrderId(account: string, positionId: string, seq: number): string {
  return checkedId(`ops-${account}-s${seq}-${positionId}`);
}

function checkedId(id: string): string {
  if (id.length > MAX_CLIENT_ORDER_ID) throw new Error(`client_order_id longer than 128: ${id}`);
  return id;
}

/** What an opening order is built from: a recommendation once its contract and size are known. */
export interface OpenOrderInput {
  readonly recommendation_id: string;
  readonly option_symbol: string;
  readonly num_contracts: number;
  readonly action: 'BUY' | 'SELL';
  readonly order_type: 'market' | 'limit';
  readonly limit_price?: number | null;
}

/**
 * The opening order for a recommendation: explicit `buy_to_open` / `sell_to_open` (safety rule 1) so
 * Alpaca never has to infer, on the OCC symbol, whole contracts, `day`.
 */
export function buildOpenOrder(rec: OpenOrderInput, account: string): OrderRequest {
  const buy = rec.action === 'BUY';
  return {
    symbol: rec.option_symbol,
    qty: rec.num_contracts,
    side: buy ? 'buy' : 'sell',
    type: rec.order_type,
    time_in_force: 'day',
    ...(rec.order_type === 'limit' && rec.limit_price != null ? { limit_price: rec.limit_price } : {}),
    client_order_id: openClientOrderId(account, rec.recommendation_id),
    position_intent: buy ? 'buy_to_open' : 'sell_to_open',
  };
}

/** The side that reduces a position: SELL a long, BUY a short. */
export function reducingSide(side: PositionSide): 'buy' | 'sell' {
  return side === 'long' ? 'sell' : 'buy';
}

/**
 * Contracts of `position` the broker confirms can be closed now (safety rule 3): the broker must hold the
 * recorded option symbol on the same side; available = held minus qty reserved by open orders.
 * Returns 0 when the broker holds nothing (or the opposite side) — never a negative or inferred figure.
 */
export function closableQty(
  position: Pick<Position, 'option_symbol' | 'side'>,
  broker?: BrokerPosition,
): number {
  if (!broker || broker.symbol !== position.option_symbol || broker.side !== position.side) return 0;
  return Math.max(0, Math.min(broker.qty, broker.qty_available));
}

/** Result of {@link buildCloseOrder}: an order, or why none may be sent. */
export type CloseOrderResult =
  | { ok: true; order: OrderRequest & { readonly type: 'market' | 'limit' }; clipped: boolean }
  | { ok: false; reason: 'broker_holds_nothing' };

/**
 * A closing order: intent-free (Alpaca infers the close from the position it holds), on the option symbol
 * recorded at open (never the ticker), on the reducing side, for at most what the broker confirms is
 * available. Safety rules 1, 2 and 3 in one place: this is the ONLY way the project builds a close.
 */
export function buildCloseOrder(args: {
  position: Pick<Position, 'option_symbol' | 'side'>;
  wantedQty: number;
  broker: BrokerPosition | undefined;
  clientOrderId: string;
  limitPrice?: number | null;
}): CloseOrderResult {
  const available = closableQty(args.position, args.broker);
  const qty = Math.min(Math.floor(args.wantedQty), available);
  if (qty < 1) return { ok: false, reason: 'broker_holds_nothing' };
  const limit = args.limitPrice != null && args.limitPrice > 0 ? roundToCents(args.limitPrice) : null;
  // No position_intent here, on purpose: a closing intent is rejected as "position intent mismatch"
  // whenever Alpaca's inference differs, and we only send after confirming the position exists.
  return {
    ok: true,
    clipped: qty < args.wantedQty,
    order: {
      symbol: args.position.option_symbol,
      qty,
      side: reducingSide(args.position.side),
      type: limit === null ? 'market' : 'limit',
      time_in_force: 'day',
      ...(limit === null ? {} : { limit_price: limit }),
      client_order_id: args.clientOrderId,
    },
  };
}
