/**
 * Multi-leg (`order_class: mleg`) orders as Alpaca documents them (/work/shared/ALPACA-OPTIONS.md, "Multi-leg
 * orders"), as pure functions over a view of the account, so the engine can call them without this module
 * knowing how it stores orders:
 *
 * - 2-4 legs on one underlying, each on a different contract, `ratio_qty` a positive whole number; the parent
 *   takes `qty` (the multiple), `type` `market` or `limit` only (no stop types), `day` or `gtc`, and for a
 *   limit a non-zero net `limit_price` per share (positive debit, negative credit); no `symbol` or `side`.
 * - Options trading Level 3.
 * - Each leg's `position_intent`, when omitted, inferred from the current position in that contract exactly
 *   as for a single leg (a sell with no long opens a short on that leg); specified and different: 422.
 * - A closing leg needs ratio_qty x qty available (held minus what working orders hold): 403 otherwise.
 * - The legs fill together or not at all, at a net price no worse than the limit; each leg fills at its own
 *   side of the quote (buys at the ask, sells at the bid).
 * - Working, an mleg order holds ratio_qty x (qty - filled) on each closing leg.
 */
import { ALPACA_CODES, SimHttpError, invalid, str } from './order-terms';
import { parseOcc } from './occ';

export type MlegIntent = 'buy_to_open' | 'buy_to_close' | 'sell_to_open' | 'sell_to_close';

/** One validated leg; `positionIntent` as the broker sees it (specified, or inferred when omitted). */
export interface MlegLeg {
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly ratioQty: number;
  readonly positionIntent: MlegIntent;
  readonly intentSpecified: boolean;
}

/** A validated mleg order. */
export interface MlegTerms {
  readonly qty: number;
  readonly type: 'market' | 'limit';
  readonly timeInForce: 'day' | 'gtc';
  /** Net per share: positive debit, negative credit; null for market. */
  readonly limitPrice: number | null;
  readonly legs: readonly MlegLeg[];
}

/** What validation reads of the account. */
export interface MlegAccountView {
  readonly optionsApprovedLevel: number;
  /** Signed position in a contract (negative = short; 0 = none). */
  positionQty(symbol: string): number;
  /** Qty of a contract other working orders hold (`held_for_orders`). */
  heldForOrders(symbol: string): number;
  /** Ids of the working orders that hold a contract (the 403's `related_orders`). @default none */
  relatedOrders?(symbol: string): readonly string[];
}

/** Best bid and ask per share. */
export interface MlegQuote {
  readonly bid: number;
  readonly ask: number;
}

/** Alpaca's inference, per leg: a sell with a long closes, else opens a short; a buy with a short closes. */
export function inferLegIntent(side: 'buy' | 'sell', positionQty: number): MlegIntent {
  if (side === 'sell') return positionQty > 0 ? 'sell_to_close' : 'sell_to_open';
  return positionQty < 0 ? 'buy_to_close' : 'buy_to_open';
}

/** Whether a body is an mleg order. */
export function isMlegBody(b: Record<string, unknown>): boolean {
  return str(b.order_class) === 'mleg';
}

const INTENTS = new Set(['buy_to_open', 'buy_to_close', 'sell_to_open', 'sell_to_close']);

/** Validates an mleg body against the account, in Alpaca's order; throws {@link SimHttpError}. */
export function validateMlegOrder(b: Record<string, unknown>, account: MlegAccountView): MlegTerms {
  if (account.optionsApprovedLevel < 3) {
    throw new SimHttpError(
      403,
      ALPACA_CODES.forbidden,
      'account is not authorized to trade multi-leg options',
    );
  }
  if (b.symbol !== undefined && b.symbol !== null && b.symbol !== '') {
    throw invalid('symbol must not be specified for mleg orders');
  }
  if (b.side !== undefined && b.side !== null && b.side !== '') {
    throw invalid('side must not be specified for mleg orders');
  }
  const type = str(b.type);
  if (type !== 'market' && type !== 'limit')
    throw invalid(`invalid order type for mleg orders: ${type ?? ''}`);
  const tif = str(b.time_in_force);
  if (tif !== 'day' && tif !== 'gtc')
    throw invalid('only day and gtc orders are supported for options trading');
  const qty = Number(str(b.qty));
  if (!Number.isInteger(qty) || qty <= 0) throw invalid('qty must be integer for options trading');
  const limitPrice = type === 'limit' ? netPrice(b.limit_price) : null;
  if (type === 'market' && b.limit_price !== undefined && b.limit_price !== null) {
    throw invalid('limit_price must not be specified for market orders');
  }
  const raw = Array.isArray(b.legs) ? (b.legs as unknown[]) : null;
  if (!raw || raw.length < 2 || raw.length > 4) throw invalid('mleg orders must have between 2 and 4 legs');
  const legs = raw.map((l, i) => parseLeg(l, i, account));
  checkOneUnderlying(legs);
  checkAvailable(legs, qty, account);
  return { qty, type, timeInForce: tif, limitPrice, legs };
}

