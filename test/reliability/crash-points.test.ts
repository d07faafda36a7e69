/**
 * Issue 6, crash points: the real handlers are killed at each point between two side effects — a wrapped
 * adapter throws a simulated crash right before or right after the real call — and the retry (SQS
 * redelivery for the open path, the next scheduled sweep for the exit path) must converge with exactly one
 * order at the broker and a table that agrees with it.
 *
 * Open path:  claim → send → record → acknowledge.   Exit path: claim step → send → record order → record fill.
 *
 * The handlers and the simulator run on the test's clock with the real 120 s claim lease: a retry before
 * the lease is over leaves a claim alone whose outcome is unknown, and the test moves the clock past it.
 */
import './quiet';
import type { SQSBatchResponse } from 'aws-lambda';
import { createOpenOrderHandler } from '../../shared/handlers/open-order';
import { createExitEvaluatorHandler } from '../../shared/handlers/exit-evaluator';
import { AlpacaAdapter } from '../../shared/adapters/alpaca';
import type { Position } from '../../shared/domain/position';
import type { Broker, PositionStore } from '../../shared/ports';
import { SILENT_LOG as SILENT } from '../../shared/observability';
import {
  brokerQty,
  KEY_ID,
  SECRET,
  sentOrders,
  sqsEvent,
  sqsRecord,
  startPipeline,
  type Pipeline,
} from '../helpers/pipeline';
import { FUTURE_SYMBOL, recommendationBody } from '../helpers/recommendations';

