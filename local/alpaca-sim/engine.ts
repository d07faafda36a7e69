/**
 * The simulator's broker: accounts, orders, positions and the options order rules of
 * /work/shared/ALPACA-OPTIONS.md, each rejection with Alpaca's HTTP status, `code` and message text.
 * No HTTP here: the server turns a thrown {@link SimHttpError} into a response.
 */
import { newYorkClock } from './clock';
import { cents, type SimMarket } from './market';
import { parseOcc } from './occ';
import type { SimActivity } from './activity-types';
import { mlegExecutableNet, validateMlegOrder, type MlegLeg } from './mleg';
import {
  ALPACA_CODES,
  SimHttpError,
  invalid,
  parseTerms,
  str,
  stopTriggered,
  type OrderTerms,
  type SimOrderType,
  type SimTimeInForce,
} from './order-terms';

export { ALPACA_CODES, SimHttpError } from './order-terms';

export type PositionIntent = 'buy_to_open' | 'buy_to_close' | 'sell_to_open' | 'sell_to_close';

// `pending_cancel` / `pending_replace`: asked to end, still working (can fill) until the broker settles it
// (AO "Behaviour the simulator must copy").
const OPEN_STATUSES = new Set([
  'new',
  'accepted',
  'pending_new',
  'partially_filled',
  'pending_cancel',
  'pending_replace',
]);

/** An order as the simulator stores it (numbers as numbers; `toJson` renders Alpaca's strings). */
export interface SimOrder {
  readonly id: string;
  readonly clientOrderId: string;
  readonly keyId: string;
  readonly symbol: string;
  readonly assetId: string;
  readonly assetClass: 'us_option' | 'us_equity';
  /** Contracts or shares (0 for a notional order, shown as `qty: null`). */
  readonly qty: number;
  /**
   * Dollars of a notional order (placed by hand on the dashboard; `qty: null` in the REST shape, as in
   * Alpaca's sample order object, fixture `alpaca-py-close-position-notional-order`), else null.
   */
  readonly notional: number | null;
  filledQty: number;
  /** Sum of fill qty x price (per share), to compute `filled_avg_price`. */
  filledValue: number;
  readonly side: 'buy' | 'sell';
  readonly type: SimOrderType;
  readonly timeInForce: SimTimeInForce;
  readonly limitPrice: number | null;
  readonly stopPrice: number | null;
  /** A stop / stop_limit whose stop price the quote reached: it now works as a market / limit order. */
  triggered: boolean;
  /** Set when a `PATCH` replaced this order (status `replaced`). */
  replacedAt: string | null;
  replacedBy: string | null;
  /** The id of the order this one replaced. */
  readonly replaces: string | null;
  /** `pending_replace` only: the filled qty when the replace was accepted (a fill after it wins). */
  filledAtReplace?: number;
  /** As the broker saw it: specified, or inferred from the position when omitted. */
  readonly positionIntent: PositionIntent;
  /** Whether the client sent `position_intent` (the request log has the raw body too). */
  readonly intentSpecified: boolean;
  status: string;
  readonly createdAt: string;
  updatedAt: string;
  filledAt: string | null;
  canceledAt: string | null;
  expiredAt: string | null;
  failedAt: string | null;
  /**
   * An `order_class: mleg` parent: its legs (2-4). The parent's `qty` / `filledQty` count multiples of the
   * strategy, `filledValue` the net per share times the multiples filled; `symbol` is empty and `side` /
   * `positionIntent` are placeholders never shown (the REST shape shows `""`).
   */
  readonly mleg?: { readonly legs: readonly SimMlegLeg[] };
}

/** One leg of an mleg order: an order of its own (id, client_order_id) filled with its parent. */
export interface SimMlegLeg extends MlegLeg {
  readonly id: string;
  readonly clientOrderId: string;
  readonly assetId: string;
  /** Sum of the leg's fill qty x price (per share), for its `filled_avg_price`. */
  filledValue: number;
}

/** A position: `qty` is signed (negative when short); prices per share. */
export interface SimPosition {
  readonly symbol: string;
  qty: number;
  avgPrice: number;
}

/** Money and status of an account; `setAccount` patches these. */
export interface SimAccountSettings {
  cash: number;
  optionsBuyingPower: number;
  status: string;
  tradingBlocked: boolean;
  optionsApprovedLevel: number;
}

/** One account, keyed by its API key id. */
export interface SimAccount extends SimAccountSettings {
  readonly keyId: string;
  readonly secret: string;
  readonly id: string;
  readonly accountNumber: string;
  readonly createdAt: string;
  readonly orders: SimOrder[];
  readonly usedClientOrderIds: Set<string>;
  readonly positions: Map<string, SimPosition>;
  /** Non-trade activities (assignment, exercise, expiry, fees), oldest first. */
  readonly activities: SimActivity[];
  /** Regulatory fees accrued today by sub type (dollars), charged once at the close (`expireDayOrders`). */
  readonly accruedFees: Map<string, number>;
}

