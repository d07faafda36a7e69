/**
 * Everything a record says about quantity and money, derived from its ledger (never edited directly):
 * contracts held, average entry, exit price, realized P&L before and after fees, the delivered shares and
 * what working orders still have open. Realized P&L is at average cost: the exits' proceeds less the
 * share of the entries' cost they close, in whole cents (exact when the position is flat: exits − entries).
 */
import { TERMINAL_ORDER_STATUSES } from './broker-types';
import { deliveredHolding, type DeliveredHolding } from './ledger';
import {
  CONTRACT_MULTIPLIER,
  type LedgerApplication,
  type LedgerOrder,
  type LedgerOrderRole,
  type PositionLedger,
} from './ledger-events';
import type { PositionSide } from './position';
import { tradingDayOfInstant } from './trading-calendar';

/** An order of the position the broker may still fill. */
export interface WorkingOrder {
  readonly client_order_id: string;
  readonly order_id: string | null;
  readonly role: LedgerOrderRole;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly filled_qty: number;
  /** qty − filled_qty: what it may still fill. */
  readonly remaining: number;
}

/** A part that reduced the option leg (an exit or stop fill, or an option event), in time order. */
export interface ReducingPart {
  readonly qty: number;
  /** Proceeds (long) or cost (short), cents. */
  readonly cents: number;
  readonly day: string;
  readonly at: string;
  readonly source: string;
  /** Cents this part realized against the average entry, signed for the side, before fees. */
  readonly realized_cents: number;
}

/** The record's figures, as its ledger gives them. */
export interface LedgerProjection {
  /** Contracts held: opening fills less exit and stop fills and option events (working orders' included). */
  readonly held: number;
  /** Contracts the opening orders filled. */
  readonly opened: number;
  /** Per share, the average of the opening fills; null before any. */
  readonly entry_price: number | null;
  /** Cents the opening fills traded for. */
  readonly entry_cents: number;
  /** Contracts closed by exits, stops and option events. */
  readonly closed: number;
  /** Per share, the average of what closed them by trading (events at their value; reconcile adjustments, priced at cost, left out); null before any. */
  readonly exit_price: number | null;
  readonly exit_cents: number;
  /** Cents: option leg + delivered shares sold, before fees. */
  readonly realized_before_fees_cents: number;
  readonly fees_cents: number;
  /** realized_before_fees_cents − fees_cents. */
  readonly realized_cents: number;
  /** The delivered shares still held (null when no event delivered any). */
  readonly shares: DeliveredHolding | null;
  /** Nothing held: no contracts, no delivered shares (working orders may remain, with nothing to fill). */
  readonly flat: boolean;
  readonly working: readonly WorkingOrder[];
  /** The option leg's reducing parts, in time order, each with what it realized. */
  readonly reducing: readonly ReducingPart[];
}

/** Cents of the entries' cost that `k` closed contracts carry, at average cost (telescopes exactly). */
export function costShare(entryCents: number, opened: number, k: number): number {
  if (opened <= 0) return 0;
  return Math.round((entryCents * Math.min(k, opened)) / opened);
}

const perShare = (cents: number, qty: number): number | null =>
  qty > 0 ? cents / (qty * CONTRACT_MULTIPLIER) / 100 : null;

/** The option leg's opening fills and reducing parts (unsorted). */
function legParts(ledger: PositionLedger) {
  let opened = 0;
  let entryCents = 0;
  const parts: Array<Omit<ReducingPart, 'realized_cents'>> = [];
  for (const o of ledger.orders) {
    if (o.role === 'share_flatten') continue;
    for (const f of o.fills) {
      if (o.role === 'open') {
        opened += f.qty;
        entryCents += f.notional_cents;
      } else {
        parts.push({ qty: f.qty, cents: f.notional_cents, day: f.day, at: f.at, source: f.source });
      }
    }
  }
  for (const e of ledger.events) {
    parts.push({ qty: e.contracts, cents: e.value_cents, day: e.day, at: e.at, source: e.activity_id });
  }
  return { opened, entryCents, parts };
}

/** Time order of parts: by instant, then by source (so any order of application gives the same list). */
const byTime = (a: { at: string; source: string }, b: { at: string; source: string }): number =>
  a.at < b.at ? -1 : a.at > b.at ? 1 : a.source < b.source ? -1 : a.source > b.source ? 1 : 0;

