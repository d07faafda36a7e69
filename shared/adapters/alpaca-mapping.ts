/**
 * Alpaca's answers as the pipeline's values: orders, positions and quotes with every numeric string
 * parsed, and a malformed field refused as a transient bad response.
 */
import type { marketData, trading } from '@alpacahq/alpaca-trade-api/rest';
import { TransientError } from '../domain/errors';
import type { BrokerOrder, BrokerPosition, OptionChainEntry, OptionQuote } from '../ports';
import { withUnreadable, type Listing, type UnreadableEntry } from '../domain/broker-types';

const OCC_RE = /^([A-Z]{1,5}[A-Z0-9]?)(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/;

/** Filters of `AlpacaAdapter.getOptionChain`. Dates `YYYY-MM-DD`, strikes per share. */
export interface OptionChainFilters {
  readonly type?: 'call' | 'put';
  readonly expirationDateGte?: string;
  readonly expirationDateLte?: string;
  readonly expirationDate?: string;
  readonly strikePriceGte?: number;
  readonly strikePriceLte?: number;
  readonly rootSymbol?: string;
  /** Also read open interest from `/v2/options/contracts` (one or more extra calls). @default false */
  readonly includeOpenInterest?: boolean;
}

/** One contract of a chain: defined once, in the domain (the MarketData port returns it). */
export type { OptionChainEntry };

/** A 404 from the SDK as null (not found); any other error is rethrown. */
export function nullOn404(err: unknown): null {
  if (err instanceof Error && 'status' in err && (err as { status?: number }).status === 404) return null;
  throw err;
}

/** The error for a field Alpaca sent that is not a number. */
function badResponse(field: string, value: unknown): TransientError {
  return new TransientError(`Alpaca sent a non-numeric ${field}: ${JSON.stringify(value)}`, {
    reason: 'broker_bad_response',
  });
}

/** A numeric string or number as a number; null when absent.
 * @throws TransientError when present but not a finite number. */
export function optionalNumber(value: unknown, field: string): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw badResponse(field, value);
  return n;
}

/** Like {@link optionalNumber}, but absent is refused too. */
export function requiredNumber(value: unknown, field: string): number {
  const n = optionalNumber(value, field);
  if (n === null) throw badResponse(field, value);
  return n;
}

