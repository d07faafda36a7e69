/**
 * The trading day's books (shared/domain/day-books.ts): realized by the trading day of each part, the
 * day's P&L marked from the start-of-day mark (issue 23 cases 3 and 7).
 */
import { accountDayPnl, dayPnlOfPosition, realizedByDay } from '../../shared/domain/day-books';
import {
  applyActivity,
  applyOrderReport,
  emptyLedger,
  type PositionLedger,
} from '../../shared/domain/ledger';
import {
  LEDGER_SYMBOL,
  makeActivity,
  makeFillActivity,
  makeOrderReport,
  makeStopReport,
} from '../helpers/ledger-factories';

// 2026-06-01 is a Monday; New York is UTC-4 in June.
const MON = '2026-06-01';
const TUE = '2026-06-02';
const at = (date: string, hhmm: string) => `${date}T${hhmm}:00.000Z`;

/** A long of 10 bought at 2.00 on Monday, a stop_limit for 10 that filled 6 at 1.00 on Monday. */
function mondaysPartialStop(): PositionLedger {
  let l = applyOrderReport(
    emptyLedger(LEDGER_SYMBOL),
    'open',
    makeOrderReport({ qty: 10, filled_qty: 10, filled_avg_price: 2, filled_at: at(MON, '14:00') }),
    at(MON, '14:00'),
  ).ledger;
  l = applyOrderReport(
    l,
    'stop',
    makeStopReport({
      type: 'stop_limit',
      qty: 10,
      filled_qty: 6,
      filled_avg_price: 1,
      status: 'partially_filled',
    }),
    at(MON, '18:00'),
  ).ledger;
  return l;
}

