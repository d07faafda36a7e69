import fc from 'fast-check';
import type { BrokerOrder } from '../../shared/domain/broker-types';
import { IllegalTransitionError } from '../../shared/domain/errors';
import {
  TRANSITIONS,
  brokerStopFilled,
  claimAbandoned,
  claimReleased,
  closedOutside,
  exitClaimed,
  exitEnded,
  isAllowed,
  openOrderLearned,
  openRefused,
  rejectionLearned,
  type TransitionName,
} from '../../shared/domain/position-lifecycle';
import type { PendingExit, Position, PositionState } from '../../shared/domain/position';
import { FACTORY_NOW, FACTORY_OPTION_SYMBOL, makePosition } from '../helpers/factories';

const NOW = FACTORY_NOW.toISOString();
const LATER = new Date(FACTORY_NOW.getTime() + 60_000).toISOString();
const STATES: PositionState[] = ['submitting', 'pending', 'open', 'closing', 'closed'];

function order(overrides: Partial<BrokerOrder> = {}): BrokerOrder {
  return {
    id: 'order-1',
    client_order_id: 'ops-main-o-rec-0001',
    symbol: FACTORY_OPTION_SYMBOL,
    qty: 10,
    filled_qty: 0,
    filled_avg_price: null,
    side: 'buy',
    type: 'market',
    position_intent: 'buy_to_open',
    time_in_force: 'day',
    limit_price: null,
    status: 'accepted',
    created_at: NOW,
    filled_at: null,
    ...overrides,
  };
}

const claim = (o: Partial<Position> = {}) =>
  makePosition({
    state: 'submitting',
    quantity: 0,
    entry_price: null,
    entry_time: null,
    open_order_id: null,
    ...o,
  });

const EXIT_ID = 'ops-main-x-rec-0001-1';

function step(o: Partial<PendingExit> = {}): PendingExit {
  return {
    seq: 1,
    client_order_id: 'ops-main-x-rec-0001-1',
    qty: 4,
    reason: 'take_profit',
    claimed_at: NOW,
    ...o,
  };
}

const closing = (o: Partial<Position> = {}) =>
  makePosition({ state: 'closing', exit_seq: 1, pending_exit: step(), ...o });

