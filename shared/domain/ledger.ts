/**
 * The position ledger: broker reports in, booked parts out. Every application books only the difference
 * between what the broker reports (cumulative) and what the ledger already holds, so the same report
 * twice books nothing and each part of a fill keeps its own price. Pure; nothing here reads a clock.
 * Quantities and P&L are projections of the ledger (`ledger-projection.ts`).
 */
import type { BrokerActivity, BrokerOrder } from './broker-types';
import { TERMINAL_ORDER_STATUSES } from './broker-types';
import { deliveredShares } from './activities';
import {
  CONTRACT_MULTIPLIER,
  type FillActivity,
  type LedgerActivity,
  type LedgerApplication,
  type LedgerFill,
  type LedgerOptionEvent,
  type LedgerOrder,
  type LedgerOrderRole,
  type OptionEventType,
  type PositionLedger,
} from './ledger-events';
import { centsOf, notionalCents } from './money';
import { parseOccSymbol } from './occ';
import type { PositionSide } from './position';
import { activityTradingDay, tradingDayOfInstant } from './trading-calendar';

export * from './ledger-events';

/** A ledger with nothing booked, for the position that will trade `optionSymbol`. */
export function emptyLedger(optionSymbol: string): PositionLedger {
  return {
    ledger_version: 1,
    option_symbol: optionSymbol,
    orders: [],
    events: [],
    fees: [],
    legacy_notes: [],
  };
}

