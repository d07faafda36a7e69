/**
 * The terms of an order (type, time in force, qty, limit and stop prices) as Alpaca validates them for
 * options, shared by a new submission (`POST /v2/orders`) and a replacement (`PATCH /v2/orders/{id}`),
 * and the stop-trigger rule. Sources: ALPACA-OPTIONS.md "Orders for options".
 */

/** Alpaca's error codes, as the real API uses them. */
export const ALPACA_CODES = {
  /** 400/422 input validation (bad field, duplicate client_order_id...). */
  invalidInput: 40010001,
  /** 400 malformed body. */
  malformedBody: 40010000,
  unauthorized: 40110000,
  /** 403 insufficient qty / buying power. */
  forbidden: 40310000,
  notFound: 40410000,
  /** 422 unprocessable: position intent mismatch, market closed, not cancelable. */
  unprocessable: 42210000,
  rateLimited: 42910000,
} as const;

/** An error answer: HTTP status plus Alpaca's `{ code, message }` body. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
    /** Extra fields of the answer's body (the 403 for insufficient qty carries `available`, ...). */
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'SimHttpError';
  }
}

/** A 422 input-validation error (code 40010001). */
export function invalid(message: string): SimHttpError {
  return new SimHttpError(422, ALPACA_CODES.invalidInput, message);
}

/** Order types the simulator accepts (options: all four; Alpaca's changelog of 2026-08-27). */
export type SimOrderType = 'market' | 'limit' | 'stop' | 'stop_limit';
/** Time in force for options: `day` and `gtc` (Alpaca's changelog of 2026-08-28). */
export type SimTimeInForce = 'day' | 'gtc';

/** The validated terms of an order. */
export interface OrderTerms {
  readonly type: SimOrderType;
  readonly timeInForce: SimTimeInForce;
  readonly qty: number;
  readonly limitPrice: number | null;
  readonly stopPrice: number | null;
}

const ORDER_TYPES = new Set<string>(['market', 'limit', 'stop', 'stop_limit']);

/** A JSON value as the string Alpaca would read (numbers arrive as strings or numbers). */
export function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Validates type, time in force, qty and prices of an order body, in the order Alpaca checks them. */
export function parseTerms(b: Record<string, unknown>, isOption: boolean): OrderTerms {
  const type = str(b.type);
  if (type === undefined) throw invalid('type is required');
  if (!ORDER_TYPES.has(type)) {
    if (type === 'trailing_stop') {
      throw invalid(
        isOption ? 'invalid order type for options trading' : 'order type trailing_stop not supported',
      );
    }
    throw invalid(`invalid order type: ${type}`);
  }

  const tif = str(b.time_in_force);
  if (tif === undefined) throw invalid('time_in_force is required');
  if (tif !== 'day' && tif !== 'gtc') {
    throw invalid('only day and gtc orders are supported for options trading');
  }
  if (b.extended_hours === true || b.extended_hours === 'true') {
    throw invalid('extended hours orders are not supported for options trading');
  }
  if (b.notional !== undefined && b.notional !== null) {
    throw invalid('notional orders are not supported for options trading');
  }

  const qty = parseQty(str(b.qty));
  const usesLimit = type === 'limit' || type === 'stop_limit';
  const usesStop = type === 'stop' || type === 'stop_limit';
  const limitPrice = usesLimit ? price(b.limit_price, 'limit_price', type) : null;
  if (!usesLimit && b.limit_price !== undefined && b.limit_price !== null) {
    throw invalid(`limit_price must not be specified for ${type} orders`);
  }
  const stopPrice = usesStop ? price(b.stop_price, 'stop_price', type) : null;
  if (!usesStop && b.stop_price !== undefined && b.stop_price !== null) {
    throw invalid('stop_price is only for stop orders');
  }
  return { type: type as SimOrderType, timeInForce: tif, qty, limitPrice, stopPrice };
}

function parseQty(raw: string | undefined): number {
  if (raw === undefined) throw invalid('qty is required');
  const n = Number(raw);
  if (!Number.isFinite(n)) throw invalid(`invalid qty: ${raw}`);
  if (!Number.isInteger(n)) throw invalid('qty must be integer for options trading');
  if (n <= 0) throw invalid('qty must be > 0');
  return n;
}

/** A required, positive, whole-cent price field. */
function price(v: unknown, field: 'limit_price' | 'stop_price', type: string): number {
  const raw = str(v);
  if (raw === undefined) throw invalid(`${field} is required for ${type} orders`);
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw invalid(`invalid ${field}: ${raw}`);
  if (Math.abs(n * 100 - Math.round(n * 100)) > 1e-6) {
    // Code 42210000, as Alpaca sends it (fixtures docs-orders-at-alpaca-subpenny-0/-1).
    throw new SimHttpError(
      422,
      ALPACA_CODES.unprocessable,
      `invalid ${field} ${raw}. sub-penny increment does not fulfill minimum pricing criteria`,
    );
  }
  return n;
}

/**
 * Whether a stop has triggered on this quote: a sell stop when the bid is at or below the stop price, a
 * buy stop when the ask is at or above it (a one-sided quote with no bid / no ask triggers nothing).
 */
export function stopTriggered(
  side: 'buy' | 'sell',
  stopPrice: number,
  quote: { bid: number; ask: number } | undefined,
): boolean {
  if (!quote) return false;
  if (side === 'sell') return quote.bid > 0 && quote.bid <= stopPrice + 1e-9;
  return quote.ask > 0 && quote.ask >= stopPrice - 1e-9;
}
