/**
 * The simulator like the fixtures (issue 26): each rule names its source, a fixture id in
 * ../shared/alpaca-fixtures/ or a section of ../shared/ALPACA-OPTIONS.md ("AO").
 */
import type { AlpacaSim, AlpacaSimOptions } from '../../local/alpaca-sim';
import { CALL, KEY_ID, SECRET, startTestSim } from '../helpers/alpaca-sim';

let sim: AlpacaSim;
const start = async (opts: AlpacaSimOptions = {}) => (sim = await startTestSim(opts));
afterEach(async () => sim?.close());

async function call(method: string, path: string, body?: unknown) {
  const r = await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'APCA-API-KEY-ID': KEY_ID, 'APCA-API-SECRET-KEY': SECRET, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

const order = (id: string) => sim.orders(KEY_ID).find((o) => o.id === id)!;
const sell = (over: Record<string, unknown> = {}) =>
  call('POST', '/v2/orders', {
    symbol: CALL,
    qty: '1',
    side: 'sell',
    type: 'limit',
    limit_price: '5',
    time_in_force: 'day',
    ...over,
  });

describe('orders', () => {
  it('an options POST answers pending_new (docs-postorder-Options)', async () => {
    await start();
    const r = await call('POST', '/v2/orders', {
      symbol: CALL,
      qty: '1',
      side: 'buy',
      type: 'limit',
      limit_price: '1',
      time_in_force: 'day',
    });
    expect([r.status, r.body.status]).toEqual([200, 'pending_new']);
  });

  it('an unknown symbol: 422 42210000 asset "X" not found (user-422-asset-not-found)', async () => {
    await start({ strictAssets: true });
    const r = await call('POST', '/v2/orders', {
      symbol: 'ZZZZ',
      qty: '1',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
    });
    expect(r).toEqual({ status: 422, body: { code: 42210000, message: 'asset "ZZZZ" not found' } });
  });

  it('a reused client_order_id and a sub-penny price: code 42210000 (user-422-client-order-id-unique-42210000, docs-orders-at-alpaca-subpenny-0)', async () => {
    await start();
    sim.setPosition(KEY_ID, CALL, 2, 1);
    expect((await sell({ client_order_id: 'dup' })).status).toBe(200);
    expect(await sell({ client_order_id: 'dup' })).toEqual({
      status: 422,
      body: { code: 42210000, message: 'client_order_id must be unique' },
    });
    const sub = await sell({ limit_price: '2.123' });
    expect([sub.status, sub.body.code]).toEqual([422, 42210000]);
    expect(sub.body.message).toMatch(/^invalid limit_price 2.123. sub-penny increment/);
  });

  it('the insufficient-qty 403 names available, existing_qty, held_for_orders, related_orders (forum-403-insufficient-qty-options-mleg)', async () => {
    await start();
    sim.setPosition(KEY_ID, CALL, 1, 1);
    const first = await sell();
    const r = await sell();
    expect(r).toEqual({
      status: 403,
      body: {
        available: '0',
        existing_qty: '1',
        held_for_orders: '1',
        related_orders: [first.body.id],
        symbol: CALL,
        code: 40310000,
        message: 'insufficient qty available for order (requested: 1, available: 0)',
      },
    });
  });

  it('a wrong secret: 401 unauthorized. (user-401-wrong-secret)', async () => {
    await start();
    const r = await fetch(`${sim.url}/v2/account`, {
      headers: { 'APCA-API-KEY-ID': KEY_ID, 'APCA-API-SECRET-KEY': 'nope' },
    });
    expect([r.status, await r.json()]).toEqual([401, { message: 'unauthorized.' }]);
  });
});

describe('cancels', () => {
  it('pending mode: DELETE answers 204, the order sits in pending_cancel and can still fill', async () => {
    await start({ cancelMode: 'pending', fillMode: 'manual' });
    sim.setPosition(KEY_ID, CALL, 1, 1);
    const o = (await sell()).body;
    expect((await call('DELETE', `/v2/orders/${o.id}`)).status).toBe(204);
    expect(order(o.id).status).toBe('pending_cancel');
    sim.fillOrder(o.id, { price: 5 });
    sim.settleCancels();
    expect(order(o.id)).toMatchObject({ status: 'filled', filled_qty: '1' });
  });

  it('pending mode: unfilled, the cancel settles on the next price move', async () => {
    await start({ cancelMode: 'pending' });
    sim.setPosition(KEY_ID, CALL, 1, 1);
    const o = (await sell()).body;
    await call('DELETE', `/v2/orders/${o.id}`);
    sim.setQuote(CALL, { bid: 2.01, ask: 2.1 });
    expect(order(o.id).status).toBe('canceled');
  });

  it('a repeat cancel of a canceled order answers 200 (user-repeat-cancel-of-canceled-order)', async () => {
    await start();
    sim.setPosition(KEY_ID, CALL, 1, 1);
    const o = (await sell()).body;
    expect((await call('DELETE', `/v2/orders/${o.id}`)).status).toBe(204);
    expect(await call('DELETE', `/v2/orders/${o.id}`)).toEqual({ status: 200, body: undefined });
  });
});

describe('replaces whose old order can still fill (AO: PATCH success does not guarantee the replacement)', () => {
  it('old_may_fill: the old order fills first, the replacement is rejected, the old fills stand', async () => {
    await start({ replaceMode: 'old_may_fill', fillMode: 'manual' });
    sim.setPosition(KEY_ID, CALL, 1, 1);
    const old = (await sell()).body;
    const next = await call('PATCH', `/v2/orders/${old.id}`, { limit_price: '4' });
    expect(next.status).toBe(200);
    expect(order(old.id).status).toBe('pending_replace');
    sim.fillOrder(old.id, { price: 5 });
    sim.settleReplaces();
    expect(order(old.id)).toMatchObject({ status: 'filled', filled_qty: '1' });
    expect(order(next.body.id).status).toBe('rejected');
  });

  it('old_may_fill: unfilled, the replace settles (old replaced, new working)', async () => {
    await start({ replaceMode: 'old_may_fill', fillMode: 'manual' });
    sim.setPosition(KEY_ID, CALL, 1, 1);
    const old = (await sell()).body;
    const next = (await call('PATCH', `/v2/orders/${old.id}`, { limit_price: '4' })).body;
    sim.settleReplaces();
    expect(order(old.id)).toMatchObject({ status: 'replaced', replaced_by: next.id });
    expect(order(next.id).status).toBe('new');
  });
});

describe('activities', () => {
  it('FEE with activity_sub_type, accrued on fills and charged once at the close (AO; changelog 2026-11-06)', async () => {
    await start({ regulatoryFees: { ORF: 0.02295, OCC: 0.02 } });
    await call('POST', '/v2/orders', {
      symbol: CALL,
      qty: '3',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
    });
    await call('POST', '/v2/orders', {
      symbol: CALL,
      qty: '1',
      side: 'sell',
      type: 'market',
      time_in_force: 'day',
    });
    expect(sim.activities(KEY_ID)).toEqual([]);
    sim.expireDayOrders();
    const fees = sim.activities(KEY_ID);
    expect(fees.map((f) => [f.activity_type, f.activity_sub_type, f.net_amount])).toEqual([
      ['FEE', 'ORF', '-0.09'],
      ['FEE', 'OCC', '-0.08'],
    ]);
    sim.expireDayOrders();
    expect(sim.activities(KEY_ID)).toHaveLength(2);
  });

  it('next_trading_day: an option event changes the position now, its activity lists from the next trading day', async () => {
    let now = new Date('2026-12-04T18:00:00Z'); // a Friday
    await start({ optionEventsSync: 'next_trading_day', now: () => now });
    sim.setPosition(KEY_ID, CALL, 1, 1);
    sim.expireContract(KEY_ID, CALL);
    expect(sim.positions(KEY_ID)).toEqual([]);
    expect((await call('GET', '/v2/account/activities?activity_types=OPEXP')).body).toEqual([]);
    now = new Date('2026-12-06T12:00:00Z'); // Sunday: not yet
    expect((await call('GET', '/v2/account/activities?activity_types=OPEXP')).body).toEqual([]);
    now = new Date('2026-12-07T05:30:00Z'); // Monday 00:30 New York
    const listed = (await call('GET', '/v2/account/activities?activity_types=OPEXP')).body;
    expect(listed.map((a: { symbol: string }) => a.symbol)).toEqual([CALL]);
  });

  it('immediate (default): the activity lists at once', async () => {
    await start();
    sim.setPosition(KEY_ID, CALL, 1, 1);
    sim.expireContract(KEY_ID, CALL);
    expect((await call('GET', '/v2/account/activities?activity_types=OPEXP')).body).toHaveLength(1);
  });
});

describe('market data', () => {
  it("GET /v1beta1/options/bars from the simulator's own quotes (alpaca-py-test_get_bars shape)", async () => {
    await start();
    await call('POST', '/v2/orders', {
      symbol: CALL,
      qty: '2',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
    });
    const r = await call('GET', `/v1beta1/options/bars?symbols=${CALL}&timeframe=1Min`);
    expect(r.status).toBe(200);
    // One-minute bars of the mid the simulator quoted (what the lab replays offline), in Alpaca's fields.
    expect(r.body).toEqual({
      bars: {
        [CALL]: [
          {
            c: 2.05,
            h: 2.05,
            l: 2.05,
            n: expect.any(Number),
            o: 2.05,
            t: expect.stringMatching(/T\d\d:\d\d:00Z$/),
            v: expect.any(Number),
            vw: 2.05,
          },
        ],
      },
      next_page_token: null,
    });
  });
});