/** Options of `addAccount`. Money in dollars. */
export interface SimAccountOptions {
  /** @default 100000 */
  readonly cash?: number;
  /** @default cash */
  readonly optionsBuyingPower?: number;
}

const FILL_MULTIPLIER = 100;

/** True while an order can still fill or be canceled. */
export function isOpenOrder(o: SimOrder): boolean {
  return OPEN_STATUSES.has(o.status);
}

export function newAccount(keyId: string, secret: string, opts: SimAccountOptions, now: Date): SimAccount {
  const cash = opts.cash ?? 100_000;
  return {
    keyId,
    secret,
    id: crypto.randomUUID(),
    accountNumber: `PA${String(Math.floor(1e9 + Math.random() * 9e9))}`,
    createdAt: now.toISOString(),
    cash,
    optionsBuyingPower: opts.optionsBuyingPower ?? cash,
    status: 'ACTIVE',
    tradingBlocked: false,
    optionsApprovedLevel: 3,
    orders: [],
    usedClientOrderIds: new Set(),
    positions: new Map(),
    activities: [],
    accruedFees: new Map(),
  };
}

/**
 * Qty of a symbol one open order holds: a closing order its unfilled qty; an mleg order ratio_qty x its
 * unfilled multiples on each closing leg (AO "Multi-leg orders").
 */
function heldBy(o: SimOrder, symbol: string): number {
  if (!isOpenOrder(o)) return 0;
  const open = o.qty - o.filledQty;
  if (o.mleg) {
    const leg = o.mleg.legs.find((l) => l.symbol === symbol && l.positionIntent.endsWith('_to_close'));
    return leg ? leg.ratioQty * Math.max(0, open) : 0;
  }
  return o.symbol === symbol && o.positionIntent.endsWith('_to_close') ? Math.max(0, open) : 0;
}

/** The open closing orders of a symbol that reserve its qty, optionally leaving one order out. */
export function holdingOrders(account: SimAccount, symbol: string, exceptId?: string): SimOrder[] {
  return account.orders.filter((o) => o.id !== exceptId && heldBy(o, symbol) > 0);
}

/** Qty of a symbol reserved by open closing orders (`held_for_orders`), optionally leaving one order out. */
export function heldForOrders(account: SimAccount, symbol: string, exceptId?: string): number {
  return holdingOrders(account, symbol, exceptId).reduce((n, o) => n + heldBy(o, symbol), 0);
}

/** What Alpaca infers from the CURRENT position only (never from pending orders). */
export function inferIntent(side: 'buy' | 'sell', positionQty: number): PositionIntent {
  if (side === 'sell') return positionQty > 0 ? 'sell_to_close' : 'sell_to_open';
  return positionQty < 0 ? 'buy_to_close' : 'buy_to_open';
}

/** What the caller knows of the moment: the broker's clock and whether the market is open. */
export interface OrderContext {
  readonly now: Date;
  readonly marketOpen: boolean;
  /** Refuse symbols the market does not know (422 `asset "X" not found`). @default false */
  readonly strictAssets?: boolean;
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new SimHttpError(400, ALPACA_CODES.malformedBody, 'request body format is invalid');
  }
  return body as Record<string, unknown>;
}

/** A client_order_id from the body (checked: string, <= 128 chars, never used before) or a fresh one. */
export function clientOrderIdOf(account: SimAccount, raw: unknown): string {
  if (raw !== undefined && raw !== null && typeof raw !== 'string') {
    throw invalid('client_order_id must be a string');
  }
  const cid = raw ?? crypto.randomUUID();
  if (cid.length > 128) throw invalid('client_order_id must be no more than 128 characters');
  // Code 42210000 (fixture user-422-client-order-id-unique-42210000; 40010001 has also been measured).
  if (account.usedClientOrderIds.has(cid)) {
    throw new SimHttpError(422, ALPACA_CODES.unprocessable, 'client_order_id must be unique');
  }
  return cid;
}

/**
 * Validates an order body and applies the options rules, in the order Alpaca checks them: shape and
 * options restrictions, client_order_id, market hours, position intent, available qty, buying power.
 * Returns the accepted order (status `accepted`); the caller runs the fill engine.
 */
