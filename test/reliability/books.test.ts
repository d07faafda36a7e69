/**
 * The books' invariants as the reliability model checks them at rest (books.ts), on plain records: each one
 * finds the drift it is for, and names the record and the contract. (A report that books twice cannot be
 * built from the real ledger, which is the point; `checkReportIdempotent` finding one is proven in
 * test/unit/ledger-invariants.test.ts.)
 */
import type { BrokerOrder } from '../../shared/domain/broker-types';
import { applyActivity, applyOrderReport, emptyLedger } from '../../shared/domain/ledger';
import type { Position } from '../../shared/domain/position';
import { booksOf } from '../../shared/domain/position-books';
import { makePosition } from '../helpers/factories';
import {
  LEDGER_NOW,
  LEDGER_SYMBOL,
  makeActivity,
  makeOrderReport,
  makeStopReport,
  minutesAfter,
} from '../helpers/ledger-factories';
import { checkBooks, checkBooksAndCount, checkDayTotal, emptyBooksFigures, type BooksInput } from './books';

const OPEN = makeOrderReport();
const STOP_PART = makeStopReport({ filled_qty: 1, filled_avg_price: 1.6, status: 'partially_filled' });
const STOP_DONE = makeStopReport({
  filled_qty: 2,
  filled_avg_price: 1.55,
  status: 'filled',
  filled_at: minutesAfter(2),
});
const FEE = makeActivity({ net_amount: -0.65 });

/** A record whose fields are its ledger's (as the pipeline writes it), after the given stop reads. */
function record(stopReads: readonly BrokerOrder[], o: Partial<Position> = {}): Position {
  let l = applyOrderReport(emptyLedger(LEDGER_SYMBOL), 'open', OPEN, LEDGER_NOW).ledger;
  stopReads.forEach((r, i) => (l = applyOrderReport(l, 'stop', r, minutesAfter(i + 1)).ledger));
  l = applyActivity(l, FEE, { at: minutesAfter(5) }).ledger;
  const base = makePosition({ quantity: 2, original_quantity: 2, entry_price: 2.1 });
  const held = stopReads.length === 0 ? 2 : stopReads[stopReads.length - 1].filled_qty === 2 ? 0 : 1;
  return {
    ...base,
    ...booksOf(base, l),
    ...(held === 0 ? { state: 'closed' as const, close_reason: 'stop_loss' as const } : {}),
    ...o,
  };
}

function input(records: readonly Position[], held: Record<string, number>, o: Partial<BooksInput> = {}) {
  const reports = new Map([
    [OPEN.client_order_id, OPEN],
    [STOP_DONE.client_order_id, STOP_DONE],
  ]);
  return {
    records,
    held: new Map(Object.entries(held)),
    orderReport: (cid: string) => reports.get(cid) ?? null,
    activities: new Map([[FEE.id, FEE]]),
    at: minutesAfter(10),
    ...o,
  };
}