describe('position lifecycle: the allowed transitions', () => {
  it('submitting -> pending: an accepted order, partly filled, records its fills and first fill time', () => {
    const o = order({ status: 'partially_filled', filled_qty: 3, filled_avg_price: 2.1, filled_at: NOW });
    const next = openOrderLearned(claim(), o, LATER);
    expect(next).toMatchObject({ state: 'pending', quantity: 3, entry_price: 2.1, entry_time: NOW });
    expect(next).toMatchObject({ open_order_id: 'order-1', updated_at: LATER });
  });

  it('submitting -> pending: an accepted order with no fill sets no entry', () => {
    const next = openOrderLearned(claim(), order(), LATER);
    expect(next).toMatchObject({ state: 'pending', quantity: 0, entry_price: null, entry_time: null });
  });

  it('submitting -> open, and the filled qty becomes the original quantity', () => {
    const o = order({ status: 'filled', filled_qty: 7, filled_avg_price: 2.5, filled_at: NOW });
    const next = openOrderLearned(claim({ original_quantity: 10 }), o, LATER);
    expect(next).toMatchObject({ state: 'open', quantity: 7, original_quantity: 7, entry_price: 2.5 });
  });

  it('submitting -> closed (not_filled) when the order ends unfilled', () => {
    const next = openOrderLearned(claim(), order({ status: 'canceled' }), LATER);
    expect(next).toMatchObject({
      state: 'closed',
      close_reason: 'not_filled',
      closed_at: LATER,
      quantity: 0,
    });
  });

  it('pending -> pending keeps the first entry time; pending -> open on a terminal partial fill', () => {
    const p = claim({ state: 'pending', entry_time: NOW, quantity: 2, entry_price: 2 });
    const more = order({
      status: 'partially_filled',
      filled_qty: 5,
      filled_avg_price: 2.2,
      filled_at: LATER,
    });
    expect(openOrderLearned(p, more, LATER)).toMatchObject({
      state: 'pending',
      quantity: 5,
      entry_time: NOW,
    });
    const ended = order({ status: 'canceled', filled_qty: 5, filled_avg_price: 2.2, filled_at: LATER });
    expect(openOrderLearned(p, ended, LATER)).toMatchObject({ state: 'open', original_quantity: 5 });
  });

  it('pending -> closed (not_filled)', () => {
    const next = openOrderLearned(claim({ state: 'pending' }), order({ status: 'expired' }), LATER);
    expect(next).toMatchObject({ state: 'closed', close_reason: 'not_filled' });
  });

  it('submitting -> closed by a refusal keeps the refusal and a flag', () => {
    const refusal = { reason: 'broker_rejected', detail: 'no' };
    const next = openRefused(claim(), 'open_rejected', refusal, 'flagged', LATER, { open_order_id: 'o9' });
    expect(next).toMatchObject({
      state: 'closed',
      close_reason: 'open_rejected',
      refusal,
      open_order_id: 'o9',
    });
    expect(next.flags).toEqual(['flagged']);
    expect(openRefused(claim(), 'not_sent', refusal, 'f', LATER).close_reason).toBe('not_sent');
  });

  it('submitting -> closed (not_sent) when the sweep abandons a claim', () => {
    expect(claimAbandoned(claim(), LATER)).toMatchObject({
      state: 'closed',
      close_reason: 'not_sent',
      closed_at: LATER,
    });
  });

  it('closed (not_filled) -> closed (open_rejected) when a late rejection is learned', () => {
    const p = claim({ state: 'closed', close_reason: 'not_filled' });
    const refusal = { reason: 'broker_rejected', detail: 'late' };
    expect(rejectionLearned(p, refusal, LATER)).toMatchObject({
      state: 'closed',
      close_reason: 'open_rejected',
      refusal,
    });
  });

  it('open -> closing claims the step and carries the trailing state', () => {
    const pe = step({ seq: 3 });
    const next = exitClaimed(makePosition({ exit_seq: 2 }), pe, { peak_price: 3 }, LATER);
    expect(next).toMatchObject({ state: 'closing', exit_seq: 3, pending_exit: pe, peak_price: 3 });
  });

  it('closing -> open on a partial fill: books P&L and the partial level', () => {
    const p = closing({ pending_exit: step({ reason: 'partial_exit', partial_level: 0 }) });
    const o = order({
      status: 'filled',
      filled_qty: 4,
      filled_avg_price: 3,
      side: 'sell',
      client_order_id: EXIT_ID,
    });
    const next = exitEnded(p, p.pending_exit!, o, LATER);
    expect(next).toMatchObject({ state: 'open', quantity: 6, realized_pnl: 400, partial_exits_done: [0] });
    expect(next).toMatchObject({ pending_exit: null, exit_price: 3, exit_reprices: 0 });
  });

  it('closing -> closed with the step reason when nothing is left; repriced counts', () => {
    const p = closing({ quantity: 4 });
    const o = order({
      status: 'filled',
      filled_qty: 4,
      filled_avg_price: 1.5,
      side: 'sell',
      client_order_id: EXIT_ID,
    });
    expect(exitEnded(p, p.pending_exit!, o, LATER)).toMatchObject({
      state: 'closed',
      close_reason: 'take_profit',
      realized_pnl: -200,
    });
    const unfilled = exitEnded(
      p,
      p.pending_exit!,
      order({ status: 'canceled', side: 'sell', client_order_id: EXIT_ID }),
      LATER,
      {
        repriced: true,
      },
    );
    expect(unfilled).toMatchObject({ state: 'open', quantity: 4, exit_reprices: 1 });
  });

  it('closing -> open when the claim is released, with an optional flag', () => {
    expect(claimReleased(closing(), LATER)).toMatchObject({ state: 'open', pending_exit: null, flags: [] });
    expect(claimReleased(closing(), LATER, 'exit_rejected').flags).toEqual(['exit_rejected']);
  });

  it('open -> closed when the resting stop filled: its reason, P&L, the record’s stop cleared', () => {
    const resting = {
      seq: 2,
      client_order_id: 'ops-main-s2-x',
      order_id: 'o2',
      type: 'stop' as const,
      stop_price: 1.5,
      limit_price: null,
      qty: 10,
      reason: 'trailing_stop' as const,
      placed_at: NOW,
    };
    const p = makePosition({ quantity: 10, entry_price: 2, broker_stop: resting });
    const o = order({
      status: 'filled',
      filled_qty: 10,
      filled_avg_price: 1.45,
      side: 'sell',
      client_order_id: resting.client_order_id,
    });
    expect(brokerStopFilled(p, o, 'trailing_stop', LATER)).toMatchObject({
      state: 'closed',
      close_reason: 'trailing_stop',
      realized_pnl: -550,
      exit_price: 1.45,
      broker_stop: null,
    });
    const part = brokerStopFilled(p, { ...o, filled_qty: 4 }, 'stop_loss', LATER);
    expect(part).toMatchObject({ state: 'open', quantity: 6, realized_pnl: -220 });
  });

  it('open -> closed outside the pipeline, flagged with why', () => {
    const next = closedOutside(makePosition(), 'broker holds none', LATER);
    expect(next).toMatchObject({
      state: 'closed',
      close_reason: 'closed_outside_pipeline',
      pending_exit: null,
    });
    expect(next.flags).toEqual(['broker holds none']);
  });
});