export function acceptOrder(
  account: SimAccount,
  market: SimMarket,
  body: unknown,
  ctx: OrderContext,
): SimOrder {
  const b = asObject(body);
  const symbol = str(b.symbol)?.trim().toUpperCase();
  if (!symbol) throw invalid('symbol is required');
  const occ = parseOcc(symbol);
  const isOption = occ !== null;

  const orderClass = str(b.order_class) ?? '';
  if (orderClass !== '' && orderClass !== 'simple') {
    if (isOption) throw invalid('complex orders not supported for options trading');
    throw invalid(`order_class ${orderClass} is not supported by this simulator`);
  }
  if (b.legs !== undefined && b.legs !== null)
    throw invalid('complex orders not supported for options trading');

  const side = str(b.side);
  if (side !== 'buy' && side !== 'sell') throw invalid('side must be buy or sell');
  const terms = parseTerms(b, isOption);
  const clientOrderId = clientOrderIdOf(account, b.client_order_id);
  // An expired contract is a real asset, only inactive (checkExpiry answers that).
  const expired = occ !== null && occ.expiry < newYorkClock(ctx.now).date;
  if (ctx.strictAssets && !expired && !market.knows(symbol) && !account.positions.has(symbol)) {
    // Fixture user-422-asset-not-found (paper probe): 422 42210000 `asset "ZZZZ" not found`.
    throw new SimHttpError(422, ALPACA_CODES.unprocessable, `asset "${symbol}" not found`);
  }

  if (account.status !== 'ACTIVE' || account.tradingBlocked) {
    throw new SimHttpError(403, ALPACA_CODES.forbidden, 'account is not authorized to trade');
  }
  if (isOption && terms.type === 'market' && !ctx.marketOpen) {
    throw new SimHttpError(
      422,
      ALPACA_CODES.unprocessable,
      'options market orders are only allowed during market hours',
    );
  }

  const specified = str(b.position_intent);
  if (
    specified !== undefined &&
    !['buy_to_open', 'buy_to_close', 'sell_to_open', 'sell_to_close'].includes(specified)
  ) {
    throw invalid(`invalid position_intent: ${specified}`);
  }
  const held = account.positions.get(symbol)?.qty ?? 0;
  const inferred = inferIntent(side, held);
  if (specified !== undefined && specified !== inferred) {
    throw new SimHttpError(
      422,
      ALPACA_CODES.unprocessable,
      `position intent mismatch, inferred: ${inferred}, specified: ${specified}`,
    );
  }
  if (occ) checkExpiry(symbol, occ.expiry, inferred, ctx.now);
  checkFunds(account, market, { symbol, isOption, intent: inferred, terms, exceptId: undefined });

  const order = newOrder(account, market, {
    clientOrderId,
    symbol,
    isOption,
    side,
    terms,
    positionIntent: inferred,
    intentSpecified: specified !== undefined,
    replaces: null,
    now: ctx.now,
  });
  // An options POST answers `pending_new` (fixture docs-postorder-Options); equity orders `accepted`.
  if (isOption) order.status = 'pending_new';
  return order;
}

/**
 * `POST /v2/orders` with `order_class: mleg` (AO "Multi-leg orders"): the rules of mleg.ts (Level 3, 2-4
 * legs on one underlying, per-leg intent inference and mismatch, each closing leg's qty available), then as
 * for a single leg: client_order_id, assets, account status, market hours, each leg's expiry, and the net
 * debit against options buying power. One parent order whose legs are orders of their own (ids, client
 * order ids); status `pending_new` as for any options POST.
 */
export function acceptMlegOrder(
  account: SimAccount,
  market: SimMarket,
  body: unknown,
  ctx: OrderContext,
): SimOrder {
  const b = asObject(body);
  const terms = validateMlegOrder(b, {
    optionsApprovedLevel: account.optionsApprovedLevel,
    positionQty: (s) => account.positions.get(s)?.qty ?? 0,
    heldForOrders: (s) => heldForOrders(account, s),
    relatedOrders: (s) => holdingOrders(account, s).map((o) => o.id),
  });
  const clientOrderId = clientOrderIdOf(account, b.client_order_id);
  const today = newYorkClock(ctx.now).date;
  for (const l of terms.legs) {
    const expired = parseOcc(l.symbol)!.expiry < today;
    if (ctx.strictAssets && !expired && !market.knows(l.symbol) && !account.positions.has(l.symbol)) {
      throw new SimHttpError(422, ALPACA_CODES.unprocessable, `asset "${l.symbol}" not found`);
    }
  }
  if (account.status !== 'ACTIVE' || account.tradingBlocked) {
    throw new SimHttpError(403, ALPACA_CODES.forbidden, 'account is not authorized to trade');
  }
  if (terms.type === 'market' && !ctx.marketOpen) {
    throw new SimHttpError(
      422,
      ALPACA_CODES.unprocessable,
      'options market orders are only allowed during market hours',
    );
  }
  for (const l of terms.legs) checkExpiry(l.symbol, parseOcc(l.symbol)!.expiry, l.positionIntent, ctx.now);
  const debit = mlegDebit(terms.legs, terms.limitPrice, market);
  const required = cents(debit * terms.qty * FILL_MULTIPLIER);
  const availableBp = cents(account.optionsBuyingPower - reservedForBuys(account, market));
  if (required > 0 && required > availableBp) {
    throw new SimHttpError(
      403,
      ALPACA_CODES.forbidden,
      `insufficient options buying power for order (required: ${required.toFixed(2)}, available: ${availableBp.toFixed(2)})`,
    );
  }
  const order = newOrder(account, market, {
    clientOrderId,
    symbol: '',
    isOption: true,
    side: 'buy',
    terms: { ...terms, stopPrice: null },
    positionIntent: 'buy_to_open',
    intentSpecified: false,
    replaces: null,
    now: ctx.now,
  });
  const legs: SimMlegLeg[] = terms.legs.map((l) => ({
    ...l,
    id: crypto.randomUUID(),
    clientOrderId: crypto.randomUUID(),
    assetId: market.assetId(l.symbol),
    filledValue: 0,
  }));
  (order as { mleg?: SimOrder['mleg'] }).mleg = { legs };
  order.status = 'pending_new';
  return order;
}

