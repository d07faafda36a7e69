/**
 * The position ledger (shared/domain/ledger.ts): broker reports booked as differences, each part at its
 * own price, the same report twice booking nothing, option events at their value (issue 23).
 */
import {
  applyActivity,
  applyOrderReport,
  deliveredHolding,
  emptyLedger,
  type PositionLedger,
} from '../../shared/domain/ledger';
import {
  applyReconcileAdjustment,
  expectedHolding,
  projectLedger,
} from '../../shared/domain/ledger-projection';
import { contractFor } from '../helpers/contracts';
import { FACTORY_NOW } from '../helpers/factories';
import {
  LEDGER_NOW,
  LEDGER_SYMBOL,
  makeActivity,
  makeFillActivity,
  makeOrderReport,
  makeStopReport,
  minutesAfter,
} from '../helpers/ledger-factories';

const PUT_SYMBOL = contractFor('GOOGL', 564, 'P', 340, FACTORY_NOW);

/** A long of `qty` bought at `price`, its opening order filled. */
function openedLong(qty = 2, price = 2.1): PositionLedger {
  return applyOrderReport(
    emptyLedger(LEDGER_SYMBOL),
    'open',
    makeOrderReport({ qty, filled_qty: qty, filled_avg_price: price }),
    LEDGER_NOW,
  ).ledger;
}

/** A short put of `qty` sold at `price`. */
function openedShortPut(qty: number, price: number): PositionLedger {
  return applyOrderReport(
    emptyLedger(PUT_SYMBOL),
    'open',
    makeOrderReport({ symbol: PUT_SYMBOL, side: 'sell', qty, filled_qty: qty, filled_avg_price: price }),
    LEDGER_NOW,
  ).ledger;
}

