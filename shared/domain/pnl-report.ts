/**
 * The account's P&L journal, computed from its position records alone (pure: records and a clock in, a
 * report out). Days are New York trading days; money is in dollars, summed in integer cents.
 *
 * What counts where:
 * - A position is *opened* on the New York day of its fill (`entry_time`, else `created_at`); a record that
 *   never filled (`not_filled`, `not_sent`, `open_rejected`) is counted apart, by reason.
 * - A position's realized P&L (partial exits included) counts on the day it *closed*, under its
 *   `close_reason`. Positions closed outside the pipeline have no booked P&L: they are listed, but left out
 *   of the win rate, the average hold and the largest loss.
 * - Money comes from each record's ledger (docs/BOOKS.md; `projectionOf`, which also reads a record written
 *   before the ledger): realized P&L before fees, the fees the broker booked, and realized after them.
 *   The pipeline books only the fees the broker charges as activities on the position (assignments,
 *   exercises, expiries): commissions and regulatory fees of trades are not recorded, and the report says so.
 * - Open exposure is *now*, whatever the range: the entry premium of every live position.
 * - A spread (docs/SPREADS.md) is one line of its own (`spreads`), its money from its legs' ledgers
 *   (`spreadBooks`); one closed in the range counts in the closed totals, by day and by reason, as one
 *   trade; one that never filled counts as never filled.
 */
import { newYorkTime } from './market-time';
import { LIVE_STATES, type Position } from './position';
import { projectionOf } from './position-books';
import { spreadBooks, type SpreadPosition } from './spread-position';

/** Re-exported: the report's `--position` views (position-ledger-report.ts). */
export {
  positionLedgerReport,
  spreadLedgerReport,
  type LedgerEventView,
  type LedgerFeeView,
  type LedgerFillView,
  type LedgerOrderView,
  type PositionLedgerReport,
  type SpreadLedgerReport,
} from './position-ledger-report';

/** Inclusive range of New York trading days (`YYYY-MM-DD`); `from: null` is the first record. */
export interface ReportRange {
  readonly from: string | null;
  readonly to: string;
}

/** Closed positions grouped by day or by reason. */
export interface PnlGroup {
  readonly key: string;
  readonly closed: number;
  readonly won: number;
  readonly lost: number;
  /** Before fees. */
  readonly realized_pnl_usd: number;
  /** Fees booked on the group's positions. */
  readonly fees_usd: number;
}

/** One position closed in the range: a line of the journal. */
export interface JournalRow {
  /** New York day it closed. */
  readonly day: string;
  readonly position_id: string;
  readonly ticker: string;
  readonly option_symbol: string;
  readonly side: 'long' | 'short';
  /** Contracts it opened with. */
  readonly contracts: number;
  readonly entry_time: string | null;
  /** Per share. */
  readonly entry_price: number | null;
  readonly closed_at: string;
  /** Per share, the average of what closed it (option events at their value), from the ledger. */
  readonly exit_price: number | null;
  readonly close_reason: string;
  /** The ledger's realized P&L before fees, dollars (partial exits included). */
  readonly realized_pnl_usd: number;
  readonly hold_minutes: number | null;
  /** Fees the broker booked on the position, dollars (the ledger's `fees_cents`). */
  readonly fees_usd: number;
  /** realized_pnl_usd − fees_usd: the ledger's `realized_cents`. */
  readonly net_pnl_usd: number;
}

/** One spread record (live, or closed in the range): a line of the report's spreads. */
export interface SpreadJournalRow {
  /** New York day it closed; null while live. */
  readonly day: string | null;
  readonly position_id: string;
  readonly ticker: string;
  readonly structure: string;
  /** `long 1 SYMBOL, short 1 SYMBOL`: each leg's side, ratio and contract. */
  readonly legs: string;
  /** Multiples the open filled. */
  readonly multiple: number;
  /** Multiples every leg still holds. */
  readonly held_multiple: number;
  /** Per share of one multiple: + debit paid, − credit received (from the legs' fills). */
  readonly net_open_per_share: number | null;
  readonly state: string;
  readonly close_reason: string | null;
  readonly entry_time: string | null;
  readonly closed_at: string | null;
  readonly hold_minutes: number | null;
  /** Every leg's realized P&L before fees, dollars (the legs' ledgers). */
  readonly realized_pnl_usd: number;
  readonly fees_usd: number;
  readonly net_pnl_usd: number;
}

/** A trade closed in the range, single-leg or spread: what the closed totals and groups sum. */
type ClosedLine = Pick<
  JournalRow,
  'day' | 'position_id' | 'close_reason' | 'realized_pnl_usd' | 'fees_usd' | 'hold_minutes'
>;

/** Positions that never filled, by close reason. */
export interface NeverFilled {
  readonly count: number;
  readonly by_reason: Readonly<Record<string, number>>;
}