/** The net debit per share an mleg order may pay (its limit, else the executable net now); 0 for a credit. */
function mlegDebit(legs: readonly MlegLeg[], limitPrice: number | null, market: SimMarket): number {
  const net = limitPrice ?? mlegExecutableNet(legs, market.quotes) ?? 0;
  return Math.max(0, net);
}

/**
 * Fills `multiples` of an mleg order (capped at what is unfilled), every leg at its price in `legPrices`
 * (per share): all legs or none. A closing leg whose position shrank meanwhile caps the multiples every leg
 * can fill; the rest is canceled, and nothing fills when no whole multiple can (never a leg alone).
 */
export function applyMlegFill(
  account: SimAccount,
  market: SimMarket,
  order: SimOrder,
  multiples: number,
  legPrices: ReadonlyMap<string, number>,
  now: Date,
): void {
  if (!order.mleg) throw new Error(`order ${order.id} is not an mleg order`);
  if (!isOpenOrder(order)) throw new Error(`order ${order.id} is ${order.status}, cannot fill`);
  const wanted = Math.min(multiples, order.qty - order.filledQty);
  let fill = wanted;
  for (const l of order.mleg.legs) {
    if (!legPrices.has(l.symbol)) throw new Error(`mleg fill of ${order.id}: no price for ${l.symbol}`);
    if (!l.positionIntent.endsWith('_to_close')) continue;
    const held = account.positions.get(l.symbol)?.qty ?? 0;
    const closable = l.side === 'sell' ? Math.max(0, held) : Math.max(0, -held);
    fill = Math.min(fill, Math.floor(closable / l.ratioQty));
  }
  const ts = now.toISOString();
  if (fill <= 0) {
    endOrder(order, 'canceled', now);
    return;
  }
  let net = 0;
  for (const l of order.mleg.legs) {
    const price = legPrices.get(l.symbol)!;
    const qty = l.ratioQty * fill;
    bookFill(account, market, {
      symbol: l.symbol,
      side: l.side,
      intent: l.positionIntent,
      qty,
      price,
      multiplier: FILL_MULTIPLIER,
    });
    l.filledValue += qty * price;
    net += (l.side === 'buy' ? price : -price) * l.ratioQty;
  }
  order.filledQty += fill;
  order.filledValue += net * fill;
  order.updatedAt = ts;
  settleFillStatus(order, fill < wanted, ts);
}

function checkExpiry(symbol: string, expiry: string, intent: PositionIntent, now: Date): void {
  const { date, minuteOfDay } = newYorkClock(now);
  if (expiry < date) {
    throw new SimHttpError(422, ALPACA_CODES.unprocessable, `asset ${symbol} is not active`);
  }
  if (intent.endsWith('_to_open') && expiry === date && minuteOfDay >= 15 * 60 + 30) {
    throw new SimHttpError(
      422,
      ALPACA_CODES.unprocessable,
      `contract ${symbol} expires soon, unable to open new positions`,
    );
  }
}

/**
 * The 403s: a close beyond the qty available (held minus what other open closing orders hold), a
 * buy_to_open beyond options buying power. `exceptId` leaves out the order being replaced: its hold is
 * released by the replacement.
 */
function checkFunds(
  account: SimAccount,
  market: SimMarket,
  o: {
    symbol: string;
    isOption: boolean;
    intent: PositionIntent;
    terms: OrderTerms;
    exceptId: string | undefined;
  },
): void {
  const qty = o.terms.qty;
  if (o.intent.endsWith('_to_close')) {
    // A close may never go through zero: asking for more than is available is refused, not flipped.
    const held = Math.abs(account.positions.get(o.symbol)?.qty ?? 0);
    const holding = heldForOrders(account, o.symbol, o.exceptId);
    const available = Math.max(0, held - holding);
    if (qty > available) {
      // The body carries what holds the qty (fixtures alpaca-py-close-all-SQQQ-403,
      // forum-403-insufficient-qty-options-mleg): numbers as strings, the holding orders' ids.
      throw new SimHttpError(
        403,
        ALPACA_CODES.forbidden,
        `insufficient qty available for order (requested: ${qty}, available: ${available})`,
        {
          available: String(available),
          existing_qty: String(held),
          held_for_orders: String(holding),
          related_orders: holdingOrders(account, o.symbol, o.exceptId).map((x) => x.id),
          symbol: o.symbol,
        },
      );
    }
  }
  if (o.intent !== 'buy_to_open') return;
  const q = market.quotes.get(o.symbol);
  const price = o.terms.limitPrice ?? o.terms.stopPrice ?? (q && q.ask > 0 ? q.ask : null);
  if (price === null) return;
  const required = cents(price * qty * (o.isOption ? FILL_MULTIPLIER : 1));
  const available = cents(account.optionsBuyingPower - reservedForBuys(account, market, o.exceptId));
  if (required > available) {
    throw new SimHttpError(
      403,
      ALPACA_CODES.forbidden,
      `insufficient options buying power for order (required: ${required.toFixed(2)}, available: ${available.toFixed(2)})`,
    );
  }
}