describe('applyOrderReport', () => {
  it('books a stop that fills 1 at 1.60 then 1 at 1.50 at each part’s own price: -$110 exactly (case 1)', () => {
    let l = openedLong(2, 2.1);
    l = applyOrderReport(
      l,
      'stop',
      makeStopReport({ filled_qty: 1, filled_avg_price: 1.6, status: 'partially_filled' }),
      minutesAfter(1),
    ).ledger;
    l = applyOrderReport(
      l,
      'stop',
      makeStopReport({ filled_qty: 2, filled_avg_price: 1.55, status: 'filled', filled_at: minutesAfter(2) }),
      minutesAfter(3),
    ).ledger;

    const p = projectLedger(l, 'long');
    expect(p.realized_cents).toBe(-11_000);
    expect(p.held).toBe(0);
    expect(p.flat).toBe(true);
    expect(p.exit_price).toBe(1.55);
    expect(p.reducing.map((r) => [r.cents, r.realized_cents])).toEqual([
      [16_000, -5_000],
      [15_000, -6_000],
    ]);
  });

  it('books nothing for the same report read twice (the ledger is returned unchanged)', () => {
    const once = openedLong();
    const twice = applyOrderReport(once, 'open', makeOrderReport(), minutesAfter(5));
    expect(twice.booked).toBeNull();
    expect(twice.note).toBe('duplicate');
    expect(twice.ledger).toBe(once);
  });

  it('books nothing for an older read that knows fewer fills than the ledger (stale), keeping the status', () => {
    let l = openedLong();
    l = applyOrderReport(
      l,
      'stop',
      makeStopReport({ filled_qty: 2, filled_avg_price: 1.5, status: 'filled' }),
      LEDGER_NOW,
    ).ledger;
    const older = applyOrderReport(
      l,
      'stop',
      makeStopReport({ filled_qty: 1, filled_avg_price: 1.5, status: 'partially_filled' }),
      minutesAfter(1),
    );
    expect(older).toEqual({ ledger: l, booked: null, note: 'stale_report' });
  });

  it('keeps a terminal status when an older read of the working order comes later with the same fills', () => {
    let l = openedLong();
    l = applyOrderReport(l, 'stop', makeStopReport({ status: 'canceled' }), LEDGER_NOW).ledger;
    l = applyOrderReport(l, 'stop', makeStopReport({ status: 'new' }), minutesAfter(1)).ledger;
    expect(l.orders.find((o) => o.role === 'stop')!.status).toBe('canceled');
  });

  it('records a status change without booking anything', () => {
    let l = openedLong();
    l = applyOrderReport(l, 'stop', makeStopReport({ status: 'new' }), LEDGER_NOW).ledger;
    const r = applyOrderReport(l, 'stop', makeStopReport({ status: 'canceled' }), minutesAfter(1));
    expect(r.booked).toBeNull();
    expect(r.note).toBe('no_change');
    expect(r.ledger.orders[1].status).toBe('canceled');
  });

  it.each([
    ['another contract', 'stop' as const, { symbol: PUT_SYMBOL }, /not the position's contract/],
    ['a stop that buys on a long', 'stop' as const, { side: 'buy' as const }, /does not reduce a long/],
    [
      'an opening sell on a long',
      'open' as const,
      { client_order_id: 'other-open', side: 'sell' as const },
      /opening sell/,
    ],
    [
      'fills without a price',
      'stop' as const,
      { filled_qty: 1, filled_avg_price: null },
      /without a filled_avg_price/,
    ],
    ['a fractional fill', 'stop' as const, { filled_qty: 0.5, filled_avg_price: 1 }, /whole number/],
  ])('refuses %s, naming why, and changes nothing', (_name, role, overrides, why) => {
    const l = openedLong();
    const r = applyOrderReport(l, role, makeStopReport(overrides), LEDGER_NOW);
    expect(r.ledger).toBe(l);
    expect(r.booked).toBeNull();
    expect(r.note).toMatch(/^refused: /);
    expect(r.note).toMatch(why);
  });

  it('refuses a client_order_id booked under another role', () => {
    const l = openedLong();
    const r = applyOrderReport(l, 'exit', makeOrderReport({ side: 'sell' }), LEDGER_NOW);
    expect(r.note).toMatch(/is booked as open, not exit/);
    expect(r.ledger).toBe(l);
  });

  it('expects what fills leave, working orders included: an exit of 3 that filled 1 leaves 2 (case 2)', () => {
    let b = openedLong(3, 2.0);
    b = applyOrderReport(
      b,
      'exit',
      makeOrderReport({
        id: 'order-exit-1',
        client_order_id: 'ops-main-x-rec-0002-1',
        side: 'sell',
        type: 'limit',
        qty: 3,
        filled_qty: 1,
        filled_avg_price: 2.5,
        status: 'partially_filled',
      }),
      minutesAfter(1),
    ).ledger;
    const p = projectLedger(b, 'long');
    expect(expectedHolding(b, 'long')).toBe(2);
    expect(p.working).toEqual([
      expect.objectContaining({
        client_order_id: 'ops-main-x-rec-0002-1',
        role: 'exit',
        qty: 3,
        remaining: 2,
      }),
    ]);
  });
});

describe('applyActivity: FILL', () => {
  const stopPartial = (l: PositionLedger) =>
    applyOrderReport(
      l,
      'stop',
      makeStopReport({ filled_qty: 1, filled_avg_price: 1.6, status: 'partially_filled' }),
      minutesAfter(1),
    ).ledger;
  const fill1 = makeFillActivity({ id: 'f1', qty: 1, price: 1.6, transaction_time: minutesAfter(0.5) });
  const fill2 = makeFillActivity({ id: 'f2', qty: 1, price: 1.5, transaction_time: minutesAfter(1.5) });

  it('replaces the part a read booked by the FILL that explains it, booking no contract twice', () => {
    const l = stopPartial(openedLong());
    const r = applyActivity(l, fill1, { at: minutesAfter(2) });
    expect(r.booked).toEqual({ qty: 0, cents: 0 });
    const stop = r.ledger.orders.find((o) => o.role === 'stop')!;
    expect(stop.fills.map((f) => [f.source, f.qty, f.notional_cents])).toEqual([['f1', 1, 16_000]]);
  });

  it('books a FILL beyond what reads knew, then a later read of the same total books nothing', () => {
    let l = stopPartial(openedLong());
    l = applyActivity(l, fill1, { at: minutesAfter(2) }).ledger;
    const r = applyActivity(l, fill2, { at: minutesAfter(2) });
    expect(r.booked).toEqual({ qty: 1, cents: 15_000 });
    const read = applyOrderReport(
      r.ledger,
      'stop',
      makeStopReport({ filled_qty: 2, filled_avg_price: 1.55, status: 'filled' }),
      minutesAfter(3),
    );
    expect(read.booked).toBeNull();
    expect(projectLedger(read.ledger, 'long').realized_cents).toBe(-11_000);
  });

  it('gives the same books whether the FILLs or the final read come first', () => {
    const final = makeStopReport({ filled_qty: 2, filled_avg_price: 1.55, status: 'filled' });
    const a = [fill1, fill2].reduce(
      (l, f) => applyActivity(l, f, { at: minutesAfter(3) }).ledger,
      applyOrderReport(openedLong(), 'stop', final, minutesAfter(2)).ledger,
    );
    let b = applyOrderReport(openedLong(), 'stop', makeStopReport(), LEDGER_NOW).ledger;
    b = applyActivity(b, fill2, { at: minutesAfter(3) }).ledger;
    b = applyActivity(b, fill1, { at: minutesAfter(3) }).ledger;
    b = applyOrderReport(b, 'stop', final, minutesAfter(4)).ledger;
    expect(projectLedger(a, 'long')).toEqual(projectLedger(b, 'long'));
  });

  it('books the same FILL twice only once', () => {
    const l = applyOrderReport(openedLong(), 'stop', makeStopReport(), LEDGER_NOW).ledger;
    const once = applyActivity(l, fill1, { at: minutesAfter(1) }).ledger;
    const twice = applyActivity(once, fill1, { at: minutesAfter(2) });
    expect(twice).toEqual({ ledger: once, booked: null, note: 'duplicate' });
  });

  it('refuses a FILL of an order the ledger does not know (its report is booked first)', () => {
    const r = applyActivity(openedLong(), fill1, { at: LEDGER_NOW });
    expect(r.note).toMatch(/^refused: no order order-stop-1/);
  });
});

describe('applyActivity: FEE', () => {
  it('books a fee in cents, by its own trade date, once', () => {
    const fee = makeActivity({ id: 'fee-1', net_amount: -0.65, date: '2026-06-06' });
    const r = applyActivity(openedLong(), fee, { at: '2026-06-08T14:00:00.000Z' });
    expect(r.booked).toEqual({ qty: 0, cents: 65 });
    // 2026-06-06 is a Saturday: it belongs to Friday's session.
    expect(r.ledger.fees).toEqual([
      { activity_id: 'fee-1', cents: 65, day: '2026-06-05', at: '2026-06-08T14:00:00.000Z' },
    ]);
    expect(applyActivity(r.ledger, fee, { at: LEDGER_NOW }).note).toBe('duplicate');
    expect(projectLedger(r.ledger, 'long')).toMatchObject({ fees_cents: 65, realized_cents: -65 });
  });

  it('refuses a fee on another contract', () => {
    const r = applyActivity(openedLong(), makeActivity({ symbol: PUT_SYMBOL }), { at: LEDGER_NOW });
    expect(r.note).toMatch(/^refused: fee/);
  });
});

describe('applyActivity: option events (case 4, case 6)', () => {
  it('books an exercised in-the-money long call at intrinsic value, the shares at the underlying price', () => {
    // 1 GOOGL 340 call bought at 5.00; exercised with GOOGL at 350: intrinsic 10.00.
    const l = openedLong(1, 5);
    const ex = makeActivity({ id: 'ex-1', type: 'OPEXC', qty: -1, net_amount: 0 });
    const r = applyActivity(l, ex, { underlyingPrice: 350, at: minutesAfter(60) });
    expect(r.note).toBe('booked');
    const p = projectLedger(r.ledger, 'long');
    expect(p.realized_cents).toBe(50_000); // (10.00 - 5.00) × 100
    expect(p.held).toBe(0);
    expect(deliveredHolding(r.ledger)).toEqual({
      underlying: 'GOOGL',
      shares: 100,
      cost_cents: 3_500_000,
      realized_cents: 0,
    });
    expect(p.flat).toBe(false);
  });

  it('books an assigned deep in-the-money short put as the loss it is, the shares at the market', () => {
    // 10 GOOGL 340 puts sold at 3.00; 4 assigned with GOOGL at 300: buy-back value 40.00 a share.
    let l = openedShortPut(10, 3);
    const asn = makeActivity({ id: 'asn-1', type: 'OPASN', symbol: PUT_SYMBOL, qty: 4, net_amount: 0 });
    const r = applyActivity(l, asn, { underlyingPrice: 300, at: minutesAfter(60) });
    l = r.ledger;
    const p = projectLedger(l, 'short');
    expect(p.realized_cents).toBe(4 * 100 * (300 - 4000)); // -$14,800
    expect(p.held).toBe(6);
    expect(deliveredHolding(l)).toMatchObject({ shares: 400, cost_cents: 400 * 300 * 100 });
  });

  it('books a partial assignment’s part and keeps the rest managed: 4 of 10 assigned, 6 bought back', () => {
    let l = openedShortPut(10, 3);
    l = applyActivity(l, makeActivity({ id: 'asn-1', type: 'OPASN', symbol: PUT_SYMBOL, qty: 4 }), {
      underlyingPrice: 339,
      at: minutesAfter(30),
    }).ledger;
    // The 4 assigned 1.00 in the money keep 2.00 of premium each: +$800.
    expect(projectLedger(l, 'short').realized_cents).toBe(80_000);
    l = applyOrderReport(
      l,
      'exit',
      makeOrderReport({
        id: 'x1',
        client_order_id: 'x1',
        symbol: PUT_SYMBOL,
        side: 'buy',
        qty: 6,
        filled_qty: 6,
        filled_avg_price: 4.8,
      }),
      minutesAfter(40),
    ).ledger;
    const p = projectLedger(l, 'short');
    expect(p.realized_cents).toBe(80_000 - 108_000);
    expect(p.held).toBe(0);
    expect(p.shares).toMatchObject({ shares: 400 });
  });

  it('caps an event at what the position holds and says so; `contracts` books only this position’s part', () => {
    const l = openedLong(2, 1);
    const exp = makeActivity({ id: 'exp-1', type: 'OPEXP', qty: -5 });
    const capped = applyActivity(l, exp, { at: LEDGER_NOW });
    expect(capped.note).toMatch(/^capped: exp-1 asks 5, 2 held/);
    expect(projectLedger(capped.ledger, 'long')).toMatchObject({ held: 0, realized_cents: -20_000 });
    const part = applyActivity(l, exp, { contracts: 1, at: LEDGER_NOW });
    expect(projectLedger(part.ledger, 'long')).toMatchObject({ held: 1, realized_cents: -10_000 });
  });

  it('values an exercise at the strike (option leg 0) when the underlying price is unknown, and says so', () => {
    const r = applyActivity(openedLong(1, 5), makeActivity({ id: 'ex-1', type: 'OPEXC', qty: -1 }), {
      at: LEDGER_NOW,
    });
    expect(r.note).toMatch(/valued_at_strike/);
    expect(r.ledger.events[0]).toMatchObject({ value_cents: 0, share_cost_cents: 3_400_000 });
  });

  it('refuses an assignment of a long and an event when nothing is held (nothing recorded, so it can be booked later)', () => {
    const asn = makeActivity({ id: 'asn-1', type: 'OPASN', qty: 1 });
    expect(applyActivity(openedLong(), asn, { at: LEDGER_NOW }).note).toMatch(/^refused: a OPASN of a short/);
    const empty = emptyLedger(LEDGER_SYMBOL);
    const r = applyActivity(empty, makeActivity({ id: 'exp-1', type: 'OPEXP', qty: -1 }), { at: LEDGER_NOW });
    expect(r.ledger).toBe(empty);
    expect(r.note).toMatch(/nothing held/);
  });

  it('books an exercise once however often it is read', () => {
    const ex = makeActivity({ id: 'ex-1', type: 'OPEXC', qty: -1 });
    const once = applyActivity(openedLong(1, 5), ex, { underlyingPrice: 350, at: LEDGER_NOW }).ledger;
    expect(applyActivity(once, ex, { underlyingPrice: 360, at: minutesAfter(1) })).toEqual({
      ledger: once,
      booked: null,
      note: 'duplicate',
    });
  });

  it('realizes the delivered shares’ sale against their cost (share_flatten)', () => {
    let l = openedShortPut(4, 3);
    l = applyActivity(l, makeActivity({ id: 'asn-1', type: 'OPASN', symbol: PUT_SYMBOL, qty: 4 }), {
      underlyingPrice: 300,
      at: LEDGER_NOW,
    }).ledger;
    const optionLeg = projectLedger(l, 'short').realized_cents;
    l = applyOrderReport(
      l,
      'share_flatten',
      makeOrderReport({
        id: 'sh1',
        client_order_id: 'sh1',
        symbol: 'GOOGL',
        side: 'sell',
        qty: 400,
        filled_qty: 400,
        filled_avg_price: 301.25,
      }),
      minutesAfter(5),
    ).ledger;
    const p = projectLedger(l, 'short');
    expect(p.shares).toEqual({ underlying: 'GOOGL', shares: 0, cost_cents: 0, realized_cents: 50_000 });
    expect(p.realized_cents).toBe(optionLeg + 50_000);
    expect(p.flat).toBe(true);
  });
});

describe('applyReconcileAdjustment', () => {
  it('brings a record down at its cost (nothing realized), once per finding, capped at what it holds', () => {
    const l = openedLong(3, 2.05);
    const r = applyReconcileAdjustment(l, 'long', 'reconcile-rec-0001-1', 1, minutesAfter(5));
    expect(r.booked).toEqual({ qty: 1, cents: 20_500 });
    expect(projectLedger(r.ledger, 'long')).toMatchObject({ held: 2, realized_cents: 0 });
    expect(applyReconcileAdjustment(r.ledger, 'long', 'reconcile-rec-0001-1', 1, minutesAfter(6)).note).toBe(
      'duplicate',
    );
    const capped = applyReconcileAdjustment(r.ledger, 'long', 'reconcile-rec-0001-2', 5, minutesAfter(6));
    expect(capped.note).toBe('capped: 5 asked, 2 held');
    expect(projectLedger(capped.ledger, 'long')).toMatchObject({ held: 0, flat: true, realized_cents: 0 });
  });
});

describe('instants', () => {
  it('refuses a read or a FILL whose time is not an instant, booking nothing', () => {
    const l = openedLong();
    expect(applyOrderReport(l, 'stop', makeStopReport(), 'soon').note).toBe(
      'refused: read time soon is not an instant',
    );
    const withStop = applyOrderReport(l, 'stop', makeStopReport(), LEDGER_NOW).ledger;
    const r = applyActivity(withStop, makeFillActivity({ transaction_time: 'n/a' }), { at: LEDGER_NOW });
    expect(r.note).toMatch(/^refused: fill .* time n\/a/);
    expect(r.ledger).toBe(withStop);
  });

  it('stores instants in one ISO format, so a microsecond broker time sorts with the rest', () => {
    const withStop = applyOrderReport(openedLong(), 'stop', makeStopReport(), LEDGER_NOW).ledger;
    const r = applyActivity(withStop, makeFillActivity({ transaction_time: '2026-06-01T15:00:01.123456Z' }), {
      at: LEDGER_NOW,
    });
    expect(r.ledger.orders[1].fills[0].at).toBe('2026-06-01T15:00:01.123Z');
  });
});

describe('share_flatten refusals', () => {
  const flatten = (overrides: Parameters<typeof makeOrderReport>[0]) =>
    makeOrderReport({
      id: 'sh',
      client_order_id: 'sh',
      symbol: 'GOOGL',
      side: 'sell',
      qty: 100,
      filled_qty: 0,
      filled_avg_price: null,
      status: 'new',
      ...overrides,
    });

  it('refuses a shares order when no event delivered shares', () => {
    expect(applyOrderReport(openedLong(), 'share_flatten', flatten({}), LEDGER_NOW).note).toMatch(
      /^refused: no delivered shares for sh/,
    );
  });

  it('refuses a shares order on another underlying or on the side that adds to the shares', () => {
    const l = applyActivity(openedLong(1, 5), makeActivity({ id: 'ex', type: 'OPEXC', qty: -1 }), {
      underlyingPrice: 350,
      at: LEDGER_NOW,
    }).ledger;
    expect(applyOrderReport(l, 'share_flatten', flatten({ symbol: 'AAPL' }), LEDGER_NOW).note).toMatch(
      /AAPL is not the delivered shares' GOOGL/,
    );
    expect(applyOrderReport(l, 'share_flatten', flatten({ side: 'buy' }), LEDGER_NOW).note).toMatch(
      /a buy does not reduce 100 shares/,
    );
    expect(applyOrderReport(l, 'share_flatten', flatten({}), LEDGER_NOW).note).toBe('no_change');
  });
});
