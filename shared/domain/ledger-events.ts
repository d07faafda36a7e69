/**
 * The position ledger's vocabulary: what the broker reports (orders as read, activities) and what the
 * ledger keeps of them. Money is in integer cents everywhere in the ledger; prices per share or per
 * contract stay in the broker's reports only. See docs/BOOKS.md.
 */
import type { BrokerActivity } from './broker-types';

/**
 * What an order is for in the position's life: the opening order, an exit step, a resting protective stop,
 * or the sale (or buy-back) of shares an assignment or exercise delivered.
 */
export type LedgerOrderRole = 'open' | 'exit' | 'stop' | 'share_flatten';

export const LEDGER_ORDER_ROLES: readonly LedgerOrderRole[] = ['open', 'exit', 'stop', 'share_flatten'];

/** One part of an order's fill, booked once. */
export interface LedgerFill {
  /** Contracts (shares for `share_flatten`), > 0 (0 only for a legacy record's realized P&L without exits). */
  readonly qty: number;
  /** What the part traded for, cents, unsigned: qty × price × multiplier. */
  readonly notional_cents: number;
  /** When it filled (a FILL activity's time) or, for a part learnt from an order read, when it was seen. */
  readonly at: string;
  /** The New York trading day it belongs to. */
  readonly day: string;
  /**
   * The FILL activity's id, or `report` for a part learnt from the difference between two reads of the
   * order (replaced by the FILL activities that explain it when they are read), or `legacy`.
   */
  readonly source: string;
}

/** An order of the position, as the ledger holds it. */
export interface LedgerOrder {
  readonly client_order_id: string;
  /** The broker's id, once known (FILL activities name orders by it). */
  readonly order_id: string | null;
  readonly role: LedgerOrderRole;
  readonly side: 'buy' | 'sell';
  readonly symbol: string;
  /** Quantity ordered, as last read. */
  readonly qty: number;
  /** Broker status as last read (`legacy` for an order rebuilt from a pre-ledger record). */
  readonly status: string;
  /** Sum of `fills` qty: the broker's cumulative filled quantity as far as the ledger has booked it. */
  readonly filled_qty: number;
  /** Sum of `fills` notional, cents. */
  readonly filled_cents: number;
  readonly fills: readonly LedgerFill[];
}

export type OptionEventType = 'OPEXC' | 'OPASN' | 'OPEXP';

/** An exercise, assignment or expiry booked on the option leg. */
export interface LedgerOptionEvent {
  readonly activity_id: string;
  readonly type: OptionEventType;
  /** Contracts of this position the event ended (a part of the activity's qty when it covers several). */
  readonly contracts: number;
  /**
   * What the option leg is booked at, cents, as the proceeds of a sale (long) or the cost of a buy-back
   * (short): intrinsic value at the underlying's price, (S − K) a share for a call, (K − S) for a put,
   * × 100 × contracts; 0 for an expiry (and when the underlying's price was unknown: then the shares
   * carry the strike instead, which keeps the sum the same).
   */
  readonly value_cents: number;
  /** Per share, the strike of the contract. */
  readonly strike: number;
  /** Per share, the underlying's price at the event as the caller gave it; null when unknown. */
  readonly underlying_price: number | null;
  /** Shares delivered, signed (+ received, − delivered away); 0 for an expiry. */
  readonly shares: number;
  /** The delivered shares' cost, cents, signed like `shares`: shares × (underlying price, else strike). */
  readonly share_cost_cents: number;
  readonly underlying: string;
  readonly day: string;
  readonly at: string;
}

/** A fee (or a rebate: negative) the broker booked on the position. */
export interface LedgerFee {
  readonly activity_id: string;
  /** Cents charged, positive for a fee. */
  readonly cents: number;
  readonly day: string;
  readonly at: string;
}

/** The ledger of one position: every order, option event and fee the broker reported for it. */
export interface PositionLedger {
  readonly ledger_version: 1;
  /** The OCC symbol recorded at open: every option order and event of the ledger is on it. */
  readonly option_symbol: string;
  readonly orders: readonly LedgerOrder[];
  readonly events: readonly LedgerOptionEvent[];
  readonly fees: readonly LedgerFee[];
  /** What a pre-ledger record could not say exactly (see `ledgerFromLegacy`); empty for a new ledger. */
  readonly legacy_notes: readonly string[];
}

/** One execution (`GET /v2/account/activities/FILL`): a partial or a full fill of one order. */
export interface FillActivity {
  /** Alpaca's id (`YYYYMMDDHHMMSSmmm::uuid`). */
  readonly id: string;
  readonly type: 'FILL';
  /** The broker's order id. */
  readonly order_id: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  /** Contracts (shares) of this execution, > 0. */
  readonly qty: number;
  /** Per share. */
  readonly price: number;
  /** ISO instant of the execution. */
  readonly transaction_time: string;
}

/** Any activity the ledger books. */
export type LedgerActivity = BrokerActivity | FillActivity;

/** What an application of a broker report booked. */
export interface Booked {
  /** Contracts (or shares) newly booked; 0 when only a re-attribution or nothing happened. */
  readonly qty: number;
  /** Cents newly booked (notional, fee or event value). */
  readonly cents: number;
}

/** The outcome of applying one report: the new ledger (the same object when nothing changed). */
export interface LedgerApplication {
  readonly ledger: PositionLedger;
  /** null when the report booked nothing (a repeat, a stale read, a refusal). */
  readonly booked: Booked | null;
  /**
   * Why nothing (or something unusual) was booked: `duplicate`, `stale_report`, `no_change`, `refused: …`,
   * `capped: …`, `valued_at_strike: …`, `overfill: …`; `booked` when all went as expected.
   */
  readonly note: string;
}

/** The option contract multiplier (shares a contract). */
export const CONTRACT_MULTIPLIER = 100;
