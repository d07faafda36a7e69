/**
 * The spread record: one record per spread, a ledger per leg (docs/SPREADS.md, docs/BOOKS.md). What each
 * leg holds, what it cost and what it realized are projections of its own ledger; the spread's multiple,
 * net open price and realized P&L are derived from the legs' projections, never edited. Pure.
 */
import type { BrokerOrder, BrokerOrderLeg } from './broker-types';
import type { ExitPlan } from './exit-plan';
import { applyActivity, applyOrderReport, emptyLedger, type ActivityContext } from './ledger';
import type { LedgerApplication, LedgerOrderRole, PositionLedger } from './ledger-events';
import { applyReconcileAdjustment, projectLedger, type LedgerProjection } from './ledger-projection';
import { roundToCents } from './money';
import type { BrokerActivity } from './broker-types';
import type { CloseReason, OpenRefusal, Position, PositionState } from './position';
import type { HeldSpreadLeg } from './spread-types';

/** One leg as the record keeps it: its held side, its ratio, and its own ledger. */
export interface SpreadLegRecord extends HeldSpreadLeg {
  readonly ledger: PositionLedger;
}

/** Why a spread's exit step was taken. */
export type SpreadExitReason =
  'stop_loss' | 'take_profit' | 'max_hold' | 'expiry' | 'time_rule' | 'flatten' | 'orphan_unwind';

/** A spread's exit step in flight (one at a time): claimed on the record before its order is sent. */
export interface SpreadPendingExit {
  readonly seq: number;
  readonly client_order_id: string;
  readonly order_id: string | null;
  /**
   * One mleg order of whole multiples, a single-leg close of an orphaned contract, or the sale (buy-back)
   * of shares an option event delivered to a leg.
   */
  readonly kind: 'mleg' | 'single' | 'shares';
  /** mleg: multiples; single: contracts; shares: shares. */
  readonly qty: number;
  /** single: the contract and the reducing side; shares: the leg whose event delivered them, and the side. */
  readonly option_symbol?: string | null;
  readonly side?: 'buy' | 'sell' | null;
  readonly reason: SpreadExitReason;
  readonly order_type: 'market' | 'limit';
  /** mleg: net per share (+ pay, − receive); single: per share. */
  readonly limit_price: number | null;
  readonly claimed_at: string;
  readonly placed_at: string | null;
  /** The send ended with a definite "no order" (5xx before acceptance): look up, then send again. */
  readonly send_failed_at: string | null;
}

/** The spread record, as stored (`kind: 'spread'` tells it from a single-leg record under the same key). */
export interface SpreadPosition {
  readonly kind: 'spread';
  readonly account: string;
  /** = recommendation_id. */
  readonly position_id: string;
  readonly recommendation_id: string;
  readonly ticker: string;
  readonly state: PositionState;
  /** The structure: the built strategy (`vertical`, ...) or `legs` for named legs. */
  readonly structure: string;
  /** The profile named by the message (`strategy`), if any. */
  readonly strategy: string | null;
  readonly legs: readonly SpreadLegRecord[];
  /** Multiples the opening order asked for. */
  readonly requested_multiple: number;
  readonly open_client_order_id: string;
  readonly open_order_id: string | null;
  readonly open_order_type: 'market' | 'limit';
  /** Net per share the opening limit asked (+ debit, − credit). */
  readonly open_limit_price: number | null;
  /** Per share of one multiple: the defined maximum loss and profit at the planned net (null: undefined). */
  readonly max_loss_per_share: number | null;
  readonly max_profit_per_share: number | null;
  readonly exit_plan: ExitPlan;
  /** Exit steps started; the next is `exit_seq + 1`. */
  readonly exit_seq: number;
  readonly pending_exit: SpreadPendingExit | null;
  /** How many times a working close limit was cancelled to be repriced. */
  readonly exit_reprices: number;
  /** When the spread was found with a leg not held in full (alerted `orphan_leg` once). */
  readonly orphaned_at: string | null;
  /** When the open filled (the first fill learnt). */
  readonly entry_time: string | null;
  readonly close_reason: CloseReason | SpreadExitReason | null;
  readonly closed_at: string | null;
  readonly refusal: OpenRefusal | null;
  readonly flags: readonly string[];
  readonly created_at: string;
  readonly updated_at: string;
  readonly version: number;
}

