/**
 * The working-order planners (domain/working-order-plan.ts): a working exit is kept, repriced or replaced
 * by a bigger / more protective step; a pending open is kept or cancelled. Properties over every input.
 */
import fc from 'fast-check';
import type { ExitReason, PendingExit } from '../../shared/domain/position';
import {
  PROTECTIVE_REASONS,
  planPendingOpen,
  planWorkingExit,
  workingExitView,
  type RuleVerdict,
} from '../../shared/domain/working-order-plan';
import { FACTORY_NOW, makePosition } from '../helpers/factories';
import { makeOrderReport } from '../helpers/ledger-factories';
import { exitFillsLearned } from '../../shared/domain/position-lifecycle';

const NOW = FACTORY_NOW.getTime();
const REASONS: ExitReason[] = [
  'stop_loss',
  'take_profit',
  'trailing_stop',
  'partial_exit',
  'breakeven',
  'expiry',
  'time_rule',
  'max_hold',
  'flatten',
];
const pe = (reason: ExitReason, placedAgoMs: number): PendingExit => ({
  seq: 1,
  client_order_id: 'ops-main-x1-p',
  order_id: 'o1',
  qty: 3,
  reason,
  partial_level: null,
  claimed_at: new Date(NOW - placedAgoMs).toISOString(),
  placed_at: new Date(NOW - placedAgoMs).toISOString(),
});
const exec = { reprice_after_seconds: 30 };

const arbOrder = fc
  .record({ qty: fc.integer({ min: 1, max: 20 }), filled: fc.integer({ min: 0, max: 20 }) })
  .filter((o) => o.filled < o.qty)
  .chain((o) =>
    fc.record({
      qty: fc.constant(o.qty),
      filled_qty: fc.constant(o.filled),
      type: fc.constantFrom('market', 'limit', 'stop_limit'),
    }),
  );
const arbVerdict: fc.Arbitrary<RuleVerdict> = fc.oneof(
  fc.constant({ action: 'hold' } as const),
  fc.record({
    action: fc.constant('close' as const),
    qty: fc.integer({ min: 1, max: 20 }),
    reason: fc.constantFrom(...REASONS),
  }),
);

describe('planWorkingExit', () => {
  it('the partial fill case of defect 1: a take profit for 3 that filled 1, rules still wanting the 2 left, is kept', () => {
    const p = makePosition({ quantity: 3 });
    const order = { qty: 3, filled_qty: 1, type: 'limit', client_order_id: 'ops-main-x-rec-0001-1' };
    const view = workingExitView(p, order);
    expect(view.quantity).toBe(2);
    const step = planWorkingExit(
      pe('take_profit', 5_000),
      order,
      { action: 'close', qty: view.quantity, reason: 'take_profit' },
      NOW,
      exec,
    );
    expect(step).toEqual({ kind: 'keep' });
  });

  it('never cancels for "bigger" unless the rules want more than the order still sells, or protection over non-protection', () => {
    fc.assert(
      fc.property(
        arbOrder,
        arbVerdict,
        fc.constantFrom(...REASONS),
        fc.integer({ min: 0, max: 60_000 }),
        (order, verdict, reason, ago) => {
          const step = planWorkingExit(pe(reason, ago), order, verdict, NOW, exec);
          const remaining = order.qty - order.filled_qty;
          const bigger =
            verdict.action === 'close' &&
            (verdict.qty > remaining ||
              (PROTECTIVE_REASONS.has(verdict.reason) && !PROTECTIVE_REASONS.has(reason)));
          const stale = order.type !== 'market' && ago >= exec.reprice_after_seconds * 1000;
          if (bigger) expect(step).toMatchObject({ kind: 'cancel', repriced: false });
          else if (stale) expect(step).toMatchObject({ kind: 'cancel', repriced: true });
          else expect(step).toEqual({ kind: 'keep' });
        },
      ),
    );
  });

  it('a market order is never repriced; a limit is repriced only after reprice_after_seconds', () => {
    fc.assert(
      fc.property(arbOrder, fc.integer({ min: 0, max: 120_000 }), (order, ago) => {
        const step = planWorkingExit(pe('take_profit', ago), order, { action: 'hold' }, NOW, exec);
        const repriced = step.kind === 'cancel' && step.repriced;
        expect(repriced).toBe(order.type !== 'market' && ago >= 30_000);
      }),
    );
  });

  it('a fill the ledger booked already is not taken off twice (the record holds what is left)', () => {
    const step = {
      seq: 1,
      client_order_id: 'ops-main-x-rec-0001-1',
      qty: 3,
      reason: 'take_profit' as const,
      claimed_at: makePosition().created_at,
    };
    const p = makePosition({
      quantity: 3,
      original_quantity: 3,
      state: 'closing',
      pending_exit: step,
      exit_seq: 1,
    });
    const report = makeOrderReport({
      client_order_id: step.client_order_id,
      symbol: p.option_symbol,
      side: 'sell',
      qty: 3,
      filled_qty: 1,
      filled_avg_price: 2.5,
      status: 'partially_filled',
    });
    const booked = exitFillsLearned(p, report, makePosition().updated_at);
    expect(booked.quantity).toBe(2);
    expect(workingExitView(booked, report).quantity).toBe(2);
    expect(workingExitView(booked, { ...report, filled_qty: 2 }).quantity).toBe(1);
  });

  it('the view never counts more than the record holds, nor less than zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 30 }), (qty, filled) => {
        const v = workingExitView(makePosition({ quantity: qty, state: 'closing' }), {
          filled_qty: filled,
          client_order_id: 'ops-main-x-rec-0001-1',
        });
        expect(v.quantity).toBe(Math.max(0, qty - filled));
        expect(v).toMatchObject({ state: 'open', pending_exit: null });
      }),
    );
  });
});

describe('planPendingOpen', () => {
  it('cancels exactly on timeout (limits only), an exit due on a filled part while open, or flatten', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('market', 'limit'),
        fc.integer({ min: 0, max: 20 * 60_000 }),
        fc.integer({ min: 0, max: 5 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (type, ageMs, filled, open, flatten, due) => {
          const p = makePosition({ state: 'pending', quantity: filled, entry_price: filled > 0 ? 2 : null });
          let asked = false;
          const step = planPendingOpen(
            p,
            { type, created_at: new Date(NOW - ageMs).toISOString() },
            {
              nowMs: NOW,
              entryTimeoutMs: 10 * 60_000,
              marketOpen: open,
              flatten,
              verdict: () => {
                asked = true;
                return due ? { action: 'close', qty: filled, reason: 'stop_loss' } : { action: 'hold' };
              },
            },
          );
          const timedOut = type === 'limit' && ageMs >= 10 * 60_000;
          const exitDue = filled > 0 && open && due;
          expect(step.kind).toBe(timedOut || exitDue || flatten ? 'cancel' : 'keep');
          // The rules are asked only about contracts that filled, while the market is open.
          if (asked) expect(filled > 0 && open).toBe(true);
        },
      ),
    );
  });
});
