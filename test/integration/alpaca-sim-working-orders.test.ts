/**
 * Working orders in the simulator, driven with the real SDK over HTTP: replace (`PATCH /v2/orders/{id}`),
 * cancel (`DELETE /v2/orders/{id}`), `qty_available` net of held orders, and options `stop` / `stop_limit`
 * orders with `day` or `gtc` (rules: ALPACA-OPTIONS.md "Orders for options").
 */
import { errors } from '@alpacahq/alpaca-trade-api/rest';
import type { AlpacaSim } from '../../local/alpaca-sim';
import { BrokerRejectedError } from '../../shared/domain/errors';
import { KEY_ID, adapterFor, orderBody, rejectionOf, sdkFor, startTestSim } from '../helpers/alpaca-sim';

/** New York's calendar date at an instant, `YYYY-MM-DD`. */
function nyDate(d: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York' }).format(d);
}

/** An OCC call symbol on GOOGL expiring `days` after today (New York), strike 340. */
function callExpiringIn(days: number): string {
  const [y, m, d] = nyDate(new Date()).split('-').map(Number);
  const e = new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  return `GOOGL${e.slice(2, 4)}${e.slice(5, 7)}${e.slice(8, 10)}C00340000`;
}

const SYM = callExpiringIn(60);

let sim: AlpacaSim;
let sdk: ReturnType<typeof sdkFor>;

beforeEach(async () => {
  sim = await startTestSim();
  sim.setQuote(SYM, { bid: 2, ask: 2.1 });
  sdk = sdkFor(sim);
});

afterEach(async () => {
  await sim?.close();
});

function order(id: string): Record<string, unknown> {
  const o = sim.orders(KEY_ID).find((x) => x.id === id);
  if (!o) throw new Error(`no order ${id}`);
  return o;
}

function position(symbol = SYM): Record<string, unknown> | undefined {
  return sim.positions(KEY_ID).find((p) => p.symbol === symbol);
}

async function apiError(p: Promise<unknown>): Promise<errors.ApiError> {
  const err = await rejectionOf(p);
  expect(err).toBeInstanceOf(errors.ApiError);
  return err as errors.ApiError;
}

/** A resting protective stop sell on SYM (the bid 2.00 is above the stop). */
async function restingStop(qty: string, stopPrice = '1.50', extra: Record<string, string> = {}) {
  return sdk.orders.postOrder({
    postOrderRequest: orderBody({
      symbol: SYM,
      side: 'sell',
      qty,
      type: 'stop',
      stopPrice,
      timeInForce: 'gtc',
      ...extra,
    }),
  });
}

async function cancel(orderId: string): Promise<number> {
  const r = await sdk.orders.deleteOrderByOrderIDRaw({ orderId });
  await r.value();
  return r.raw.status;
}

