import type { ExitPlan } from './exit-plan';
import type { ProfileTimeRules } from './strategy-profiles';
import type { PositionLedger } from './ledger-events';
import { roundToCents } from './money';

/** Long positions were opened with BUY (`buy_to_open`), shorts with SELL (`sell_to_open`). */
export type PositionSide = 'long' | 'short';

/**
 * Lifecycle: `submitting` (claimed, order not yet confirmed) → `pending` (order at the broker, not yet
 * filled) → `open` → `closing` (an exit order is out) → `open` again (partial exit) or `closed`.
 * Only live states appear in the live-positions index the sweep queries. The allowed transitions and the
 * functions that make them are in `position-lifecycle.ts`.
 */
export type PositionState = 'submitting' | 'pending' | 'open' | 'closing' | 'closed';

export const LIVE_STATES: ReadonlySet<PositionState> = new Set(['submitting', 'pending', 'open', 'closing']);

/** Why an exit step was taken (rules) or why a position ended without one. */
export type ExitReason =
  | 'stop_loss'
  | 'take_profit'
  | 'trailing_stop'
  | 'partial_exit'
  | 'breakeven'
  | 'max_hold'
  | 'expiry'
  | 'time_rule'
  | 'flatten';

/** How the broker's own events end an option position (non-trade activities OPASN, OPEXC, OPEXP). */
export type OptionEventReason = 'assigned' | 'exercised' | 'expired';

export type CloseReason =
  ExitReason | OptionEventReason | 'not_filled' | 'not_sent' | 'closed_outside_pipeline' | 'open_rejected';

/** An exit step in flight: claimed by a conditional write before the order is sent. */
export interface PendingExit {
  /** Exit step number for this position (1, 2, ...); part of the client_order_id. */
  readonly seq: number;
  readonly client_order_id: string;
  /** Broker order id once the broker has acknowledged it. */
  readonly order_id?: string | null;
  /** Contracts this step closes. */
  readonly qty: number;
  readonly reason: ExitReason;
  /** Index into `exit_plan.partial_exits` when reason is `partial_exit`. */
  readonly partial_level?: number | null;
  /** When this step's claim was last taken or renewed (a resend renews it). */
  readonly claimed_at: string;
  /**
   * When this step was first claimed; a resend keeps it. The sweep lists closed orders from here on.
   * Records written before it existed lack it: read `claimed_at` instead.
   */
  readonly first_claimed_at?: string;
  /**
   * Set when the last send of this step ended with a definite broker answer and the broker has no order
   * with this id (5xx or 429 before acceptance, connection refused): the next sweep looks it up and sends
   * again at once with the same id. Unset: the outcome is unknown (timeout, crash), so the claim lease guards it.
   */
  readonly send_failed_at?: string | null;
  /** `market` or `limit`, once sent. */
  readonly order_type?: 'market' | 'limit' | null;
  /** Per share, for a limit. */
  readonly limit_price?: number | null;
  /** When the broker acknowledged the order (the reprice timer starts here). */
  readonly placed_at?: string | null;
}

/** A refused open's reason (stable, e.g. `broker_rejected`, `risk_limit:kill_switch`) and message. */
export interface OpenRefusal {
  readonly reason: string;
  readonly detail: string;
}

/** Which exit rule the resting stop stands for (the close reason when it fills). */
export type BrokerStopReason = 'stop_loss' | 'trailing_stop' | 'breakeven';

/**
 * An expiry instruction as recorded on the position (its rules: expiry-instruction.ts). `sent`: the broker
 * answered 2xx; `refused`: it answered 403/422 (`detail` says why); `missed`: the close passed before one
 * was sent. Any of them ends the sending: nothing is sent twice.
 */
export interface ExpiryInstructionRecord {
  readonly instruction: 'exercise' | 'do_not_exercise';
  readonly outcome: 'sent' | 'refused' | 'missed';
  /** ISO instant it was recorded. */
  readonly at: string;
  readonly detail?: string;
}