/** The live positions now. Premiums are entry price × contracts held × 100, dollars. */
export interface OpenExposure {
  readonly positions: number;
  readonly contracts: number;
  /** Paid for long positions: what they can lose. */
  readonly long_premium_usd: number;
  /** Received for short positions. */
  readonly short_premium_usd: number;
  /** Live records with no fill yet (submitting, pending): no premium to count. */
  readonly awaiting_fill: number;
  /** Realized by partial exits of positions still live (not in the closed totals). */
  readonly partial_realized_pnl_usd: number;
}

/** What `npm run report` prints. */
export interface PnlReport {
  readonly account: string;
  readonly range: ReportRange;
  readonly generated_at: string;
  readonly opened: { readonly count: number; readonly contracts: number; readonly premium_usd: number };
  readonly never_filled: NeverFilled;
  readonly closed: {
    readonly count: number;
    /** Before fees. */
    readonly realized_pnl_usd: number;
    /** Fees booked on the positions closed in the range (as `fees.amount_usd`). */
    readonly fees_usd: number;
    /** After fees: realized_pnl_usd − fees_usd. */
    readonly net_pnl_usd: number;
    readonly won: number;
    readonly lost: number;
    readonly flat: number;
    /** won / (closed with booked P&L); null when there is none. */
    readonly win_rate: number | null;
    readonly average_hold_minutes: number | null;
    readonly largest_loss: JournalRow | SpreadJournalRow | null;
    readonly largest_win: JournalRow | SpreadJournalRow | null;
    /** Closed outside the pipeline: no P&L booked, left out of the rates above. */
    readonly outside_pipeline: number;
  };
  readonly by_day: readonly PnlGroup[];
  readonly by_reason: readonly PnlGroup[];
  readonly fees: FeesSummary;
  readonly open_now: OpenExposure;
  readonly journal: readonly JournalRow[];
  /** The live spreads and those closed in the range (their closed ones are in the totals above). */
  readonly spreads: readonly SpreadJournalRow[];
}

/** Close reasons of a record that never filled: nothing was held, so it is no trade. */
const NEVER_FILLED_REASONS: ReadonlySet<string> = new Set(['not_filled', 'not_sent', 'open_rejected']);

/**
 * Fees of the positions closed in the range. The pipeline books only the fees the broker charges as FEE
 * activities on an assignment, exercise or expiry (the sweep reads them with the event); commissions and
 * regulatory fees of trades are not recorded.
 */
export interface FeesSummary {
  readonly recorded: 'option_events_only';
  /** Dollars booked on the positions closed in the range; apart from realized P&L (`net_pnl_usd` is after them). */
  readonly amount_usd: number;
  /** How many of those positions carry booked fees. */
  readonly positions: number;
  readonly note: string;
}

/** What the report says about fees, for `cents` booked on `positions` closed positions. */
export function feesNote(amountUsd: number, positions: number): string {
  const rest = 'commissions and regulatory fees of trades are not recorded, so realized P&L is before them';
  if (positions === 0) {
    return `none booked (the pipeline books only the broker's fees on assignments, exercises and expiries); ${rest}`;
  }
  return (
    `$${amountUsd.toFixed(2)} booked by the broker on assignments, exercises and expiries ` +
    `(${positions} position${positions === 1 ? '' : 's'}), apart from realized P&L (after fees: net); ${rest}`
  );
}

const cents = (usd: number): number => Math.round(usd * 100);
const usd = (c: number): number => c / 100;

/** The New York day of an ISO instant, or null when it does not parse. */
function dayOf(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? newYorkTime(new Date(ms)).date : null;
}

const inRange = (day: string | null, r: ReportRange): day is string =>
  day !== null && (r.from === null || day >= r.from) && day <= r.to;

function filled(p: Position): boolean {
  return typeof p.entry_price === 'number' && !NEVER_FILLED_REASONS.has(p.close_reason ?? '');
}

function journalRow(p: Position, day: string): JournalRow {
  const opened = Date.parse(p.entry_time ?? p.created_at);
  const closed = Date.parse(p.closed_at ?? '');
  const hold = Number.isFinite(opened) && Number.isFinite(closed) ? (closed - opened) / 60_000 : null;
  const books = projectionOf(p);
  return {
    day,
    position_id: p.position_id,
    ticker: p.ticker,
    option_symbol: p.option_symbol,
    side: p.side,
    contracts: p.original_quantity,
    entry_time: p.entry_time ?? null,
    entry_price: books.entry_price ?? p.entry_price ?? null,
    closed_at: p.closed_at ?? '',
    exit_price: books.exit_price ?? p.exit_price ?? null,
    close_reason: p.close_reason ?? 'unknown',
    realized_pnl_usd: usd(books.realized_before_fees_cents),
    hold_minutes: hold === null ? null : Math.round(hold * 10) / 10,
    fees_usd: usd(books.fees_cents),
    net_pnl_usd: usd(books.realized_cents),
  };
}