/** Is this stored value a spread record (rather than a single-leg one)? */
export function isSpreadRecord(v: unknown): v is SpreadPosition {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'spread';
}

/** A fresh leg record: nothing booked yet. */
export function newLegRecord(leg: HeldSpreadLeg): SpreadLegRecord {
  return {
    option_symbol: leg.option_symbol,
    side: leg.side,
    ratio_qty: leg.ratio_qty,
    ledger: emptyLedger(leg.option_symbol),
  };
}

/** A leg's projection (its held contracts, entry, realized P&L, working orders). */
export function legProjection(leg: SpreadLegRecord): LedgerProjection {
  return projectLedger(leg.ledger, leg.side);
}

/** What the legs' ledgers say of the spread. */
export interface SpreadBooks {
  readonly legs: readonly LedgerProjection[];
  /** Whole multiples every leg holds (the least floor(held / ratio)). */
  readonly multiple: number;
  /** Multiples the opening order filled (the least over the legs). */
  readonly opened_multiple: number;
  /** Every leg holds exactly ratio × the same multiple. */
  readonly intact: boolean;
  /** Nothing held on any leg. */
  readonly flat: boolean;
  /** Per share of one multiple: + a debit paid, − a credit received; null before any fill. */
  readonly net_open_per_share: number | null;
  /** Cents: every leg's realized P&L before fees, and the fees. */
  readonly realized_before_fees_cents: number;
  readonly fees_cents: number;
}

/** The spread's books, from its legs' ledgers. */
export function spreadBooks(sp: Pick<SpreadPosition, 'legs'>): SpreadBooks {
  const legs = sp.legs.map(legProjection);
  const multiple = Math.min(...sp.legs.map((l, i) => Math.floor(legs[i]!.held / l.ratio_qty)));
  const opened = Math.min(...sp.legs.map((l, i) => Math.floor(legs[i]!.opened / l.ratio_qty)));
  const intact = sp.legs.every((l, i) => legs[i]!.held === l.ratio_qty * multiple);
  let netCents = 0;
  let any = false;
  for (const [i, l] of sp.legs.entries()) {
    const p = legs[i]!;
    if (p.opened > 0) any = true;
    // Per multiple, the leg's average entry cost: its entry cents over its opened multiples.
    const perMultiple = p.opened > 0 ? (p.entry_cents * l.ratio_qty) / p.opened : 0;
    netCents += l.side === 'long' ? perMultiple : -perMultiple;
  }
  return {
    legs,
    multiple: Math.max(0, multiple),
    opened_multiple: Math.max(0, opened),
    intact,
    flat: legs.every((p) => p.flat),
    net_open_per_share: any ? roundToCents(netCents / 100 / 100) : null,
    realized_before_fees_cents: legs.reduce((n, p) => n + p.realized_before_fees_cents, 0),
    fees_cents: legs.reduce((n, p) => n + p.fees_cents, 0),
  };
}

/** The leg of an mleg order, read as an order of its own under the parent's client_order_id. */
export function legOrderView(parent: BrokerOrder, leg: BrokerOrderLeg): BrokerOrder {
  return {
    id: leg.id,
    client_order_id: parent.client_order_id,
    symbol: leg.symbol,
    qty: leg.qty,
    filled_qty: leg.filled_qty,
    filled_avg_price: leg.filled_avg_price,
    side: leg.side,
    type: parent.type,
    position_intent: leg.position_intent,
    time_in_force: parent.time_in_force,
    limit_price: null,
    status: leg.status || parent.status,
    created_at: parent.created_at,
    filled_at: parent.filled_at,
  };
}

/** What booking a report on the legs did: the next legs, and the refusals (named per leg). */
export interface LegsBooking {
  readonly legs: readonly SpreadLegRecord[];
  readonly changed: boolean;
  readonly refused: readonly string[];
}

function bookEach(
  sp: Pick<SpreadPosition, 'legs'>,
  apply: (leg: SpreadLegRecord) => LedgerApplication | null,
): LegsBooking {
  const refused: string[] = [];
  let changed = false;
  const legs = sp.legs.map((leg) => {
    const a = apply(leg);
    if (!a) return leg;
    if (a.note.startsWith('refused')) refused.push(`${leg.option_symbol}: ${a.note}`);
    if (a.ledger === leg.ledger) return leg;
    changed = true;
    return { ...leg, ledger: a.ledger };
  });
  return { legs, changed, refused };
}