/**
 * A position's protective order at the broker (`exit_execution.broker_stop`), as recorded on the position.
 * Its rules live in broker-stop.ts; the shape lives here, with the record, so the two never import each other.
 */
export interface BrokerStop {
  /** Placements and replacements so far; part of the client_order_id. */
  readonly seq: number;
  readonly client_order_id: string;
  /** null while the placement is claimed and not yet acknowledged. */
  readonly order_id: string | null;
  readonly type: 'stop' | 'stop_limit';
  /** Per share, on the tick grid. */
  readonly stop_price: number;
  /** Per share, for `stop_limit`. */
  readonly limit_price: number | null;
  readonly qty: number;
  readonly reason: BrokerStopReason;
  readonly placed_at: string;
  /** Contracts of this order already booked on the position (a stop may fill in parts). */
  readonly filled_booked?: number;
  /** Set when this pipeline asked the broker to cancel it (to free its contracts for another exit). */
  readonly cancel_requested_at?: string | null;
  /**
   * The order this one replaced (a PATCH), and what of it was booked then. A successful PATCH does not
   * guarantee the old order was replaced: if it filled first, this one is rejected or cancelled. When this
   * one ends without a fill, the replaced order is looked up and what it filled is booked.
   */
  readonly replaced?: { readonly client_order_id: string; readonly filled_booked: number } | null;
}

/** The position record, as stored (snake_case, like the messages). */
export interface Position {
  readonly account: string;
  /** Unique per account: the recommendation_id that opened it. */
  readonly position_id: string;
  readonly recommendation_id: string;
  readonly ticker: string;
  /** The OCC symbol recorded at open: every closing order uses exactly this symbol. */
  readonly option_symbol: string;
  readonly side: PositionSide;
  readonly state: PositionState;
  /** Contracts held now (per the pipeline's records, reconciled against the broker each sweep). */
  readonly quantity: number;
  /** Contracts the position opened with (filled qty once known); partial exits are fractions of it. */
  readonly original_quantity: number;
  /** Contracts the opening order asked for. */
  readonly requested_quantity: number;
  readonly open_client_order_id: string;
  readonly open_order_id?: string | null;
  readonly open_order_type: 'market' | 'limit';
  readonly open_limit_price?: number | null;
  /** Average fill price per share. */
  readonly entry_price?: number | null;
  readonly entry_time?: string | null;
  /** Underlying's price when the position was opened (if known). */
  readonly entry_underlying_price?: number | null;
  readonly exit_plan: ExitPlan;
  /** Best mark since entry: the peak for a long, the trough for a short (trailing stop). */
  readonly peak_price?: number | null;
  readonly trailing_stop_price?: number | null;
  /** Once set, the stop is at the entry price (breakeven rule fired). */
  readonly breakeven_active?: boolean;
  /** Indexes of `exit_plan.partial_exits` levels already taken. */
  readonly partial_exits_done: readonly number[];
  /** Number of exit steps started; the next step is `exit_seq + 1`. */
  readonly exit_seq: number;
  readonly pending_exit?: PendingExit | null;
  /** Dollars, signed: sum over exit fills of (exit - entry) x qty x 100, negated for shorts. */
  readonly realized_pnl: number;
  readonly exit_price?: number | null;
  /** Dollars of fees the broker booked on the contract (FEE activities), when any were read. */
  readonly fees?: number;
  readonly close_reason?: CloseReason | null;
  readonly closed_at?: string | null;
  /**
   * Why the open was refused (`open_rejected`, `not_sent`): the permanent error's reason and message. Every
   * redelivery of the recommendation is refused with it.
   */
  readonly refusal?: OpenRefusal | null;
  /** Strategy profile that chose or sized the position (null: the message named both). */
  readonly strategy?: string | null;
  /** Why this contract won (contract selection's inputs and score), when the account picked it. */
  readonly selection?: Record<string, unknown> | null;
  /** How the size was decided (budget, caps applied), when the account sized it. */
  readonly sizing?: Record<string, unknown> | null;
  /** The profile's time rules (close by, no overnight, expiry day), applied by the sweep. */
  readonly time_rules?: ProfileTimeRules | null;
  /** How many times the working exit limit was cancelled to be repriced (reset when an exit fills). */
  readonly exit_reprices?: number;
  /**
   * When a sweep first found this position's contract missing from a broker snapshot in which every
   * tracked contract was missing (one empty read is not trusted: it is confirmed by a later sweep).
   */
  readonly missing_since?: string | null;
  /**
   * The protective stop resting at the broker for this position (`exit_execution.broker_stop`); absent or
   * null when none is working.
   */
  readonly broker_stop?: BrokerStop | null;
  /** Client ids the resting stop has used (placements and replacements); the next one is this + 1. */
  readonly broker_stop_seq?: number;
  /**
   * The expiry instruction (`exit_plan.at_expiry` `exercise` / `do_not_exercise`) the sweep sent or tried
   * on the expiry day (shared/domain/expiry-instruction.ts): once recorded, it is never sent again.
   */
  readonly expiry_instruction?: ExpiryInstructionRecord | null;
  /**
   * Every order, fill, option event and fee the broker reported for the position (docs/BOOKS.md):
   * `quantity`, `entry_price`, `exit_price`, `realized_pnl` and `fees` are projections of it. Records
   * written before it lack it; `ledgerOf` (position-books.ts) builds theirs from their fields.
   */
  readonly ledger?: PositionLedger;
  /** Operator attention flags, e.g. `broker_qty_below_table`. */
  readonly flags: readonly string[];
  readonly created_at: string;
  readonly updated_at: string;
  /** Optimistic-concurrency version: every update is conditional on it. */
  readonly version: number;
}