/** The record's figures from its ledger; `side` is the position's (long: bought to open). */
export function projectLedger(ledger: PositionLedger, side: PositionSide): LedgerProjection {
  const sign = side === 'long' ? 1 : -1;
  const { opened, entryCents, parts } = legParts(ledger);
  const sorted = [...parts].sort(byTime);
  let closed = 0;
  let exitCents = 0;
  // The exit price averages what traded: reconcile's adjustments (at cost, price unknown) are left out.
  let pricedQty = 0;
  let pricedCents = 0;
  const reducing: ReducingPart[] = sorted.map((p) => {
    const cost = costShare(entryCents, opened, closed + p.qty) - costShare(entryCents, opened, closed);
    closed += p.qty;
    exitCents += p.cents;
    if (p.source !== 'reconcile') {
      pricedQty += p.qty;
      pricedCents += p.cents;
    }
    return { ...p, realized_cents: sign * (p.cents - cost) + 0 };
  });
  // `+ 0`: a short's zero is +0, not -0 (figures compare and print as whole cents).
  const optionRealized = sign * (exitCents - costShare(entryCents, opened, closed)) + 0;
  const shares = deliveredHolding(ledger);
  const feesCents = ledger.fees.reduce((n, f) => n + f.cents, 0);
  const before = optionRealized + (shares?.realized_cents ?? 0);
  const held = opened - closed;
  const working = ledger.orders
    .filter((o) => !TERMINAL_ORDER_STATUSES.has(o.status) && o.status !== 'legacy')
    .map((o) => ({
      client_order_id: o.client_order_id,
      order_id: o.order_id,
      role: o.role,
      side: o.side,
      qty: o.qty,
      filled_qty: o.filled_qty,
      remaining: Math.max(0, o.qty - o.filled_qty),
    }));
  return {
    held,
    opened,
    entry_price: perShare(entryCents, opened),
    entry_cents: entryCents,
    closed,
    exit_price: perShare(pricedCents, pricedQty),
    exit_cents: exitCents,
    realized_before_fees_cents: before,
    fees_cents: feesCents,
    realized_cents: before - feesCents,
    shares,
    flat: held === 0 && (shares?.shares ?? 0) === 0,
    working,
    reducing,
  };
}

/**
 * What reconcile expects the broker to hold of the contract for this record: the contracts its fills
 * leave, working orders' fills included (an exit limit for 3 that filled 1 leaves 2 expected).
 */
export function expectedHolding(ledger: PositionLedger, side: PositionSide): number {
  return projectLedger(ledger, side).held;
}

/**
 * Reconcile's adjustment, as a ledger entry: the broker holds `qty` fewer contracts than the fills leave
 * and no order of the position explains it (closed outside the pipeline). Booked as a reducing part at
 * the cost share it carries, so it realizes nothing (the price is unknown); the caller flags and alerts.
 * Idempotent by `adjustmentId` (one per reconcile finding). `qty` is capped at what is held.
 */
export function applyReconcileAdjustment(
  ledger: PositionLedger,
  side: PositionSide,
  adjustmentId: string,
  qty: number,
  at: string,
): LedgerApplication {
  if (ledger.orders.some((o) => o.client_order_id === adjustmentId)) {
    return { ledger, booked: null, note: 'duplicate' };
  }
  const proj = projectLedger(ledger, side);
  const take = Math.min(Math.max(0, Math.floor(qty)), proj.held);
  if (take === 0) return { ledger, booked: null, note: `refused: nothing held to adjust by ${qty}` };
  const cents =
    costShare(proj.entry_cents, proj.opened, proj.closed + take) -
    costShare(proj.entry_cents, proj.opened, proj.closed);
  const order: LedgerOrder = {
    client_order_id: adjustmentId,
    order_id: null,
    role: 'exit',
    side: side === 'long' ? 'sell' : 'buy',
    symbol: ledger.option_symbol,
    qty: take,
    status: 'filled',
    filled_qty: take,
    filled_cents: cents,
    fills: [{ qty: take, notional_cents: cents, at, day: tradingDayOfInstant(at), source: 'reconcile' }],
  };
  return {
    ledger: { ...ledger, orders: [...ledger.orders, order] },
    booked: { qty: take, cents },
    note: take < qty ? `capped: ${qty} asked, ${take} held` : 'booked',
  };
}