/**
 * Books an mleg order's report on every leg it names (each leg's fills on that leg's ledger, under the
 * parent's client_order_id). A leg the order does not name is left as it is.
 */
export function bookMlegOrder(
  sp: Pick<SpreadPosition, 'legs'>,
  role: LedgerOrderRole,
  order: BrokerOrder,
  at: string,
): LegsBooking {
  const legs = order.legs ?? [];
  return bookEach(sp, (leg) => {
    const reported = legs.find((l) => l.symbol === leg.option_symbol);
    return reported ? applyOrderReport(leg.ledger, role, legOrderView(order, reported), at) : null;
  });
}

/** Books a single-leg order (an orphan's close) on its leg. */
export function bookLegOrder(sp: Pick<SpreadPosition, 'legs'>, order: BrokerOrder, at: string): LegsBooking {
  return bookEach(sp, (leg) =>
    leg.option_symbol === order.symbol ? applyOrderReport(leg.ledger, 'exit', order, at) : null,
  );
}

/** Books an option event (OPASN, OPEXC, OPEXP) or a fee on the leg of its contract. */
export function bookLegActivity(
  sp: Pick<SpreadPosition, 'legs'>,
  activity: BrokerActivity,
  ctx: ActivityContext,
): LegsBooking {
  return bookEach(sp, (leg) =>
    leg.option_symbol === activity.symbol ? applyActivity(leg.ledger, activity, ctx) : null,
  );
}

/**
 * Books that the broker holds `qty` fewer contracts of a leg than its ledger leaves and nothing explains
 * it (closed by hand, liquidated by the broker): a reducing part at cost, once per finding (`id`).
 */
export function bookLegShortfall(
  sp: Pick<SpreadPosition, 'legs' | 'position_id'>,
  symbol: string,
  qty: number,
  at: string,
): LegsBooking {
  return bookEach(sp, (leg) => {
    if (leg.option_symbol !== symbol) return null;
    const n = leg.ledger.orders.filter((o) => o.client_order_id.startsWith(`outside-${sp.position_id}-`));
    return applyReconcileAdjustment(
      leg.ledger,
      leg.side,
      `outside-${sp.position_id}-${symbol}-${n.length + 1}`,
      qty,
      at,
    );
  });
}

/** The id a leg goes by in the day's books and the report (`<spread id>~<contract>`). */
export function legBookId(spreadId: string, symbol: string): string {
  return `${spreadId}~${symbol}`;
}

/**
 * A leg seen as a single-leg position (for the books that are kept per contract: the day's figures and
 * start marks, the report's lines). Never acted on: nothing sends an order for it.
 */
export function legAsPosition(sp: SpreadPosition, leg: SpreadLegRecord): Position {
  const p = legProjection(leg);
  // A leg is done once it holds nothing (no contracts, no shares an event delivered) and works no order.
  const live = sp.state !== 'closed' && !(sp.state === 'open' && p.flat && p.working.length === 0);
  return {
    account: sp.account,
    position_id: legBookId(sp.position_id, leg.option_symbol),
    recommendation_id: sp.recommendation_id,
    ticker: sp.ticker,
    option_symbol: leg.option_symbol,
    side: leg.side,
    state: live ? sp.state : 'closed',
    quantity: p.held,
    original_quantity: p.opened,
    requested_quantity: leg.ratio_qty * sp.requested_multiple,
    open_client_order_id: sp.open_client_order_id,
    open_order_id: sp.open_order_id,
    open_order_type: sp.open_order_type,
    open_limit_price: null,
    entry_price: p.entry_price,
    entry_time: sp.entry_time,
    exit_plan: sp.exit_plan,
    partial_exits_done: [],
    exit_seq: sp.exit_seq,
    pending_exit: null,
    realized_pnl: p.realized_before_fees_cents / 100,
    exit_price: p.exit_price,
    ...(p.fees_cents !== 0 ? { fees: p.fees_cents / 100 } : {}),
    close_reason: live ? null : ((sp.close_reason as CloseReason | null) ?? 'closed_outside_pipeline'),
    closed_at: live ? null : (sp.closed_at ?? sp.updated_at),
    ledger: leg.ledger,
    flags: [],
    created_at: sp.created_at,
    updated_at: sp.updated_at,
    version: sp.version,
  };
}