describe('replace: PATCH /v2/orders/{id}', () => {
  it('creates a new order with a new id; the old one becomes replaced (replaced_by / replaces)', async () => {
    sim.setPosition(KEY_ID, SYM, 3, 2);
    const old = await restingStop('3', '1.50', { clientOrderId: 'stop-1' });
    const next = await sdk.orders.patchOrderByOrderId({
      orderId: old.id!,
      patchOrderRequest: { stopPrice: '1.75', clientOrderId: 'stop-1-r1' },
    });
    expect(next.id).not.toBe(old.id);
    expect(next).toMatchObject({
      clientOrderId: 'stop-1-r1',
      replaces: old.id,
      stopPrice: '1.75',
      qty: '3',
      type: 'stop',
      side: 'sell',
      timeInForce: 'gtc',
      symbol: SYM,
      positionIntent: 'sell_to_close',
    });
    expect(order(old.id!)).toMatchObject({ status: 'replaced', replaced_by: next.id });
    expect(order(old.id!).replaced_at).toEqual(expect.any(String));
    expect(order(next.id!)).toMatchObject({ status: 'new', replaces: old.id, stop_price: '1.75' });
    // Only the new order holds the qty.
    expect(position()).toMatchObject({ qty: '3', qty_available: '0' });
    const open = await sdk.orders.getAllOrders({ status: 'open' });
    expect(open.map((o) => o.id)).toEqual([next.id]);
  });

  it('generates a client_order_id when the body has none, and refuses a reused one', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const old = await restingStop('1', '1.50', { clientOrderId: 'stop-a' });
    const next = await sdk.orders.patchOrderByOrderId({ orderId: old.id!, patchOrderRequest: { qty: '1' } });
    expect(next.clientOrderId).toEqual(expect.any(String));
    expect(next.clientOrderId).not.toBe('stop-a');
    const err = await apiError(
      sdk.orders.patchOrderByOrderId({
        orderId: next.id!,
        patchOrderRequest: { stopPrice: '1.60', clientOrderId: 'stop-a' },
      }),
    );
    expect(err.status).toBe(422);
    expect(err.message).toBe('client_order_id must be unique');
    expect(order(next.id!).status).toBe('new');
  });

  it('checks qty as a new submission with the old hold released: 403 only beyond what is held', async () => {
    sim.setPosition(KEY_ID, SYM, 3, 2);
    const stop = await restingStop('2');
    // 2 of 3 held by the stop: replacing it up to 3 is fine (its own 2 are released first)...
    const up = await sdk.orders.patchOrderByOrderId({ orderId: stop.id!, patchOrderRequest: { qty: '3' } });
    expect(up.qty).toBe('3');
    expect(position()).toMatchObject({ qty_available: '0' });
    // ...but not beyond the position.
    const err = await apiError(
      sdk.orders.patchOrderByOrderId({ orderId: up.id!, patchOrderRequest: { qty: '4' } }),
    );
    expect(err.status).toBe(403);
    expect(err.code).toBe(40310000);
    expect(err.message).toBe('insufficient qty available for order (requested: 4, available: 3)');
    expect(order(up.id!).status).toBe('new');
  });

  it('replacing the stop qty down frees contracts for another close', async () => {
    sim.setPosition(KEY_ID, SYM, 3, 2);
    const stop = await restingStop('3');
    const blocked = await apiError(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ symbol: SYM, side: 'sell', qty: '1' }) }),
    );
    expect(blocked.message).toBe('insufficient qty available for order (requested: 1, available: 0)');
    await sdk.orders.patchOrderByOrderId({ orderId: stop.id!, patchOrderRequest: { qty: '2' } });
    expect(position()).toMatchObject({ qty: '3', qty_available: '1' });
    await sdk.orders.postOrder({ postOrderRequest: orderBody({ symbol: SYM, side: 'sell', qty: '1' }) });
    expect(position()).toMatchObject({ qty: '2', qty_available: '0' });
  });

  it('answers 422 when the order is no longer replaceable (filled, canceled, replaced)', async () => {
    sim.setPosition(KEY_ID, SYM, 3, 2);
    const filled = await sdk.orders.postOrder({
      postOrderRequest: orderBody({ symbol: SYM, side: 'sell', qty: '1' }),
    });
    expect(order(filled.id!).status).toBe('filled');
    const canceled = await restingStop('1');
    await cancel(canceled.id!);
    const replaced = await restingStop('1');
    await sdk.orders.patchOrderByOrderId({ orderId: replaced.id!, patchOrderRequest: { stopPrice: '1.6' } });
    for (const [id, state] of [
      [filled.id!, 'filled'],
      [canceled.id!, 'canceled'],
      [replaced.id!, 'replaced'],
    ]) {
      const err = await apiError(
        sdk.orders.patchOrderByOrderId({ orderId: id, patchOrderRequest: { stopPrice: '1.40' } }),
      );
      expect(err.status).toBe(422);
      expect(err.code).toBe(42210000);
      expect(err.message).toBe(`order is already in "${state}" state`);
    }
    // Nothing new was placed by the refused replaces: the three orders and the one replacement.
    expect(sim.orders(KEY_ID)).toHaveLength(4);
  });

  it('validates the new terms like a new order; 404 for an unknown id', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const stop = await restingStop('1');
    const cases: [Record<string, string>, string][] = [
      [{ limitPrice: '1.40' }, 'limit_price must not be specified for stop orders'],
      [{ qty: '0.5' }, 'qty must be integer for options trading'],
      [{ timeInForce: 'ioc' }, 'only day and gtc orders are supported for options trading'],
      [
        { stopPrice: '1.555' },
        'invalid stop_price 1.555. sub-penny increment does not fulfill minimum pricing criteria',
      ],
      [{}, 'a replace needs at least one of qty, limit_price, stop_price, time_in_force, client_order_id'],
    ];
    for (const [patch, message] of cases) {
      const err = await apiError(
        sdk.orders.patchOrderByOrderId({ orderId: stop.id!, patchOrderRequest: patch }),
      );
      expect([err.status, err.message]).toEqual([422, message]);
    }
    expect(order(stop.id!).status).toBe('new');
    const missing = await apiError(
      sdk.orders.patchOrderByOrderId({
        orderId: '00000000-0000-0000-0000-000000000000',
        patchOrderRequest: { qty: '1' },
      }),
    );
    expect(missing.status).toBe(404);
  });

  it('replaces a resting limit: a new limit price that is marketable fills the new order', async () => {
    sim.setPosition(KEY_ID, SYM, 2, 1);
    const limit = await sdk.orders.postOrder({
      postOrderRequest: orderBody({ symbol: SYM, side: 'sell', qty: '2', type: 'limit', limitPrice: '2.50' }),
    });
    const next = await sdk.orders.patchOrderByOrderId({
      orderId: limit.id!,
      patchOrderRequest: { limitPrice: '1.95' },
    });
    expect(next.status).toBe('accepted');
    expect(order(next.id!)).toMatchObject({ status: 'filled', filled_avg_price: '2', limit_price: '1.95' });
    expect(order(limit.id!).status).toBe('replaced');
    expect(position()).toBeUndefined();
  });
});