/** The legs of a spread in a few words: `long 1 SYMBOL, short 1 SYMBOL`. */
export function legsSummary(sp: Pick<SpreadPosition, 'legs'>): string {
  return sp.legs.map((l) => `${l.side} ${l.ratio_qty} ${l.option_symbol}`).join(', ');
}

/** A spread's line: its multiple, net open price and realized P&L from its legs' ledgers. */
export function spreadJournalRow(sp: SpreadPosition, day: string | null): SpreadJournalRow {
  const books = spreadBooks(sp);
  const opened = Date.parse(sp.entry_time ?? sp.created_at);
  const closed = Date.parse(sp.closed_at ?? '');
  const hold = Number.isFinite(opened) && Number.isFinite(closed) ? (closed - opened) / 60_000 : null;
  return {
    day,
    position_id: sp.position_id,
    ticker: sp.ticker,
    structure: sp.structure,
    legs: legsSummary(sp),
    multiple: books.opened_multiple,
    held_multiple: books.multiple,
    net_open_per_share: books.net_open_per_share,
    state: sp.state,
    close_reason: sp.close_reason,
    entry_time: sp.entry_time,
    closed_at: sp.closed_at,
    hold_minutes: sp.state === 'closed' && hold !== null ? Math.round(hold * 10) / 10 : null,
    realized_pnl_usd: usd(books.realized_before_fees_cents),
    fees_usd: usd(books.fees_cents),
    net_pnl_usd: usd(books.realized_before_fees_cents - books.fees_cents),
  };
}

/**
 * The spreads' lines: the live ones and those closed in the range; one closed that never filled is
 * counted in `neverFilled` instead.
 */
function spreadLines(
  records: readonly SpreadPosition[],
  account: string,
  range: ReportRange,
  neverFilled: Record<string, number>,
): SpreadJournalRow[] {
  const rows: SpreadJournalRow[] = [];
  for (const sp of records.filter((s) => s.account === account)) {
    if (LIVE_STATES.has(sp.state)) {
      rows.push(spreadJournalRow(sp, null));
    } else if (spreadBooks(sp).net_open_per_share === null) {
      if (!inRange(dayOf(sp.closed_at ?? sp.created_at), range)) continue;
      const reason = sp.close_reason ?? 'unknown';
      neverFilled[reason] = (neverFilled[reason] ?? 0) + 1;
    } else {
      const day = dayOf(sp.closed_at ?? sp.updated_at);
      if (inRange(day, range)) rows.push(spreadJournalRow(sp, day));
    }
  }
  // Closed ones first, by when they closed; the live ones after them.
  return rows.sort(
    (a, b) =>
      Number(a.day === null) - Number(b.day === null) ||
      (a.closed_at ?? '').localeCompare(b.closed_at ?? '') ||
      a.position_id.localeCompare(b.position_id),
  );
}

/** Sums closed lines by `keyOf`, in key order. */
function groupBy(rows: readonly ClosedLine[], keyOf: (r: ClosedLine) => string): PnlGroup[] {
  const groups = new Map<
    string,
    { closed: number; won: number; lost: number; cents: number; fees: number }
  >();
  for (const r of rows) {
    const g = groups.get(keyOf(r)) ?? { closed: 0, won: 0, lost: 0, cents: 0, fees: 0 };
    g.closed += 1;
    g.cents += cents(r.realized_pnl_usd);
    g.fees += cents(r.fees_usd);
    if (r.realized_pnl_usd > 0) g.won += 1;
    else if (r.realized_pnl_usd < 0) g.lost += 1;
    groups.set(keyOf(r), g);
  }
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, g]) => ({
      key,
      closed: g.closed,
      won: g.won,
      lost: g.lost,
      realized_pnl_usd: usd(g.cents),
      fees_usd: usd(g.fees),
    }));
}

/** The live positions' exposure now. */
export function openExposure(positions: readonly Position[]): OpenExposure {
  let count = 0;
  let contracts = 0;
  let longCents = 0;
  let shortCents = 0;
  let awaiting = 0;
  let partialCents = 0;
  for (const p of positions) {
    if (!LIVE_STATES.has(p.state)) continue;
    count += 1;
    partialCents += projectionOf(p).realized_before_fees_cents;
    if (typeof p.entry_price !== 'number' || p.quantity <= 0) {
      awaiting += 1;
      continue;
    }
    contracts += p.quantity;
    const premium = cents(p.entry_price * p.quantity * 100);
    if (p.side === 'long') longCents += premium;
    else shortCents += premium;
  }
  return {
    positions: count,
    contracts,
    long_premium_usd: usd(longCents),
    short_premium_usd: usd(shortCents),
    awaiting_fill: awaiting,
    partial_realized_pnl_usd: usd(partialCents),
  };
}