/**
 * The exit bookkeeping every new position starts with: no trailing state, no exit step taken, nothing
 * realized, no flags. (Frozen; records get fresh arrays whenever these fields change.)
 */
export const FRESH_EXIT_STATE = Object.freeze({
  peak_price: null,
  trailing_stop_price: null,
  breakeven_active: false,
  partial_exits_done: Object.freeze([]) as readonly number[],
  exit_seq: 0,
  pending_exit: null,
  realized_pnl: 0,
  exit_price: null,
  close_reason: null,
  closed_at: null,
  flags: Object.freeze([]) as readonly string[],
} satisfies Partial<Position>);

/** Per-share gain as a fraction of entry, signed for the side (a short gains when the price falls). */
export function gainFraction(side: PositionSide, entryPrice: number, price: number): number {
  const g = (price - entryPrice) / entryPrice;
  return side === 'long' ? g : -g;
}

/** Dollars realized by closing `qty` contracts at `exitPrice` (per share). */
export function realizedPnl(side: PositionSide, entryPrice: number, exitPrice: number, qty: number): number {
  const perShare = side === 'long' ? exitPrice - entryPrice : entryPrice - exitPrice;
  return roundToCents(perShare * qty * 100);
}

/**
 * Reads a stored record written by any version of the pipeline. Newer fields missing from older records
 * (`original_quantity`, `peak_price`, `trailing_stop_price`, `entry_underlying_price`, ...) get derived
 * values; a record is never rejected for lacking them.
 */