/** Thrown where the process "dies": not a PipelineError, so nothing downstream treats it as a known failure. */
class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated crash ${where}`);
    this.name = 'SimulatedCrash';
  }
}

type When = 'before' | 'after';

/** Wraps one method of an adapter so that its `nth` matching call crashes before or after the real call. */
function crashing<T extends object>(
  target: T,
  method: keyof T & string,
  when: When,
  matches: (...args: unknown[]) => boolean = () => true,
): { proxy: T; crashed: () => boolean } {
  let done = false;
  const proxy = new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const fn = v as (...a: unknown[]) => Promise<unknown>;
      if (prop !== method) return fn.bind(t);
      return async (...args: unknown[]) => {
        if (done || !matches(...args)) return fn.apply(t, args);
        done = true;
        if (when === 'before') throw new SimulatedCrash(`before ${method}`);
        await fn.apply(t, args);
        throw new SimulatedCrash(`after ${method}`);
      };
    },
  });
  return { proxy, crashed: () => done };
}

let p: Pipeline;
let broker: AlpacaAdapter;
let store: PositionStore;

/** The test's clock (ms): the handlers and the simulator read it. */
let clockMs = 0;
const now = () => new Date(clockMs);
const LEASE_MS = 120_000;
let quote = { bid: 2.0, ask: 2.1 };
const setQuote = (q: { bid: number; ask: number }) => {
  quote = q;
  p.sim.setQuote(FUTURE_SYMBOL, q);
};
/** The claim lease runs out; the market keeps quoting (the quote is stamped at the new time). */
const pastLease = () => {
  clockMs += LEASE_MS + 1_000;
  p.sim.setQuote(FUTURE_SYMBOL, quote);
};

beforeEach(async () => {
  // Starts at the wall clock's minute, so the test contracts (derived from it) are far from expiry.
  clockMs = Math.floor(Date.now() / 60_000) * 60_000;
  p = await startPipeline({
    account: { name: 'main', limits: { max_open_positions: 50 } },
    now,
  });
  setQuote({ bid: 2.0, ask: 2.1 });
  broker = new AlpacaAdapter({
    keyId: KEY_ID,
    secretKey: SECRET,
    tradingBaseUrl: p.sim.url,
    dataBaseUrl: p.sim.url,
    timeoutMs: 2000,
  });
  store = p.table.store;
});
afterEach(async () => {
  await p.close();
});

function openHandler(b: Broker = broker, s: PositionStore = store) {
  return createOpenOrderHandler(p.env, {
    deps: async () => ({ broker: b, marketData: broker, store: s, lease: p.table.store }),
    log: SILENT,
    now,
  });
}
function sweepHandler(b: Broker = broker, s: PositionStore = store) {
  return createExitEvaluatorHandler(p.env, {
    deps: async () => ({ broker: b, marketData: broker, store: s, lease: p.table.store }),
    log: SILENT,
    now,
  });
}

const body = (id: string, extra: Record<string, unknown> = {}) =>
  recommendationBody({ recommendation_id: id, num_contracts: 3, ...extra });

/** Delivers one message (receive count n) to a fresh container; returns the failed ids. */
async function deliver(handler: ReturnType<typeof openHandler>, id: string, n: number): Promise<string[]> {
  const res: SQSBatchResponse = await handler(
    sqsEvent([sqsRecord(body(id), { messageId: `m-${id}`, receiveCount: n })]),
  );
  return res.batchItemFailures.map((f) => f.itemIdentifier);
}

const ordersFor = (cid: string) => p.sim.orders(KEY_ID).filter((o) => o.client_order_id === cid);
const heldQty = () => brokerQty(p.sim, FUTURE_SYMBOL);

/** The open converged: one order, one open position of 3 matching the broker. */
async function expectOpenConverged(id: string) {
  await sweepHandler()();
  expect(ordersFor(`ops-main-o-${id}`)).toHaveLength(1);
  expect(
    sentOrders(p.sim).filter((o) => o.client_order_id === `ops-main-o-${id}`).length,
  ).toBeGreaterThanOrEqual(1);
  expect(await store.get('main', id)).toMatchObject({ state: 'open', quantity: 3 });
  expect(heldQty()).toBe(3);
}

describe('open path', () => {
  const isOpening = (order: unknown) => (order as { position_intent?: string }).position_intent !== undefined;

  it('crash between claiming and sending: the redelivery sends once', async () => {
    const { proxy, crashed } = crashing(store, 'claim', 'after');
    expect(await deliver(openHandler(broker, proxy), 'c1', 1)).toEqual(['m-c1']);
    expect(crashed()).toBe(true);
    expect(p.sim.orders(KEY_ID)).toHaveLength(0);
    expect(await store.get('main', 'c1')).toMatchObject({ state: 'submitting' });

    // Within the lease the claim may belong to a delivery still sending: left alone, retried later.
    expect(await deliver(openHandler(), 'c1', 2)).toEqual(['m-c1']);
    expect(p.sim.orders(KEY_ID)).toHaveLength(0);
    pastLease();
    expect(await deliver(openHandler(), 'c1', 3)).toEqual([]);
    await expectOpenConverged('c1');
  });

  it('crash between sending and recording: the redelivery finds the order, sends nothing', async () => {
    const { proxy } = crashing(broker, 'submitOrder', 'after', isOpening);
    expect(await deliver(openHandler(proxy), 'c2', 1)).toEqual(['m-c2']);
    expect(ordersFor('ops-main-o-c2')).toHaveLength(1);
    expect(await store.get('main', 'c2')).toMatchObject({ state: 'submitting' });

    pastLease();
    expect(await deliver(openHandler(), 'c2', 2)).toEqual([]);
    expect(sentOrders(p.sim)).toHaveLength(1);
    await expectOpenConverged('c2');
  });

  it('crash between sending and recording, message then dead-lettered: the sweep adopts the order', async () => {
    const { proxy } = crashing(broker, 'submitOrder', 'after', isOpening);
    expect(await deliver(openHandler(proxy), 'c3', 1)).toEqual(['m-c3']);
    // No redelivery at all (say it went to the DLQ): the sweep resolves the abandoned claim by lookup,
    // once the lease is over.
    await sweepHandler()();
    expect(await store.get('main', 'c3')).toMatchObject({ state: 'submitting' });
    pastLease();
    await expectOpenConverged('c3');
    expect(sentOrders(p.sim)).toHaveLength(1);
  });

  it('crash between recording and acknowledging: the redelivery is a duplicate, no order', async () => {
    // The record is the claim's replace with the broker's order; crash right after it succeeded.
    const { proxy } = crashing(store, 'replace', 'after');
    expect(await deliver(openHandler(broker, proxy), 'c4', 1)).toEqual(['m-c4']);
    expect(await store.get('main', 'c4')).toMatchObject({ state: 'pending' });

    expect(await deliver(openHandler(), 'c4', 2)).toEqual([]);
    expect(sentOrders(p.sim)).toHaveLength(1);
    await expectOpenConverged('c4');
  });

  it('crash before the send leaves the broker untouched; the redelivery sends once', async () => {
    const { proxy } = crashing(broker, 'submitOrder', 'before', isOpening);
    expect(await deliver(openHandler(proxy), 'c5', 1)).toEqual(['m-c5']);
    expect(p.sim.orders(KEY_ID)).toHaveLength(0);
    pastLease();
    expect(await deliver(openHandler(), 'c5', 2)).toEqual([]);
    await expectOpenConverged('c5');
  });
});

describe('exit path', () => {
  const isClosing = (order: unknown) => (order as { position_intent?: string }).position_intent === undefined;
  const exitCid = 'ops-main-x1-e';

  /** An open long of 3 whose stop-loss fires on the next sweep. */
  async function openThenDrop(): Promise<Position> {
    expect(await deliver(openHandler(), 'e', 1)).toEqual([]);
    await sweepHandler()();
    const pos = await store.get('main', 'e');
    expect(pos).toMatchObject({ state: 'open', quantity: 3 });
    setQuote({ bid: 1.0, ask: 1.1 }); // -50%: the 25% stop fires
    return pos!;
  }

  async function expectExitConverged() {
    pastLease();
    for (let i = 0; i < 3; i++) await sweepHandler()();
    expect(ordersFor(exitCid)).toHaveLength(1);
    expect(
      p.sim.orders(KEY_ID).filter((o) => String(o.client_order_id).startsWith('ops-main-x')),
    ).toHaveLength(1);
    expect(await store.get('main', 'e')).toMatchObject({
      state: 'closed',
      close_reason: 'stop_loss',
      quantity: 0,
    });
    expect(heldQty()).toBe(0);
    for (const o of sentOrders(p.sim).filter((x) => x.client_order_id === exitCid)) {
      expect(o).not.toHaveProperty('position_intent');
      expect(o).toMatchObject({ symbol: FUTURE_SYMBOL, side: 'sell', qty: '3' });
    }
  }

  it('crash between claiming the step and sending: the next sweep sends it once', async () => {
    await openThenDrop();
    const { proxy, crashed } = crashing(
      store,
      'replace',
      'after',
      (_prev, next) => (next as Position).state === 'closing',
    );
    await sweepHandler(broker, proxy)();
    expect(crashed()).toBe(true);
    expect(await store.get('main', 'e')).toMatchObject({
      state: 'closing',
      pending_exit: { order_id: null },
    });
    expect(ordersFor(exitCid)).toHaveLength(0);
    // Within the lease the outcome is unknown (a sweep may still be sending it): nothing is sent.
    await sweepHandler()();
    expect(ordersFor(exitCid)).toHaveLength(0);
    await expectExitConverged();
  });

  it('crash between sending and recording the order: the next sweep finds it, sends nothing', async () => {
    await openThenDrop();
    const { proxy, crashed } = crashing(broker, 'submitOrder', 'after', isClosing);
    await sweepHandler(proxy)();
    expect(crashed()).toBe(true);
    expect(ordersFor(exitCid)).toHaveLength(1);
    expect(await store.get('main', 'e')).toMatchObject({
      state: 'closing',
      pending_exit: { order_id: null },
    });
    await expectExitConverged();
    expect(sentOrders(p.sim).filter((o) => o.client_order_id === exitCid)).toHaveLength(1);
  });

  it('crash between recording the order and recording the fill: the next sweep applies the fill once', async () => {
    await openThenDrop();
    const { proxy, crashed } = crashing(
      store,
      'replace',
      'after',
      (_prev, next) => (next as Position).pending_exit?.order_id != null,
    );
    await sweepHandler(broker, proxy)();
    expect(crashed()).toBe(true);
    expect(await store.get('main', 'e')).toMatchObject({ state: 'closing' });
    await expectExitConverged();
    expect(sentOrders(p.sim).filter((o) => o.client_order_id === exitCid)).toHaveLength(1);
  });

  it('crash right after recording the fill: nothing is left to do, nothing is sent again', async () => {
    await openThenDrop();
    await sweepHandler()(); // sends the exit; its fill shows on the next read
    const { proxy, crashed } = crashing(
      store,
      'replace',
      'after',
      (_prev, next) => (next as Position).state === 'closed',
    );
    await sweepHandler(broker, proxy)();
    expect(crashed()).toBe(true);
    await expectExitConverged();
    expect(sentOrders(p.sim).filter((o) => o.client_order_id === exitCid)).toHaveLength(1);
  });

  it('two sweeps racing right after a crash still send the step once', async () => {
    await openThenDrop();
    const { proxy } = crashing(
      store,
      'replace',
      'after',
      (_prev, next) => (next as Position).state === 'closing',
    );
    await sweepHandler(broker, proxy)();
    await Promise.all([sweepHandler()(), sweepHandler()(), sweepHandler()()]);
    await expectExitConverged();
  });
});
