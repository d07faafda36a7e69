/**
 * The books' invariants (shared/domain/ledger-invariants.ts): each check passes on true books and names
 * what it saw on false ones (issue 23 cases 2, 3 and 8).
 */
import { dayPnlOfPosition } from '../../shared/domain/day-books';
import { applyOrderReport, emptyLedger, type PositionLedger } from '../../shared/domain/ledger';
import {
  checkDayPnl,
  checkHoldingMatchesBroker,
  checkRealizedEqualsFills,
  checkReportIdempotent,
} from '../../shared/domain/ledger-invariants';
import {
  LEDGER_NOW,
  LEDGER_SYMBOL,
  makeOrderReport,
  makeStopReport,
  minutesAfter,
} from '../helpers/ledger-factories';

function opened(cid: string, qty: number, price: number): PositionLedger {
  return applyOrderReport(
    emptyLedger(LEDGER_SYMBOL),
    'open',
    makeOrderReport({ id: `id-${cid}`, client_order_id: cid, qty, filled_qty: qty, filled_avg_price: price }),
    LEDGER_NOW,
  ).ledger;
}

describe('checkHoldingMatchesBroker', () => {
  it('counts a working exit’s fills on its own record: A 2 + B 3 with 1 sold = the broker’s 4 (case 2)', () => {
    const a = opened('a', 2, 2);
    const b = applyOrderReport(
      opened('b', 3, 2),
      'exit',
      makeOrderReport({
        id: 'bx',
        client_order_id: 'bx',
        side: 'sell',
        qty: 3,
        filled_qty: 1,
        filled_avg_price: 2.5,
        status: 'partially_filled',
      }),
      minutesAfter(1),
    ).ledger;
    const records = [
      { position_id: 'A', side: 'long' as const, ledger: a },
      { position_id: 'B', side: 'long' as const, ledger: b },
    ];
    expect(checkHoldingMatchesBroker(LEDGER_SYMBOL, 'long', records, 4)).toEqual([]);
    expect(checkHoldingMatchesBroker(LEDGER_SYMBOL, 'long', records, 3)).toEqual([
      {
        invariant: 'holding_matches_broker',
        subject: `${LEDGER_SYMBOL}:long`,
        detail: "records' ledgers hold 4, the broker 3",
      },
    ]);
  });

  it('books a stop fill seen by two reads (learn, then the next sweep) once, so the records match (case 8)', () => {
    const a = opened('a', 2, 2);
    let b = applyOrderReport(opened('b', 2, 2), 'stop', makeStopReport(), LEDGER_NOW).ledger;
    const filled = makeStopReport({ filled_qty: 2, filled_avg_price: 1.5, status: 'filled' });
    b = applyOrderReport(b, 'stop', filled, minutesAfter(1)).ledger; // the open-orders read
    const again = applyOrderReport(b, 'stop', filled, minutesAfter(2)); // the next sweep's read
    expect(again.booked).toBeNull();
    const records = [
      { position_id: 'A', side: 'long' as const, ledger: a },
      { position_id: 'B', side: 'long' as const, ledger: again.ledger },
    ];
    expect(checkHoldingMatchesBroker(LEDGER_SYMBOL, 'long', records, 2)).toEqual([]);
  });
});

describe('checkRealizedEqualsFills', () => {
  const closed = applyOrderReport(
    opened('o', 2, 2.1),
    'stop',
    makeStopReport({ filled_qty: 2, filled_avg_price: 1.55, status: 'filled' }),
    minutesAfter(1),
  ).ledger;

  it('passes true books and the record’s figure when it equals the ledger’s', () => {
    expect(checkRealizedEqualsFills({ position_id: 'p', side: 'long', ledger: closed }, -11_000)).toEqual([]);
  });

  it('names a record whose stored figure drifted from its fills (-$105 booked at the average, case 1)', () => {
    const v = checkRealizedEqualsFills({ position_id: 'p', side: 'long', ledger: closed }, -10_500);
    expect(v).toEqual([
      { invariant: 'realized_equals_fills', subject: 'p', detail: 'record says -10500, ledger -11000' },
    ]);
  });

  it('names figures that are not whole cents', () => {
    const broken: PositionLedger = {
      ...closed,
      orders: closed.orders.map((o) => ({
        ...o,
        fills: o.fills.map((f) => ({ ...f, notional_cents: f.notional_cents + 0.5 })),
      })),
    };
    const v = checkRealizedEqualsFills({ position_id: 'p', side: 'long', ledger: broken });
    expect(v.map((x) => x.detail).join()).toMatch(/not whole cents/);
  });
});

describe('checkDayPnl', () => {
  // 10 bought at 2.00 on Monday, 6 sold by a stop_limit at 1.00 on Monday; Tuesday nothing moved.
  let l = opened('o', 10, 2);
  l = applyOrderReport(
    l,
    'stop',
    makeStopReport({ qty: 10, filled_qty: 6, filled_avg_price: 1, status: 'partially_filled' }),
    '2026-06-01T18:00:00.000Z',
  ).ledger;
  const r = { position_id: 'p', side: 'long' as const, ledger: l };
  const marks = { startMark: 1, mark: 1 };

  it('passes the day’s figure the books give', () => {
    const d = dayPnlOfPosition(l, 'long', '2026-06-02', marks);
    expect(checkDayPnl(r, '2026-06-02', marks, d.day_pnl_cents)).toEqual([]);
  });

  it('names a Tuesday figure that counts Monday’s fill (-$600 before anything moved, case 3)', () => {
    expect(checkDayPnl(r, '2026-06-02', marks, -60_000)).toEqual([
      {
        invariant: 'day_pnl_equals_fills_and_marks',
        subject: 'p:2026-06-02',
        detail: 'expected 0, reported -60000',
      },
    ]);
  });
});

describe('checkReportIdempotent', () => {
  it('passes the ledger’s own application of a report', () => {
    const report = makeStopReport({ filled_qty: 1, filled_avg_price: 1.6, status: 'partially_filled' });
    const l = applyOrderReport(opened('o', 2, 2.1), 'stop', makeStopReport(), LEDGER_NOW).ledger;
    expect(
      checkReportIdempotent('stop', l, (x) => applyOrderReport(x, 'stop', report, minutesAfter(1))),
    ).toEqual([]);
  });

  it('names an application that books the same part again (a delta written onto the record)', () => {
    const l = opened('o', 2, 2.1);
    const naive = (x: PositionLedger) => ({
      ledger: {
        ...x,
        fees: [...x.fees, { activity_id: 'fee', cents: 5, day: '2026-06-01', at: LEDGER_NOW }],
      },
      booked: { qty: 0, cents: 5 },
      note: 'booked',
    });
    expect(checkReportIdempotent('fee', l, naive)).toEqual([
      {
        invariant: 'report_idempotent',
        subject: 'fee',
        detail: 'second application: booked, booked {"qty":0,"cents":5}',
      },
    ]);
  });
});
