/**
 * `npm run report -- --position ID`: one record's ledger order by order (each fill part at its own price,
 * option events, fees) and the books it projects; for a spread, each leg's ledger and the spread's books.
 * Pure.
 */
import { CONTRACT_MULTIPLIER, type LedgerOrderRole } from './ledger-events';
import type { Position } from './position';
import { ledgerOf, projectionOf } from './position-books';
import { legAsPosition, spreadBooks, type SpreadPosition } from './spread-position';

const usd = (c: number): number => c / 100;

/** One part of an order's fill, as `--position` prints it. */
export interface LedgerFillView {
  readonly qty: number;
  /** Per share: notional ÷ qty ÷ multiplier (100 a contract, 1 a share). */
  readonly price: number;
  readonly notional_usd: number;
  readonly at: string;
  /** The New York trading day it belongs to. */
  readonly day: string;
  /** A FILL activity's id, `report` (learnt from reads of the order), `legacy` or `reconcile`. */
  readonly source: string;
}

/** An order of the position and its fills. */
export interface LedgerOrderView {
  readonly role: LedgerOrderRole;
  readonly client_order_id: string;
  readonly order_id: string | null;
  readonly side: 'buy' | 'sell';
  readonly status: string;
  readonly qty: number;
  readonly filled_qty: number;
  readonly fills: readonly LedgerFillView[];
}

/** An exercise, assignment or expiry booked on the position. */
export interface LedgerEventView {
  readonly activity_id: string;
  readonly type: string;
  readonly contracts: number;
  /** The option leg's value at the event (intrinsic; 0 for an expiry), dollars. */
  readonly value_usd: number;
  /** Per share; null when it was unknown (the shares then carry the strike). */
  readonly underlying_price: number | null;
  readonly strike: number;
  /** Shares delivered, signed (+ received, − delivered away). */
  readonly shares: number;
  readonly share_cost_usd: number;
  readonly day: string;
}

/** A fee the broker booked on the position. */
export interface LedgerFeeView {
  readonly activity_id: string;
  readonly amount_usd: number;
  readonly day: string;
}

/** `npm run report -- --position ID`: the record's ledger and what it projects. */
export interface PositionLedgerReport {
  readonly account: string;
  readonly position_id: string;
  readonly option_symbol: string;
  readonly side: 'long' | 'short';
  readonly state: string;
  readonly close_reason: string | null;
  readonly entry_time: string | null;
  readonly closed_at: string | null;
  /** False for a record written before the ledger: its ledger is rebuilt from its fields (see notes). */
  readonly stored_ledger: boolean;
  readonly legacy_notes: readonly string[];
  readonly orders: readonly LedgerOrderView[];
  readonly events: readonly LedgerEventView[];
  readonly fees: readonly LedgerFeeView[];
  readonly books: {
    /** Contracts held (working orders' fills included). */
    readonly held: number;
    readonly opened: number;
    readonly closed: number;
    /** Per share, averages. */
    readonly entry_price: number | null;
    readonly exit_price: number | null;
    readonly realized_before_fees_usd: number;
    readonly fees_usd: number;
    readonly realized_usd: number;
    /** Delivered shares still held (signed) and their cost; null when no event delivered any. */
    readonly shares: {
      readonly underlying: string;
      readonly shares: number;
      readonly cost_usd: number;
    } | null;
    /** Orders the broker may still fill, by client_order_id, with what is left. */
    readonly working: ReadonlyArray<{ readonly client_order_id: string; readonly remaining: number }>;
  };
}