describe('dayPnlOfPosition', () => {
  it('counts Monday’s partial stop fill on Monday only: Tuesday reads 0 before anything moves (case 3)', () => {
    const l = mondaysPartialStop();
    const monday = dayPnlOfPosition(l, 'long', MON, { startMark: null, mark: 1 });
    expect(monday).toMatchObject({ realized_cents: -60_000, day_pnl_cents: -100_000, held_at_end: 4 });
    expect(monday.start_mark_missing).toBe(false);

    const tuesday = dayPnlOfPosition(l, 'long', TUE, { startMark: 1, mark: 1 });
    expect(tuesday).toMatchObject({ realized_cents: 0, day_pnl_cents: 0, held_at_start: 4 });
  });

  it('measures a carried position from the start-of-day mark, not from entry', () => {
    const tuesday = dayPnlOfPosition(mondaysPartialStop(), 'long', TUE, { startMark: 1, mark: 0.9 });
    expect(tuesday.day_pnl_cents).toBe(-4_000); // 4 × (0.90 − 1.00) × 100
  });

  it('books the rest of the stop on Tuesday against Tuesday’s start mark', () => {
    const l = applyOrderReport(
      mondaysPartialStop(),
      'stop',
      makeStopReport({
        type: 'stop_limit',
        qty: 10,
        filled_qty: 10,
        filled_avg_price: 0.96,
        status: 'filled',
        filled_at: at(TUE, '14:00'),
      }),
      at(TUE, '14:01'),
    ).ledger;
    const tuesday = dayPnlOfPosition(l, 'long', TUE, { startMark: 1, mark: null });
    // Realized at average cost: 4 × (0.90 − 2.00) = −$440; marked: 4 × (0.90 − 1.00) = −$40.
    expect(tuesday).toMatchObject({
      realized_cents: -44_000,
      day_pnl_cents: -4_000,
      held_at_end: 0,
      unpriced: false,
    });
    expect(dayPnlOfPosition(l, 'long', MON, { startMark: null, mark: 1 }).day_pnl_cents).toBe(-100_000);
  });

  it('dates a partial fill by its FILL activity: read on Tuesday, it belongs to Monday', () => {
    let l = applyOrderReport(
      emptyLedger(LEDGER_SYMBOL),
      'open',
      makeOrderReport({ qty: 2, filled_qty: 2, filled_avg_price: 2.1 }),
      at(MON, '14:00'),
    ).ledger;
    // Tuesday's first sweep sees a stop part that filled after Monday's last sweep...
    l = applyOrderReport(
      l,
      'stop',
      makeStopReport({ filled_qty: 1, filled_avg_price: 1.6, status: 'partially_filled' }),
      at(TUE, '13:31'),
    ).ledger;
    expect(realizedByDay(l, 'long')).toEqual(new Map([[TUE, -5_000]]));
    // ...and its FILL activity says when it happened.
    l = applyActivity(l, makeFillActivity({ id: 'f1', transaction_time: at(MON, '19:58') }), {
      at: at(TUE, '13:32'),
    }).ledger;
    expect(realizedByDay(l, 'long')).toEqual(new Map([[MON, -5_000]]));
  });

  it('values what is held without a move when no usable mark is given, and says so', () => {
    const l = mondaysPartialStop();
    expect(dayPnlOfPosition(l, 'long', TUE, { startMark: 1, mark: null })).toMatchObject({
      day_pnl_cents: 0,
      unpriced: true,
    });
    // Opened today with no quote: valued at its cost.
    expect(dayPnlOfPosition(l, 'long', MON, { startMark: null, mark: null })).toMatchObject({
      day_pnl_cents: -60_000,
      unpriced: true,
    });
  });

  it('falls back to the average entry when no start mark was recorded, and says so', () => {
    const d = dayPnlOfPosition(mondaysPartialStop(), 'long', TUE, { startMark: null, mark: 1.5 });
    expect(d).toMatchObject({ start_mark_missing: true, day_pnl_cents: -20_000 });
  });

  it('marks a short as a liability: it gains when the mark falls', () => {
    const l = applyOrderReport(
      emptyLedger(LEDGER_SYMBOL),
      'open',
      makeOrderReport({ side: 'sell', qty: 3, filled_qty: 3, filled_avg_price: 4 }),
      at(MON, '14:00'),
    ).ledger;
    expect(dayPnlOfPosition(l, 'short', MON, { startMark: null, mark: 3.5 }).day_pnl_cents).toBe(15_000);
    expect(dayPnlOfPosition(l, 'short', TUE, { startMark: 3.5, mark: 3.75 }).day_pnl_cents).toBe(-7_500);
  });

  it('puts a Saturday-dated expiry on Friday’s book, not on the Monday the breaker reads (case 7)', () => {
    const fri = '2026-06-05';
    let l = applyOrderReport(
      emptyLedger(LEDGER_SYMBOL),
      'open',
      makeOrderReport({ qty: 1, filled_qty: 1, filled_avg_price: 0.5 }),
      at('2026-06-04', '14:00'),
    ).ledger;
    l = applyActivity(l, makeActivity({ id: 'exp-1', type: 'OPEXP', qty: -1, date: '2026-06-06' }), {
      at: at('2026-06-06', '15:00'),
    }).ledger;
    expect(realizedByDay(l, 'long')).toEqual(new Map([[fri, -5_000]]));
    expect(dayPnlOfPosition(l, 'long', '2026-06-08', { startMark: null, mark: null }).day_pnl_cents).toBe(0);
  });

  it('counts an exercise’s day: the option’s move to intrinsic and the delivered shares’ move', () => {
    let l = applyOrderReport(
      emptyLedger(LEDGER_SYMBOL),
      'open',
      makeOrderReport({ qty: 1, filled_qty: 1, filled_avg_price: 5 }),
      at(MON, '14:00'),
    ).ledger;
    l = applyActivity(l, makeActivity({ id: 'ex-1', type: 'OPEXC', qty: -1, date: TUE }), {
      underlyingPrice: 350,
      at: at(TUE, '20:30'),
    }).ledger;
    const d = dayPnlOfPosition(l, 'long', TUE, { startMark: 9.5, mark: null, shareMark: 351 });
    expect(d.realized_cents).toBe(50_000);
    expect(d.day_pnl_cents).toBe(5_000 + 10_000); // 9.50 → 10.00 on the contract, 350 → 351 on 100 shares
    expect(d.unpriced).toBe(false);
  });

  it('takes the day’s fees off the day', () => {
    const l = applyActivity(mondaysPartialStop(), makeActivity({ id: 'fee', net_amount: -0.37, date: TUE }), {
      at: at(TUE, '21:00'),
    }).ledger;
    expect(dayPnlOfPosition(l, 'long', TUE, { startMark: 1, mark: 1 })).toMatchObject({
      realized_cents: -37,
      day_pnl_cents: -37,
    });
  });
});

describe('accountDayPnl', () => {
  it('sums the positions that touched the day, closed ones included, and counts the unpriced', () => {
    const closed = applyOrderReport(
      mondaysPartialStop(),
      'stop',
      makeStopReport({
        qty: 10,
        filled_qty: 10,
        filled_avg_price: 0.96,
        status: 'filled',
        filled_at: at(TUE, '14:00'),
      }),
      at(TUE, '14:01'),
    ).ledger;
    const carried = mondaysPartialStop();
    const day = accountDayPnl(TUE, [
      { position_id: 'a', ledger: closed, side: 'long', marks: { startMark: 1, mark: null } },
      { position_id: 'b', ledger: carried, side: 'long', marks: { startMark: 1, mark: null } },
    ]);
    expect(day).toMatchObject({ day: TUE, realized_cents: -44_000, day_pnl_cents: -4_000, unpriced: 1 });
    expect(day.positions.map((p) => p.position_id)).toEqual(['a', 'b']);
  });
});
