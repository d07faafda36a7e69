/**
 * The account's P&L of the New York trading day and the daily loss breaker's decision (pure: figures, the
 * kill switch and a clock in, a verdict out). Money is summed in integer cents, as in the P&L journal.
 *
 * The day's P&L is marked to market on the positions' ledgers (day-books.ts, docs/BOOKS.md "The day, in
 * trading days"): the day's own fills, events and fees, plus the change of what is held from its mark at the
 * start of the trading day (recorded by the day's first sweep with a usable quote) to the executable side of
 * this sweep's quotes (bid for a long: what selling gets; ask for a short: what buying back costs). A fill
 * of an earlier day never counts today. Live positions are read from their ledgers; positions that are no
 * longer live from the day item's per-position figures (written with their close). A live position without
 * a usable quote (missing, stale, crossed: the exit rules' checks) is valued without a move and reported
 * unpriced. The trading day is the calendar's: a Saturday sweep's day is Friday.
 */
import type { OptionQuote } from './broker-types';
import { accountDayPnl, type DayBookEntry } from './day-books';
import { checkQuote } from './exit-rules';
import { LIVE_STATES, type Position, type PositionSide } from './position';
import { ledgerOf } from './position-books';
import { tradingDayOfInstant } from './trading-calendar';

/** Who last set an account's kill switch: the operator (CLI, console) or the daily loss breaker. */
export type SwitchSetBy = 'operator' | 'daily_loss';

/** The kill switch as the breaker reads it (a subset of the control item). */
export interface SwitchState {
  readonly trading_enabled: boolean;
  readonly flatten: boolean;
  readonly set_by?: SwitchSetBy;
  /** The New York trading day the breaker last switched openings off (kept by operator changes too). */
  readonly daily_loss_day?: string;
}

/** A contract's quote at the start of a trading day, as the day's first sweep with a usable quote saw it. */
export interface StartMark {
  readonly bid: number;
  readonly ask: number;
}

/**
 * One trading day's item (`DAYPNL#<day>`): per position, its absolute figures for the day in cents (written
 * with each write that books something on its ledger), the start-of-day marks, and what an item written
 * before per-position figures holds (a sum and the ids it counted).
 */
export interface DayBooks {
  readonly day: string;
  /** Position id → its day P&L, cents (final once the position is no longer live). */
  readonly day_pnl: ReadonlyMap<string, number>;
  /** Position id → what its parts of the day realized, less the day's fees, cents. */
  readonly realized: ReadonlyMap<string, number>;
  /** Option symbol → its start-of-day mark. */
  readonly start_marks: ReadonlyMap<string, StartMark>;
  /** The older item's realized sum (cents), counted for the ids it names. */
  readonly legacy_cents: number;
  readonly legacy_ids: ReadonlySet<string>;
}

/** A day with nothing booked. */
export function emptyDayBooks(day: string): DayBooks {
  return {
    day,
    day_pnl: new Map(),
    realized: new Map(),
    start_marks: new Map(),
    legacy_cents: 0,
    legacy_ids: new Set(),
  };
}

/** The day's P&L of one account, dollars. */
export interface DayPnl {
  /** New York trading day (`YYYY-MM-DD`). */
  readonly day: string;
  /** What the day's parts realized (at average cost, less the day's fees). */
  readonly realized_usd: number;
  /** day_pnl − realized: the change of what is held, from its start-of-day mark (or its cost, if bought today). */
  readonly unrealized_usd: number;
  readonly day_pnl_usd: number;
  /** Live positions holding contracts with no usable quote (valued without a move). */
  readonly unpriced: number;
  /** Live positions held since an earlier day with no start mark recorded (their entry stood in). */
  readonly start_marks_missing?: number;
}

const cents = (usd: number): number => Math.round(usd * 100);
const dollars = (usd: number): string => `${usd < 0 ? '-' : ''}$${Math.abs(usd).toFixed(2)}`;

