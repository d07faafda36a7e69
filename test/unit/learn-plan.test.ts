import fc from 'fast-check';
import type { BrokerOrder } from '../../shared/domain/broker-types';
import { planLearn, type LearnFacts, type LearnStep } from '../../shared/domain/learn-plan';
import type { PendingExit, Position } from '../../shared/domain/position';
import { FACTORY_NOW, FACTORY_OPTION_SYMBOL, makePosition } from '../helpers/factories';

const NOW = FACTORY_NOW;
const MIN = 60_000;
const LEASE = 2 * MIN;
const at = (msBefore: number) => new Date(NOW.getTime() - msBefore).toISOString();

function facts(over: Partial<LearnFacts> = {}): LearnFacts {
  return {
    now: NOW,
    leaseMs: LEASE,
    maxRecommendationAgeMs: 5 * MIN,
    stuckAfterMs: 3 * MIN,
    openOrders: new Map(),
    endedOrders: new Map(),
    lookedUp: new Map(),
    ...over,
  };
}

function order(clientOrderId: string, over: Partial<BrokerOrder> = {}): BrokerOrder {
  return {
    id: `id-${clientOrderId}`,
    client_order_id: clientOrderId,
    symbol: FACTORY_OPTION_SYMBOL,
    qty: 10,
    filled_qty: 10,
    filled_avg_price: 2.5,
    side: 'buy',
    type: 'market',
    position_intent: 'buy_to_open',
    time_in_force: 'day',
    limit_price: null,
    status: 'filled',
    created_at: at(MIN),
    filled_at: at(MIN),
    ...over,
  };
}

const byId = (...orders: BrokerOrder[]) => new Map(orders.map((o) => [o.client_order_id, o]));

function submitting(ageMs: number): Position {
  return makePosition({
    state: 'submitting',
    quantity: 0,
    open_order_id: null,
    entry_price: null,
    entry_time: null,
    created_at: at(ageMs),
  });
}

function closing(pe: Partial<PendingExit> = {}): Position {
  const pending: PendingExit = {
    seq: 1,
    client_order_id: 'ops-main-x1-rec-0001',
    qty: 10,
    reason: 'stop_loss',
    claimed_at: at(10 * 1000),
    first_claimed_at: at(10 * 1000),
    ...pe,
  };
  return makePosition({ state: 'closing', pending_exit: pending, exit_seq: 1 });
}

const exitOrder = (over: Partial<BrokerOrder> = {}) =>
  order('ops-main-x1-rec-0001', { side: 'sell', position_intent: null, filled_avg_price: 3, ...over });

describe('planLearn: a claimed open (submitting)', () => {
  it('waits while the claim is younger than the lease (its delivery may still be sending)', () => {
    expect(planLearn(submitting(LEASE - 1), facts()).kind).toBe('keep');
  });

  it('asks the broker once the lease is over and no listing names the order', () => {
    expect(planLearn(submitting(LEASE), facts())).toEqual({
      kind: 'lookup',
      clientOrderId: 'ops-main-o-rec-0001',
    });
  });

  it('records the filled open a listing names, without a lookup', () => {
    const step = planLearn(submitting(LEASE), facts({ endedOrders: byId(order('ops-main-o-rec-0001')) }));
    expect(step).toMatchObject({
      kind: 'write',
      note: 'opened',
      next: { state: 'open', quantity: 10, entry_price: 2.5 },
    });
  });

  it('keeps the claim while a late delivery could still send it; closes it not_sent after max age + lease', () => {
    const none = facts({ lookedUp: new Map([['ops-main-o-rec-0001', null]]) });
    expect(planLearn(submitting(5 * MIN + LEASE - 1), none).kind).toBe('keep');
    expect(planLearn(submitting(5 * MIN + LEASE), none)).toMatchObject({
      kind: 'write',
      closed: 'not_sent',
      next: { state: 'closed', close_reason: 'not_sent' },
    });
  });
});

describe('planLearn: a pending open', () => {
  const pending = () =>
    makePosition({
      state: 'pending',
      quantity: 0,
      entry_price: null,
      entry_time: null,
      open_order_type: 'limit',
    });

  it('notes a working open order and records its partial fill', () => {
    const partial = order('ops-main-o-rec-0001', { status: 'partially_filled', filled_qty: 4 });
    const step = planLearn(pending(), facts({ openOrders: byId(partial) }));
    expect(step).toMatchObject({
      kind: 'write',
      working: { kind: 'open', order: partial },
      next: { quantity: 4 },
    });
  });

  it('closes not_filled an open the broker ended with nothing filled', () => {
    const cancelled = order('ops-main-o-rec-0001', {
      status: 'canceled',
      filled_qty: 0,
      filled_avg_price: null,
    });
    expect(planLearn(pending(), facts({ endedOrders: byId(cancelled) }))).toMatchObject({
      kind: 'write',
      closed: 'not_filled',
    });
  });

  it('alerts open_order_missing when the broker has no such order, and changes nothing', () => {
    const step = planLearn(pending(), facts({ lookedUp: new Map([['ops-main-o-rec-0001', null]]) }));
    expect(step).toEqual({
      kind: 'keep',
      alert: { kind: 'open_order_missing', detail: 'opening order ops-main-o-rec-0001 not found' },
    });
  });
});