/** Records a new order on the account (status `accepted`); the callers validate its terms first. */
export function newOrder(
  account: SimAccount,
  market: SimMarket,
  o: {
    clientOrderId: string;
    symbol: string;
    isOption: boolean;
    side: 'buy' | 'sell';
    terms: OrderTerms;
    positionIntent: PositionIntent;
    intentSpecified: boolean;
    replaces: string | null;
    now: Date;
  },
): SimOrder {
  const now = o.now.toISOString();
  const order: SimOrder = {
    id: crypto.randomUUID(),
    clientOrderId: o.clientOrderId,
    keyId: account.keyId,
    symbol: o.symbol,
    assetId: market.assetId(o.symbol),
    assetClass: o.isOption ? 'us_option' : 'us_equity',
    qty: o.terms.qty,
    notional: null,
    filledQty: 0,
    filledValue: 0,
    side: o.side,
    type: o.terms.type,
    timeInForce: o.terms.timeInForce,
    limitPrice: o.terms.limitPrice,
    stopPrice: o.terms.stopPrice,
    triggered: false,
    replacedAt: null,
    replacedBy: null,
    replaces: o.replaces,
    positionIntent: o.positionIntent,
    intentSpecified: o.intentSpecified,
    status: 'accepted',
    createdAt: now,
    updatedAt: now,
    filledAt: null,
    canceledAt: null,
    expiredAt: null,
    failedAt: null,
  };
  account.usedClientOrderIds.add(o.clientOrderId);
  account.orders.push(order);
  return order;
}

/**
 * A notional order as a person places it on the dashboard (`qty: null`, `notional` dollars; fixture
 * `alpaca-py-close-position-notional-order`, AO "Behaviour the simulator must copy": "Real accounts can hold
 * orders with `qty: null`"). It rests (status `accepted`) until cancelled: the simulator never fills it.
 */
export function addNotionalOrder(
  account: SimAccount,
  market: SimMarket,
  o: { symbol: string; notional: number; side: 'buy' | 'sell'; now: Date },
): SimOrder {
  const order = newOrder(account, market, {
    clientOrderId: crypto.randomUUID(),
    symbol: o.symbol,
    isOption: parseOcc(o.symbol) !== null,
    side: o.side,
    terms: { type: 'market', timeInForce: 'day', qty: 0, limitPrice: null, stopPrice: null },
    positionIntent: o.side === 'buy' ? 'buy_to_open' : 'sell_to_close',
    intentSpecified: false,
    replaces: null,
    now: o.now,
  });
  (order as { notional: number | null }).notional = o.notional;
  return order;
}

/** 422 `order is already in "filled" state` (Alpaca's text) for an order that is no longer open. */
export function notOpenError(order: SimOrder): SimHttpError {
  return new SimHttpError(422, ALPACA_CODES.unprocessable, `order is already in "${order.status}" state`);
}

const REPLACE_FIELDS = ['qty', 'limit_price', 'stop_price', 'time_in_force', 'client_order_id'] as const;

/**
 * `PATCH /v2/orders/{id}`: a NEW order (new id, `replaces` = the old id) with the old one's terms
 * overridden by the body, checked as a new submission with the old order's hold released; the old order
 * becomes `replaced` (`replaced_by` = the new id). Without `qty` the new order takes the old one's
 * unfilled qty. 422 when the old order is no longer open.
 */