export function normalizeStoredPosition(
  item: Record<string, unknown>,
  readPlan: (stored: unknown) => ExitPlan,
): Position {
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const quantity = num(item.quantity) ?? 0;
  const state = (str(item.state) ?? 'open') as PositionState;
  const positionId = str(item.position_id) ?? str(item.recommendation_id) ?? '';
  const createdAt = str(item.created_at) ?? str(item.entry_time) ?? new Date(0).toISOString();
  return {
    account: str(item.account) ?? '',
    position_id: positionId,
    recommendation_id: str(item.recommendation_id) ?? positionId,
    ticker: str(item.ticker) ?? '',
    option_symbol: str(item.option_symbol) ?? '',
    side: item.side === 'short' ? 'short' : 'long',
    state,
    quantity,
    original_quantity: num(item.original_quantity) ?? num(item.requested_quantity) ?? quantity,
    requested_quantity: num(item.requested_quantity) ?? num(item.original_quantity) ?? quantity,
    open_client_order_id: str(item.open_client_order_id) ?? '',
    open_order_id: str(item.open_order_id),
    open_order_type: item.open_order_type === 'limit' ? 'limit' : 'market',
    open_limit_price: num(item.open_limit_price),
    entry_price: num(item.entry_price),
    entry_time: str(item.entry_time),
    entry_underlying_price: num(item.entry_underlying_price),
    exit_plan: readPlan(item.exit_plan),
    peak_price: num(item.peak_price),
    trailing_stop_price: num(item.trailing_stop_price),
    breakeven_active: item.breakeven_active === true,
    partial_exits_done: Array.isArray(item.partial_exits_done)
      ? item.partial_exits_done.filter((x): x is number => typeof x === 'number')
      : [],
    exit_seq: num(item.exit_seq) ?? 0,
    pending_exit: (item.pending_exit as PendingExit | null | undefined) ?? null,
    realized_pnl: num(item.realized_pnl) ?? 0,
    exit_price: num(item.exit_price),
    // Only records whose fees were booked carry it (records read back equal the ones written).
    ...(num(item.fees) === null ? {} : { fees: num(item.fees)! }),
    close_reason: (str(item.close_reason) as CloseReason | null) ?? null,
    closed_at: str(item.closed_at),
    // Only refused opens carry it (records read back equal the ones written).
    ...readRefusal(item.refusal),
    strategy: str(item.strategy),
    selection: (item.selection as Record<string, unknown> | undefined) ?? null,
    sizing: (item.sizing as Record<string, unknown> | undefined) ?? null,
    time_rules: (item.time_rules as ProfileTimeRules | undefined) ?? null,
    exit_reprices: num(item.exit_reprices) ?? 0,
    missing_since: str(item.missing_since),
    // Only positions that ever had a resting stop carry these (records read back equal the ones written).
    ...(item.broker_stop && typeof item.broker_stop === 'object'
      ? { broker_stop: item.broker_stop as BrokerStop }
      : {}),
    ...(num(item.broker_stop_seq) !== null ? { broker_stop_seq: num(item.broker_stop_seq)! } : {}),
    // Only positions held into expiry with an instruction carry it (records read back equal the ones written).
    ...(item.expiry_instruction && typeof item.expiry_instruction === 'object'
      ? { expiry_instruction: item.expiry_instruction as ExpiryInstructionRecord }
      : {}),
    // Only records booked since the ledger carry it (records read back equal the ones written).
    ...storedLedgerField(item.ledger, str(item.option_symbol) ?? ''),
    flags: Array.isArray(item.flags) ? item.flags.filter((x): x is string => typeof x === 'string') : [],
    created_at: createdAt,
    updated_at: str(item.updated_at) ?? createdAt,
    version: num(item.version) ?? 0,
  };
}

function readRefusal(v: unknown): { refusal?: OpenRefusal } {
  if (v === null || typeof v !== 'object') return {};
  const { reason, detail } = v as Record<string, unknown>;
  return typeof reason === 'string'
    ? { refusal: { reason, detail: typeof detail === 'string' ? detail : '' } }
    : {};
}

/** The stored ledger when the item carries a valid one for its contract (position-books.ts checks more). */
function storedLedgerField(v: unknown, symbol: string): { ledger?: PositionLedger } {
  if (v === null || typeof v !== 'object') return {};
  const l = v as Partial<PositionLedger>;
  return l.ledger_version === 1 && l.option_symbol === symbol && Array.isArray(l.orders)
    ? { ledger: v as PositionLedger }
    : {};
}
