/**
 * Issue 22, "every record change is an event": each named change of a position record touches only the
 * fields CHANGE_FIELDS declares for it, on any record.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { BrokerOrder } from '../../shared/domain/broker-types';
import {
  CHANGE_FIELDS,
  QTY_BELOW_TABLE_FLAG,
  brokerStopAcknowledged,
  brokerStopCancelRequested,
  brokerStopClaimed,
  brokerStopCleared,
  brokerStopFilled,
  brokerStopReplaced,
  brokerStopSynced,
  exitAcknowledged,
  exitClaimRenewed,
  exitFillsLearned,
  exitSendFailed,
  exitStepReplayed,
  markedMissing,
  missingCleared,
  quantityReconciled,
  storedAtVersion,
  trailingAdvanced,
  viewedAsOpen,
  expiryInstructionRecorded,
  type ChangeName,
} from '../../shared/domain/position-lifecycle';
import type { BrokerStop, PendingExit, Position } from '../../shared/domain/position';
import { FACTORY_NOW, makePosition } from '../helpers/factories';
import { makeOrderReport } from '../helpers/ledger-factories';

const NOW = FACTORY_NOW.toISOString();
const LATER = new Date(FACTORY_NOW.getTime() + 60_000).toISOString();

/** The fields whose value or presence differs between two records. */
function changedFields(before: Position, after: Position): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter(
    (k) =>
      k in before !== k in after ||
      !isDeepStrictEqual(before[k as keyof Position], after[k as keyof Position]),
  );
}

const iso = fc
  .integer({ min: 0, max: 10 * 86_400_000 })
  .map((ms) => new Date(FACTORY_NOW.getTime() - ms).toISOString());

const stopArb: fc.Arbitrary<BrokerStop> = fc.record({
  seq: fc.integer({ min: 1, max: 20 }),
  client_order_id: fc.constantFrom('ops-main-s-rec-0001-1', 'ops-main-s-rec-0001-2'),
  order_id: fc.option(fc.constantFrom('stop-1', 'stop-2'), { nil: null }),
  type: fc.constantFrom('stop' as const, 'stop_limit' as const),
  stop_price: fc.constantFrom(0.5, 1.05, 1.6),
  limit_price: fc.option(fc.constantFrom(0.45, 1.5), { nil: null }),
  qty: fc.integer({ min: 1, max: 10 }),
  reason: fc.constantFrom('stop_loss' as const, 'trailing_stop' as const, 'breakeven' as const),
  placed_at: iso,
});

const stepArb: fc.Arbitrary<PendingExit> = fc.record({
  seq: fc.integer({ min: 1, max: 9 }),
  client_order_id: fc.constant('ops-main-x-rec-0001-1'),
  qty: fc.integer({ min: 1, max: 10 }),
  reason: fc.constantFrom('take_profit' as const, 'stop_loss' as const, 'partial_exit' as const),
  claimed_at: iso,
  send_failed_at: fc.option(iso, { nil: null }),
});

/** Any record, with or without a step, a resting stop, a missing mark, flags. */
const positionArb: fc.Arbitrary<Position> = fc
  .record({
    quantity: fc.integer({ min: 0, max: 10 }),
    state: fc.constantFrom('open' as const, 'closing' as const, 'pending' as const),
    pending_exit: fc.option(stepArb, { nil: null }),
    broker_stop: fc.option(stopArb, { nil: undefined }),
    broker_stop_seq: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
    missing_since: fc.option(iso, { nil: null }),
    flags: fc.uniqueArray(fc.constantFrom('a', QTY_BELOW_TABLE_FLAG, 'exit_rejected'), { maxLength: 3 }),
    peak_price: fc.option(fc.constantFrom(2.1, 3.4), { nil: null }),
    version: fc.integer({ min: 0, max: 50 }),
    updated_at: iso,
  })
  .map((o) => {
    const { broker_stop, broker_stop_seq, ...rest } = o;
    return makePosition({
      ...rest,
      ...(broker_stop ? { broker_stop } : {}),
      ...(broker_stop_seq !== undefined ? { broker_stop_seq } : {}),
    });
  });