export function replaceOrder(
  account: SimAccount,
  market: SimMarket,
  old: SimOrder,
  body: unknown,
  ctx: OrderContext,
  mode: 'immediate' | 'old_may_fill' = 'immediate',
): SimOrder {
  const b = asObject(body);
  if (!isOpenOrder(old) || old.status === 'pending_replace' || old.status === 'pending_cancel') {
    throw notOpenError(old);
  }
  if (!REPLACE_FIELDS.some((f) => b[f] !== undefined && b[f] !== null)) {
    throw invalid(`a replace needs at least one of ${REPLACE_FIELDS.join(', ')}`);
  }
  const isOption = old.assetClass === 'us_option';
  const terms = parseTerms(
    {
      type: old.type,
      time_in_force: b.time_in_force ?? old.timeInForce,
      qty: b.qty ?? old.qty - old.filledQty,
      limit_price: b.limit_price ?? old.limitPrice,
      stop_price: b.stop_price ?? old.stopPrice,
    },
    isOption,
  );
  const clientOrderId = clientOrderIdOf(account, b.client_order_id);
  if (isOption && terms.type === 'market' && !ctx.marketOpen) {
    throw new SimHttpError(
      422,
      ALPACA_CODES.unprocessable,
      'options market orders are only allowed during market hours',
    );
  }
  checkFunds(account, market, {
    symbol: old.symbol,
    isOption,
    intent: old.positionIntent,
    terms,
    exceptId: old.id,
  });
  const order = newOrder(account, market, {
    clientOrderId,
    symbol: old.symbol,
    isOption,
    side: old.side,
    terms,
    positionIntent: old.positionIntent,
    intentSpecified: old.intentSpecified,
    replaces: old.id,
    now: ctx.now,
  });
  const ts = ctx.now.toISOString();
  old.replacedBy = order.id;
  old.updatedAt = ts;
  if (mode === 'old_may_fill') {
    // The old order works on until the broker settles the replace; the new one waits (server.ts).
    old.status = 'pending_replace';
    old.filledAtReplace = old.filledQty;
    return order;
  }
  old.status = 'replaced';
  old.replacedAt = ts;
  return order;
}

/** Dollars reserved by open buy-to-open orders (limit, else stop price, else the current ask). */
export function reservedForBuys(account: SimAccount, market: SimMarket, exceptId?: string): number {
  let reserved = 0;
  for (const o of account.orders) {
    if (o.id === exceptId || !isOpenOrder(o)) continue;
    if (o.mleg) {
      reserved += mlegDebit(o.mleg.legs, o.limitPrice, market) * (o.qty - o.filledQty) * FILL_MULTIPLIER;
      continue;
    }
    if (o.positionIntent !== 'buy_to_open') continue;
    const px = o.limitPrice ?? o.stopPrice ?? market.quotes.get(o.symbol)?.ask ?? 0;
    reserved += px * (o.qty - o.filledQty) * (o.assetClass === 'us_option' ? FILL_MULTIPLIER : 1);
  }
  return reserved;
}

/**
 * Triggers an untriggered stop / stop_limit whose stop price the current quote reached. Returns whether
 * it triggered now. The caller evaluates only while the market is open (options trade core hours only).
 */
export function evaluateStop(order: SimOrder, market: SimMarket, now: Date): boolean {
  if (order.stopPrice === null || order.triggered || !isOpenOrder(order)) return false;
  if (!stopTriggered(order.side, order.stopPrice, market.quotes.get(order.symbol))) return false;
  order.triggered = true;
  order.updatedAt = now.toISOString();
  return true;
}

/**
 * Applies a fill of `qty` at `price` (per share). A closing order whose position shrank meanwhile (closed
 * by hand, assigned, expired) fills only what is still held and the rest is canceled: it never opens
 * the opposite side.
 */
export function applyFill(
  account: SimAccount,
  market: SimMarket,
  order: SimOrder,
  qty: number,
  price: number,
  now: Date,
): void {
  if (!isOpenOrder(order)) throw new Error(`order ${order.id} is ${order.status}, cannot fill`);
  const wanted = Math.min(qty, order.qty - order.filledQty);
  let fillQty = wanted;
  const pos = account.positions.get(order.symbol);
  const held = pos?.qty ?? 0;
  if (order.positionIntent.endsWith('_to_close')) {
    const closable = order.side === 'sell' ? Math.max(0, held) : Math.max(0, -held);
    fillQty = Math.min(fillQty, closable);
  }
  const shrunk = fillQty < wanted;
  const ts = now.toISOString();
  if (fillQty <= 0) {
    order.status = 'canceled';
    order.canceledAt = ts;
    order.updatedAt = ts;
    return;
  }
  bookFill(account, market, {
    symbol: order.symbol,
    side: order.side,
    intent: order.positionIntent,
    qty: fillQty,
    price,
    multiplier: order.assetClass === 'us_option' ? FILL_MULTIPLIER : 1,
  });
  order.filledQty += fillQty;
  order.filledValue += fillQty * price;
  order.updatedAt = ts;
  settleFillStatus(order, shrunk, ts);
}