/**
 * The New York trading day of `now` (`YYYY-MM-DD`): the day P&L and the breaker are keyed by it. A weekend
 * or holiday belongs to the session before it (trading-calendar.ts).
 */
export function tradingDay(now: Date): string {
  return tradingDayOfInstant(now);
}

/**
 * Unrealized P&L in cents of what `p` holds at the executable side of `quote`; 0 when it holds nothing,
 * null when it holds contracts but the quote is unusable as the exit rules judge it (missing, stale, crossed).
 */
export function unrealizedCents(
  p: Position,
  quote: OptionQuote | undefined,
  now: Date,
  maxQuoteAgeSeconds: number,
): number | null {
  if (!LIVE_STATES.has(p.state) || p.quantity <= 0 || typeof p.entry_price !== 'number') return 0;
  const mark = executableMark(p.option_symbol, p.side, quote, now, maxQuoteAgeSeconds);
  if (mark === null) return null;
  const perShare = p.side === 'long' ? mark - p.entry_price : p.entry_price - mark;
  return cents(perShare * p.quantity * 100);
}

/**
 * The executable side of `quote` for a position of `side` (bid for a long, ask for a short), or null when the
 * quote is unusable as the exit rules judge it (checked on the mid: a long's bid of 0 is a real price here).
 */
export function executableMark(
  symbol: string,
  side: PositionSide,
  quote: OptionQuote | undefined,
  now: Date,
  maxQuoteAgeSeconds: number,
): number | null {
  const check = checkQuote(symbol, side, quote, now, {
    mark: 'mid',
    max_quote_age_seconds: maxQuoteAgeSeconds,
  });
  if (!check.ok || !quote) return null;
  return side === 'long' ? quote.bid : quote.ask;
}

/** The inputs of {@link computeDayPnl}. */
export interface DayPnlInput {
  readonly now: Date;
  /** The day item of `tradingDay(now)`. */
  readonly books: DayBooks;
  readonly live: readonly Position[];
  readonly quotes: ReadonlyMap<string, OptionQuote>;
  /** A quote older than this is not used (the account's `exit_execution.max_quote_age_seconds`). */
  readonly maxQuoteAgeSeconds: number;
}

function liveEntries(input: DayPnlInput): DayBookEntry[] {
  const out: DayBookEntry[] = [];
  for (const p of input.live) {
    if (!LIVE_STATES.has(p.state)) continue;
    const start = input.books.start_marks.get(p.option_symbol);
    const quote = input.quotes.get(p.option_symbol);
    out.push({
      position_id: p.position_id,
      ledger: ledgerOf(p),
      side: p.side,
      marks: {
        startMark: start ? (p.side === 'long' ? start.bid : start.ask) : null,
        mark: executableMark(p.option_symbol, p.side, quote, input.now, input.maxQuoteAgeSeconds),
      },
    });
  }
  return out;
}

/**
 * The start marks this sweep can record: each contract a live position held at the start of the trading
 * day, with no mark recorded yet and a usable quote now ({ bid, ask } of that quote). Empty on the quiet
 * path once the day's marks are in.
 */
export function startMarksDue(input: DayPnlInput): Map<string, StartMark> {
  const due = new Map<string, StartMark>();
  // Only contracts without a mark yet are valued (none, on the quiet path once the day's marks are in).
  const lacking = input.live.filter((p) => !input.books.start_marks.has(p.option_symbol));
  if (lacking.length === 0) return due;
  const day = tradingDay(input.now);
  const acc = accountDayPnl(day, liveEntries({ ...input, live: lacking }));
  const byId = new Map(lacking.map((p) => [p.position_id, p]));
  for (const pos of acc.positions) {
    if (!pos.start_mark_missing) continue;
    const p = byId.get(pos.position_id)!;
    const quote = input.quotes.get(p.option_symbol);
    if (
      !quote ||
      executableMark(p.option_symbol, p.side, quote, input.now, input.maxQuoteAgeSeconds) === null
    )
      continue;
    due.set(p.option_symbol, { bid: quote.bid, ask: quote.ask });
  }
  return due;
}