/**
 * The journal of `account` over `range`, from every position record of the account (other accounts'
 * records are ignored). `now` stamps the report; open exposure is what is live in `positions`.
 */
export function buildPnlReport(
  account: string,
  positions: readonly Position[],
  range: ReportRange,
  now: Date,
  spreadRecords: readonly SpreadPosition[] = [],
): PnlReport {
  const mine = positions.filter((p) => p.account === account);
  let openedCount = 0;
  let openedContracts = 0;
  let openedCents = 0;
  const neverFilled: Record<string, number> = {};
  const journal: JournalRow[] = [];
  let feeCents = 0;
  let feePositions = 0;
  for (const p of mine) {
    if (filled(p)) {
      if (inRange(dayOf(p.entry_time ?? p.created_at), range)) {
        openedCount += 1;
        openedContracts += p.original_quantity;
        openedCents += cents(p.entry_price! * p.original_quantity * 100);
      }
      const closedDay = p.state === 'closed' ? dayOf(p.closed_at) : null;
      if (inRange(closedDay, range)) {
        const row = journalRow(p, closedDay);
        journal.push(row);
        if (row.fees_usd !== 0) {
          feeCents += cents(row.fees_usd);
          feePositions += 1;
        }
      }
    } else if (p.state === 'closed' && inRange(dayOf(p.closed_at ?? p.created_at), range)) {
      const reason = p.close_reason ?? 'unknown';
      neverFilled[reason] = (neverFilled[reason] ?? 0) + 1;
    }
  }
  journal.sort(
    (a, b) => a.closed_at.localeCompare(b.closed_at) || a.position_id.localeCompare(b.position_id),
  );
  const spreads = spreadLines(spreadRecords, account, range, neverFilled);
  for (const r of spreads) {
    if (r.day === null || r.fees_usd === 0) continue;
    feeCents += cents(r.fees_usd);
    feePositions += 1;
  }
  const closedSpreads = spreads.filter(
    (r): r is SpreadJournalRow & { day: string } => r.state === 'closed' && r.day !== null,
  );
  const closedLines = [
    ...journal,
    ...closedSpreads.map((r) => ({ ...r, close_reason: r.close_reason ?? 'unknown' })),
  ];
  return {
    account,
    range,
    generated_at: now.toISOString(),
    opened: { count: openedCount, contracts: openedContracts, premium_usd: usd(openedCents) },
    never_filled: {
      count: Object.values(neverFilled).reduce((a, b) => a + b, 0),
      by_reason: neverFilled,
    },
    closed: closedSummary(closedLines),
    by_day: groupBy(closedLines, (r) => r.day),
    by_reason: groupBy(closedLines, (r) => r.close_reason),
    fees: {
      recorded: 'option_events_only',
      amount_usd: usd(feeCents),
      positions: feePositions,
      note: feesNote(usd(feeCents), feePositions),
    },
    open_now: openExposure(mine),
    journal,
    spreads,
  };
}

function closedSummary(
  journal: ReadonlyArray<JournalRow | (SpreadJournalRow & ClosedLine)>,
): PnlReport['closed'] {
  // A position closed outside the pipeline has no booked exit: its P&L is unknown, not zero.
  const booked = journal.filter((r) => r.close_reason !== 'closed_outside_pipeline');
  const won = booked.filter((r) => r.realized_pnl_usd > 0).length;
  const lost = booked.filter((r) => r.realized_pnl_usd < 0).length;
  const holds = booked.map((r) => r.hold_minutes).filter((h): h is number => h !== null);
  const byPnl = [...booked].sort((a, b) => a.realized_pnl_usd - b.realized_pnl_usd);
  const worst = byPnl[0];
  const best = byPnl[byPnl.length - 1];
  const realizedCents = journal.reduce((sum, r) => sum + cents(r.realized_pnl_usd), 0);
  const feeCents = journal.reduce((sum, r) => sum + cents(r.fees_usd), 0);
  return {
    count: journal.length,
    realized_pnl_usd: usd(realizedCents),
    fees_usd: usd(feeCents),
    net_pnl_usd: usd(realizedCents - feeCents),
    won,
    lost,
    flat: booked.length - won - lost,
    win_rate: booked.length ? Math.round((won / booked.length) * 10_000) / 10_000 : null,
    average_hold_minutes: holds.length
      ? Math.round((holds.reduce((a, b) => a + b, 0) / holds.length) * 10) / 10
      : null,
    largest_loss: worst && worst.realized_pnl_usd < 0 ? worst : null,
    largest_win: best && best.realized_pnl_usd > 0 ? best : null,
    outside_pipeline: journal.length - booked.length,
  };
}