/** The position, cash and buying power of one fill (one order, or one leg of an mleg order). */
function bookFill(
  account: SimAccount,
  market: SimMarket,
  f: {
    symbol: string;
    side: 'buy' | 'sell';
    intent: PositionIntent;
    qty: number;
    price: number;
    multiplier: number;
  },
): void {
  const pos = account.positions.get(f.symbol);
  const held = pos?.qty ?? 0;
  const signed = f.side === 'buy' ? f.qty : -f.qty;
  const next = held + signed;
  if (held === 0 || Math.sign(held) === Math.sign(signed)) {
    const avg = (Math.abs(held) * (pos?.avgPrice ?? 0) + f.qty * f.price) / (Math.abs(held) + f.qty);
    account.positions.set(f.symbol, { symbol: f.symbol, qty: next, avgPrice: avg });
  } else if (next === 0) {
    account.positions.delete(f.symbol);
  } else {
    pos!.qty = next;
  }
  const value = f.qty * f.price * f.multiplier;
  if (f.side === 'buy') {
    account.cash = cents(account.cash - value);
    account.optionsBuyingPower = cents(account.optionsBuyingPower - value);
  } else {
    account.cash = cents(account.cash + value);
    // Premium received for opening a short is collateral, not spendable buying power.
    if (f.intent === 'sell_to_close') {
      account.optionsBuyingPower = cents(account.optionsBuyingPower + value);
    }
  }
  market.recordTrade(f.symbol, f.price, f.qty);
}

/** `filled`, `canceled` (a close cut short by a shrunk position) or `partially_filled` after a fill. */
function settleFillStatus(order: SimOrder, shrunk: boolean, ts: string): void {
  if (order.filledQty >= order.qty) {
    order.status = 'filled';
    order.filledAt = ts;
  } else if (shrunk) {
    order.status = 'canceled';
    order.canceledAt = ts;
  } else {
    order.status = 'partially_filled';
  }
}

/**
 * The price an order fills at now (ask for buys, bid for sells, only when marketable), or null. A stop
 * fills only once triggered, then as a market order (`stop`) or a limit at its limit price (`stop_limit`).
 */
export function marketablePrice(order: SimOrder, market: SimMarket): number | null {
  if (order.stopPrice !== null && !order.triggered) return null;
  const stock = order.assetClass === 'us_equity' ? market.stockPrices.get(order.symbol) : undefined;
  // Shares without a quote trade at the last price (`setStockPrice`).
  const q = market.quotes.get(order.symbol) ?? (stock ? { bid: stock.price, ask: stock.price } : undefined);
  if (!q) return null;
  if (order.side === 'buy') {
    if (!(q.ask > 0)) return null;
    return order.limitPrice === null || q.ask <= order.limitPrice + 1e-9 ? q.ask : null;
  }
  if (!(q.bid > 0)) return null;
  return order.limitPrice === null || q.bid >= order.limitPrice - 1e-9 ? q.bid : null;
}

/** Ends an open order (`canceled`, `expired`, `rejected`). */
export function endOrder(order: SimOrder, status: 'canceled' | 'expired' | 'rejected', now: Date): void {
  if (!isOpenOrder(order)) throw notOpenError(order);
  const ts = now.toISOString();
  order.status = status;
  order.updatedAt = ts;
  if (status === 'canceled') order.canceledAt = ts;
  if (status === 'expired') order.expiredAt = ts;
  if (status === 'rejected') order.failedAt = ts;
}

function num(n: number | null): string | null {
  return n === null ? null : String(cents4(n));
}