describe('cancel: DELETE /v2/orders/{id}', () => {
  it('answers 204, the order becomes canceled and its qty is available again', async () => {
    sim.setPosition(KEY_ID, SYM, 2, 2);
    const stop = await restingStop('2');
    expect(position()).toMatchObject({ qty_available: '0' });
    expect(await cancel(stop.id!)).toBe(204);
    expect(order(stop.id!)).toMatchObject({ status: 'canceled' });
    expect(order(stop.id!).canceled_at).toEqual(expect.any(String));
    expect(position()).toMatchObject({ qty_available: '2' });
  });

  it('answers 422 `order is already in "filled" state` when the order filled first, 404 when unknown', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const stop = await restingStop('1');
    sim.setQuote(SYM, { bid: 1.5, ask: 1.6 }); // the stop fires
    expect(order(stop.id!).status).toBe('filled');
    const err = await apiError(cancel(stop.id!));
    expect([err.status, err.code, err.message]).toEqual([
      422,
      42210000,
      'order is already in "filled" state',
    ]);
    expect(position()).toBeUndefined();
    const missing = await apiError(cancel('00000000-0000-0000-0000-000000000000'));
    expect(missing.status).toBe(404);
  });

  it('a second cancel of the same order answers 200, no error (fixture user-repeat-cancel-of-canceled-order)', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const stop = await restingStop('1');
    await cancel(stop.id!);
    expect(await cancel(stop.id!)).toBe(200);
    expect(order(stop.id!).status).toBe('canceled');
  });
});