function netPrice(v: unknown): number {
  const raw = str(v);
  if (raw === undefined) throw invalid('limit_price is required for limit orders');
  const n = Number(raw);
  if (!Number.isFinite(n) || n === 0) throw invalid(`invalid limit_price: ${raw}`);
  if (Math.abs(n * 100 - Math.round(n * 100)) > 1e-6) {
    throw invalid(
      `invalid limit_price ${raw}. sub-penny increment does not fulfill minimum pricing criteria`,
    );
  }
  return n;
}

function parseLeg(l: unknown, i: number, account: MlegAccountView): MlegLeg {
  if (!l || typeof l !== 'object') throw invalid(`legs[${i}] must be an object`);
  const leg = l as Record<string, unknown>;
  const symbol = str(leg.symbol);
  if (!symbol || !parseOcc(symbol))
    throw new SimHttpError(422, ALPACA_CODES.unprocessable, `asset "${symbol ?? ''}" not found`);
  const side = str(leg.side);
  if (side !== 'buy' && side !== 'sell') throw invalid(`legs[${i}].side must be buy or sell`);
  const ratio = Number(str(leg.ratio_qty));
  if (!Number.isInteger(ratio) || ratio <= 0)
    throw invalid(`legs[${i}].ratio_qty must be a positive integer`);
  const specified = str(leg.position_intent);
  if (specified !== undefined && !INTENTS.has(specified))
    throw invalid(`invalid position_intent: ${specified}`);
  const inferred = inferLegIntent(side, account.positionQty(symbol));
  if (specified !== undefined && specified !== inferred) {
    throw new SimHttpError(
      422,
      ALPACA_CODES.unprocessable,
      `position intent mismatch, inferred: ${inferred}, specified: ${specified}`,
    );
  }
  return {
    symbol,
    side,
    ratioQty: ratio,
    positionIntent: inferred,
    intentSpecified: specified !== undefined,
  };
}

function checkOneUnderlying(legs: readonly MlegLeg[]): void {
  const seen = new Set<string>();
  for (const l of legs) {
    if (seen.has(l.symbol)) throw invalid(`duplicate leg symbol: ${l.symbol}`);
    seen.add(l.symbol);
  }
  const roots = new Set(legs.map((l) => parseOcc(l.symbol)!.underlying));
  if (roots.size > 1) throw invalid('all legs of an mleg order must have the same underlying');
}

/** The 403 when a closing leg asks for more than is available (held minus what working orders hold). */
export function checkAvailable(legs: readonly MlegLeg[], qty: number, account: MlegAccountView): void {
  for (const l of legs) {
    if (!l.positionIntent.endsWith('_to_close')) continue;
    const requested = l.ratioQty * qty;
    const existing = Math.abs(account.positionQty(l.symbol));
    const held = account.heldForOrders(l.symbol);
    const available = Math.max(0, existing - held);
    if (requested > available) {
      // The body as a real paper account answered an mleg order (fixture
      // forum-403-insufficient-qty-options-mleg): numbers as strings, `symbol` empty.
      throw new SimHttpError(
        403,
        ALPACA_CODES.forbidden,
        `insufficient qty available for order (requested: ${requested}, available: ${available})`,
        {
          available: String(available),
          existing_qty: String(existing),
          held_for_orders: String(held),
          related_orders: [...(account.relatedOrders?.(l.symbol) ?? [])],
          symbol: '',
        },
      );
    }
  }
}

/** Net executable price per share of one multiple now (buys at the ask, sells at the bid); null if unpriceable. */
export function mlegExecutableNet(
  legs: readonly Pick<MlegLeg, 'symbol' | 'side' | 'ratioQty'>[],
  quotes: ReadonlyMap<string, MlegQuote>,
): number | null {
  let net = 0;
  for (const l of legs) {
    const q = quotes.get(l.symbol);
    const p = l.side === 'buy' ? q?.ask : q?.bid;
    if (p === undefined || !Number.isFinite(p) || p <= 0) return null;
    net += (l.side === 'buy' ? p : -p) * l.ratioQty;
  }
  return Math.round(net * 100) / 100;
}

