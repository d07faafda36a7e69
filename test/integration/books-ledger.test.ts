/**
 * The books on a ledger of each position's orders (issue 23), end to end: real handlers, dynalite, the
 * Alpaca simulator over HTTP and the real SDK. Each case failed on the books kept as deltas on the record.
 */
import { loadRuntimeConfig } from '../../shared/config';
import { buildPipelineDeps } from '../../shared/wiring';
import { projectionOf } from '../../shared/domain/position-books';
import type { Broker } from '../../shared/ports';
import { KEY_ID, loadSweepHandlerWith, lambdaContext } from '../helpers/pipeline';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { FUTURE_SYMBOL } from '../helpers/recommendations';

let h: ExitHarness;
async function start(exec: Record<string, unknown>) {
  h = await startExitHarness({
    claimLeaseSeconds: 120,
    account: {
      name: 'main',
      limits: { max_open_positions: 100 },
      exit_defaults: { close_before_expiry_days: 1, take_profit_pct: null, stop_loss_pct: null },
      exit_execution: exec,
    },
  });
  h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
}
afterEach(async () => {
  if (!h) return;
  h.expectEveryCloseSafe();
  h.expectNoShort();
  await h.close();
});

const orderOf = (cid: RegExp) =>
  h.p.sim.orders(KEY_ID).find((o) => cid.test(String(o.client_order_id)) && o.status !== 'canceled')!;

