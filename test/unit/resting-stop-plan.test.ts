/**
 * The resting-stop planners (domain/resting-stop-plan.ts), property by property: a fill is booked once,
 * a stop never outlives its contracts, never two resting stops, never more resting than held, and another
 * exit never goes out while a resting stop may hold its contracts.
 */
import fc from 'fast-check';
import type { BrokerOrder, BrokerPosition } from '../../shared/domain/broker-types';
import type { BrokerStop } from '../../shared/domain/broker-stop';
import { parseAccountConfig } from '../../shared/domain/account-config';
import type { ExitReason, Position } from '../../shared/domain/position';
import {
  planStopFree,
  planStopKeep,
  planStopLearn,
  recordedStop,
  stopsOfGonePositions,
  type StopLearnFacts,
  type StopLearnStep,
} from '../../shared/domain/resting-stop-plan';
import { FACTORY_NOW, FACTORY_OPTION_SYMBOL, makeExitPlan, makePosition } from '../helpers/factories';

const NOW = FACTORY_NOW.toISOString();
const exec = parseAccountConfig({ name: 'main', exit_execution: { broker_stop: 'stop' } }).exit_execution;

function stopOrder(seq: number, over: Partial<BrokerOrder> = {}): BrokerOrder {
  return {
    id: `id-s${seq}`,
    client_order_id: `ops-main-s${seq}-p`,
    symbol: FACTORY_OPTION_SYMBOL,
    qty: 4,
    filled_qty: 0,
    filled_avg_price: null,
    side: 'sell',
    type: 'stop',
    position_intent: null,
    time_in_force: 'gtc',
    limit_price: null,
    stop_price: 1.5,
    status: 'new',
    created_at: NOW,
    filled_at: null,
    ...over,
  } as BrokerOrder;
}
const held = (qty: number): BrokerPosition =>
  ({
    symbol: FACTORY_OPTION_SYMBOL,
    qty,
    qty_available: qty,
    side: 'long',
    asset_class: 'us_option',
  }) as BrokerPosition;
const position = (over: Partial<Position> = {}) =>
  makePosition({ position_id: 'p', quantity: 4, exit_plan: makeExitPlan({ stop_loss_pct: 0.25 }), ...over });

function facts(over: Partial<StopLearnFacts> = {}): StopLearnFacts {
  return {
    now: NOW,
    brokerStopOn: true,
    resting: [],
    held: held(4),
    known: () => undefined,
    lookedUp: new Map(),
    ...over,
  };
}

const STATUSES = ['new', 'partially_filled', 'filled', 'canceled', 'expired', 'replaced'] as const;
const arbStop = fc
  .record({
    seq: fc.integer({ min: 1, max: 5 }),
    qty: fc.integer({ min: 1, max: 6 }),
    filled: fc.integer({ min: 0, max: 6 }),
    status: fc.constantFrom(...STATUSES),
  })
  .map(({ seq, qty, filled, status }) =>
    stopOrder(seq, { qty, filled_qty: Math.min(filled, qty), filled_avg_price: filled ? 1.5 : null, status }),
  );

/** Plays a plan to its end the way the sweep would: answering lookups from `broker`, cancels confirmed. */
function play(
  p: Position,
  f: StopLearnFacts,
  broker: ReadonlyMap<string, BrokerOrder | null>,
): StopLearnStep[] {
  const lookedUp = new Map<string, BrokerOrder | null>();
  const steps: StopLearnStep[] = [];
  let cancelled: BrokerOrder | undefined;
  for (let i = 0; i < 10; i++) {
    const step = planStopLearn(p, { ...f, lookedUp, ...(cancelled ? { cancelled } : {}) });
    steps.push(step);
    if (step.kind === 'lookup') {
      lookedUp.set(step.clientOrderId, broker.get(step.clientOrderId) ?? null);
      continue;
    }
    if (step.kind === 'cancel') {
      cancelled = { ...step.order, status: 'canceled' };
      continue;
    }
    return steps;
  }
  throw new Error('the plan did not settle');
}

