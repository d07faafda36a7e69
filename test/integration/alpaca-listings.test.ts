/**
 * Issue 26, item 1: one order (or activity) the adapter cannot read never takes a listing down. A notional
 * order (`qty: null`, as in Alpaca's sample order object) is left out and named in the listing's
 * `unreadable`; an activity of a type the filter should have excluded is skipped and counted.
 */
import type { AlpacaSim } from '../../local/alpaca-sim';
import { skippedOf, unreadableOf } from '../../shared/domain/broker-types';
import { TransientError } from '../../shared/domain/errors';
import { CALL, KEY_ID, adapterFor, rejectionOf, startTestSim } from '../helpers/alpaca-sim';

let sim: AlpacaSim;

beforeEach(async () => {
  sim = await startTestSim({ fillMode: 'manual' });
});

afterEach(async () => {
  await sim.close();
});

/** Alpaca's sample order object (a notional equity order: `qty: null`, `notional: "500"`). */
function notionalOrderJson(id: string, createdAt: string): Record<string, unknown> {
  return {
    id,
    client_order_id: 'eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4',
    created_at: createdAt,
    updated_at: createdAt,
    submitted_at: createdAt,
    filled_at: null,
    expired_at: null,
    canceled_at: null,
    failed_at: null,
    replaced_at: null,
    replaced_by: null,
    replaces: null,
    asset_id: '904837e3-3b76-47ec-b432-046db621571b',
    symbol: 'AAPL',
    asset_class: 'us_equity',
    notional: '500',
    qty: null,
    filled_qty: '0',
    filled_avg_price: null,
    order_class: 'simple',
    order_type: 'market',
    type: 'market',
    side: 'buy',
    time_in_force: 'day',
    limit_price: null,
    stop_price: null,
    status: 'accepted',
    extended_hours: false,
    legs: null,
    trail_percent: null,
    trail_price: null,
    hwm: null,
  };
}

async function placeOurs(): Promise<string> {
  const placed = await adapterFor(sim).submitOrder({
    symbol: CALL,
    qty: 1,
    side: 'buy',
    type: 'limit',
    limit_price: 1.5,
    time_in_force: 'day',
    client_order_id: 'ops-main-o-list1',
    position_intent: 'buy_to_open',
  });
  return placed.id;
}

describe('order listings with an order the adapter cannot read', () => {
  it('open orders: a notional order in the answer is left out and named, the rest is read', async () => {
    const ours = await placeOurs();
    const real = (await adapterFor(sim).listOpenOrders())[0];
    // The listing exactly as Alpaca may send it: our order and one a person placed by notional.
    const raw = sim.orders(KEY_ID);
    sim.injectFault({
      method: 'GET',
      path: '/v2/orders',
      status: 200,
      body: [notionalOrderJson('61e69015-8549-4bfd-b9c3-01e75843f47d', real.created_at), ...raw],
    });
    const list = await adapterFor(sim).listOpenOrders();
    expect(list.map((o) => o.id)).toEqual([ours]);
    expect(unreadableOf(list)).toEqual([
      { id: '61e69015-8549-4bfd-b9c3-01e75843f47d', why: expect.stringContaining('no qty') },
    ]);
    // Non-enumerable: the listing still equals the plain list of what was read.
    expect(JSON.parse(JSON.stringify(list))).toHaveLength(1);
  });

  it('open orders: a notional order resting in the simulated account is left out and named', async () => {
    const ours = await placeOurs();
    const notional = sim.addNotionalOrder(KEY_ID, { symbol: 'AAPL', notional: 500 });
    expect(notional).toMatchObject({ qty: null, notional: '500', status: 'accepted' });
    const list = await adapterFor(sim).listOpenOrders();
    expect(list.map((o) => o.id)).toEqual([ours]);
    expect(unreadableOf(list).map((u) => u.id)).toEqual([notional.id]);
    expect(unreadableOf(list)[0].why).toContain('notional 500');
  });

  it('closed orders: a cancelled notional order is left out and named, paging goes on', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const ours = await placeOurs();
    sim.cancelOrder(ours);
    const notional = sim.addNotionalOrder(KEY_ID, { symbol: 'AAPL', notional: 250, side: 'buy' });
    sim.cancelOrder(String(notional.id));
    const list = await adapterFor(sim).listClosedOrders(since);
    expect(list.map((o) => o.id)).toEqual([ours]);
    expect(unreadableOf(list).map((u) => u.id)).toEqual([notional.id]);
  });

  it('a plain listing has nothing unreadable', async () => {
    await placeOurs();
    expect(unreadableOf(await adapterFor(sim).listOpenOrders())).toEqual([]);
    expect(unreadableOf([])).toEqual([]);
    expect(unreadableOf(null)).toEqual([]);
  });
});

describe('activity listings with an entry of a type the filter should have excluded', () => {
  const expiry = {
    id: '20261203000000000::0f6b4b5e-4a6a-4b38-9b47-111111111111',
    activity_type: 'OPEXP',
    date: '2026-12-03',
    net_amount: '0',
    description: 'Option Expiry',
    symbol: CALL,
    qty: '-1',
    status: 'executed',
  };
  const fill = {
    id: '20261203150000000::1a2b3c4d-0000-4000-8000-222222222222',
    activity_type: 'FILL',
    transaction_time: '2026-12-03T15:00:00Z',
    type: 'fill',
    price: '1.50',
    qty: '1',
    side: 'buy',
    symbol: CALL,
    leaves_qty: '0',
    order_id: '904837e3-3b76-47ec-b432-046db621571b',
    cum_qty: '1',
    order_status: 'filled',
  };

  it('skips and counts a FILL entry, keeps the option events', async () => {
    sim.injectFault({ method: 'GET', path: '/v2/account/activities', status: 200, body: [fill, expiry] });
    const list = await adapterFor(sim).listActivities('2026-12-01T00:00:00Z');
    expect(list).toEqual([
      { id: expiry.id, type: 'OPEXP', date: '2026-12-03', symbol: CALL, qty: -1, net_amount: 0 },
    ]);
    expect(skippedOf(list)).toBe(1);
  });

  it('still refuses a malformed entry of a wanted type (booking it wrong is worse than waiting)', async () => {
    sim.injectFault({
      method: 'GET',
      path: '/v2/account/activities',
      status: 200,
      body: [{ ...expiry, qty: 'one' }],
    });
    const err = await rejectionOf(adapterFor(sim).listActivities('2026-12-01T00:00:00Z'));
    expect(err).toBeInstanceOf(TransientError);
  });
});