describe('case 1: a stop that fills in parts is booked at each part’s price', () => {
  it('a resting stop for 2 (entry 2.10) filling 1 at 1.60, then 1 at 1.50, realizes −$110 (not −$105)', async () => {
    await start({ broker_stop: 'stop' });
    await h.open({ recommendation_id: 'c1', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    expect(await h.get('c1')).toMatchObject({ entry_price: 2.1, quantity: 2 });
    h.p.sim.setFillMode('manual');
    const stop = orderOf(/^ops-main-s\d+-c1/);
    h.p.sim.fillOrder(String(stop.id), { qty: 1, price: 1.6 });
    await h.sweep();
    expect(await h.get('c1')).toMatchObject({ state: 'open', quantity: 1, realized_pnl: -50 });
    h.p.sim.fillOrder(String(stop.id), { qty: 1, price: 1.5 });
    await h.sweep();
    const p = (await h.get('c1'))!;
    expect(p).toMatchObject({ state: 'closed', quantity: 0, realized_pnl: -110, exit_price: 1.55 });
    // Each part on the stop's own ledger entry, at its own price; a further sweep books nothing more.
    const stopEntry = p.ledger!.orders.find((o) => o.role === 'stop')!;
    expect(stopEntry.fills.map((f) => [f.qty, f.notional_cents])).toEqual([
      [1, 16_000],
      [1, 15_000],
    ]);
    expect(projectionOf(p).realized_cents).toBe(-11_000);
  });
});

describe('case 2: reconcile counts a working exit’s fills on its own record', () => {
  it('A (2) and B (3) on one contract, B’s take-profit limit for 3 filled 1, the broker holds 4: A keeps 2', async () => {
    await start({ order_type: 'marketable_limit', reprice_after_seconds: 3600 });
    await h.open({
      recommendation_id: 'a',
      num_contracts: 2,
      exit_plan: { take_profit_pct: null, stop_loss_pct: null },
    });
    await h.open({ recommendation_id: 'b', num_contracts: 3, exit_plan: { take_profit_pct: 0.5 } });
    h.p.sim.setFillMode('manual');
    h.mid(FUTURE_SYMBOL, 3.5); // B's take profit fires (bid 3.45 ≥ 3.15); A has no exit rule
    await h.sweep();
    const working = orderOf(/^ops-main-x1-b$/);
    expect(working).toMatchObject({ qty: '3', type: 'limit' });
    h.p.sim.fillOrder(String(working.id), { qty: 1 });
    const alerts = [];
    for (let i = 0; i < 3; i++) alerts.push(...(await h.sweep()).alerts);
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(4);
    expect(alerts.filter((a) => a.kind === 'broker_qty_mismatch')).toEqual([]);
    expect(await h.get('a')).toMatchObject({ state: 'open', quantity: 2 });
    expect(await h.get('b')).toMatchObject({ state: 'closing', quantity: 2 });
    // B finishes: A still holds its 2, with its plan.
    h.p.sim.fillOrder(String(working.id), {});
    await h.sweep();
    await h.sweep();
    expect(await h.get('b')).toMatchObject({ state: 'closed', quantity: 0 });
    expect(await h.get('a')).toMatchObject({ state: 'open', quantity: 2 });
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(2);
  });
});

describe('case 8: a stop fill between the two reads is booked once', () => {
  it('the stop of A fills after the orders read and before the positions read: A is not brought down, the fill is booked once', async () => {
    await start({ broker_stop: 'stop' });
    await h.open({ recommendation_id: 'a', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    await h.open({ recommendation_id: 'b', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    await h.sweep(); // both stops rest
    h.p.sim.setFillMode('manual');
    const stopA = orderOf(/^ops-main-s\d+-a$/);
    expect(stopA).toBeDefined();
    // A sweep whose broker reads the open orders, then sees the stop fill, then reads the positions.
    const env = h.p.env;
    const config = loadRuntimeConfig(env);
    const real = await buildPipelineDeps(env, config);
    let raced = false;
    const broker: Broker = Object.create(real.broker) as Broker;
    let ordersRead: () => void = () => undefined;
    const ordersDone = new Promise<void>((resolve) => (ordersRead = resolve));
    broker.listOpenOrders = async () => {
      const listing = await real.broker.listOpenOrders();
      if (!raced) {
        raced = true;
        h.p.sim.fillOrder(String(stopA.id), { qty: 1, price: 1.5 });
      }
      ordersRead();
      return listing;
    };
    broker.listPositions = async () => {
      await ordersDone;
      return real.broker.listPositions();
    };
    const racing = loadSweepHandlerWith(h.p, { deps: async () => ({ ...real, broker }) });
    const r = await racing({}, lambdaContext);
    expect(raced).toBe(true);
    expect(r.alerts.filter((a) => a.kind === 'broker_qty_mismatch')).toEqual([]);
    await h.sweep();
    await h.sweep();
    const a = (await h.get('a'))!;
    expect(a).toMatchObject({ state: 'open', quantity: 1 });
    expect(a.realized_pnl).toBe(-60); // 1 at 1.50 against 2.10, once
    expect(await h.get('b')).toMatchObject({ state: 'open', quantity: 2 });
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(3);
  });
});

describe('records written before the ledger keep working', () => {
  it('a pre-ledger record whose stop filled 1 of 2 books only the rest when it fills, at its own price', async () => {
    await start({ broker_stop: 'stop' });
    await h.open({ recommendation_id: 'old', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    h.p.sim.setFillMode('manual');
    const stop = orderOf(/^ops-main-s\d+-old/);
    h.p.sim.fillOrder(String(stop.id), { qty: 1, price: 1.6 });
    await h.sweep();
    const booked = (await h.get('old'))!;
    expect(booked).toMatchObject({ quantity: 1, realized_pnl: -50, broker_stop: { filled_booked: 1 } });
    // The same record as a version before the ledger wrote it: its fields, no ledger.
    const { ledger, ...fields } = booked;
    expect(ledger).toBeDefined();
    await h.p.table.store.replace(booked, fields as typeof booked);
    expect((await h.get('old'))!.ledger).toBeUndefined();
    h.p.sim.fillOrder(String(stop.id), { qty: 1, price: 1.5 });
    await h.sweep();
    const p = (await h.get('old'))!;
    expect(p).toMatchObject({ state: 'closed', quantity: 0, realized_pnl: -110 });
    expect(p.ledger!.legacy_notes).toEqual([]);
  });
});
