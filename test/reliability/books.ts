/**
 * The books' invariants at rest (issue 23), as the reliability model checks them after convergence, beside
 * safety and liveness. Pure: the records as the table holds them, what the broker (the simulator) holds and
 * reports now in, violations and figures out. Each check is one of shared/domain/ledger-invariants.ts:
 *
 * 1. holding: per contract and side, what the broker holds equals the sum of the live records' ledger
 *    holdings (`checkHoldingMatchesBroker`); a closed record's ledger holds none of its contract.
 * 2. realized: each record's stored `realized_pnl` (before fees) and `fees` equal its ledger's, to the cent,
 *    its per-day parts add up, a flat one realized exactly its fills (`checkRealizedEqualsFills`); its
 *    stored `quantity` is the ledger's `held`.
 * 3. idempotent: every broker report the ledger booked (each order as the broker reports it now, each
 *    option event and fee activity) applied a second time changes nothing (`checkReportIdempotent`).
 *
 * Two more comparisons are counted, not (yet) violations, with what they saw in `findings`:
 *
 * - delivered shares: what the broker holds of the underlying equals the shares the records' ledgers
 *   still hold (`projectLedger(...).shares`). On today's main the order that flattens delivered shares
 *   (`ops-<account>-sh-<position>`) is not booked on the ledger (role `share_flatten`, BOOKS.md wiring
 *   plan section 2), so a record whose shares were sold keeps them in its books and its realized P&L
 *   leaves their sale out. Promote to a violation once that order is booked.
 * - option events booked on no record: an OPASN / OPEXC / OPEXP at the broker whose id no record's ledger
 *   holds (the model can trade a contract again after expiring it, which no real contract allows).
 *
 * 4. day: the day's P&L the last sweep reported (what the breaker and the `day_pnl` metric read) equals
 *    the sum over the run's records of that day's realized parts plus the change of what they hold from
 *    the start-of-day marks to the marks now (`expectedDayPnlCents`, the mark-to-market identity, computed
 *    apart from the sweep's `dayPnlOfPosition`), to the cent ({@link checkDayTotal}). Skipped (counted)
 *    when a mark it needs is unknown: a quote the sweep could not use, a record with delivered shares.
 */
import type { BrokerActivity, BrokerOrder } from '../../shared/domain/broker-types';
import { applyActivity, applyOrderReport } from '../../shared/domain/ledger';
import type { PositionLedger } from '../../shared/domain/ledger-events';
import {
  checkHoldingMatchesBroker,
  checkRealizedEqualsFills,
  checkReportIdempotent,
  expectedDayPnlCents,
  type AccountingViolation,
} from '../../shared/domain/ledger-invariants';
import { projectLedger } from '../../shared/domain/ledger-projection';
import { centsOf } from '../../shared/domain/money';
import type { Position } from '../../shared/domain/position';
import { ledgerOf } from '../../shared/domain/position-books';

/** What the books' checks counted (merged into the model's figures). */
export interface BooksFigures {
  /** Records whose books were checked (every record of the run). */
  booksRecords: number;
  /** Of those, records the table returned without a stored ledger (read through `ledgerFromLegacy`). */
  booksLegacyRecords: number;
  /** Contract-and-side holdings compared with the broker's (closed records' included). */
  holdingChecks: number;
  /** Broker reports (orders, activities) applied a second time to the ledger that booked them. */
  reportsReapplied: number;
  /** Fill parts booked on the records' ledgers (open, exit, stop and share orders). */
  ledgerFills: number;
  /** Of those, parts smaller than their order (an order filled in several parts, or partly). */
  ledgerPartialFills: number;
  /** Option events (exercise, assignment, expiry) booked on the records' ledgers. */
  ledgerOptionEvents: number;
  /** Fees booked on the records' ledgers. */
  ledgerFees: number;
  /**
   * Reports whose first re-application at rest booked something: the ledger had not yet booked all the
   * broker says now (not a violation by itself: invariant 1 says whether what is held disagrees).
   */
  reportsAheadOfLedger: number;
  /** Runs whose delivered shares were compared (the broker or a ledger held some at rest). */
  sharesChecks: number;
  /** Of those, runs where the broker's shares of the underlying differ from the ledgers' (see above). */
  sharesMismatches: number;
  /** Option events at the broker booked on no record's ledger. */
  optionEventsUnbooked: number;
  /**
   * Exercises and assignments booked without the underlying's price (`underlying_price: null`): the option
   * leg at 0 and the shares at the strike, so until the shares' sale is booked the record's realized P&L
   * leaves out the intrinsic value (issue 23 case 4).
   */
  optionEventsAtStrike: number;
  /** Runs whose reported day P&L was checked against the mark-to-market identity. */
  dayTotalChecks: number;
  /** Runs where it could not be (a mark unknown, delivered shares, no report). */
  dayTotalSkipped: number;
}