/** An instant as ISO with milliseconds (one format, so instants sort as strings); null when not one. */
function isoInstant(v: string | null | undefined): string | null {
  const t = v ? Date.parse(v) : Number.NaN;
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

const unchanged = (ledger: PositionLedger, note: string): LedgerApplication => ({
  ledger,
  booked: null,
  note,
});

/** Shares a unit of the order's symbol stands for: 100 for an option contract, 1 for a share. */
const multiplierOf = (role: LedgerOrderRole): number => (role === 'share_flatten' ? 1 : CONTRACT_MULTIPLIER);

/** The option leg's side, from its opening order (null while no opening order is known). */
export function ledgerSide(ledger: PositionLedger): PositionSide | null {
  const open = ledger.orders.find((o) => o.role === 'open');
  return open ? (open.side === 'buy' ? 'long' : 'short') : null;
}

function sumFills(fills: readonly LedgerFill[]): { qty: number; cents: number } {
  let qty = 0;
  let cents = 0;
  for (const f of fills) {
    qty += f.qty;
    cents += f.notional_cents;
  }
  return { qty, cents };
}

function withFills(o: LedgerOrder, fills: readonly LedgerFill[]): LedgerOrder {
  const t = sumFills(fills);
  return { ...o, fills, filled_qty: t.qty, filled_cents: t.cents };
}

function replaceOrder(ledger: PositionLedger, next: LedgerOrder): PositionLedger {
  const i = ledger.orders.findIndex((o) => o.client_order_id === next.client_order_id);
  const orders = i < 0 ? [...ledger.orders, next] : ledger.orders.map((o, j) => (j === i ? next : o));
  return { ...ledger, orders };
}

/**
 * A part learnt from order reads (`report`) or rebuilt from a pre-ledger record (`legacy`), not from the
 * FILL activity itself: the activity, when read, replaces it.
 */
export function isLearnt(f: LedgerFill): boolean {
  return f.source === 'report' || f.source === 'legacy';
}

/** Every activity id the ledger has booked (fills, events, fees). */
export function bookedActivityIds(ledger: PositionLedger): ReadonlySet<string> {
  const ids = new Set<string>();
  for (const o of ledger.orders) for (const f of o.fills) if (!isLearnt(f)) ids.add(f.source);
  for (const e of ledger.events) ids.add(e.activity_id);
  for (const f of ledger.fees) ids.add(f.activity_id);
  return ids;
}

/** Why an order report cannot be booked on this ledger under `role`, or null when it can. */
function refusalOf(ledger: PositionLedger, role: LedgerOrderRole, order: BrokerOrder): string | null {
  if (!Number.isInteger(order.filled_qty) || order.filled_qty < 0) {
    return `filled_qty ${order.filled_qty} is not a whole number >= 0`;
  }
  if (order.filled_qty > 0 && !(typeof order.filled_avg_price === 'number' && order.filled_avg_price >= 0)) {
    return `filled_qty ${order.filled_qty} without a filled_avg_price`;
  }
  if (!order.client_order_id) return 'the order has no client_order_id';
  const known = ledger.orders.find((o) => o.client_order_id === order.client_order_id);
  if (known && known.role !== role) return `${order.client_order_id} is booked as ${known.role}, not ${role}`;
  if (known && known.side !== order.side) return `${order.client_order_id} is booked as a ${known.side}`;
  if (role !== 'share_flatten' && order.symbol !== ledger.option_symbol) {
    return `${order.symbol} is not the position's contract ${ledger.option_symbol}`;
  }
  if (role === 'share_flatten') {
    const shares = ledger.events.reduce((n, e) => n + e.shares, 0);
    const underlying = ledger.events.find((e) => e.shares !== 0)?.underlying;
    if (!underlying) return `no delivered shares for ${order.client_order_id} to flatten`;
    if (order.symbol !== underlying) return `${order.symbol} is not the delivered shares' ${underlying}`;
    if (shares > 0 !== (order.side === 'sell')) return `a ${order.side} does not reduce ${shares} shares`;
  }
  const side = ledgerSide(ledger);
  if (side && role !== 'share_flatten') {
    const opening = side === 'long' ? 'buy' : 'sell';
    if (role === 'open' && order.side !== opening) return `an opening ${order.side} on a ${side} position`;
    if (role !== 'open' && order.side === opening) return `a ${role} ${order.side} does not reduce a ${side}`;
  }
  return null;
}

/**
 * Books an order as the broker reports it (`GET /v2/orders/…`, any status): the filled quantity and
 * notional beyond what the ledger holds for this `client_order_id` become one new part, at its own price
 * (the report's cumulative notional less what is held). A report that knows less than the ledger (an
 * older read) books nothing and leaves the status as it is. `at` is when the report was read; a part
 * learnt from it is dated then, or at the order's `filled_at` when the report completes it.
 */
export function applyOrderReport(
  ledger: PositionLedger,
  role: LedgerOrderRole,
  order: BrokerOrder,
  at: string,
): LedgerApplication {
  const refusal = refusalOf(ledger, role, order);
  if (refusal) return unchanged(ledger, `refused: ${refusal}`);
  const readAt = isoInstant(at);
  if (readAt === null) return unchanged(ledger, `refused: read time ${at} is not an instant`);
  const known = ledger.orders.find((o) => o.client_order_id === order.client_order_id);
  const base: LedgerOrder = known ?? {
    client_order_id: order.client_order_id,
    order_id: order.id || null,
    role,
    side: order.side,
    symbol: order.symbol,
    qty: order.qty,
    status: order.status,
    filled_qty: 0,
    filled_cents: 0,
    fills: [],
  };
  if (known && order.filled_qty < known.filled_qty) return unchanged(ledger, 'stale_report');
  const delta = order.filled_qty - base.filled_qty;
  // Equal fills: a terminal status already read is not undone by an older read of the working order.
  const keepStatus =
    known &&
    delta === 0 &&
    TERMINAL_ORDER_STATUSES.has(known.status) &&
    !TERMINAL_ORDER_STATUSES.has(order.status);
  const status = keepStatus ? base.status : order.status;
  const meta: LedgerOrder = {
    ...base,
    order_id: base.order_id ?? (order.id || null),
    qty: order.qty,
    status,
  };
  if (delta === 0) {
    const same =
      known && known.status === meta.status && known.order_id === meta.order_id && known.qty === meta.qty;
    return same
      ? unchanged(ledger, 'duplicate')
      : { ledger: replaceOrder(ledger, meta), booked: null, note: 'no_change' };
  }
  const cumulative = notionalCents(order.filled_qty, order.filled_avg_price!, multiplierOf(role));
  const cents = cumulative - base.filled_cents;
  // A read that completes the order dates its last part at the order's filled_at (when it is sane).
  const filledAt = order.status === 'filled' ? isoInstant(order.filled_at) : null;
  const when = filledAt !== null && filledAt <= readAt ? filledAt : readAt;
  const part: LedgerFill = {
    qty: delta,
    notional_cents: cents,
    at: when,
    day: tradingDayOfInstant(when),
    source: 'report',
  };
  const next = withFills(meta, [...base.fills, part]);
  return { ledger: replaceOrder(ledger, next), booked: { qty: delta, cents }, note: 'booked' };
}

/**
 * Books one FILL activity on the order it belongs to (by broker order id). Parts already learnt from
 * order reads are replaced by it (oldest first), so the fill is counted once, at its own price and time;
 * only what goes beyond them is newly booked.
 */
function applyFill(ledger: PositionLedger, a: FillActivity): LedgerApplication {
  const o = ledger.orders.find((x) => x.order_id === a.order_id);
  if (!o) return unchanged(ledger, `refused: no order ${a.order_id} in the ledger (book its report first)`);
  if (o.side !== a.side)
    return unchanged(ledger, `refused: ${a.id} is a ${a.side}, order ${a.order_id} a ${o.side}`);
  if (!(Number.isInteger(a.qty) && a.qty > 0 && Number.isFinite(a.price) && a.price >= 0)) {
    return unchanged(ledger, `refused: fill ${a.id} has qty ${a.qty} at ${a.price}`);
  }
  const filledAt = isoInstant(a.transaction_time);
  if (filledAt === null) return unchanged(ledger, `refused: fill ${a.id} time ${a.transaction_time}`);
  const mult = multiplierOf(o.role);
  const cents = notionalCents(a.qty, a.price, mult);
  let covered = Math.min(
    a.qty,
    o.fills.filter(isLearnt).reduce((n, f) => n + f.qty, 0),
  );
  // The part of this fill that reads have already booked, at the fill's own price.
  let coveredCents = covered === a.qty ? cents : notionalCents(covered, a.price, mult);
  const kept: LedgerFill[] = [];
  for (const f of o.fills) {
    if (!isLearnt(f) || f.qty === 0 || covered === 0) {
      kept.push(f);
      continue;
    }
    if (f.qty <= covered) {
      covered -= f.qty;
      coveredCents -= f.notional_cents;
      if (covered === 0 && coveredCents !== 0) {
        // The reads' rounded average and the exact fills differ by a cent or so: the fills are exact.
        coveredCents = 0;
      }
      continue;
    }
    kept.push({ ...f, qty: f.qty - covered, notional_cents: f.notional_cents - coveredCents });
    covered = 0;
    coveredCents = 0;
  }
  const fill: LedgerFill = {
    qty: a.qty,
    notional_cents: cents,
    at: filledAt,
    day: tradingDayOfInstant(filledAt),
    source: a.id,
  };
  const next = withFills(o, [...kept, fill]);
  const booked = { qty: next.filled_qty - o.filled_qty, cents: next.filled_cents - o.filled_cents };
  return { ledger: replaceOrder(ledger, next), booked, note: 'booked' };
}

/** What the caller knows at an option event: the underlying's price then, and this position's part. */
export interface ActivityContext {
  /** Per share, the underlying's price at the event (exercise, assignment); null or absent when unknown. */
  readonly underlyingPrice?: number | null;
  /** Contracts of this position the event covers (default: the activity's qty, at most what is held). */
  readonly contracts?: number;
  /** When the activity was read. */
  readonly at: string;
}

/** Contracts of the option leg held now: opening fills less reducing fills and events. */
function optionHeld(ledger: PositionLedger): number {
  let held = 0;
  for (const o of ledger.orders) {
    if (o.role === 'share_flatten') continue;
    held += o.role === 'open' ? o.filled_qty : -o.filled_qty;
  }
  for (const e of ledger.events) held -= e.contracts;
  return held;
}

const EVENT_SIDE: Record<OptionEventType, PositionSide | null> = {
  OPEXC: 'long',
  OPASN: 'short',
  OPEXP: null,
};

function applyOptionEvent(
  ledger: PositionLedger,
  a: BrokerActivity & { type: OptionEventType },
  ctx: ActivityContext,
): LedgerApplication {
  if (a.symbol !== ledger.option_symbol) {
    return unchanged(ledger, `refused: ${a.id} is on ${a.symbol}, not ${ledger.option_symbol}`);
  }
  const occ = parseOccSymbol(ledger.option_symbol);
  if (!occ.ok) return unchanged(ledger, `refused: ${ledger.option_symbol} is not an OCC symbol`);
  // Alpaca's sign: +n ends a short, −n a long.
  const eventSide: PositionSide = EVENT_SIDE[a.type] ?? (a.qty > 0 ? 'short' : 'long');
  const side = ledgerSide(ledger);
  if (side && side !== eventSide)
    return unchanged(ledger, `refused: a ${a.type} of a ${eventSide}, the position is ${side}`);
  const held = optionHeld(ledger);
  const asked = ctx.contracts ?? Math.abs(a.qty);
  if (!Number.isInteger(asked) || asked < 0) return unchanged(ledger, `refused: contracts ${asked}`);
  const contracts = Math.min(asked, held);
  if (contracts <= 0) return unchanged(ledger, `refused: nothing held for ${a.id} (book the fills first)`);
  const notes: string[] = [];
  if (contracts < asked) notes.push(`capped: ${a.id} asks ${asked}, ${held} held`);
  const strike = occ.value.strike;
  const price =
    typeof ctx.underlyingPrice === 'number' && ctx.underlyingPrice > 0 ? ctx.underlyingPrice : null;
  const reason = a.type === 'OPEXC' ? 'exercised' : a.type === 'OPASN' ? 'assigned' : 'expired';
  const delivered = deliveredShares(ledger.option_symbol, eventSide, reason, contracts);
  let perShare = 0;
  if (a.type !== 'OPEXP') {
    if (price === null) notes.push(`valued_at_strike: no underlying price for ${a.id}`);
    else perShare = occ.value.type === 'call' ? price - strike : strike - price;
  }
  const shares = delivered?.shares ?? 0;
  const event: LedgerOptionEvent = {
    activity_id: a.id,
    type: a.type,
    contracts,
    value_cents: notionalCents(contracts, perShare, CONTRACT_MULTIPLIER),
    strike,
    underlying_price: price,
    shares,
    share_cost_cents: notionalCents(shares, price ?? strike, 1),
    underlying: occ.value.underlying,
    day: activityTradingDay(a),
    at: isoInstant(ctx.at) ?? ctx.at,
  };
  return {
    ledger: { ...ledger, events: [...ledger.events, event] },
    booked: { qty: contracts, cents: event.value_cents },
    note: notes.length ? notes.join('; ') : 'booked',
  };
}

/**
 * Books one broker activity: a FILL (a part of an order's fill, exact price and time), a FEE, or an
 * exercise / assignment / expiry of the option leg (at intrinsic value against `ctx.underlyingPrice`,
 * with the shares delivered as a holding of their own at their cost; a partial event books its part and
 * leaves the rest held). Idempotent by activity id.
 */
export function applyActivity(
  ledger: PositionLedger,
  activity: LedgerActivity,
  ctx: ActivityContext,
): LedgerApplication {
  if (bookedActivityIds(ledger).has(activity.id)) return unchanged(ledger, 'duplicate');
  if (activity.type === 'FILL') return applyFill(ledger, activity);
  if (activity.type === 'FEE') {
    if (activity.symbol !== null && activity.symbol !== ledger.option_symbol) {
      return unchanged(ledger, `refused: fee ${activity.id} is on ${activity.symbol}`);
    }
    if (!Number.isFinite(activity.net_amount)) return unchanged(ledger, `refused: fee ${activity.id} amount`);
    const cents = -centsOf(activity.net_amount);
    const fee = {
      activity_id: activity.id,
      cents,
      day: activityTradingDay(activity),
      at: isoInstant(ctx.at) ?? ctx.at,
    };
    return { ledger: { ...ledger, fees: [...ledger.fees, fee] }, booked: { qty: 0, cents }, note: 'booked' };
  }
  return applyOptionEvent(ledger, activity as BrokerActivity & { type: OptionEventType }, ctx);
}

/** The delivered shares still held, their cost (cents, signed like shares) and the underlying. */
export interface DeliveredHolding {
  readonly underlying: string;
  /** Signed: + long shares, − short shares. */
  readonly shares: number;
  /** Signed like `shares`: what the shares held cost (their value at the events that delivered them). */
  readonly cost_cents: number;
  /** Cents realized by share_flatten fills against that cost (before fees). */
  readonly realized_cents: number;
}

/**
 * The shares an exercise or assignment delivered, less what share_flatten orders sold (or bought back),
 * at average cost. null when no event delivered shares.
 */
export function deliveredHolding(ledger: PositionLedger): DeliveredHolding | null {
  const delivering = ledger.events.filter((e) => e.shares !== 0);
  if (delivering.length === 0) return null;
  let inShares = 0;
  let inCost = 0;
  for (const e of delivering) {
    inShares += e.shares;
    inCost += e.share_cost_cents;
  }
  const sign = Math.sign(inShares) || 1;
  let outQty = 0;
  let outCents = 0;
  for (const o of ledger.orders) {
    if (o.role !== 'share_flatten') continue;
    // A sale reduces long shares, a buy reduces short ones.
    const reduces = (o.side === 'sell') === sign > 0;
    outQty += reduces ? o.filled_qty : -o.filled_qty;
    outCents += reduces ? o.filled_cents : -o.filled_cents;
  }
  const held = Math.abs(inShares);
  const costOut = held > 0 ? Math.round((Math.abs(inCost) * Math.min(outQty, held)) / held) : 0;
  const remaining = held - outQty;
  return {
    underlying: delivering[0].underlying,
    shares: sign * remaining + 0,
    cost_cents: sign * (Math.abs(inCost) - costOut) + 0,
    realized_cents: sign * (outCents - costOut) + 0,
  };
}