/** A date or date string as ISO 8601; null when absent or unparsable. */
export function isoOrNull(d: Date | string | null | undefined): string | null {
  if (d === null || d === undefined) return null;
  const date = d instanceof Date ? d : new Date(d);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** An SDK order as a {@link BrokerOrder}. */
export function toBrokerOrder(o: trading.Order): BrokerOrder {
  const side = o.side === 'sell' ? 'sell' : 'buy';
  return {
    id: String(o.id),
    client_order_id: String(o.clientOrderId ?? ''),
    symbol: String(o.symbol),
    qty: requiredNumber(o.qty, 'qty'),
    filled_qty: optionalNumber(o.filledQty, 'filled_qty') ?? 0,
    filled_avg_price: optionalNumber(o.filledAvgPrice, 'filled_avg_price'),
    side,
    type: String(o.type ?? o.orderType ?? ''),
    position_intent: o.positionIntent ?? null,
    time_in_force: String(o.timeInForce),
    limit_price: optionalNumber(o.limitPrice, 'limit_price'),
    stop_price: optionalNumber(o.stopPrice, 'stop_price'),
    status: String(o.status),
    created_at: isoOrNull(o.createdAt) ?? '',
    filled_at: isoOrNull(o.filledAt),
    ...mlegFields(o),
  };
}

/**
 * An mleg order's class and legs (each leg an order of its own, with its fills); nothing for a single-leg
 * order. The SDK does not carry a leg's `ratio_qty`: it is the leg's qty over the parent's (whole by
 * Alpaca's rules).
 */
function mlegFields(o: trading.Order): Pick<BrokerOrder, 'order_class' | 'legs'> {
  if (o.orderClass !== 'mleg') return {};
  const parentQty = requiredNumber(o.qty, 'qty');
  const legs = (o.legs ?? []).map((leg) => {
    const qty = requiredNumber(leg.qty, 'legs.qty');
    return {
      id: String(leg.id),
      symbol: String(leg.symbol),
      side: leg.side === 'sell' ? ('sell' as const) : ('buy' as const),
      ratio_qty: parentQty > 0 ? qty / parentQty : 0,
      position_intent: leg.positionIntent ?? null,
      qty,
      filled_qty: optionalNumber(leg.filledQty, 'legs.filled_qty') ?? 0,
      filled_avg_price: optionalNumber(leg.filledAvgPrice, 'legs.filled_avg_price'),
      status: String(leg.status),
    };
  });
  return { order_class: 'mleg', legs };
}

/**
 * A listing of SDK orders as {@link BrokerOrder}s: an order that cannot be read (a notional order with
 * `qty: null`, as in Alpaca's sample order object; a malformed field) is left out and named in the
 * listing's `unreadable` (see {@link Listing}), never failing the listing.
 */
export function toBrokerOrders(list: readonly trading.Order[]): Listing<BrokerOrder> {
  const out: BrokerOrder[] = [];
  const unreadable: UnreadableEntry[] = [];
  for (const o of list) {
    try {
      out.push(toBrokerOrder(o));
    } catch (err) {
      unreadable.push({ id: o?.id ? String(o.id) : '(no id)', why: whyUnreadable(o, err) });
    }
  }
  return withUnreadable(out, unreadable);
}

function whyUnreadable(o: trading.Order, err: unknown): string {
  const notional = (o as { notional?: unknown })?.notional;
  const what = err instanceof Error ? err.message : String(err);
  return o?.qty === null || o?.qty === undefined
    ? `order ${String(o?.symbol)} has no qty${notional ? ` (notional ${String(notional)})` : ''}: ${what}`
    : what;
}

/** An SDK position as a {@link BrokerPosition}. */
export function toBrokerPosition(p: trading.Position): BrokerPosition {
  const signed = requiredNumber(p.qty, 'qty');
  const side: 'long' | 'short' = p.side === 'short' || (p.side !== 'long' && signed < 0) ? 'short' : 'long';
  const available = optionalNumber(p.qtyAvailable, 'qty_available');
  return {
    symbol: p.symbol,
    side,
    qty: Math.abs(signed),
    // Absent qty_available means we cannot tell what is reserved: report nothing available (safety rule 3).
    qty_available: available === null ? 0 : Math.abs(available),
    avg_entry_price: requiredNumber(p.avgEntryPrice, 'avg_entry_price'),
    asset_class: String(p.assetClass),
  };
}

/** An option snapshot's latest quote as an {@link OptionQuote}; null without one. */
export function toOptionQuote(symbol: string, s: marketData.OptionSnapshot): OptionQuote | null {
  const q = s.latestQuote;
  if (!q) return null;
  const quoteTime = isoOrNull(q.t);
  if (quoteTime === null) return null;
  return {
    symbol,
    bid: requiredNumber(q.bp, 'bp'),
    ask: requiredNumber(q.ap, 'ap'),
    bidSize: optionalNumber(q.bs, 'bs') ?? 0,
    askSize: optionalNumber(q.as, 'as') ?? 0,
    quoteTime,
    lastPrice: s.latestTrade ? optionalNumber(s.latestTrade.p, 'p') : null,
  };
}

/** A chain snapshot as an {@link OptionChainEntry}; null when `symbol` is not an OCC option symbol. */
export function toChainEntry(
  symbol: string,
  s: marketData.OptionSnapshot,
  openInterest: number | null,
): OptionChainEntry | null {
  const m = OCC_RE.exec(symbol);
  if (!m) return null;
  const q = s.latestQuote;
  return {
    symbol,
    underlying: m[1].replace(/\d$/, ''),
    expiry: `20${m[2]}-${m[3]}-${m[4]}`,
    type: m[5] === 'C' ? 'call' : 'put',
    strike: Number(m[6]) / 1000,
    bid: q ? optionalNumber(q.bp, 'bp') : null,
    ask: q ? optionalNumber(q.ap, 'ap') : null,
    bidSize: q ? optionalNumber(q.bs, 'bs') : null,
    askSize: q ? optionalNumber(q.as, 'as') : null,
    quoteTime: q ? isoOrNull(q.t) : null,
    lastPrice: s.latestTrade ? optionalNumber(s.latestTrade.p, 'p') : null,
    delta: s.greeks ? optionalNumber(s.greeks.delta, 'delta') : null,
    impliedVolatility: optionalNumber(s.impliedVolatility, 'impliedVolatility'),
    volume: s.dailyBar ? optionalNumber(s.dailyBar.v, 'v') : null,
    openInterest,
  };
}
