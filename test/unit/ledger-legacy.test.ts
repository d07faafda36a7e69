/**
 * Records written before the ledger (shared/domain/ledger-legacy.ts): their ledger reproduces what they
 * say (quantity, entry, realized P&L, fees) and lets the broker's next reports book only what came after.
 */
import { dayPnlOfPosition, realizedByDay } from '../../shared/domain/day-books';
import { applyOrderReport } from '../../shared/domain/ledger';
import { ledgerFromLegacy } from '../../shared/domain/ledger-legacy';
import { projectLedger } from '../../shared/domain/ledger-projection';
import { FRESH_EXIT_STATE } from '../../shared/domain/position';
import { makePosition } from '../helpers/factories';
import { makeOrderReport, makeStopReport, minutesAfter } from '../helpers/ledger-factories';

describe('ledgerFromLegacy', () => {
  it('reproduces an open record: quantity, entry price, nothing realized', () => {
    const p = makePosition({ quantity: 10, original_quantity: 10, entry_price: 2 });
    const proj = projectLedger(ledgerFromLegacy(p), 'long');
    expect(proj).toMatchObject({ held: 10, entry_price: 2, realized_cents: 0, fees_cents: 0, flat: false });
    expect(ledgerFromLegacy(p).legacy_notes).toEqual([]);
  });

  it.each([
    ['long', 1234.56],
    ['long', -0.01],
    ['short', 77.7],
    ['short', -999.99],
  ] as const)('reproduces a %s record’s realized_pnl %d to the cent after partial exits', (side, pnl) => {
    const p = makePosition({
      side,
      quantity: 3,
      original_quantity: 7,
      entry_price: 2.37,
      realized_pnl: pnl,
      fees: 1.3,
    });
    const proj = projectLedger(ledgerFromLegacy(p), side);
    expect(proj.held).toBe(3);
    expect(proj.realized_before_fees_cents).toBe(Math.round(pnl * 100));
    expect(proj.fees_cents).toBe(130);
  });

  it('books a closed record as flat, whatever quantity it still shows (closed outside the pipeline)', () => {
    const p = makePosition({
      state: 'closed',
      quantity: 4,
      original_quantity: 10,
      realized_pnl: -300,
      close_reason: 'closed_outside_pipeline',
      closed_at: minutesAfter(10),
    });
    const l = ledgerFromLegacy(p);
    expect(projectLedger(l, 'long')).toMatchObject({ held: 0, flat: true, realized_cents: -30_000 });
    expect(l.legacy_notes.join()).toMatch(/closed with quantity 4/);
  });

  it('books nothing for an open that never filled, and keeps a claimed open working for its first read', () => {
    const refused = makePosition({
      state: 'closed',
      close_reason: 'open_rejected',
      quantity: 10,
      entry_price: null,
    });
    expect(projectLedger(ledgerFromLegacy(refused), 'long')).toMatchObject({
      held: 0,
      opened: 0,
      realized_cents: 0,
    });
    const pending = makePosition({ state: 'pending', entry_price: null });
    const l = ledgerFromLegacy(pending);
    expect(projectLedger(l, 'long').working).toHaveLength(1);
    const filled = applyOrderReport(
      l,
      'open',
      makeOrderReport({
        client_order_id: pending.open_client_order_id,
        qty: 10,
        filled_qty: 10,
        filled_avg_price: 2,
      }),
      minutesAfter(1),
    );
    expect(projectLedger(filled.ledger, 'long')).toMatchObject({ held: 10, entry_price: 2 });
  });

  it('never refuses a record that lacks an entry price, and says so', () => {
    const p = makePosition({ entry_price: null });
    const l = ledgerFromLegacy(p);
    expect(projectLedger(l, 'long').held).toBe(10);
    expect(l.legacy_notes).toContain('entry_price unknown: the open is booked at 0');
  });

  it('keeps a resting stop’s booked part: the rest of a stop for 2 filling 1.60 then 1.50 lands at -$110 (case 1)', () => {
    // What the pre-ledger sweep stored after the stop's first part: 1 booked at 1.60 (-$50).
    const p = makePosition({
      ...FRESH_EXIT_STATE,
      quantity: 1,
      original_quantity: 2,
      requested_quantity: 2,
      entry_price: 2.1,
      realized_pnl: -50,
      broker_stop: {
        seq: 1,
        client_order_id: 'ops-main-s-rec-0001-1',
        order_id: 'order-stop-1',
        type: 'stop',
        stop_price: 1.6,
        limit_price: null,
        qty: 2,
        reason: 'stop_loss',
        placed_at: minutesAfter(-30),
        filled_booked: 1,
      },
    });
    const l = ledgerFromLegacy(p);
    expect(projectLedger(l, 'long').working).toEqual([
      expect.objectContaining({ role: 'stop', remaining: 1 }),
    ]);
    const r = applyOrderReport(
      l,
      'stop',
      makeStopReport({ filled_qty: 2, filled_avg_price: 1.55, status: 'filled' }),
      minutesAfter(5),
    );
    expect(r.booked).toEqual({ qty: 1, cents: 15_000 });
    expect(projectLedger(r.ledger, 'long')).toMatchObject({ held: 0, realized_cents: -11_000 });
  });

  it('keeps an exit step in flight working, so its fill is booked once when read', () => {
    const p = makePosition({
      state: 'closing',
      exit_seq: 1,
      pending_exit: {
        seq: 1,
        client_order_id: 'ops-main-x-rec-0001-1',
        order_id: 'order-exit-1',
        qty: 10,
        reason: 'take_profit',
        claimed_at: minutesAfter(-1),
      },
    });
    const l = ledgerFromLegacy(p);
    const exit = makeOrderReport({
      id: 'order-exit-1',
      client_order_id: 'ops-main-x-rec-0001-1',
      side: 'sell',
      qty: 10,
      filled_qty: 10,
      filled_avg_price: 3,
    });
    const once = applyOrderReport(l, 'exit', exit, minutesAfter(1)).ledger;
    expect(projectLedger(once, 'long')).toMatchObject({ held: 0, realized_cents: 100_000 });
    expect(applyOrderReport(once, 'exit', exit, minutesAfter(2)).booked).toBeNull();
  });
});

describe('ledgerFromLegacy: dating', () => {
  it('dates a live record’s earlier exits at its entry, never at its last write (today)', () => {
    const p = makePosition({
      quantity: 4,
      original_quantity: 10,
      entry_price: 2,
      realized_pnl: -600,
      entry_time: '2026-06-01T14:00:00.000Z',
      created_at: '2026-06-01T14:00:00.000Z',
      updated_at: '2026-06-02T13:45:00.000Z',
    });
    const l = ledgerFromLegacy(p);
    expect(realizedByDay(l, 'long')).toEqual(new Map([['2026-06-01', -60_000]]));
    expect(dayPnlOfPosition(l, 'long', '2026-06-02', { startMark: 1, mark: 1 }).day_pnl_cents).toBe(0);
  });

  it('dates a closed record’s exits and fees at its close, as the old day item did', () => {
    const p = makePosition({
      state: 'closed',
      quantity: 0,
      realized_pnl: 120,
      fees: 0.5,
      close_reason: 'take_profit',
      closed_at: '2026-06-03T15:00:00.000Z',
    });
    expect(realizedByDay(ledgerFromLegacy(p), 'long')).toEqual(new Map([['2026-06-03', 11_950]]));
  });
});