/** Each change, applied with arguments drawn for the record (null when it does not apply to it). */
const CHANGES: Record<ChangeName, fc.Arbitrary<(p: Position) => Position | null>> = {
  trailingAdvanced: fc
    .record({
      peak_price: fc.option(fc.constantFrom(2.5, 4), { nil: null }),
      trailing_stop_price: fc.option(fc.constantFrom(2, 3.2), { nil: null }),
      breakeven_active: fc.boolean(),
    })
    .map((t) => (p) => trailingAdvanced(p, t, LATER)),
  exitClaimRenewed: fc.constant((p) => (p.pending_exit ? exitClaimRenewed(p, LATER) : null)),
  exitAcknowledged: fc
    .record({
      qty: fc.integer({ min: 1, max: 10 }),
      order_id: fc.constant('exit-1'),
      order_type: fc.constantFrom('market' as const, 'limit' as const),
      limit_price: fc.option(fc.constantFrom(1.2, 2.4), { nil: null }),
    })
    .map((placed) => (p) => (p.pending_exit ? exitAcknowledged(p, placed, LATER) : null)),
  exitSendFailed: fc.constant((p) => (p.pending_exit ? exitSendFailed(p, LATER) : null)),
  markedMissing: fc.constant((p) => markedMissing(p, LATER)),
  missingCleared: fc.constant((p) => missingCleared(p, LATER)),
  quantityReconciled: fc
    .nat()
    .map((n) => (p) => quantityReconciled(p, p.quantity === 0 ? 0 : n % (p.quantity + 1), LATER)),
  exitFillsLearned: fc
    .record({ filled: fc.integer({ min: 0, max: 3 }), price: fc.constantFrom(1.05, 2.4, 3.1) })
    .map(
      ({ filled, price }) =>
        (p) =>
          p.pending_exit
            ? exitFillsLearned(
                p,
                makeOrderReport({
                  client_order_id: p.pending_exit.client_order_id,
                  symbol: p.option_symbol,
                  side: p.side === 'long' ? 'sell' : 'buy',
                  qty: p.pending_exit.qty,
                  filled_qty: Math.min(filled, p.quantity),
                  filled_avg_price: filled > 0 ? price : null,
                  status: 'partially_filled',
                }),
                LATER,
              )
            : null,
    ),
  brokerStopClaimed: stopArb.map((claim) => (p) => brokerStopClaimed(p, { ...claim, order_id: null }, LATER)),
  brokerStopAcknowledged: fc.constant((p) =>
    p.broker_stop ? brokerStopAcknowledged(p, 'stop-9', LATER) : null,
  ),
  brokerStopSynced: fc.tuple(stopArb, fc.integer({ min: 0, max: 30 })).map(
    ([stop, seq]) =>
      (p) =>
        brokerStopSynced(p, stop, seq, LATER),
  ),
  brokerStopReplaced: stopArb.map((stop) => (p) => brokerStopReplaced(p, stop, LATER)),
  brokerStopCancelRequested: stopArb.map(
    (bs) => (p) => brokerStopCancelRequested(p, p.broker_stop ?? bs, LATER),
  ),
  brokerStopCleared: fc
    .option(fc.integer({ min: 0, max: 30 }), { nil: undefined })
    .map((seq) => (p) => brokerStopCleared(p, LATER, seq)),
  storedAtVersion: fc.nat({ max: 99 }).map((v) => (p) => storedAtVersion(p, v)),
  exitStepReplayed: fc.tuple(fc.nat(), fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined })).map(
    ([n, level]) =>
      (p) =>
        p.quantity > 0 ? exitStepReplayed(p, 1 + (n % p.quantity), level) : null,
  ),
  viewedAsOpen: fc.boolean().map((withoutStep) => (p) => viewedAsOpen(p, { withoutStep })),
  expiryInstructionRecorded: fc
    .record({
      instruction: fc.constantFrom('exercise' as const, 'do_not_exercise' as const),
      outcome: fc.constantFrom('sent' as const, 'refused' as const, 'missed' as const),
    })
    .map((r) => (p) => expiryInstructionRecorded(p, { ...r, at: LATER }, LATER)),
};