/** The record's ledger, order by order, and its projection (pure). */
export function positionLedgerReport(p: Position): PositionLedgerReport {
  const ledger = ledgerOf(p);
  const proj = projectionOf(p);
  return {
    account: p.account,
    position_id: p.position_id,
    option_symbol: p.option_symbol,
    side: p.side,
    state: p.state,
    close_reason: p.close_reason ?? null,
    entry_time: p.entry_time ?? null,
    closed_at: p.closed_at ?? null,
    stored_ledger: ledger === p.ledger,
    legacy_notes: ledger.legacy_notes,
    orders: ledger.orders.map((o) => {
      const mult = o.role === 'share_flatten' ? 1 : CONTRACT_MULTIPLIER;
      return {
        role: o.role,
        client_order_id: o.client_order_id,
        order_id: o.order_id,
        side: o.side,
        status: o.status,
        qty: o.qty,
        filled_qty: o.filled_qty,
        fills: o.fills.map((f) => ({
          qty: f.qty,
          price: f.qty > 0 ? f.notional_cents / f.qty / mult / 100 : 0,
          notional_usd: usd(f.notional_cents),
          at: f.at,
          day: f.day,
          source: f.source,
        })),
      };
    }),
    events: ledger.events.map((e) => ({
      activity_id: e.activity_id,
      type: e.type,
      contracts: e.contracts,
      value_usd: usd(e.value_cents),
      underlying_price: e.underlying_price,
      strike: e.strike,
      shares: e.shares,
      share_cost_usd: usd(e.share_cost_cents),
      day: e.day,
    })),
    fees: ledger.fees.map((f) => ({ activity_id: f.activity_id, amount_usd: usd(f.cents), day: f.day })),
    books: {
      held: proj.held,
      opened: proj.opened,
      closed: proj.closed,
      entry_price: proj.entry_price,
      exit_price: proj.exit_price,
      realized_before_fees_usd: usd(proj.realized_before_fees_cents),
      fees_usd: usd(proj.fees_cents),
      realized_usd: usd(proj.realized_cents),
      shares: proj.shares
        ? {
            underlying: proj.shares.underlying,
            shares: proj.shares.shares,
            cost_usd: usd(proj.shares.cost_cents),
          }
        : null,
      working: proj.working.map((w) => ({ client_order_id: w.client_order_id, remaining: w.remaining })),
    },
  };
}

/** `npm run report -- --position ID` for a spread: each leg's ledger (as a single leg's), and the spread's books. */
export interface SpreadLedgerReport {
  readonly kind: 'spread';
  readonly account: string;
  readonly position_id: string;
  readonly ticker: string;
  readonly structure: string;
  readonly state: string;
  readonly close_reason: string | null;
  readonly entry_time: string | null;
  readonly closed_at: string | null;
  readonly multiple: number;
  readonly held_multiple: number;
  readonly net_open_per_share: number | null;
  readonly legs: ReadonlyArray<{
    readonly option_symbol: string;
    readonly side: 'long' | 'short';
    readonly ratio_qty: number;
    readonly ledger: PositionLedgerReport;
  }>;
  readonly books: {
    readonly realized_before_fees_usd: number;
    readonly fees_usd: number;
    readonly realized_usd: number;
  };
}

/** The spread record's legs, each leg's ledger order by order, and the spread's books (pure). */
export function spreadLedgerReport(sp: SpreadPosition): SpreadLedgerReport {
  const books = spreadBooks(sp);
  return {
    kind: 'spread',
    account: sp.account,
    position_id: sp.position_id,
    ticker: sp.ticker,
    structure: sp.structure,
    state: sp.state,
    close_reason: sp.close_reason,
    entry_time: sp.entry_time,
    closed_at: sp.closed_at,
    multiple: books.opened_multiple,
    held_multiple: books.multiple,
    net_open_per_share: books.net_open_per_share,
    legs: sp.legs.map((leg) => ({
      option_symbol: leg.option_symbol,
      side: leg.side,
      ratio_qty: leg.ratio_qty,
      ledger: positionLedgerReport(legAsPosition(sp, leg)),
    })),
    books: {
      realized_before_fees_usd: usd(books.realized_before_fees_cents),
      fees_usd: usd(books.fees_cents),
      realized_usd: usd(books.realized_before_fees_cents - books.fees_cents),
    },
  };
}