function cents4(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

/** An order in Alpaca's REST shape (numbers as strings); an mleg parent with its legs. */
export function orderJson(o: SimOrder): Record<string, unknown> {
  return o.mleg ? mlegJson(o, o.mleg.legs) : simpleJson(o);
}

/**
 * An mleg parent as Alpaca reads it back (fixture docs-postorder-MultilegOptions): `symbol`, `side`,
 * `asset_id`, `asset_class` empty, `qty` the multiples, `filled_avg_price` the net per share (negative for a
 * credit); each leg an order of its own (`us_option`, `order_class` mleg, `type` empty, its own id, side,
 * intent, `ratio_qty`, qty = ratio x multiples, fills, and the parent's status).
 */
function mlegJson(o: SimOrder, legs: readonly SimMlegLeg[]): Record<string, unknown> {
  const { expires_at: _expires, ...base } = simpleJson(o);
  return {
    ...base,
    asset_id: '',
    symbol: '',
    asset_class: '',
    order_class: 'mleg',
    side: '',
    position_intent: '',
    legs: legs.map((l) => {
      const filled = l.ratioQty * o.filledQty;
      return {
        ...base,
        id: l.id,
        client_order_id: l.clientOrderId,
        asset_id: l.assetId,
        symbol: l.symbol,
        asset_class: 'us_option',
        qty: String(l.ratioQty * o.qty),
        filled_qty: String(filled),
        filled_avg_price: filled > 0 ? num(l.filledValue / filled) : null,
        order_class: 'mleg',
        order_type: '',
        type: '',
        side: l.side,
        position_intent: l.positionIntent,
        limit_price: null,
        stop_price: null,
        legs: null,
        expires_at: null,
        ratio_qty: String(l.ratioQty),
      };
    }),
  };
}

function simpleJson(o: SimOrder): Record<string, unknown> {
  return {
    id: o.id,
    client_order_id: o.clientOrderId,
    created_at: o.createdAt,
    updated_at: o.updatedAt,
    submitted_at: o.createdAt,
    filled_at: o.filledAt,
    expired_at: o.expiredAt,
    canceled_at: o.canceledAt,
    failed_at: o.failedAt,
    replaced_at: o.replacedAt,
    replaced_by: o.replacedBy,
    replaces: o.replaces,
    asset_id: o.assetId,
    symbol: o.symbol,
    asset_class: o.assetClass,
    notional: o.notional === null ? null : String(o.notional),
    qty: o.notional === null ? String(o.qty) : null,
    filled_qty: String(o.filledQty),
    filled_avg_price: o.filledQty > 0 ? num(o.filledValue / o.filledQty) : null,
    order_class: 'simple',
    order_type: o.type,
    type: o.type,
    side: o.side,
    position_intent: o.positionIntent,
    time_in_force: o.timeInForce,
    limit_price: num(o.limitPrice),
    stop_price: num(o.stopPrice),
    status: o.status,
    extended_hours: false,
    legs: null,
    trail_percent: null,
    trail_price: null,
    hwm: null,
    subtag: null,
    source: null,
    expires_at: null,
  };
}

/** A position in Alpaca's REST shape (numbers as strings, qty negative when short). */
export function positionJson(
  account: SimAccount,
  market: SimMarket,
  p: SimPosition,
): Record<string, unknown> {
  const isOption = parseOcc(p.symbol) !== null;
  const multiplier = isOption ? FILL_MULTIPLIER : 1;
  const q = market.quotes.get(p.symbol);
  const current =
    q && q.bid > 0 && q.ask > 0 ? (q.bid + q.ask) / 2 : (market.trades.get(p.symbol)?.price ?? p.avgPrice);
  const sign = Math.sign(p.qty);
  const available = Math.max(0, Math.abs(p.qty) - heldForOrders(account, p.symbol));
  const marketValue = p.qty * current * multiplier;
  const costBasis = p.qty * p.avgPrice * multiplier;
  const pl = marketValue - costBasis;
  const plpc = costBasis === 0 ? 0 : pl / Math.abs(costBasis);
  return {
    asset_id: market.assetId(p.symbol),
    symbol: p.symbol,
    exchange: '',
    asset_class: isOption ? 'us_option' : 'us_equity',
    asset_marginable: !isOption,
    qty: String(p.qty),
    qty_available: String(sign * available),
    avg_entry_price: String(cents4(p.avgPrice)),
    side: p.qty < 0 ? 'short' : 'long',
    market_value: cents(marketValue).toFixed(2),
    cost_basis: cents(costBasis).toFixed(2),
    unrealized_pl: cents(pl).toFixed(2),
    unrealized_plpc: String(cents4(plpc)),
    unrealized_intraday_pl: cents(pl).toFixed(2),
    unrealized_intraday_plpc: String(cents4(plpc)),
    current_price: String(cents4(current)),
    lastday_price: String(cents4(current)),
    change_today: '0',
  };
}

/** The account in Alpaca's REST shape (numbers as strings). */
export function accountJson(a: SimAccount, market: SimMarket): Record<string, unknown> {
  let longValue = 0;
  let shortValue = 0;
  for (const p of a.positions.values()) {
    const v = Number(positionJson(a, market, p).market_value);
    if (v >= 0) longValue += v;
    else shortValue += v;
  }
  const equity = a.cash + longValue + shortValue;
  const money = (n: number) => cents(n).toFixed(2);
  return {
    id: a.id,
    account_number: a.accountNumber,
    status: a.status,
    crypto_status: 'INACTIVE',
    currency: 'USD',
    cash: money(a.cash),
    buying_power: money(Math.max(0, a.cash)),
    regt_buying_power: money(Math.max(0, a.cash)),
    daytrading_buying_power: '0',
    effective_buying_power: money(Math.max(0, a.cash)),
    non_marginable_buying_power: money(Math.max(0, a.cash)),
    options_buying_power: money(Math.max(0, a.optionsBuyingPower)),
    options_approved_level: a.optionsApprovedLevel,
    options_trading_level: a.optionsApprovedLevel,
    portfolio_value: money(equity),
    equity: money(equity),
    last_equity: money(equity),
    long_market_value: money(longValue),
    short_market_value: money(shortValue),
    initial_margin: '0',
    maintenance_margin: '0',
    last_maintenance_margin: '0',
    sma: '0',
    multiplier: '1',
    daytrade_count: 0,
    pattern_day_trader: false,
    trading_blocked: a.tradingBlocked,
    transfers_blocked: false,
    account_blocked: false,
    trade_suspended_by_user: false,
    shorting_enabled: true,
    accrued_fees: '0',
    pending_transfer_in: '0',
    pending_transfer_out: '0',
    created_at: a.createdAt,
    balance_asof: a.createdAt.slice(0, 10),
  };
}