describe('named record changes (issue 22): each touches only its declared fields', () => {
  for (const name of Object.keys(CHANGES) as ChangeName[]) {
    it(`${name} changes only ${CHANGE_FIELDS[name].join(', ')}`, () => {
      fc.assert(
        fc.property(positionArb, CHANGES[name], (p, change) => {
          const next = change(p);
          if (next === null) return;
          const frozen = structuredClone(p);
          const outside = changedFields(p, next).filter(
            (k) => !CHANGE_FIELDS[name].includes(k as keyof Position),
          );
          expect(outside).toEqual([]);
          expect(p).toEqual(frozen); // the record it was given is left as it was
        }),
        { numRuns: 200 },
      );
    });
  }

  it('every declared change has a property above', () => {
    expect(Object.keys(CHANGES).sort()).toEqual(Object.keys(CHANGE_FIELDS).sort());
  });

  it('the field check can fail: a change that also moves quantity is caught', () => {
    const p = makePosition();
    expect(changedFields(p, { ...markedMissing(p, LATER), quantity: 3 })).toEqual(
      expect.arrayContaining(['missing_since', 'updated_at', 'quantity']),
    );
    expect(changedFields(p, { ...p, broker_stop: null })).toEqual(['broker_stop']); // presence counts
  });
});

describe('named record changes: what they write', () => {
  const p = makePosition({
    quantity: 5,
    pending_exit: { seq: 1, client_order_id: 'x-1', qty: 5, reason: 'take_profit', claimed_at: NOW },
  });

  it('quantityReconciled brings the record down and flags it, never up', () => {
    const next = quantityReconciled(p, 3, LATER);
    expect(next).toMatchObject({ quantity: 3, updated_at: LATER });
    expect(next.flags).toContain(QTY_BELOW_TABLE_FLAG);
    expect(() => quantityReconciled(p, 6, LATER)).toThrow(/cannot go from 5 to 6/);
    expect(() => quantityReconciled(p, -1, LATER)).toThrow();
  });

  it('exitClaimRenewed keeps the first claim time and clears a send failure', () => {
    const failed = exitSendFailed(p, NOW);
    expect(failed.pending_exit?.send_failed_at).toBe(NOW);
    const renewed = exitClaimRenewed(failed, LATER).pending_exit;
    expect(renewed).toMatchObject({ claimed_at: LATER, first_claimed_at: NOW, send_failed_at: null });
  });

  it('a change that needs a step or a stop refuses a record without one', () => {
    const bare = makePosition();
    expect(() =>
      exitAcknowledged(bare, { qty: 1, order_id: 'o', order_type: 'market', limit_price: null }, LATER),
    ).toThrow(/has no exit step/);
    expect(() => brokerStopAcknowledged(bare, 'o', LATER)).toThrow(/has no resting stop/);
  });

  it('brokerStopFilled with `after` records the seq and, while contracts are left, the stop still working', () => {
    const stop: BrokerStop = {
      seq: 2,
      client_order_id: 'ops-main-s-rec-0001-2',
      order_id: 'stop-2',
      type: 'stop',
      stop_price: 1.5,
      limit_price: null,
      qty: 10,
      reason: 'stop_loss',
      placed_at: NOW,
    };
    const held = makePosition({ broker_stop: stop, broker_stop_seq: 2 });
    const fill: BrokerOrder = {
      id: 'stop-2',
      client_order_id: stop.client_order_id,
      symbol: held.option_symbol,
      qty: 10,
      filled_qty: 4,
      filled_avg_price: 1.5,
      side: 'sell',
      type: 'stop',
      position_intent: null,
      time_in_force: 'gtc',
      limit_price: null,
      status: 'partially_filled',
      created_at: NOW,
      filled_at: NOW,
    };
    const working = { ...stop, filled_booked: 4 };
    const part = brokerStopFilled(held, fill, 'stop_loss', LATER, { seq: 3, working });
    expect(part).toMatchObject({ state: 'open', quantity: 6, broker_stop: working, broker_stop_seq: 3 });
    const all = brokerStopFilled(held, { ...fill, filled_qty: 10 }, 'stop_loss', LATER, { seq: 3, working });
    expect(all).toMatchObject({ state: 'closed', quantity: 0, broker_stop: null, broker_stop_seq: 3 });
    expect(brokerStopFilled(held, fill, 'stop_loss', LATER)).toMatchObject({
      broker_stop: null,
      broker_stop_seq: 2,
    });
  });
});
