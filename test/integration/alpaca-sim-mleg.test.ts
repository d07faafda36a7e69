/**
 * Multi-leg (`order_class: mleg`) orders in the simulator, over HTTP with the real SDK (its `postOrder` takes
 * `orderClass: 'mleg'` and `legs`): one parent order with its legs in every order view, Level 3, per-leg
 * intent inference, each closing leg against its qty available, legs filled together or not at all at the
 * net price, working mleg orders holding each closing leg, cancel on the parent (ALPACA-OPTIONS.md
 * "Multi-leg orders"; the read-back shape of fixture docs-postorder-MultilegOptions, the 403 body of
 * forum-403-insufficient-qty-options-mleg).
 */
import { errors, trading } from '@alpacahq/alpaca-trade-api/rest';
import type { AlpacaSim } from '../../local/alpaca-sim';
import { fixturesAvailable, loadFixtures } from '../helpers/alpaca-fixtures';
import { KEY_ID, SECRET, rejectionOf, sdkFor, startTestSim } from '../helpers/alpaca-sim';
import { futureCall } from '../helpers/recommendations';

/** A GOOGL 340/350 call vertical (long the 340, short the 350). */
const LONG = futureCall(340);
const SHORT = futureCall(350);

type Raw = Record<string, unknown>;

let sim: AlpacaSim;
let sdk: ReturnType<typeof sdkFor>;

beforeEach(async () => {
  sim = await startTestSim();
  sim.setQuote(LONG, { bid: 5, ask: 5.2 });
  sim.setQuote(SHORT, { bid: 2, ask: 2.1 });
  sdk = sdkFor(sim);
});

afterEach(async () => {
  await sim?.close();
});

/** The body of a debit vertical opened with the explicit intent on each leg. */
function openVertical(over: Partial<trading.PostOrderRequest> = {}): trading.PostOrderRequest {
  return {
    orderClass: 'mleg',
    qty: '2',
    type: 'limit',
    limitPrice: '3.30',
    timeInForce: 'day',
    clientOrderId: 'open-vertical-1',
    legs: [
      { symbol: LONG, ratioQty: '1', side: 'buy', positionIntent: 'buy_to_open' },
      { symbol: SHORT, ratioQty: '1', side: 'sell', positionIntent: 'sell_to_open' },
    ],
    ...over,
  };
}

/** The close of that vertical: no position_intent on any leg (the broker infers it per leg). */
function closeVertical(qty: string, over: Partial<trading.PostOrderRequest> = {}): trading.PostOrderRequest {
  return {
    orderClass: 'mleg',
    qty,
    type: 'market',
    timeInForce: 'day',
    legs: [
      { symbol: LONG, ratioQty: '1', side: 'sell' },
      { symbol: SHORT, ratioQty: '1', side: 'buy' },
    ],
    ...over,
  };
}

async function raw(path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: Raw }> {
  const r = await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'APCA-API-KEY-ID': KEY_ID, 'APCA-API-SECRET-KEY': SECRET, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : {}) as Raw };
}

async function apiError(p: Promise<unknown>): Promise<errors.ApiError> {
  const err = await rejectionOf(p);
  expect(err).toBeInstanceOf(errors.ApiError);
  return err as errors.ApiError;
}

function position(symbol: string): Raw | undefined {
  return sim.positions(KEY_ID).find((p) => p.symbol === symbol);
}

const legsOf = (o: Raw) => o.legs as Raw[];