export function emptyBooksFigures(): BooksFigures {
  return {
    booksRecords: 0,
    booksLegacyRecords: 0,
    holdingChecks: 0,
    reportsReapplied: 0,
    ledgerFills: 0,
    ledgerPartialFills: 0,
    ledgerOptionEvents: 0,
    ledgerFees: 0,
    reportsAheadOfLedger: 0,
    sharesChecks: 0,
    sharesMismatches: 0,
    optionEventsUnbooked: 0,
    optionEventsAtStrike: 0,
    dayTotalChecks: 0,
    dayTotalSkipped: 0,
  };
}

/** What the checks read. */
export interface BooksInput {
  /** Every record of the run, as the table holds it. */
  readonly records: readonly Position[];
  /**
   * What the broker holds that the table tracks, per `symbol|side` (contracts, unsigned): the model's
   * divergence check's map, positions left by a close a hand change overtook already taken out.
   */
  readonly held: ReadonlyMap<string, number>;
  /**
   * The broker's current report of an order, by client_order_id, as the ledger of `symbol` books it (a
   * spread leg's: its leg of the mleg order); null when it has none.
   */
  readonly orderReport: (clientOrderId: string, symbol: string) => BrokerOrder | null;
  /** The broker's activities (option events, fees), by id. */
  readonly activities: ReadonlyMap<string, BrokerActivity>;
  /** The instant of the re-applications. */
  readonly at: string;
  /** Shares of the underlying the broker holds, signed (+ long); 0 when none. */
  readonly brokerShares?: number;
}

/** What the checks found. */
export interface BooksResult {
  readonly violations: AccountingViolation[];
  /** What the counted comparisons (shares, unbooked events) saw, one line each. */
  readonly findings: string[];
}

/** The books' invariants over one run's records at rest; `figures` is added to. */
export function checkBooks(input: BooksInput, figures: BooksFigures): AccountingViolation[] {
  return checkBooksAndCount(input, figures).violations;
}