describe('planStopLearn', () => {
  it('the same fill is booked once: after booking it, the record plans no second booking', () => {
    fc.assert(
      fc.property(arbStop, (order) => {
        const p = position({ broker_stop: null });
        const f = facts({
          resting: [order].filter((o) => !['filled', 'canceled', 'expired', 'replaced'].includes(o.status)),
        });
        const first = planStopLearn(p, f);
        if (first.kind !== 'book') return;
        const booked: BrokerStop = {
          ...first.stop,
          client_order_id: first.order.client_order_id,
          filled_booked: first.order.filled_qty,
        };
        const again = planStopLearn(position({ broker_stop: booked }), f);
        expect(again.kind).not.toBe('book');
      }),
    );
  });

  it('a stop resting unfilled on fewer contracts than the record is looked up, then cancelled: it never outlives them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 5 }), (have, seq) => {
        const order = stopOrder(seq);
        const p = position({ broker_stop: recordedStop(order, 'stop_loss', NOW) });
        const steps = play(
          p,
          facts({ resting: [order], held: have ? held(have) : undefined }),
          new Map([[order.client_order_id, order]]),
        );
        expect(steps.map((s) => s.kind)).toEqual(['lookup', 'cancel', 'clear']);
      }),
    );
  });

  it('every plan settles, following a replaced chain to the order that ended; a stop that never reached the broker is cleared with its id kept for reuse', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.boolean(), (seq, arrived) => {
        const recorded: BrokerStop = { ...recordedStop(stopOrder(seq), 'stop_loss', NOW), order_id: null };
        const broker = new Map<string, BrokerOrder | null>(
          arrived ? [[`ops-main-s${seq}-p`, stopOrder(seq, { status: 'canceled' })]] : [],
        );
        const steps = play(position({ broker_stop: recorded, broker_stop_seq: seq }), facts(), broker);
        const last = steps[steps.length - 1];
        expect(last.kind).toBe('clear');
        if (!arrived) expect(last).toMatchObject({ neverPlaced: true, seq: seq - 1 });
        // Ended without a fill and nobody here asked: alerted (placed again by the next step).
        else expect(last).toMatchObject({ alert: expect.stringContaining('without a fill') });
      }),
    );
  });

  it('turned off: a resting stop is cancelled, never left behind', () => {
    const order = stopOrder(1);
    const p = position({ broker_stop: recordedStop(order, 'stop_loss', NOW) });
    expect(planStopLearn(p, facts({ resting: [order], brokerStopOn: false }))).toMatchObject({
      kind: 'cancel',
      why: 'broker_stop turned off',
    });
  });
});

describe('planStopFree', () => {
  const REASONS: ExitReason[] = [
    'stop_loss',
    'take_profit',
    'trailing_stop',
    'expiry',
    'time_rule',
    'max_hold',
    'flatten',
  ];
  it('no exit goes out while a resting stop may hold its contracts: only "go" when none rests or is recorded', () => {
    fc.assert(
      fc.property(fc.constantFrom(...REASONS), fc.boolean(), fc.boolean(), (reason, resting, recorded) => {
        const order = stopOrder(1);
        const p = position({ broker_stop: recorded ? recordedStop(order, 'stop_loss', NOW) : null });
        const step = planStopFree(p, reason, resting ? order : undefined, { bid: 1.4, ask: 1.5 }, exec, NOW);
        if (step.kind === 'go') expect(resting || recorded).toBe(false);
        if (resting && !['stop_loss', 'trailing_stop', 'breakeven'].includes(reason))
          expect(step.kind).toBe('cancel');
      }),
    );
  });
});