describe('mleg orders in the simulator', () => {
  it('opens a vertical as one parent order, every leg keeping its intent, filled together at the net', async () => {
    const posted = await sdk.orders.postOrder({ postOrderRequest: openVertical() });
    expect(posted.orderClass).toBe('mleg');
    expect(posted.symbol).toBe('');
    expect(posted.legs?.map((l) => [l.symbol, l.side, l.positionIntent, l.qty])).toEqual([
      [LONG, 'buy', 'buy_to_open', '2'],
      [SHORT, 'sell', 'sell_to_open', '2'],
    ]);
    // The SDK's Order model drops a leg's ratio_qty; the wire has it.
    const wire = (await raw(`/v2/orders/${posted.id}`)).body;
    expect(legsOf(wire).map((l) => l.ratio_qty)).toEqual(['1', '1']);

    // Marketable (5.20 - 2.00 = 3.20 <= 3.30): both legs filled, each at its own side of the quote.
    const read = await sdk.orders.getOrderByOrderID({ orderId: posted.id! });
    expect(read.status).toBe('filled');
    expect(read.filledQty).toBe('2');
    expect(read.filledAvgPrice).toBe('3.2');
    expect(read.legs?.map((l) => [l.status, l.filledQty, l.filledAvgPrice])).toEqual([
      ['filled', '2', '5.2'],
      ['filled', '2', '2'],
    ]);
    expect(new Set(read.legs?.map((l) => l.id)).size).toBe(2);
    expect(read.legs?.map((l) => l.id)).not.toContain(read.id);
    expect(Number(position(LONG)?.qty)).toBe(2);
    expect(Number(position(SHORT)?.qty)).toBe(-2);
    // Cash: paid 2 x 100 x 5.20, received 2 x 100 x 2.00.
    expect((await sdk.accounts.getAccount()).cash).toBe('99360.00');

    // Every order view shows the one parent with its legs (no leg listed on its own).
    const byCid = await sdk.orders.getOrderByClientOrderId({ clientOrderId: 'open-vertical-1' });
    expect(byCid.id).toBe(posted.id);
    expect(byCid.legs).toHaveLength(2);
    const closed = await sdk.orders.getAllOrders({ status: 'closed' });
    expect(closed.map((o) => o.id)).toEqual([posted.id]);
    expect(closed[0].legs).toHaveLength(2);
    const bySymbol = await sdk.orders.getAllOrders({ status: 'all', symbols: SHORT });
    expect(bySymbol.map((o) => o.id)).toEqual([posted.id]);
    const rawParent = (await raw(`/v2/orders/${posted.id}`)).body;
    expect([rawParent.symbol, rawParent.side, rawParent.asset_class]).toEqual(['', '', '']);
  });

  it('infers each leg of an intent-free close from that leg’s position, and closes every leg', async () => {
    sim.setPosition(KEY_ID, LONG, 2, 4);
    sim.setPosition(KEY_ID, SHORT, -2, 1.5);
    const posted = await sdk.orders.postOrder({ postOrderRequest: closeVertical('2') });
    expect(posted.legs?.map((l) => l.positionIntent)).toEqual(['sell_to_close', 'buy_to_close']);
    const read = await sdk.orders.getOrderByOrderID({ orderId: posted.id! });
    expect(read.status).toBe('filled');
    // Selling the spread yields 5.00 - 2.10 = 2.90 a share: a credit, shown negative.
    expect(read.filledAvgPrice).toBe('-2.9');
    expect(position(LONG)).toBeUndefined();
    expect(position(SHORT)).toBeUndefined();
    // The raw body the simulator received had no position_intent on any leg.
    const [req] = sim.requestsTo('POST', '/v2/orders');
    for (const leg of (req.body as { legs: Raw[] }).legs) expect(leg).not.toHaveProperty('position_intent');
  });

  it('an intent-free leg selling a contract not held opens a short on that leg (inference, not a close)', async () => {
    sim.setPosition(KEY_ID, SHORT, -1, 1.5);
    const posted = await sdk.orders.postOrder({ postOrderRequest: closeVertical('1') });
    expect(posted.legs?.map((l) => l.positionIntent)).toEqual(['sell_to_open', 'buy_to_close']);
    expect(Number(position(LONG)?.qty)).toBe(-1);
    expect(position(SHORT)).toBeUndefined();
  });

  it('refuses a close for more than a leg holds with 403 and Alpaca’s body; nothing fills', async () => {
    sim.setPosition(KEY_ID, LONG, 2, 4);
    sim.setPosition(KEY_ID, SHORT, -1, 1.5);
    const err = await apiError(sdk.orders.postOrder({ postOrderRequest: closeVertical('2') }));
    expect(err.status).toBe(403);
    expect(err.code).toBe(40310000);
    expect(err.message).toContain('insufficient qty available for order (requested: 2, available: 1)');
    const answer = await raw('/v2/orders', 'POST', {
      order_class: 'mleg',
      qty: '2',
      type: 'market',
      time_in_force: 'day',
      legs: [
        { symbol: LONG, ratio_qty: '1', side: 'sell' },
        { symbol: SHORT, ratio_qty: '1', side: 'buy' },
      ],
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({
      available: '1',
      existing_qty: '1',
      held_for_orders: '0',
      related_orders: [],
      symbol: '',
    });
    expect(sim.orders(KEY_ID)).toEqual([]);
    expect(Number(position(LONG)?.qty)).toBe(2);
    expect(Number(position(SHORT)?.qty)).toBe(-1);
  });

  it('a limit not marketable fills no leg; a quote move that makes the net marketable fills every leg', async () => {
    const posted = await sdk.orders.postOrder({ postOrderRequest: openVertical({ limitPrice: '3.00' }) });
    let read = await sdk.orders.getOrderByOrderID({ orderId: posted.id! });
    expect(read.status).toBe('new');
    expect(read.legs?.map((l) => [l.status, l.filledQty])).toEqual([
      ['new', '0'],
      ['new', '0'],
    ]);
    expect(sim.positions(KEY_ID)).toEqual([]);
    // The long leg alone would fill at any price; the order waits for the net (5.10 - 2.10 = 3.00).
    sim.setQuote(LONG, { bid: 4.9, ask: 5.1 });
    expect((await sdk.orders.getOrderByOrderID({ orderId: posted.id! })).status).toBe('new');
    sim.setQuote(SHORT, { bid: 2.1, ask: 2.2 });
    read = await sdk.orders.getOrderByOrderID({ orderId: posted.id! });
    expect(read.status).toBe('filled');
    expect(read.filledAvgPrice).toBe('3');
    expect(read.legs?.map((l) => l.filledAvgPrice)).toEqual(['5.1', '2.1']);
  });

  it('in manual fill mode, fillOrder(parent) fills every leg at once', async () => {
    sim.setFillMode('manual');
    const posted = await sdk.orders.postOrder({ postOrderRequest: openVertical() });
    expect((await sdk.orders.getOrderByOrderID({ orderId: posted.id! })).status).toBe('new');
    const filled = sim.fillOrder(posted.id!);
    expect(filled.status).toBe('filled');
    expect(legsOf(filled).map((l) => [l.status, l.filled_qty])).toEqual([
      ['filled', '2'],
      ['filled', '2'],
    ]);
    expect(Number(position(LONG)?.qty)).toBe(2);
    expect(Number(position(SHORT)?.qty)).toBe(-2);
  });

  it('a closing leg that shrank before the fill caps the multiples every leg fills: never one leg alone', async () => {
    sim.setFillMode('manual');
    sim.setPosition(KEY_ID, LONG, 2, 4);
    sim.setPosition(KEY_ID, SHORT, -2, 1.5);
    const partly = await sdk.orders.postOrder({ postOrderRequest: closeVertical('2') });
    // One short contract bought back by hand meanwhile: only one multiple can close on both legs.
    sim.setPosition(KEY_ID, SHORT, -1, 1.5);
    const filled = sim.fillOrder(partly.id!);
    expect([filled.status, filled.filled_qty]).toEqual(['canceled', '1']);
    expect(legsOf(filled).map((l) => l.filled_qty)).toEqual(['1', '1']);
    expect(Number(position(LONG)?.qty)).toBe(1);
    expect(position(SHORT)).toBeUndefined();

    // The long leg gone entirely: nothing fills, the short leg is not bought alone.
    sim.setPosition(KEY_ID, SHORT, -1, 1.5);
    const none = await sdk.orders.postOrder({ postOrderRequest: closeVertical('1') });
    sim.removePosition(KEY_ID, LONG);
    const after = sim.fillOrder(none.id!);
    expect([after.status, after.filled_qty]).toEqual(['canceled', '0']);
    expect(Number(position(SHORT)?.qty)).toBe(-1);
    expect(position(LONG)).toBeUndefined();
  });

  it('refuses an mleg order from an account below options Level 3', async () => {
    sim.setAccount(KEY_ID, { optionsApprovedLevel: 2 });
    const err = await apiError(sdk.orders.postOrder({ postOrderRequest: openVertical() }));
    expect(err.status).toBe(403);
    expect(err.code).toBe(40310000);
    expect(err.message).toContain('account is not authorized to trade multi-leg options');
    expect(sim.orders(KEY_ID)).toEqual([]);
  });

  it('refuses a specified leg intent that differs from the inferred one (422 42210000)', async () => {
    const err = await apiError(
      sdk.orders.postOrder({
        postOrderRequest: openVertical({
          legs: [
            { symbol: LONG, ratioQty: '1', side: 'buy', positionIntent: 'buy_to_open' },
            { symbol: SHORT, ratioQty: '1', side: 'sell', positionIntent: 'sell_to_close' },
          ],
        }),
      }),
    );
    expect(err.status).toBe(422);
    expect(err.code).toBe(42210000);
    expect(err.message).toContain(
      'position intent mismatch, inferred: sell_to_open, specified: sell_to_close',
    );
  });

  it('a working mleg close holds ratio x qty on each closing leg: qty_available drops, a single-leg close is refused', async () => {
    sim.setPosition(KEY_ID, LONG, 3, 4);
    sim.setPosition(KEY_ID, SHORT, -3, 1.5);
    // A close at a credit of at least 3.50 a share: not marketable (5.00 - 2.10 = 2.90).
    const working = await sdk.orders.postOrder({
      postOrderRequest: closeVertical('2', { type: 'limit', limitPrice: '-3.50' }),
    });
    expect((await sdk.orders.getOrderByOrderID({ orderId: working.id! })).status).toBe('new');
    expect(position(LONG)?.qty_available).toBe('1');
    expect(position(SHORT)?.qty_available).toBe('-1');

    const err = await apiError(
      sdk.orders.postOrder({
        postOrderRequest: { symbol: LONG, qty: '2', side: 'sell', type: 'market', timeInForce: 'day' },
      }),
    );
    expect(err.status).toBe(403);
    expect(err.message).toContain('insufficient qty available for order (requested: 2, available: 1)');
    const body = (
      await raw('/v2/orders', 'POST', {
        symbol: SHORT,
        qty: '2',
        side: 'buy',
        type: 'market',
        time_in_force: 'day',
      })
    ).body;
    expect(body).toMatchObject({ held_for_orders: '2', related_orders: [working.id] });
    // A second mleg close beyond what the first leaves is refused too, naming the working order.
    const second = await raw('/v2/orders', 'POST', {
      order_class: 'mleg',
      qty: '2',
      type: 'market',
      time_in_force: 'day',
      legs: [
        { symbol: LONG, ratio_qty: '1', side: 'sell' },
        { symbol: SHORT, ratio_qty: '1', side: 'buy' },
      ],
    });
    expect(second.status).toBe(403);
    expect(second.body).toMatchObject({ held_for_orders: '2', related_orders: [working.id], symbol: '' });

    // Cancel on the parent: every leg canceled, the holds released, nothing filled.
    // deleteOrderByOrderID() never reads the 204, leaving the SDK's deadline timer armed: the Raw form.
    await (await sdk.orders.deleteOrderByOrderIDRaw({ orderId: working.id! })).value();
    const read = await sdk.orders.getOrderByOrderID({ orderId: working.id! });
    expect(read.status).toBe('canceled');
    expect(read.legs?.map((l) => [l.status, l.filledQty])).toEqual([
      ['canceled', '0'],
      ['canceled', '0'],
    ]);
    expect(position(LONG)?.qty_available).toBe('3');
    expect(position(SHORT)?.qty_available).toBe('-3');
    expect((await sdk.orders.getAllOrders({ status: 'open' })).map((o) => o.id)).toEqual([]);
    expect((await raw(`/v2/orders/${working.id}`, 'DELETE')).status).toBe(200);
  });

  it('refuses mleg shapes Alpaca refuses: one leg, five legs, a stop type, mixed underlyings', async () => {
    const leg = (symbol: string, side: 'buy' | 'sell') => ({ symbol, ratioQty: '1', side });
    const cases: trading.PostOrderRequest[] = [
      openVertical({ legs: [leg(LONG, 'buy')] }),
      openVertical({
        legs: [340, 345, 350, 355, 360].map((k) => leg(futureCall(k), 'buy')),
      }),
      openVertical({ type: 'stop', stopPrice: '1' }),
      openVertical({ legs: [leg(LONG, 'buy'), leg(LONG.replace('GOOGL', 'AAPL'), 'sell')] }),
    ];
    for (const c of cases) {
      const err = await apiError(sdk.orders.postOrder({ postOrderRequest: c }));
      expect(err.status).toBe(422);
    }
    expect(sim.orders(KEY_ID)).toEqual([]);
  });

  it('a market mleg order is refused while the market is closed', async () => {
    sim.setMarketOpen(false);
    const err = await apiError(
      sdk.orders.postOrder({ postOrderRequest: openVertical({ type: 'market', limitPrice: undefined }) }),
    );
    expect(err.status).toBe(422);
    expect(err.message).toContain('options market orders are only allowed during market hours');
  });
});

const describeFixtures = fixturesAvailable() ? describe : describe.skip;

describeFixtures('mleg answers against the fixtures', () => {
  const fixture = (file: string, id: string): Raw => {
    const f = loadFixtures(file).find((x) => x.id === id);
    if (!f) throw new Error(`no fixture ${id} in ${file}`);
    return f.body as Raw;
  };
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  function diff(real: Raw, simulated: Raw): { missing: string[]; types: string[] } {
    const missing: string[] = [];
    const types: string[] = [];
    for (const [k, v] of Object.entries(real)) {
      if (!(k in simulated)) missing.push(k);
      else if (v !== null && simulated[k] !== null && typeOf(v) !== typeOf(simulated[k])) {
        types.push(`${k}: ${typeOf(v)} vs ${typeOf(simulated[k])}`);
      }
    }
    return { missing: missing.sort(), types };
  }

  it('POST /v2/orders mleg and its read-back: docs-postorder-MultilegOptions (parent and each leg)', async () => {
    const real = fixture('orders.json', 'docs-postorder-MultilegOptions');
    const posted = await raw('/v2/orders', 'POST', {
      order_class: 'mleg',
      qty: '1',
      type: 'limit',
      limit_price: '10',
      time_in_force: 'day',
      legs: [
        { symbol: LONG, ratio_qty: '3', side: 'buy', position_intent: 'buy_to_open' },
        { symbol: SHORT, ratio_qty: '1', side: 'sell', position_intent: 'sell_to_open' },
      ],
    });
    expect(posted.status).toBe(200);
    const read = (await raw(`/v2/orders/${String(posted.body.id)}`)).body;
    for (const simulated of [posted.body, read]) {
      expect(diff(real, simulated)).toEqual({ missing: [], types: [] });
      const [realLeg] = real.legs as Raw[];
      for (const leg of legsOf(simulated)) expect(diff(realLeg, leg)).toEqual({ missing: [], types: [] });
      // The values the fixture shows for a parent and its legs.
      for (const k of ['symbol', 'side', 'asset_class', 'asset_id', 'order_class'])
        expect(simulated[k]).toBe(real[k]);
      for (const leg of legsOf(simulated)) {
        expect([leg.order_class, leg.asset_class, leg.type, leg.order_type, leg.legs]).toEqual([
          'mleg',
          'us_option',
          '',
          '',
          null,
        ]);
      }
    }
    // Filled as the fixture: legs of ratio 3 and 1 for qty 1 (3 x 5.20 - 2.00 = 13.60 > 10: not marketable).
    expect(legsOf(read).map((l) => [l.qty, l.ratio_qty])).toEqual([
      ['3', '3'],
      ['1', '1'],
    ]);
    expect(read.status).toBe('new');
  });

  it('the 403 for a closing leg has the fixture’s fields: forum-403-insufficient-qty-options-mleg', async () => {
    const real = fixture('errors.json', 'forum-403-insufficient-qty-options-mleg');
    sim.setPosition(KEY_ID, LONG, 1, 4);
    const answer = await raw('/v2/orders', 'POST', {
      order_class: 'mleg',
      qty: '2',
      type: 'market',
      time_in_force: 'day',
      legs: [
        { symbol: LONG, ratio_qty: '1', side: 'sell' },
        { symbol: SHORT, ratio_qty: '1', side: 'sell' },
      ],
    });
    expect(answer.status).toBe(403);
    expect(diff(real, answer.body)).toEqual({ missing: [], types: [] });
    expect(answer.body.symbol).toBe('');
  });
});
