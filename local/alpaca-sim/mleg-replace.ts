/**
 * `PATCH /v2/orders/{id}` of a working mleg order, like a single-leg replace (ALPACA-OPTIONS.md "Orders for
 * options": the broker creates a NEW order, the old one becomes `replaced`; "Multi-leg orders": Alpaca
 * accepts a zero or negative limit on a replace of a credit spread too).
 *
 * - Fields: `qty` (multiples), `limit_price` (net per share: positive debit, negative credit, zero allowed
 *   here), `time_in_force`, `client_order_id`; at least one. `stop_price` is refused (mleg takes no stop
 *   types). A market mleg order takes no `limit_price`.
 * - The new order keeps the old one's legs (symbols, sides, ratios and intents as the broker saw them), with
 *   new leg ids; omitted `qty` = the old order's unfilled multiples.
 * - Checked as a new submission with the old order's hold released: each closing leg's qty available
 *   (403 as for a POST), the net debit against options buying power.
 */
import { cents, type SimMarket } from './market';
import { checkAvailable, mlegExecutableNet } from './mleg';
import { ALPACA_CODES, SimHttpError, invalid, str } from './order-terms';
import {
  clientOrderIdOf,
  heldForOrders,
  holdingOrders,
  isOpenOrder,
  newOrder,
  notOpenError,
  reservedForBuys,
  type OrderContext,
  type SimAccount,
  type SimMlegLeg,
  type SimOrder,
} from './engine';

const FIELDS = ['qty', 'limit_price', 'time_in_force', 'client_order_id'] as const;

/** A replace's net limit: a finite number on the cent grid (zero or negative allowed on a replace). */
function replaceLimit(v: unknown): number {
  const raw = str(v);
  const n = Number(raw);
  if (raw === undefined || raw === '' || !Number.isFinite(n)) throw invalid(`invalid limit_price: ${raw}`);
  if (Math.abs(n * 100 - Math.round(n * 100)) > 1e-6) {
    throw invalid(
      `invalid limit_price ${raw}. sub-penny increment does not fulfill minimum pricing criteria`,
    );
  }
  return n;
}

/**
 * Replaces a working mleg order: returns the NEW order (status `accepted`, `replaces` = the old id); the old
 * one becomes `replaced` (or `pending_replace` with `old_may_fill`, settled by the server). Throws the 422 /
 * 403 of a refused replace, which leaves the old order working.
 */
export function replaceMlegOrder(
  account: SimAccount,
  market: SimMarket,
  old: SimOrder,
  body: Record<string, unknown>,
  ctx: OrderContext,
  mode: 'immediate' | 'old_may_fill' = 'immediate',
): SimOrder {
  if (!old.mleg) throw new Error(`order ${old.id} is not an mleg order`);
  if (!isOpenOrder(old) || old.status === 'pending_replace' || old.status === 'pending_cancel') {
    throw notOpenError(old);
  }
  if (body.stop_price !== undefined && body.stop_price !== null) {
    throw invalid('stop_price is not allowed for mleg orders');
  }
  if (!FIELDS.some((f) => body[f] !== undefined && body[f] !== null)) {
    throw invalid(`a replace needs at least one of ${FIELDS.join(', ')}`);
  }
  const qty = body.qty === undefined || body.qty === null ? old.qty - old.filledQty : Number(str(body.qty));
  if (!Number.isInteger(qty) || qty <= 0) throw invalid('qty must be integer for options trading');
  const tif = str(body.time_in_force) ?? old.timeInForce;
  if (tif !== 'day' && tif !== 'gtc') throw invalid(`invalid time_in_force for mleg orders: ${tif}`);
  const hasLimit = body.limit_price !== undefined && body.limit_price !== null;
  if (old.type === 'market' && hasLimit) throw invalid('limit_price must not be specified for market orders');
  const limitPrice = hasLimit ? replaceLimit(body.limit_price) : old.limitPrice;
  const legs = old.mleg.legs;
  checkAvailable(legs, qty, {
    optionsApprovedLevel: account.optionsApprovedLevel,
    positionQty: (s) => account.positions.get(s)?.qty ?? 0,
    heldForOrders: (s) => heldForOrders(account, s, old.id),
    relatedOrders: (s) => holdingOrders(account, s, old.id).map((o) => o.id),
  });
  const clientOrderId = clientOrderIdOf(account, body.client_order_id);
  const debit = Math.max(0, limitPrice ?? mlegExecutableNet(legs, market.quotes) ?? 0);
  const required = cents(debit * qty * 100);
  const availableBp = cents(account.optionsBuyingPower - reservedForBuys(account, market, old.id));
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
    terms: { type: old.type, timeInForce: tif, qty, limitPrice, stopPrice: null },
    positionIntent: 'buy_to_open',
    intentSpecified: false,
    replaces: old.id,
    now: ctx.now,
  });
  const newLegs: SimMlegLeg[] = legs.map((l) => ({
    symbol: l.symbol,
    side: l.side,
    ratioQty: l.ratioQty,
    positionIntent: l.positionIntent,
    intentSpecified: l.intentSpecified,
    id: crypto.randomUUID(),
    clientOrderId: crypto.randomUUID(),
    assetId: l.assetId,
    filledValue: 0,
  }));
  (order as { mleg?: SimOrder['mleg'] }).mleg = { legs: newLegs };
  const ts = ctx.now.toISOString();
  old.replacedBy = order.id;
  old.updatedAt = ts;
  if (mode === 'old_may_fill') {
    old.status = 'pending_replace';
    old.filledAtReplace = old.filledQty;
    return order;
  }
  old.status = 'replaced';
  old.replacedAt = ts;
  return order;
}