describe('planLearn: an exit step in flight', () => {
  it('notes the working exit order and leaves the record alone', () => {
    const working = exitOrder({ status: 'new', filled_qty: 0, filled_avg_price: null });
    expect(planLearn(closing(), facts({ openOrders: byId(working) }))).toEqual({
      kind: 'keep',
      working: { kind: 'exit', order: working },
    });
  });

  it('books a listed fill and closes the position with the step’s reason', () => {
    expect(planLearn(closing(), facts({ endedOrders: byId(exitOrder()) }))).toMatchObject({
      kind: 'write',
      closed: 'stop_loss',
      next: { state: 'closed', quantity: 0 },
    });
  });

  it('books a partial fill as a reduction, an unfilled end as nothing sold', () => {
    const part = exitOrder({ status: 'canceled', filled_qty: 3 });
    expect(planLearn(closing(), facts({ endedOrders: byId(part) }))).toMatchObject({
      kind: 'write',
      note: 'reduced',
      next: { state: 'open', quantity: 7 },
    });
    const none = exitOrder({ status: 'expired', filled_qty: 0, filled_avg_price: null });
    expect(planLearn(closing(), facts({ endedOrders: byId(none) }))).toMatchObject({
      kind: 'write',
      note: 'unfilled',
      next: { state: 'open', quantity: 10 },
    });
  });

  it('waits out the lease when the send’s outcome is unknown, but looks up at once after a definite failure', () => {
    expect(planLearn(closing(), facts()).kind).toBe('keep');
    expect(planLearn(closing({ send_failed_at: at(5000) }), facts())).toEqual({
      kind: 'lookup',
      clientOrderId: 'ops-main-x1-rec-0001',
    });
  });

  it('marks a step the broker never saw for a resend; learns a looked-up fill', () => {
    const failed = closing({ send_failed_at: at(5000) });
    expect(planLearn(failed, facts({ lookedUp: new Map([['ops-main-x1-rec-0001', null]]) }))).toEqual({
      kind: 'resend',
    });
    expect(
      planLearn(failed, facts({ lookedUp: new Map([['ops-main-x1-rec-0001', exitOrder()]]) })),
    ).toMatchObject({ kind: 'write', closed: 'stop_loss' });
  });

  it('alerts closing_stuck after three sweeps with no working order (and when no lookup is left)', () => {
    const old = closing({ claimed_at: at(30_000), first_claimed_at: at(3 * MIN) });
    expect(planLearn(old, facts())).toMatchObject({ kind: 'keep', alert: { kind: 'closing_stuck' } });
    const oldFailed = closing({ first_claimed_at: at(3 * MIN), send_failed_at: at(1000) });
    expect(planLearn(oldFailed, facts())).toMatchObject({
      kind: 'lookup',
      ifSkipped: { kind: 'closing_stuck' },
    });
  });

  it('releases a closing record that has no step (back to open)', () => {
    const orphan = makePosition({ state: 'closing', pending_exit: null });
    expect(planLearn(orphan, facts())).toMatchObject({ kind: 'write', next: { state: 'open' } });
  });
});

describe('planLearn: properties', () => {
  const statuses = ['new', 'accepted', 'partially_filled', 'filled', 'canceled', 'expired', 'rejected'];
  const orderArb = fc.record({
    status: fc.constantFrom(...statuses),
    filled: fc.integer({ min: 0, max: 10 }),
  });
  const where = fc.constantFrom('open', 'ended', 'looked', 'absent', 'looked-null');

  function place(o: BrokerOrder, w: string): Partial<LearnFacts> {
    if (w === 'open') return { openOrders: byId(o) };
    if (w === 'ended') return { endedOrders: byId(o) };
    if (w === 'looked') return { lookedUp: new Map([[o.client_order_id, o]]) };
    if (w === 'looked-null') return { lookedUp: new Map([[o.client_order_id, null]]) };
    return {};
  }

  it('never books more than the exit order filled, nor more than the record held; never sends anything itself', () => {
    fc.assert(
      fc.property(orderArb, where, fc.boolean(), (o, w, failed) => {
        const p = closing(failed ? { send_failed_at: at(1000) } : {});
        const brokerOrder = exitOrder({
          status: o.status,
          filled_qty: o.filled,
          filled_avg_price: o.filled ? 3 : null,
        });
        const step: LearnStep = planLearn(p, facts(place(brokerOrder, w)));
        expect(['keep', 'write', 'lookup', 'resend']).toContain(step.kind);
        if (step.kind === 'write') {
          const sold = p.quantity - step.next.quantity;
          expect(sold).toBeGreaterThanOrEqual(0);
          expect(sold).toBeLessThanOrEqual(o.filled);
          // An order that ended ends the step; one still working (as read) books its fills, the step goes on.
          if (step.working) expect(step.next.pending_exit).toEqual(p.pending_exit);
          else expect(step.next.pending_exit).toBeNull();
        }
        if (step.kind === 'resend') expect(w).toBe('looked-null');
      }),
    );
  });

  it('decides the same from the same facts (no hidden input)', () => {
    fc.assert(
      fc.property(orderArb, where, fc.integer({ min: 0, max: 10 * MIN }), (o, w, age) => {
        const p = submitting(age);
        const f = facts(place(order('ops-main-o-rec-0001', { status: o.status, filled_qty: o.filled }), w));
        expect(planLearn(p, f)).toEqual(planLearn(p, f));
      }),
    );
  });
});