describe('planStopKeep', () => {
  it('never two resting stops, never more resting than the broker holds or the record tracks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        fc.option(
          arbStop.filter((o) => o.status === 'new' || o.status === 'partially_filled'),
          { nil: undefined },
        ),
        fc.boolean(),
        (qty, have, working, recorded) => {
          const p = position({
            quantity: qty,
            broker_stop:
              recorded && working
                ? recordedStop(working, 'stop_loss', NOW)
                : recorded
                  ? recordedStop(stopOrder(9), 'stop_loss', NOW)
                  : null,
          });
          const step = planStopKeep(p, { exec, working, held: have ? held(have) : undefined, now: NOW });
          if (step.kind === 'place') {
            expect(working).toBeUndefined();
            expect(p.broker_stop).toBeNull();
          }
          if (step.kind === 'replace') {
            expect(step.want).toBeLessThanOrEqual(Math.min(qty, have));
            expect(step.want).toBeGreaterThan(0);
          }
        },
      ),
    );
  });
});

describe('stopsOfGonePositions', () => {
  it('cancels the stops of positions closed or no longer live, and with a partial read only those closed', () => {
    fc.assert(
      fc.property(
        fc.subarray(['a', 'b', 'c', 'd']),
        fc.subarray(['a', 'b', 'c', 'd']),
        fc.boolean(),
        (live, closed, partial) => {
          const resting = ['a', 'b', 'c', 'd'].map((id, i) => [id, [stopOrder(i + 1)]] as const);
          const gone = new Set(
            stopsOfGonePositions(resting, new Set(live), new Set(closed), partial).map((g) => g.positionId),
          );
          for (const id of ['a', 'b', 'c', 'd']) {
            const expected = closed.includes(id) || (!partial && !live.includes(id));
            expect(gone.has(id)).toBe(expected);
          }
        },
      ),
    );
  });
});

describe('planStopLearn: a replacement that ended without a fill (issue 26 item 2)', () => {
  const replacedRecord = (booked = 0): BrokerStop => ({
    ...recordedStop(stopOrder(2), 'trailing_stop', NOW),
    replaced: { client_order_id: 'ops-main-s1-p', filled_booked: booked },
  });
  const p = (booked = 0) => position({ broker_stop: replacedRecord(booked), broker_stop_seq: 2 });
  const known = (orders: BrokerOrder[]) => (id: string) => orders.find((o) => o.client_order_id === id);

  it.each(['rejected', 'canceled'] as const)(
    'the new order %s: the replaced one is looked up, and what it filled first is booked',
    (status) => {
      const neu = stopOrder(2, { status });
      const ask = planStopLearn(p(), facts({ held: held(0), known: known([neu]) }));
      expect(ask).toEqual({ kind: 'lookup', clientOrderId: 'ops-main-s1-p' });
      const old = stopOrder(1, { status: 'filled', filled_qty: 4, filled_avg_price: 1.5 });
      const step = planStopLearn(p(), facts({ held: held(0), known: known([neu, old]) }));
      expect(step).toMatchObject({
        kind: 'book',
        order: old,
        stop: {
          client_order_id: 'ops-main-s1-p',
          order_id: 'id-s1',
          filled_booked: 0,
          reason: 'trailing_stop',
        },
      });
    },
  );

  it('the broker has no new order at all: the replaced one is looked up too', () => {
    const step = planStopLearn(p(), facts({ held: held(0), lookedUp: new Map([['ops-main-s2-p', null]]) }));
    expect(step).toEqual({ kind: 'lookup', clientOrderId: 'ops-main-s1-p' });
  });

  it('what of the replaced order was booked before the replace is not booked again', () => {
    const neu = stopOrder(2, { status: 'canceled' });
    const old = stopOrder(1, { status: 'replaced', filled_qty: 1 });
    const step = planStopLearn(p(1), facts({ known: known([neu, old]) }));
    expect(step.kind).toBe('clear');
  });

  it('the replacement itself filled: booked as before, the replaced order is not asked for', () => {
    const neu = stopOrder(2, { status: 'filled', filled_qty: 4, filled_avg_price: 1.5 });
    expect(planStopLearn(p(), facts({ held: held(0), known: known([neu]) }))).toMatchObject({
      kind: 'book',
      order: neu,
    });
  });
});