/** {@link checkBooks}, with the findings of the comparisons that are counted but not violations. */
export function checkBooksAndCount(input: BooksInput, figures: BooksFigures): BooksResult {
  const out: AccountingViolation[] = [];
  const findings: string[] = [];
  const live: Array<{ position_id: string; side: Position['side']; ledger: PositionLedger }> = [];
  for (const p of input.records) {
    figures.booksRecords++;
    if (p.ledger === undefined) figures.booksLegacyRecords++;
    const ledger = ledgerOf(p);
    const r = { position_id: p.position_id, side: p.side, ledger };
    countLedger(ledger, figures);
    if (p.state !== 'closed') live.push(r);
    else {
      // A closed record holds none of its contract, whatever the broker holds for other records.
      figures.holdingChecks++;
      out.push(
        ...checkHoldingMatchesBroker(ledger.option_symbol, p.side, [r], 0).map((v) => ({
          ...v,
          subject: `${p.position_id} (closed ${p.close_reason}) ${v.subject}`,
        })),
      );
    }

    // 2. The stored figures are the ledger's: realized_pnl is before fees, fees apart (as the record keeps them).
    const storedFees = centsOf(p.fees ?? 0);
    out.push(...checkRealizedEqualsFills(r, centsOf(p.realized_pnl) - storedFees));
    const proj = projectLedger(ledger, p.side);
    if (storedFees !== proj.fees_cents) {
      out.push({
        invariant: 'realized_equals_fills',
        subject: p.position_id,
        detail: `record's fees ${storedFees} cents, ledger's ${proj.fees_cents}`,
      });
    }
    if (p.quantity !== proj.held) {
      out.push({
        invariant: 'realized_equals_fills',
        subject: p.position_id,
        detail: `record's quantity ${p.quantity}, ledger holds ${proj.held}`,
      });
    }

    // 3. Every report the ledger booked, applied again, changes nothing.
    out.push(...reapplyReports(p.position_id, ledger, input, figures));
  }

  // 1. Per contract and side, the live records' ledgers hold what the broker holds.
  const keys = new Set([...input.held.keys(), ...live.map((r) => `${r.ledger.option_symbol}|${r.side}`)]);
  for (const k of [...keys].sort()) {
    const [symbol, side] = k.split('|') as [string, Position['side']];
    figures.holdingChecks++;
    out.push(...checkHoldingMatchesBroker(symbol, side, live, input.held.get(k) ?? 0));
  }

  // Delivered shares: the broker's against what the ledgers still hold (counted, see the file's comment).
  let ledgerShares = 0;
  const holders: string[] = [];
  for (const p of input.records) {
    const shares = projectLedger(ledgerOf(p), p.side).shares?.shares ?? 0;
    if (shares === 0) continue;
    ledgerShares += shares;
    const events = ledgerOf(p)
      .events.map((e) => `${e.type} ${e.contracts} at ${e.underlying_price ?? `strike ${e.strike}`}`)
      .join(', ');
    holders.push(
      `${p.position_id} (${p.state}${p.close_reason ? ` ${p.close_reason}` : ''}) ${shares} ` +
        `[${events}; realized_pnl ${p.realized_pnl}]`,
    );
  }
  const brokerShares = input.brokerShares ?? 0;
  if (brokerShares !== 0 || ledgerShares !== 0) {
    figures.sharesChecks++;
    if (brokerShares !== ledgerShares) {
      figures.sharesMismatches++;
      findings.push(
        `delivered shares: the broker holds ${brokerShares}, the ledgers ${ledgerShares} (${holders.join(', ')})`,
      );
    }
  }

  // Option events at the broker that no record's ledger booked.
  const booked = new Set(input.records.flatMap((p) => ledgerOf(p).events.map((e) => e.activity_id)));
  for (const a of input.activities.values()) {
    if (a.type === 'FEE' || booked.has(a.id)) continue;
    figures.optionEventsUnbooked++;
    const on = input.records.filter((p) => p.option_symbol === a.symbol);
    findings.push(
      `${a.type} ${a.id} (${a.symbol} qty ${a.qty}) booked on no record; records on it: ` +
        (on.map((p) => `${p.position_id} ${p.state} ${p.side} ${p.quantity}`).join(', ') || 'none'),
    );
  }
  return { violations: out, findings };
}

function countLedger(ledger: PositionLedger, figures: BooksFigures): void {
  for (const o of ledger.orders) {
    for (const f of o.fills) {
      if (f.qty <= 0 || f.source === 'reconcile') continue;
      figures.ledgerFills++;
      if (f.qty < o.qty) figures.ledgerPartialFills++;
    }
  }
  figures.ledgerOptionEvents += ledger.events.length;
  figures.optionEventsAtStrike += ledger.events.filter(
    (e) => e.type !== 'OPEXP' && e.underlying_price === null,
  ).length;
  figures.ledgerFees += ledger.fees.length;
}

