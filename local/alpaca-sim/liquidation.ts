/**
 * Alpaca's expiry-day liquidation, as a simulator scenario (ALPACA-OPTIONS.md "Expiry, exercise and
 * do-not-exercise": Alpaca may liquidate expiring positions from about 15:15 New York; alpaca-py issue 774:
 * its risk process closed ONE leg of a spread alone).
 *
 * - {@link liquidatePosition}: closes a held option position at market as an order that is not the
 *   client's (a fresh UUID `client_order_id`, as the broker's own orders carry): a long sold at the bid, a
 *   short bought back at the ask. First it cancels every working order that holds that contract's qty (a
 *   closing single-leg order on it, an mleg order with a closing leg on it: the whole parent, so the other
 *   legs' holds go too), as the close-position path does, so the liquidation never meets a 403. Orders that
 *   only open on the contract rest on.
 * - {@link dueLiquidations}: which positions a scheduled liquidation ({@link ExpiryDayLiquidation}) takes at
 *   a given instant: those expiring that New York day, from `atMinuteEt` until that day's close.
 */
import { newYorkClock } from './clock';
import type { SimMarket } from './market';
import { parseOcc } from './occ';
import { ALPACA_CODES, SimHttpError } from './order-terms';
import { endOrder, holdingOrders, newOrder, type SimAccount, type SimOrder } from './engine';
import { expiryCloseMs } from './activities';

/** Which held positions expiring today a scheduled liquidation closes. */
export type LiquidationSelection = 'short_legs' | 'all' | readonly string[];

/** The opt-in scheduled expiry-day liquidation (simulator option or `setExpiryDayLiquidation`). */
export interface ExpiryDayLiquidation {
  /** Minute of the New York day from which it runs. @default 915 (15:15) */
  readonly atMinuteEt?: number;
  /**
   * `short_legs` (default): only short option positions (so the short leg of a spread goes alone, the
   * long leg stays); `all`: every option position expiring that day; a list: those contracts only.
   */
  readonly symbols?: LiquidationSelection;
}

/** 15:15 New York, when Alpaca's risk desk starts on expiring positions. */
export const DEFAULT_LIQUIDATION_MINUTE = 15 * 60 + 15;

/** A liquidation order accepted, with the price it fills at (the caller books the fill). */
export interface Liquidation {
  readonly order: SimOrder;
  readonly qty: number;
  readonly price: number;
}

/**
 * Creates the broker's market order that closes `qty` (default: all) contracts of a held option position,
 * after cancelling the working orders that hold that contract. Throws when there is no option position,
 * the qty is not 1..held, or the side it trades at has no price (a long needs a bid, a short an ask).
 */
export function liquidatePosition(
  account: SimAccount,
  market: SimMarket,
  symbol: string,
  now: Date,
  qty?: number,
): Liquidation {
  const pos = account.positions.get(symbol);
  if (!parseOcc(symbol) || !pos) {
    throw new SimHttpError(404, ALPACA_CODES.notFound, `no option position in ${symbol}`);
  }
  const held = Math.abs(pos.qty);
  const n = qty ?? held;
  if (!Number.isInteger(n) || n < 1 || n > held) {
    throw new Error(`liquidate ${symbol}: qty ${n} must be a whole number from 1 to ${held}`);
  }
  const long = pos.qty > 0;
  const q = market.quotes.get(symbol);
  const price = long ? q?.bid : q?.ask;
  if (price === undefined || !(price > 0)) {
    throw new Error(`liquidate ${symbol}: no ${long ? 'bid' : 'ask'} to close at market`);
  }
  for (const o of holdingOrders(account, symbol)) endOrder(o, 'canceled', now);
  const order = newOrder(account, market, {
    clientOrderId: crypto.randomUUID(),
    symbol,
    isOption: true,
    side: long ? 'sell' : 'buy',
    terms: { type: 'market', timeInForce: 'day', qty: n, limitPrice: null, stopPrice: null },
    positionIntent: long ? 'sell_to_close' : 'buy_to_close',
    intentSpecified: false,
    replaces: null,
    now,
  });
  return { order, qty: n, price };
}

/** Whether a selection takes a position (`signedQty` negative when short). */
function selected(sel: LiquidationSelection, symbol: string, signedQty: number): boolean {
  if (sel === 'all') return true;
  if (sel === 'short_legs') return signedQty < 0;
  return sel.includes(symbol);
}

/**
 * The option positions of an account a scheduled liquidation takes at `now`: those expiring that New York
 * day, once the minute is `atMinuteEt` or later and before that day's close, chosen by `symbols`.
 */
export function dueLiquidations(account: SimAccount, cfg: ExpiryDayLiquidation, now: Date): string[] {
  const { date, minuteOfDay } = newYorkClock(now);
  if (minuteOfDay < (cfg.atMinuteEt ?? DEFAULT_LIQUIDATION_MINUTE)) return [];
  const sel = cfg.symbols ?? 'short_legs';
  return [...account.positions.values()]
    .filter((p) => {
      const occ = parseOcc(p.symbol);
      return (
        occ !== null &&
        occ.expiry === date &&
        now.getTime() < expiryCloseMs(date) &&
        selected(sel, p.symbol, p.qty)
      );
    })
    .map((p) => p.symbol);
}

/** Parses `POST /_sim/liquidate` (`{ keyId, symbol, qty? }`); a string is the 400's message. */
export function parseLiquidateBody(body: unknown): { keyId: string; symbol: string; qty?: number } | string {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.keyId !== 'string' || b.keyId === '') return 'keyId must be an API key id';
  if (typeof b.symbol !== 'string' || b.symbol === '') return 'symbol must be an option symbol';
  if (b.qty !== undefined && !(Number.isInteger(b.qty) && (b.qty as number) > 0))
    return 'qty must be a positive whole number';
  return { keyId: b.keyId, symbol: b.symbol, ...(b.qty === undefined ? {} : { qty: b.qty as number }) };
}

/**
 * Parses `POST /_sim/expiry-liquidation` (`{ atMinuteEt?, symbols? }`, or `{ off: true }` to stop it);
 * a string is the 400's message.
 */
export function parseExpiryLiquidationBody(body: unknown): ExpiryDayLiquidation | null | string {
  const b = (body ?? {}) as Record<string, unknown>;
  if (b.off === true) return null;
  const m = b.atMinuteEt;
  if (m !== undefined && !(Number.isInteger(m) && (m as number) >= 0 && (m as number) < 24 * 60))
    return 'atMinuteEt must be a whole minute of the day (0 to 1439)';
  const s = b.symbols;
  const list = Array.isArray(s) && s.every((x) => typeof x === 'string');
  if (s !== undefined && s !== 'short_legs' && s !== 'all' && !list)
    return 'symbols must be "short_legs", "all" or a list of option symbols';
  return {
    ...(m === undefined ? {} : { atMinuteEt: m as number }),
    ...(s === undefined ? {} : { symbols: s as LiquidationSelection }),
  };
}