describe('options stop and stop_limit orders', () => {
  it('a stop sell rests while the bid is above the stop and fills at the bid once the bid reaches it', async () => {
    sim.setPosition(KEY_ID, SYM, 2, 2);
    const stop = await restingStop('2', '1.50');
    expect(stop).toMatchObject({ type: 'stop', stopPrice: '1.5', status: 'pending_new', timeInForce: 'gtc' });
    expect(stop.positionIntent).toBe('sell_to_close');
    sim.setQuote(SYM, { bid: 1.51, ask: 1.6 });
    expect(order(stop.id!).status).toBe('new');
    sim.setQuote(SYM, { bid: 1.5, ask: 1.6 }); // at the stop: triggers, fills as a market sell
    expect(order(stop.id!)).toMatchObject({ status: 'filled', filled_qty: '2', filled_avg_price: '1.5' });
    expect(position()).toBeUndefined();
  });

  it('a gap through the stop fills at the (worse) bid', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const stop = await restingStop('1', '1.50');
    sim.setQuote(SYM, { bid: 1.2, ask: 1.3 });
    expect(order(stop.id!)).toMatchObject({ status: 'filled', filled_avg_price: '1.2' });
  });

  it('a stop_limit sell triggers on the bid, then works as a limit: no fill below the limit', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const sl = await restingStop('1', '1.50', { type: 'stop_limit', limitPrice: '1.45' });
    expect(sl).toMatchObject({ type: 'stop_limit', stopPrice: '1.5', limitPrice: '1.45' });
    sim.setQuote(SYM, { bid: 1.4, ask: 1.5 }); // triggered, but the bid is below the limit
    expect(order(sl.id!).status).toBe('new');
    sim.setQuote(SYM, { bid: 1.47, ask: 1.55 }); // back above the limit (and above the stop): a limit now
    expect(order(sl.id!)).toMatchObject({ status: 'filled', filled_avg_price: '1.47' });
  });

  it('an untriggered stop_limit does not fill even when its limit is marketable', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const sl = await restingStop('1', '1.50', { type: 'stop_limit', limitPrice: '1.40' });
    sim.setQuote(SYM, { bid: 1.8, ask: 1.9 });
    expect(order(sl.id!).status).toBe('new');
  });

  it('a stop buy (closing a short) triggers when the ask reaches the stop and fills at the ask', async () => {
    sim.setPosition(KEY_ID, SYM, -1, 2);
    const stop = await sdk.orders.postOrder({
      postOrderRequest: orderBody({
        symbol: SYM,
        side: 'buy',
        type: 'stop',
        stopPrice: '2.50',
        timeInForce: 'gtc',
      }),
    });
    expect(stop.positionIntent).toBe('buy_to_close');
    expect(position()).toMatchObject({ qty: '-1', qty_available: '0' });
    sim.setQuote(SYM, { bid: 2.3, ask: 2.49 });
    expect(order(stop.id!).status).toBe('new');
    sim.setQuote(SYM, { bid: 2.4, ask: 2.55 });
    expect(order(stop.id!)).toMatchObject({ status: 'filled', filled_avg_price: '2.55' });
    expect(position()).toBeUndefined();
  });

  it('a resting stop holds its qty: qty_available is net of it and another close is refused with 403', async () => {
    sim.setPosition(KEY_ID, SYM, 3, 2);
    await restingStop('2');
    expect(position()).toMatchObject({ qty: '3', qty_available: '1' });
    const err = await apiError(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ symbol: SYM, side: 'sell', qty: '2' }) }),
    );
    expect([err.status, err.code, err.message]).toEqual([
      403,
      40310000,
      'insufficient qty available for order (requested: 2, available: 1)',
    ]);
  });

  it('triggers when the random walk moves the quote through the stop', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const stop = await restingStop('1', '1.90');
    // rng() = 0.5 gives a gaussian draw of about -1.18: with volatility 0.2 the mid drops ~21%.
    sim.stepMarket(() => 0.5, 0.2);
    expect(Number(order(stop.id!).filled_avg_price)).toBeLessThanOrEqual(1.9);
    expect(order(stop.id!).status).toBe('filled');
  });

  it('triggers on a clock tick after a quote changed without a fill pass (tick)', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const stop = await restingStop('1', '1.50');
    sim.market.setQuote(SYM, { bid: 1.4, ask: 1.5 }); // the market object alone: no trigger pass yet
    expect(order(stop.id!).status).toBe('new');
    sim.tick();
    expect(order(stop.id!)).toMatchObject({ status: 'filled', filled_avg_price: '1.4' });
  });

  it('accepts a stop while the market is closed and triggers it only once the market opens', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    sim.setMarketOpen(false);
    const stop = await restingStop('1', '1.50');
    sim.setQuote(SYM, { bid: 1.3, ask: 1.4 });
    expect(order(stop.id!).status).toBe('new');
    sim.setMarketOpen(true);
    expect(order(stop.id!)).toMatchObject({ status: 'filled', filled_avg_price: '1.3' });
  });

  it('manual fill mode: a triggered stop waits for fillOrder', async () => {
    sim.setFillMode('manual');
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const stop = await restingStop('1', '1.50');
    sim.setQuote(SYM, { bid: 1.4, ask: 1.5 });
    expect(order(stop.id!).status).toBe('new');
    sim.fillOrder(stop.id!, { price: 1.4 });
    expect(order(stop.id!)).toMatchObject({ status: 'filled', filled_avg_price: '1.4' });
  });

  it('gtc survives the close, day expires at the close', async () => {
    sim.setPosition(KEY_ID, SYM, 2, 2);
    const gtc = await restingStop('1', '1.50');
    const day = await restingStop('1', '1.50', { timeInForce: 'day' });
    expect(day.timeInForce).toBe('day');
    sim.expireDayOrders();
    expect(order(day.id!).status).toBe('expired');
    expect(order(gtc.id!).status).toBe('new');
    expect(position()).toMatchObject({ qty_available: '1' });
  });

  it('a gtc order on a contract that expires today expires with it at the close', async () => {
    const today = callExpiringIn(0);
    sim.setQuote(today, { bid: 2, ask: 2.1 });
    sim.setPosition(KEY_ID, today, 1, 2);
    const stop = await sdk.orders.postOrder({
      postOrderRequest: orderBody({
        symbol: today,
        side: 'sell',
        type: 'stop',
        stopPrice: '1.00',
        timeInForce: 'gtc',
      }),
    });
    sim.expireDayOrders();
    expect(order(stop.id!).status).toBe('expired');
  });

  it.each([
    [{ type: 'trailing_stop' as const, trailPercent: '5' }, 'invalid order type for options trading'],
    [{ type: 'stop' as const }, 'stop_price is required for stop orders'],
    [{ type: 'stop_limit' as const, stopPrice: '1.50' }, 'limit_price is required for stop_limit orders'],
    [
      { type: 'stop' as const, stopPrice: '1.50', limitPrice: '1.40' },
      'limit_price must not be specified for stop orders',
    ],
    [{ type: 'limit' as const, limitPrice: '1.40', stopPrice: '1.50' }, 'stop_price is only for stop orders'],
    [
      { type: 'stop' as const, stopPrice: '1.50', timeInForce: 'ioc' as const },
      'only day and gtc orders are supported for options trading',
    ],
  ])('rejects %j with 422', async (over, message) => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const err = await apiError(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ symbol: SYM, side: 'sell', ...over }) }),
    );
    expect([err.status, err.code, err.message]).toEqual([422, 40010001, message]);
    expect(sim.orders(KEY_ID)).toHaveLength(0);
  });

  it('the raw request carries the stop fields the SDK sends (snake_case, strings)', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    await restingStop('1', '1.50', { type: 'stop_limit', limitPrice: '1.45' });
    const [req] = sim.requestsTo('POST', '/v2/orders');
    expect(req.body).toMatchObject({
      type: 'stop_limit',
      stop_price: '1.50',
      limit_price: '1.45',
      time_in_force: 'gtc',
    });
    expect(req.body).not.toHaveProperty('position_intent');
  });
});