describe('checkBooks (the books at rest)', () => {
  it('holds on records the pipeline wrote from their ledgers, and counts what it saw', () => {
    const figures = emptyBooksFigures();
    const closed = record([STOP_PART, STOP_DONE], { position_id: 'a' });
    const live = record([], { position_id: 'b' });
    expect(checkBooks(input([closed, live], { [`${LEDGER_SYMBOL}|long`]: 2 }), figures)).toEqual([]);
    expect(figures).toMatchObject({
      booksRecords: 2,
      booksLegacyRecords: 0,
      // The closed record (holds none) and the contract's long side (b's 2 = the broker's 2).
      holdingChecks: 2,
      // a: open, stop, fee; b: open, fee.
      reportsReapplied: 5,
      ledgerFills: 4,
      // The stop's two parts of 1, each smaller than its order of 2.
      ledgerPartialFills: 2,
      ledgerFees: 2,
      reportsAheadOfLedger: 0,
    });
  });

  it('finds a contract whose live records hold another quantity than the broker', () => {
    const v = checkBooks(
      input([record([], { position_id: 'b' })], { [`${LEDGER_SYMBOL}|long`]: 1 }),
      emptyBooksFigures(),
    );
    expect(v).toEqual([
      {
        invariant: 'holding_matches_broker',
        subject: `${LEDGER_SYMBOL}:long`,
        detail: "records' ledgers hold 2, the broker 1",
      },
    ]);
  });

  it('finds a closed record whose ledger still holds contracts', () => {
    const v = checkBooks(
      input([record([STOP_PART], { position_id: 'c', state: 'closed', close_reason: 'stop_loss' })], {}),
      emptyBooksFigures(),
    );
    expect(v.map((x) => [x.invariant, x.subject, x.detail])).toEqual([
      [
        'holding_matches_broker',
        `c (closed stop_loss) ${LEDGER_SYMBOL}:long`,
        "records' ledgers hold 1, the broker 0",
      ],
    ]);
  });

  it('finds stored realized P&L, fees or quantity that drifted from the ledger (the average’s −$105)', () => {
    const good = record([STOP_PART, STOP_DONE]);
    expect(good.realized_pnl).toBe(-110);
    const drifted = { ...good, realized_pnl: -105, fees: 0, quantity: 1 };
    const v = checkBooks(input([drifted], {}), emptyBooksFigures());
    expect(v.map((x) => x.detail)).toEqual([
      // Stored after fees: −105 − 0 against the ledger's −110 − 0.65.
      'record says -10500, ledger -11065',
      "record's fees 0 cents, ledger's 65",
      "record's quantity 1, ledger holds 0",
    ]);
    expect(v.every((x) => x.invariant === 'realized_equals_fills' && x.subject === 'rec-0001')).toBe(true);
  });

  it('counts a report the ledger had not booked yet, without calling it a violation by itself', () => {
    const figures = emptyBooksFigures();
    // The broker says the stop filled 2; the record booked only the first part (and still holds 1).
    const behind = record([STOP_PART]);
    const v = checkBooks(input([behind], { [`${LEDGER_SYMBOL}|long`]: 1 }), figures);
    expect(v).toEqual([]);
    expect(figures.reportsAheadOfLedger).toBe(1);
  });

  it('counts delivered shares the ledgers keep after the broker sold them, and events booked on no record', () => {
    // A short put of 2 assigned: 200 shares delivered; the broker sold them (flatten_assigned_shares) but
    // no share_flatten order is on the ledger.
    const put = 'GOOGL271217P00340000';
    const sold = applyOrderReport(
      emptyLedger(put),
      'open',
      makeOrderReport({ symbol: put, side: 'sell', position_intent: 'sell_to_open', filled_avg_price: 3 }),
      LEDGER_NOW,
    ).ledger;
    const asn = makeActivity({
      id: '20260601220000000::opasn-1',
      type: 'OPASN',
      symbol: put,
      qty: 2,
      net_amount: 0,
    });
    const assigned = applyActivity(sold, asn, { at: minutesAfter(60), underlyingPrice: 330 }).ledger;
    const base = makePosition({ option_symbol: put, side: 'short', quantity: 2, entry_price: 3 });
    const rec = {
      ...base,
      ...booksOf(base, assigned),
      state: 'closed' as const,
      close_reason: 'assigned' as const,
    };
    const other = makeActivity({
      id: '20260601220000000::opexp-9',
      type: 'OPEXP',
      symbol: put,
      qty: 1,
      net_amount: 0,
    });
    const figures = emptyBooksFigures();
    const r = checkBooksAndCount(
      {
        ...input([rec], {}),
        activities: new Map([
          [asn.id, asn],
          [other.id, other],
        ]),
        brokerShares: 0,
      },
      figures,
    );
    expect(r.violations).toEqual([]);
    expect(figures).toMatchObject({
      sharesChecks: 1,
      sharesMismatches: 1,
      optionEventsUnbooked: 1,
      ledgerOptionEvents: 1,
    });
    expect(r.findings).toEqual([
      'delivered shares: the broker holds 0, the ledgers 200 (rec-0001 (closed assigned) 200 [OPASN 2 at 330; realized_pnl -1400])',
      `OPEXP 20260601220000000::opexp-9 (${put} qty 1) booked on no record; records on it: rec-0001 closed short 0`,
    ]);
    // The broker still holding them is no finding.
    const held = emptyBooksFigures();
    expect(
      checkBooksAndCount(
        { ...input([rec], {}), activities: new Map([[asn.id, asn]]), brokerShares: 200 },
        held,
      ).findings,
    ).toEqual([]);
    expect(held.sharesMismatches).toBe(0);
  });
});

describe('the day P&L identity at rest (checkDayTotal)', () => {
  const day = '2026-06-01';
  // Bought 2 at 2.10 today; one sold by the stop at 1.60 (−$50), a $0.65 fee, 1 held marked at 1.80 (−$30).
  const p = record([STOP_PART], { option_symbol: LEDGER_SYMBOL });
  const input = (cents: number, unpriced = 0) => ({
    records: [p],
    reported: { day, cents, unpriced },
    startMark: () => null,
    mark: () => 1.8,
  });

  it('accepts the figure the fills and the marks give, to the cent', () => {
    const f = emptyBooksFigures();
    expect(checkDayTotal(input(-8_065), f)).toEqual([]);
    expect(f.dayTotalChecks).toBe(1);
  });

  it('names a reported day P&L that counts something else (the entry of an earlier day, a missed fill)', () => {
    const found = checkDayTotal(input(-5_000), emptyBooksFigures());
    expect(found).toEqual([
      expect.objectContaining({ invariant: 'day_pnl_equals_fills_and_marks', subject: `account:${day}` }),
    ]);
  });

  it('skips, counted, a day the sweep could not price', () => {
    const f = emptyBooksFigures();
    expect(checkDayTotal(input(0, 1), f)).toEqual([]);
    expect(f).toMatchObject({ dayTotalChecks: 0, dayTotalSkipped: 1 });
  });
});