function reapplyReports(
  id: string,
  ledger: PositionLedger,
  input: BooksInput,
  figures: BooksFigures,
): AccountingViolation[] {
  const out: AccountingViolation[] = [];
  for (const o of ledger.orders) {
    // Reconcile's adjustments and a pre-ledger record's rebuilt orders have no report at the broker.
    const report = o.status === 'legacy' ? null : input.orderReport(o.client_order_id, ledger.option_symbol);
    if (!report) continue;
    figures.reportsReapplied++;
    const apply = (l: PositionLedger) => applyOrderReport(l, o.role, report, input.at);
    if (apply(ledger).booked !== null) figures.reportsAheadOfLedger++;
    out.push(...checkReportIdempotent(`${id}:${o.client_order_id}`, ledger, apply));
  }
  for (const e of ledger.events) {
    const a = input.activities.get(e.activity_id);
    if (!a) continue;
    figures.reportsReapplied++;
    const ctx = { at: input.at, underlyingPrice: e.underlying_price, contracts: e.contracts };
    out.push(...checkReportIdempotent(`${id}:${e.activity_id}`, ledger, (l) => applyActivity(l, a, ctx)));
  }
  for (const f of ledger.fees) {
    const a = input.activities.get(f.activity_id);
    if (!a) continue;
    figures.reportsReapplied++;
    out.push(
      ...checkReportIdempotent(`${id}:${f.activity_id}`, ledger, (l) =>
        applyActivity(l, a, { at: input.at }),
      ),
    );
  }
  return out;
}

/** What {@link checkDayTotal} reads. */
export interface DayTotalInput {
  /** Every record of the run, as the table holds it. */
  readonly records: readonly Position[];
  /** The trading day of the last sweep and the day P&L it reported (null: none reported). */
  readonly reported: { readonly day: string; readonly cents: number; readonly unpriced: number } | null;
  /** The contract's start-of-day mark for a side (null: none recorded). */
  readonly startMark: (symbol: string, side: Position['side']) => number | null;
  /** The contract's executable mark now for a side (bid for a long, ask for a short; null: no quote). */
  readonly mark: (symbol: string, side: Position['side']) => number | null;
}

/**
 * The account's day P&L as the last sweep reported it equals the identity's sum over the run's records
 * (invariant 4 above). A record holding nothing all day adds 0; one that held nothing at the start needs
 * no start mark (its start value is 0 at any mark).
 */
export function checkDayTotal(input: DayTotalInput, figures: BooksFigures): AccountingViolation[] {
  const rep = input.reported;
  if (!rep || rep.unpriced > 0) {
    figures.dayTotalSkipped++;
    return [];
  }
  let expected = 0;
  for (const p of input.records) {
    const r = { position_id: p.position_id, side: p.side, ledger: ledgerOf(p) };
    const mark = input.mark(p.option_symbol, p.side);
    // Bought today or flat: any start mark values its start at 0; the mark now at the entry if no quote.
    const start = input.startMark(p.option_symbol, p.side) ?? mark;
    const figure = expectedDayPnlCents(r, rep.day, { startMark: start, mark });
    if (figure === null) {
      if (projectLedger(r.ledger, p.side).held === 0 && !r.ledger.events.some((e) => e.shares !== 0)) {
        // Flat with no mark: the day's parts are all there is.
        expected += expectedDayPnlCents(r, rep.day, { startMark: 0, mark: 0 }) ?? 0;
        continue;
      }
      figures.dayTotalSkipped++;
      return [];
    }
    expected += figure;
  }
  figures.dayTotalChecks++;
  return expected === rep.cents
    ? []
    : [
        {
          invariant: 'day_pnl_equals_fills_and_marks',
          subject: `account:${rep.day}`,
          detail: `the sweep reported ${rep.cents} cents, the records' fills and marks give ${expected}`,
        },
      ];
}