/** One leg's part of an mleg fill. */
export interface MlegLegFill {
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  /** Per share. */
  readonly price: number;
}

/**
 * The fill of `qty` multiples now, all legs or none: a market order at the executable net, a limit when the
 * executable net is at or better than the limit (pays no more / receives no less). Null: nothing fills.
 */
export function mlegFill(
  order: Pick<MlegTerms, 'type' | 'limitPrice' | 'legs'>,
  qty: number,
  quotes: ReadonlyMap<string, MlegQuote>,
): { readonly netPrice: number; readonly legs: readonly MlegLegFill[] } | null {
  if (qty <= 0) return null;
  const net = mlegExecutableNet(order.legs, quotes);
  if (net === null) return null;
  if (order.type === 'limit' && net > (order.limitPrice ?? -Infinity) + 1e-9) return null;
  return {
    netPrice: net,
    legs: order.legs.map((l) => {
      const q = quotes.get(l.symbol)!;
      return {
        symbol: l.symbol,
        side: l.side,
        qty: l.ratioQty * qty,
        price: l.side === 'buy' ? q.ask : q.bid,
      };
    }),
  };
}

/** A position as the fill math needs it: signed qty, average price per share. */
export interface MlegPosition {
  qty: number;
  avgPrice: number;
}

/**
 * Applies a fill to the positions, leg by leg (a buy adds, a sell subtracts; a position that reaches 0 is
 * removed; the average price moves only when a position grows). Returns the positions changed.
 */
export function applyMlegFill(
  positions: Map<string, MlegPosition>,
  legs: readonly MlegLegFill[],
): ReadonlyArray<{ readonly symbol: string; readonly qty: number }> {
  const changed: Array<{ symbol: string; qty: number }> = [];
  for (const f of legs) {
    const before = positions.get(f.symbol) ?? { qty: 0, avgPrice: 0 };
    const delta = f.side === 'buy' ? f.qty : -f.qty;
    const qty = before.qty + delta;
    const grows = Math.sign(delta) === Math.sign(before.qty) || before.qty === 0;
    const avgPrice = grows
      ? (Math.abs(before.qty) * before.avgPrice + f.qty * f.price) / Math.abs(qty)
      : Math.sign(qty) === Math.sign(before.qty)
        ? before.avgPrice
        : f.price;
    if (qty === 0) positions.delete(f.symbol);
    else positions.set(f.symbol, { qty, avgPrice });
    changed.push({ symbol: f.symbol, qty });
  }
  return changed;
}

/** What a working mleg order holds of each closing leg: ratio_qty x the multiples not yet filled. */
export function mlegHeldForOrders(
  order: Pick<MlegTerms, 'qty' | 'legs'>,
  filledQty: number,
): ReadonlyMap<string, number> {
  const held = new Map<string, number>();
  const open = Math.max(0, order.qty - filledQty);
  for (const l of order.legs) {
    if (l.positionIntent.endsWith('_to_close')) held.set(l.symbol, l.ratioQty * open);
  }
  return held;
}

/**
 * The read-back of an mleg order's parent, as Alpaca shows it: `side` and `position_intent` empty, the legs
 * as orders of their own (`us_option`, per-leg qty, filled qty and average price).
 */
export function mlegOrderJson(args: {
  readonly parent: Record<string, unknown>;
  readonly terms: MlegTerms;
  readonly filledQty: number;
  readonly legFills: ReadonlyMap<string, { readonly qty: number; readonly avgPrice: number | null }>;
  readonly legIds: readonly string[];
  readonly status: string;
}): Record<string, unknown> {
  return {
    ...args.parent,
    order_class: 'mleg',
    symbol: '',
    side: '',
    position_intent: '',
    qty: String(args.terms.qty),
    filled_qty: String(args.filledQty),
    type: args.terms.type,
    time_in_force: args.terms.timeInForce,
    limit_price: args.terms.limitPrice === null ? null : args.terms.limitPrice.toFixed(2),
    status: args.status,
    legs: args.terms.legs.map((l, i) => {
      const f = args.legFills.get(l.symbol);
      return {
        id: args.legIds[i],
        asset_class: 'us_option',
        symbol: l.symbol,
        side: l.side,
        ratio_qty: String(l.ratioQty),
        position_intent: l.positionIntent,
        qty: String(l.ratioQty * args.terms.qty),
        filled_qty: String(f?.qty ?? 0),
        filled_avg_price: f?.avgPrice === null || f?.avgPrice === undefined ? null : f.avgPrice.toFixed(2),
        status: args.status,
        order_class: 'mleg',
      };
    }),
  };
}