describe('position lifecycle: illegal transitions are refused', () => {
  const filled = order({ status: 'filled', filled_qty: 1, filled_avg_price: 1 });
  const attempts: Array<[TransitionName, PositionState, (p: Position) => Position]> = [
    ['openOrderLearned', 'open', (p) => openOrderLearned(p, filled, LATER)],
    ['openOrderLearned', 'closed', (p) => openOrderLearned(p, filled, LATER)],
    ['openRefused', 'pending', (p) => openRefused(p, 'not_sent', { reason: 'r', detail: 'd' }, 'f', LATER)],
    ['claimAbandoned', 'open', (p) => claimAbandoned(p, LATER)],
    ['exitClaimed', 'closing', (p) => exitClaimed(p, step(), {}, LATER)],
    ['exitClaimed', 'closed', (p) => exitClaimed(p, step(), {}, LATER)],
    ['exitEnded', 'pending', (p) => exitEnded(p, step(), filled, LATER)],
    ['claimReleased', 'pending', (p) => claimReleased(p, LATER)],
    ['claimReleased', 'closed', (p) => claimReleased(p, LATER)],
    ['closedOutside', 'closed', (p) => closedOutside(p, 'why', LATER)],
    ['closedOutside', 'submitting', (p) => closedOutside(p, 'why', LATER)],
    ['brokerStopFilled', 'closing', (p) => brokerStopFilled(p, filled, 'stop_loss', LATER)],
    ['brokerStopFilled', 'closed', (p) => brokerStopFilled(p, filled, 'stop_loss', LATER)],
  ];
  it.each(attempts)('%s from %s throws IllegalTransitionError naming both states', (name, from, run) => {
    const p = makePosition({ state: from, pending_exit: step() });
    let err: unknown;
    try {
      run(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IllegalTransitionError);
    expect((err as IllegalTransitionError).transition).toBe(name);
    expect((err as IllegalTransitionError).from).toBe(from);
    expect((err as Error).message).toContain(`${from} ->`);
  });

  it('rejectionLearned refuses a record not closed as not_filled', () => {
    const p = makePosition({ state: 'closed', close_reason: 'take_profit' });
    expect(() => rejectionLearned(p, { reason: 'r', detail: 'd' }, LATER)).toThrow(IllegalTransitionError);
    expect(() => rejectionLearned(makePosition(), { reason: 'r', detail: 'd' }, LATER)).toThrow(
      /rejectionLearned: closed:null -> closed:open_rejected/,
    );
  });

  it('the table has no transition out of closed except the reclassification, and none into submitting', () => {
    expect(TRANSITIONS.filter((t) => t.from === 'closed').map((t) => t.name)).toEqual(['rejectionLearned']);
    expect(TRANSITIONS.some((t) => t.to === 'submitting')).toBe(false);
    for (const s of STATES) expect(isAllowed('exitClaimed', s, 'closing')).toBe(s === 'open');
  });
});

describe('position lifecycle: random sequences', () => {
  type Op = (p: Position) => Position;
  const ops: fc.Arbitrary<Op> = fc.oneof(
    fc
      .record({
        status: fc.constantFrom('accepted', 'partially_filled', 'filled', 'canceled', 'expired'),
        filled: fc.integer({ min: 0, max: 10 }),
      })
      .map(
        ({ status, filled }) =>
          (p: Position) =>
            openOrderLearned(
              p,
              order({
                status,
                filled_qty: filled,
                filled_avg_price: filled > 0 ? 2 : null,
                filled_at: LATER,
              }),
              LATER,
            ),
      ),
    fc.constant<Op>((p) => openRefused(p, 'open_rejected', { reason: 'r', detail: 'd' }, 'f', LATER)),
    fc.constant<Op>((p) => claimAbandoned(p, LATER)),
    fc.constant<Op>((p) => rejectionLearned(p, { reason: 'r', detail: 'd' }, LATER)),
    fc.integer({ min: 1, max: 10 }).map(
      (qty): Op =>
        (p) =>
          exitClaimed(p, step({ seq: p.exit_seq + 1, qty }), {}, LATER),
    ),
    fc.integer({ min: 0, max: 10 }).map(
      (f): Op =>
        (p) =>
          exitEnded(
            p,
            p.pending_exit ?? step(),
            order({ status: 'filled', filled_qty: f, filled_avg_price: 2.5 }),
            LATER,
          ),
    ),
    fc.constant<Op>((p) => claimReleased(p, LATER)),
    fc.constant<Op>((p) => closedOutside(p, 'why', LATER)),
  );

  it('every step is either a listed transition or refused with IllegalTransitionError, leaving the record', () => {
    fc.assert(
      fc.property(fc.array(ops, { maxLength: 20 }), (seq) => {
        let p = claim();
        for (const op of seq) {
          let next: Position;
          try {
            next = op(p);
          } catch (e) {
            expect(e).toBeInstanceOf(IllegalTransitionError);
            continue;
          }
          expect(TRANSITIONS.some((t) => t.from === p.state && t.to === next.state)).toBe(true);
          expect(next.quantity).toBeGreaterThanOrEqual(0);
          if (next.state === 'closed') expect(next.close_reason).not.toBeNull();
          if (next.state === 'closing') expect(next.pending_exit).not.toBeNull();
          if (next.state === 'open') expect(next.pending_exit ?? null).toBeNull();
          p = next;
        }
        // Once closed, a record only changes its close reason.
        if (p.state === 'closed')
          expect(() => exitClaimed(p, step(), {}, LATER)).toThrow(IllegalTransitionError);
      }),
      { numRuns: 300 },
    );
  });
});