describe('through the project adapter', () => {
  it('sees qty_available net of a resting stop, and a cancel after the stop filled is a 422 rejection', async () => {
    const broker = adapterFor(sim);
    sim.setPosition(KEY_ID, SYM, 3, 2);
    const stop = await restingStop('2');
    const pos = (await broker.listPositions()).find((p) => p.symbol === SYM);
    expect(pos).toMatchObject({ qty: 3, qty_available: 1, side: 'long' });
    const open = await broker.listOpenOrders();
    expect(open.map((o) => [o.id, o.type, o.time_in_force])).toEqual([[stop.id, 'stop', 'gtc']]);
    sim.setQuote(SYM, { bid: 1.4, ask: 1.5 });
    const err = await rejectionOf(broker.cancelOrder(stop.id!));
    expect(err).toBeInstanceOf(BrokerRejectedError);
    expect(err).toMatchObject({ status: 422, code: 42210000 });
    expect((err as Error).message).toContain('order is already in "filled" state');
  });
});

describe('replace: stops and partial fills', () => {
  it('ratcheting a stop sell up to or above the bid triggers the new order at once', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const stop = await restingStop('1', '1.50');
    const up = await sdk.orders.patchOrderByOrderId({
      orderId: stop.id!,
      patchOrderRequest: { stopPrice: '1.80' },
    });
    expect(order(up.id!).status).toBe('new');
    const through = await sdk.orders.patchOrderByOrderId({
      orderId: up.id!,
      patchOrderRequest: { stopPrice: '2.00' }, // the bid is 2.00: at the stop
    });
    expect(order(through.id!)).toMatchObject({ status: 'filled', filled_avg_price: '2' });
    expect(order(up.id!).status).toBe('replaced');
    expect(position()).toBeUndefined();
  });

  it('a day stop replaced to gtc survives the close', async () => {
    sim.setPosition(KEY_ID, SYM, 1, 2);
    const day = await restingStop('1', '1.50', { timeInForce: 'day' });
    const gtc = await sdk.orders.patchOrderByOrderId({
      orderId: day.id!,
      patchOrderRequest: { timeInForce: 'gtc' },
    });
    expect(gtc.timeInForce).toBe('gtc');
    sim.expireDayOrders();
    expect(order(gtc.id!).status).toBe('new');
  });

  it('a partly filled order is replaced by one for its unfilled qty unless the body names a qty', async () => {
    sim.setFillMode('manual');
    sim.setPosition(KEY_ID, SYM, 5, 2);
    const limit = await sdk.orders.postOrder({
      postOrderRequest: orderBody({ symbol: SYM, side: 'sell', qty: '5', type: 'limit', limitPrice: '2.50' }),
    });
    sim.fillOrder(limit.id!, { qty: 2, price: 2.5 });
    expect(position()).toMatchObject({ qty: '3', qty_available: '0' });
    const next = await sdk.orders.patchOrderByOrderId({
      orderId: limit.id!,
      patchOrderRequest: { limitPrice: '2.40' },
    });
    expect(next.qty).toBe('3');
    expect(order(limit.id!)).toMatchObject({ status: 'replaced', filled_qty: '2' });
    const err = await apiError(
      sdk.orders.patchOrderByOrderId({ orderId: next.id!, patchOrderRequest: { qty: '4' } }),
    );
    expect(err.message).toBe('insufficient qty available for order (requested: 4, available: 3)');
  });

  it('replacing a buy_to_open checks buying power with the old reservation released', async () => {
    sim.setAccount(KEY_ID, { optionsBuyingPower: 1000 });
    const buy = await sdk.orders.postOrder({
      postOrderRequest: orderBody({
        symbol: SYM,
        side: 'buy',
        qty: '4',
        type: 'limit',
        limitPrice: '2.00',
        positionIntent: 'buy_to_open',
      }),
    });
    expect(order(buy.id!).status).toBe('new'); // ask 2.10 above the limit: resting, reserving $800
    const up = await sdk.orders.patchOrderByOrderId({
      orderId: buy.id!,
      patchOrderRequest: { limitPrice: '2.05' },
    });
    expect(up.positionIntent).toBe('buy_to_open');
    const err = await apiError(
      sdk.orders.patchOrderByOrderId({
        orderId: up.id!,
        patchOrderRequest: { qty: '5', limitPrice: '2.05' },
      }),
    );
    expect([err.status, err.message]).toEqual([
      403,
      'insufficient options buying power for order (required: 1025.00, available: 1000.00)',
    ]);
  });
});