/**
 * The account's P&L of the trading day: the live positions from their ledgers (start marks from the day item,
 * marks from this sweep's quotes) plus the day item's figures of positions that are not live (closed today;
 * their end value is 0, so their figure is final). A live id found in the item is skipped (its ledger is the
 * truth); an id the older item counted is counted through its sum.
 */
export function computeDayPnl(input: DayPnlInput): DayPnl {
  const day = tradingDay(input.now);
  const acc = accountDayPnl(day, liveEntries(input));
  const liveIds = new Set(acc.positions.map((p) => p.position_id));
  const { books } = input;
  let realized = acc.realized_cents + books.legacy_cents;
  let total = acc.day_pnl_cents + books.legacy_cents;
  const counted = (id: string) => liveIds.has(id) || books.legacy_ids.has(id);
  for (const [id, c] of books.day_pnl) if (!counted(id)) total += c;
  for (const [id, c] of books.realized) if (!counted(id)) realized += c;
  return {
    day,
    realized_usd: realized / 100,
    unrealized_usd: (total - realized) / 100,
    day_pnl_usd: total / 100,
    unpriced: acc.unpriced,
    start_marks_missing: acc.start_marks_missing,
  };
}

/** What the breaker does this sweep. */
export type BreakerVerdict =
  | { readonly action: 'none' }
  /** The loss reached the limit: switch openings off (and flatten when configured). */
  | { readonly action: 'trip'; readonly next: SwitchState; readonly reason: string }
  /** The breaker's own switch from an earlier day, at the next trading day's open: switch openings on. */
  | { readonly action: 'reset'; readonly next: SwitchState; readonly reason: string };

/**
 * Whether the breaker switches openings back on now: only its own switch (an operator's stays until the
 * operator changes it), only on a later trading day than the one it tripped, only while the market is open.
 */
export function breakerReset(control: SwitchState | null, now: Date, marketOpen: boolean): BreakerVerdict {
  if (!control || control.trading_enabled || control.set_by !== 'daily_loss') return { action: 'none' };
  const today = tradingDay(now);
  if (!marketOpen || !control.daily_loss_day || control.daily_loss_day >= today) return { action: 'none' };
  return {
    action: 'reset',
    next: {
      trading_enabled: true,
      flatten: false,
      set_by: 'daily_loss',
      daily_loss_day: control.daily_loss_day,
    },
    reason: `daily_loss: reset at the open of ${today} (tripped on ${control.daily_loss_day})`,
  };
}

/**
 * Whether the breaker trips now: a limit is set, the day's P&L is at or below −limit, and it has not tripped
 * today already (an operator who switched openings back on after it tripped is not overruled the same day).
 * An operator's own switch-off is left as it is: the breaker never takes over (and later re-enables) it.
 */
export function breakerTrip(input: {
  readonly maxDailyLoss: number | null;
  readonly flattenOnLoss: boolean;
  readonly pnl: DayPnl;
  readonly control: SwitchState | null;
}): BreakerVerdict {
  const { maxDailyLoss, pnl, control } = input;
  if (maxDailyLoss === null || pnl.day_pnl_usd > -maxDailyLoss) return { action: 'none' };
  if (control?.daily_loss_day === pnl.day) return { action: 'none' };
  if (control && !control.trading_enabled && control.set_by !== 'daily_loss') return { action: 'none' };
  return {
    action: 'trip',
    next: {
      trading_enabled: false,
      flatten: input.flattenOnLoss || control?.flatten === true,
      set_by: 'daily_loss',
      daily_loss_day: pnl.day,
    },
    reason:
      `daily_loss: the day's P&L ${dollars(pnl.day_pnl_usd)} reached the limit ${dollars(-maxDailyLoss)}` +
      (input.flattenOnLoss ? '; flattening' : ''),
  };
}
