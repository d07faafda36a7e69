/**
 * The simulator implements Alpaca's options rules. Driven with the real SDK over HTTP, so a shape the SDK
 * cannot parse or a path it does not call fails here too.
 */
import { errors } from '@alpacahq/alpaca-trade-api/rest';
import type { AlpacaSim } from '../../local/alpaca-sim';
import {
  CALL,
  KEY_ID,
  PUT,
  SECRET,
  orderBody,
  rejectionOf,
  sdkFor,
  startTestSim,
} from '../helpers/alpaca-sim';
import { contractFor, expiryIn } from '../helpers/contracts';

let sim: AlpacaSim;
let sdk: ReturnType<typeof sdkFor>;

afterEach(async () => {
  await sim?.close();
});

async function start(opts: Parameters<typeof startTestSim>[0] = {}): Promise<void> {
  sim = await startTestSim(opts);
  sdk = sdkFor(sim);
}

function position(symbol: string): Record<string, unknown> | undefined {
  return sim.positions(KEY_ID).find((p) => p.symbol === symbol);
}

async function apiError(p: Promise<unknown>): Promise<errors.ApiError> {
  const err = await rejectionOf(p);
  expect(err).toBeInstanceOf(errors.ApiError);
  return err as errors.ApiError;
}

describe('position intent inference (from the current position only)', () => {
  beforeEach(() => start());

  it('a BUY with no position opens a long (buy_to_open)', async () => {
    const o = await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy', qty: '2' }) });
    expect(o.positionIntent).toBe('buy_to_open');
    expect(position(CALL)).toMatchObject({ qty: '2', side: 'long', avg_entry_price: '2.1' });
  });

  it('a SELL while long closes (sell_to_close) and never goes through zero', async () => {
    sim.setPosition(KEY_ID, CALL, 3, 1.5);
    const o = await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'sell', qty: '3' }) });
    expect(o.positionIntent).toBe('sell_to_close');
    expect(position(CALL)).toBeUndefined();
  });

  it('an intent-free SELL with no long OPENS A SHORT (sell_to_open)', async () => {
    const o = await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'sell', qty: '2' }) });
    expect(o.positionIntent).toBe('sell_to_open');
    expect(position(CALL)).toMatchObject({
      qty: '-2',
      qty_available: '-2',
      side: 'short',
      avg_entry_price: '2',
    });
  });

  it('a BUY while short closes (buy_to_close)', async () => {
    sim.setPosition(KEY_ID, CALL, -2, 3);
    const o = await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy', qty: '1' }) });
    expect(o.positionIntent).toBe('buy_to_close');
    expect(position(CALL)).toMatchObject({ qty: '-1', side: 'short' });
  });

  it('ignores pending orders when inferring: a resting buy does not make a sell a close', async () => {
    await sdk.orders.postOrder({
      postOrderRequest: orderBody({
        side: 'buy',
        type: 'limit',
        limitPrice: '1.00',
        positionIntent: 'buy_to_open',
      }),
    });
    const o = await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'sell' }) });
    expect(o.positionIntent).toBe('sell_to_open');
  });

  it('records the raw body: an intent-free order carries no position_intent key, the order shows the inferred one', async () => {
    sim.setPosition(KEY_ID, CALL, 1, 2);
    await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'sell', clientOrderId: 'close-1' }) });
    const [req] = sim.requestsTo('POST', '/v2/orders');
    expect(JSON.parse(req.rawBody)).not.toHaveProperty('position_intent');
    expect(req.body).toMatchObject({ symbol: CALL, qty: '1', side: 'sell', client_order_id: 'close-1' });
    expect(sim.orders(KEY_ID)[0]).toMatchObject({
      position_intent: 'sell_to_close',
      asset_class: 'us_option',
    });
  });
});

describe('order rules', () => {
  beforeEach(() => start());

  it('rejects a specified intent that differs from the inferred one: 422 code 42210000', async () => {
    const err = await apiError(
      sdk.orders.postOrder({
        postOrderRequest: orderBody({ side: 'sell', positionIntent: 'sell_to_close' }),
      }),
    );
    expect(err.status).toBe(422);
    expect(err.code).toBe(42210000);
    expect(err.message).toBe('position intent mismatch, inferred: sell_to_open, specified: sell_to_close');
    expect(sim.orders(KEY_ID)).toHaveLength(0);
  });

  it('rejects sell_to_open while long (inferred sell_to_close)', async () => {
    sim.setPosition(KEY_ID, CALL, 1, 2);
    const err = await apiError(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'sell', positionIntent: 'sell_to_open' }) }),
    );
    expect(err.message).toBe('position intent mismatch, inferred: sell_to_close, specified: sell_to_open');
  });

  it('rejects a close bigger than the long with 403 40310000 instead of flipping to a short', async () => {
    sim.setPosition(KEY_ID, CALL, 2, 2);
    const err = await apiError(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'sell', qty: '3' }) }),
    );
    expect(err.status).toBe(403);
    expect(err.code).toBe(40310000);
    expect(err.message).toBe('insufficient qty available for order (requested: 3, available: 2)');
    expect(position(CALL)).toMatchObject({ qty: '2', side: 'long' });
  });

  it('counts qty held by a resting sell as unavailable', async () => {
    sim.setPosition(KEY_ID, CALL, 2, 2);
    await sdk.orders.postOrder({
      postOrderRequest: orderBody({ side: 'sell', qty: '2', type: 'limit', limitPrice: '9.00' }),
    });
    expect(position(CALL)).toMatchObject({ qty: '2', qty_available: '0' });
    const err = await apiError(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'sell', qty: '1' }) }),
    );
    expect(err.message).toBe('insufficient qty available for order (requested: 1, available: 0)');
  });

  it('keeps client_order_id unique forever, even after the first order was canceled', async () => {
    const first = await sdk.orders.postOrder({
      postOrderRequest: orderBody({ side: 'buy', type: 'limit', limitPrice: '1.00', clientOrderId: 'cid-1' }),
    });
    // deleteOrderByOrderID() never reads the 204, leaving the SDK's deadline timer armed: use the Raw form.
    await (await sdk.orders.deleteOrderByOrderIDRaw({ orderId: first.id! })).value();
    expect(sim.orders(KEY_ID)[0].status).toBe('canceled');
    const err = await apiError(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy', clientOrderId: 'cid-1' }) }),
    );
    expect(err.status).toBe(422);
    expect(err.message).toBe('client_order_id must be unique');
  });

  it.each([
    ['fractional qty', { qty: '1.5' }, 'qty must be integer for options trading'],
    ['bracket order', { orderClass: 'bracket' as const }, 'complex orders not supported for options trading'],
    ['oco order', { orderClass: 'oco' as const }, 'complex orders not supported for options trading'],
    ['ioc', { timeInForce: 'ioc' as const }, 'only day and gtc orders are supported for options trading'],
    [
      'trailing stop',
      { type: 'trailing_stop' as const, trailPercent: '5' },
      'invalid order type for options trading',
    ],
  ])('rejects a %s with 422', async (_name, over, message) => {
    const err = await apiError(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy', ...over }) }),
    );
    expect(err.status).toBe(422);
    expect(err.message).toBe(message);
  });

  it('refuses market orders while the market is closed, accepts a limit that fills at the open', async () => {
    sim.setMarketOpen(false);
    const err = await apiError(sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy' }) }));
    expect(err.status).toBe(422);
    expect(err.message).toBe('options market orders are only allowed during market hours');
    const limit = await sdk.orders.postOrder({
      postOrderRequest: orderBody({ side: 'buy', type: 'limit', limitPrice: '2.50' }),
    });
    expect((await sdk.orders.getOrderByOrderID({ orderId: limit.id! })).status).toBe('new');
    sim.setMarketOpen(true);
    expect((await sdk.orders.getOrderByOrderID({ orderId: limit.id! })).status).toBe('filled');
  });

  it('refuses a buy beyond options buying power with 403', async () => {
    sim.setAccount(KEY_ID, { optionsBuyingPower: 300 });
    const err = await apiError(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy', qty: '2' }) }),
    );
    expect(err.status).toBe(403);
    expect(err.message).toMatch(/^insufficient options buying power/);
  });

  it('answers 401 without keys and 401 `unauthorized.` for an unknown key (fixture user-401-wrong-secret)', async () => {
    const res = await fetch(`${sim.url}/v2/account`);
    expect(res.status).toBe(401);
    const err = await apiError(sdkFor(sim, 'PKUNKNOWN', 'x').accounts.getAccount());
    expect(err.status).toBe(401);
  });
});

describe('expiry and symbols', () => {
  it('refuses new openings after 3:30 pm ET on expiration day, still accepts a close', async () => {
    const simNow = new Date('2027-12-17T20:45:00Z'); // 15:45 New York (EST)
    const expiring = contractFor('GOOGL', 0, 'C', 340, simNow);
    await start({ now: () => simNow });
    sim.setQuote(expiring, { bid: 2, ask: 2.1 });
    const err = await apiError(
      sdk.orders.postOrder({
        postOrderRequest: orderBody({ side: 'buy', positionIntent: 'buy_to_open', symbol: expiring }),
      }),
    );
    expect(err.status).toBe(422);
    expect(err.message).toBe(`contract ${expiring} expires soon, unable to open new positions`);
    sim.setPosition(KEY_ID, expiring, 1, 1);
    await expect(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'sell', symbol: expiring }) }),
    ).resolves.toMatchObject({
      positionIntent: 'sell_to_close',
    });
  });

  it('refuses orders on an expired contract', async () => {
    const simNow = new Date('2027-12-20T15:00:00Z');
    const expired = contractFor('GOOGL', -3, 'C', 340, simNow);
    await start({ now: () => simNow });
    const err = await apiError(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy', symbol: expired }) }),
    );
    expect(err.message).toBe(`asset ${expired} is not active`);
  });

  it('reproduces the old failure: an intent-free sell on the underlying ticker shorts the STOCK', async () => {
    await start();
    sim.setPosition(KEY_ID, CALL, 1, 2);
    sim.setQuote('GOOGL', { bid: 340, ask: 340.1 });
    const o = await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'sell', symbol: 'GOOGL' }) });
    expect(o).toMatchObject({ positionIntent: 'sell_to_open', assetClass: 'us_equity' });
    expect(position('GOOGL')).toMatchObject({ qty: '-1', side: 'short' });
    expect(position(CALL)).toMatchObject({ qty: '1', side: 'long' });
  });
});

describe('fills', () => {
  beforeEach(() => start());

  it('fills a market buy at the ask and a market sell at the bid, debiting buying power by the premium', async () => {
    const before = Number((await sdk.accounts.getAccount()).optionsBuyingPower);
    const buy = await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy', qty: '2' }) });
    expect(buy.status).toBe('pending_new'); // an options POST answers pending_new (docs-postorder-Options)
    const filled = await sdk.orders.getOrderByOrderID({ orderId: buy.id! });
    expect(filled).toMatchObject({ status: 'filled', filledQty: '2', filledAvgPrice: '2.1' });
    expect(Number((await sdk.accounts.getAccount()).optionsBuyingPower)).toBeCloseTo(before - 420, 2);
    const sell = await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'sell', qty: '2' }) });
    expect((await sdk.orders.getOrderByOrderID({ orderId: sell.id! })).filledAvgPrice).toBe('2');
  });

  it('rests a non-marketable limit and fills it when the quote moves through it', async () => {
    const o = await sdk.orders.postOrder({
      postOrderRequest: orderBody({ side: 'buy', type: 'limit', limitPrice: '1.80', clientOrderId: 'lim-1' }),
    });
    expect((await sdk.orders.getOrderByClientOrderId({ clientOrderId: 'lim-1' })).status).toBe('new');
    sim.setQuote(CALL, { bid: 1.7, ask: 1.75 });
    const done = await sdk.orders.getOrderByOrderID({ orderId: o.id! });
    expect(done).toMatchObject({ status: 'filled', filledAvgPrice: '1.75' });
  });

  it('keeps a market order without a quote open until a quote arrives', async () => {
    sim.addContract({ symbol: PUT }); // a listed contract with no quote yet (an unknown one is 422)
    const o = await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy', symbol: PUT }) });
    expect((await sdk.orders.getOrderByOrderID({ orderId: o.id! })).status).toBe('new');
    sim.setQuote(PUT, { bid: 4, ask: 4.2 });
    expect((await sdk.orders.getOrderByOrderID({ orderId: o.id! })).status).toBe('filled');
  });

  it('manual mode: partial fills, then the rest', async () => {
    sim.setFillMode('manual');
    const o = await sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy', qty: '3' }) });
    sim.fillOrder(o.id!, { qty: 1, price: 2 });
    expect(await sdk.orders.getOrderByOrderID({ orderId: o.id! })).toMatchObject({
      status: 'partially_filled',
      filledQty: '1',
    });
    sim.fillOrder(o.id!, { price: 2.3 });
    expect(await sdk.orders.getOrderByOrderID({ orderId: o.id! })).toMatchObject({
      status: 'filled',
      filledQty: '3',
      filledAvgPrice: '2.2',
    });
  });

  it('cancels a resting close whose position disappeared instead of opening a short', async () => {
    sim.setPosition(KEY_ID, CALL, 2, 2);
    const o = await sdk.orders.postOrder({
      postOrderRequest: orderBody({ side: 'sell', qty: '2', type: 'limit', limitPrice: '3.00' }),
    });
    sim.removePosition(KEY_ID, CALL);
    sim.setQuote(CALL, { bid: 3.1, ask: 3.2 });
    expect((await sdk.orders.getOrderByOrderID({ orderId: o.id! })).status).toBe('canceled');
    expect(position(CALL)).toBeUndefined();
  });

  it('moves quotes with a seeded random walk: same seed, same path', async () => {
    const { mulberry32 } = await import('../../local/alpaca-sim');
    sim.stepMarket(mulberry32(7));
    const a = sim.market.quotes.get(CALL);
    sim.setQuote(CALL, { bid: 2, ask: 2.1 });
    sim.stepMarket(mulberry32(7));
    expect(sim.market.quotes.get(CALL)).toMatchObject({ bid: a!.bid, ask: a!.ask });
    expect(a!.ask).toBeGreaterThan(a!.bid);
  });
});

describe('transport behaviour', () => {
  it('lost reply: the order is placed but the client sees no answer', async () => {
    await start();
    sim.injectFault({ method: 'POST', path: '/v2/orders', lostReply: true });
    const err = await rejectionOf(
      sdk.orders.postOrder({ postOrderRequest: orderBody({ side: 'buy', clientOrderId: 'lost-1' }) }),
    );
    // A network failure, not an HTTP answer (inside jest the SDK's FetchError wrapping can be skipped
    // because fetch's TypeError comes from another realm).
    expect(err).toHaveProperty('message');
    expect(err).not.toBeInstanceOf(errors.ApiError);
    expect(sim.orders(KEY_ID)).toHaveLength(1);
    expect(sim.requestsTo('POST', '/v2/orders')[0]).toMatchObject({ lostReply: true, status: 200 });
    expect((await sdk.orders.getOrderByClientOrderId({ clientOrderId: 'lost-1' })).status).toBe('filled');
  });

  it('rate limits per key: X-Ratelimit-* headers on every answer, 429 past the limit', async () => {
    await start({ rateLimitPerMinute: 3 });
    const headers = (r: Response) => ({
      limit: r.headers.get('x-ratelimit-limit'),
      remaining: r.headers.get('x-ratelimit-remaining'),
      reset: Number(r.headers.get('x-ratelimit-reset')),
    });
    const auth = { 'APCA-API-KEY-ID': KEY_ID, 'APCA-API-SECRET-KEY': SECRET };
    const first = await fetch(`${sim.url}/v2/account`, { headers: auth });
    expect(headers(first)).toMatchObject({ limit: '3', remaining: '2' });
    expect(headers(first).reset).toBeGreaterThan(Date.now() / 1000);
    await sdk.accounts.getAccount();
    await sdk.accounts.getAccount();
    const err = await apiError(sdk.accounts.getAccount());
    expect(err).toBeInstanceOf(errors.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.rateLimit?.remaining).toBe(0);
    sim.addAccount('PKOTHER', 'other');
    await expect(sdkFor(sim, 'PKOTHER', 'other').accounts.getAccount()).resolves.toBeDefined();
  });

  it('adds latencyMs to every request', async () => {
    await start({ latencyMs: 150 });
    const t0 = Date.now();
    await sdk.clock.legacyClock();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('injected faults answer the given status a given number of times', async () => {
    await start();
    sim.injectFault({ method: 'GET', path: /^\/v2\/account$/, status: 503, times: 2 });
    expect((await apiError(sdk.accounts.getAccount())).status).toBe(503);
    expect((await apiError(sdk.accounts.getAccount())).status).toBe(503);
    await expect(sdk.accounts.getAccount()).resolves.toBeDefined();
  });
});

describe('market data', () => {
  beforeEach(() => start());

  it('refuses more than 100 symbols in one snapshots call with 400', async () => {
    const symbols = Array.from(
      { length: 101 },
      (_, i) => `GOOGL271217C${String(100000 + i * 1000).padStart(8, '0')}`,
    );
    const err = await apiError(sdk.options.optionSnapshots({ symbols: symbols.join(',') }));
    expect(err.status).toBe(400);
    await expect(
      sdk.options.optionSnapshots({ symbols: symbols.slice(0, 100).join(',') }),
    ).resolves.toBeDefined();
  });

  it('leaves symbols without a quote out of the snapshots', async () => {
    const r = await sdk.options.optionSnapshots({ symbols: `${CALL},${PUT}` });
    expect(Object.keys(r.snapshots)).toEqual([CALL]);
    expect(r.snapshots[CALL].latestQuote).toMatchObject({ bp: 2, ap: 2.1, bs: 10, as: 10 });
  });

  it('serves a chain with greeks, volume, filters and pagination; contracts with open interest', async () => {
    sim.addChain({
      underlying: 'SPY',
      underlyingPrice: 600,
      expiries: [expiryIn(45), expiryIn(80)],
      strikes: [580, 600, 620],
      openInterest: 1234,
    });
    sim.setDataPageSize(2);
    const calls: string[] = [];
    let pageToken: string | undefined;
    do {
      const r = await sdk.options.optionChain({
        underlyingSymbol: 'SPY',
        type: 'call',
        expirationDateLte: new Date(`${expiryIn(60)}T00:00:00Z`),
        pageToken,
      });
      calls.push(...Object.keys(r.snapshots));
      for (const s of Object.values(r.snapshots)) {
        expect(s.greeks?.delta).toBeGreaterThan(0);
        expect(s.dailyBar?.v).toBe(100);
        expect(s.impliedVolatility).toBe(0.3);
      }
      pageToken = r.nextPageToken ?? undefined;
    } while (pageToken);
    expect(calls).toEqual([580, 600, 620].map((k) => contractFor('SPY', 45, 'C', k)));
    const contracts = await sdk.assets.getOptionsContracts({
      underlyingSymbols: 'SPY',
      type: 'put',
      limit: 100,
    });
    expect(contracts.optionContracts).toHaveLength(6);
    expect(contracts.optionContracts[0]).toMatchObject({
      openInterest: '1234',
      strikePrice: '580',
      type: 'put',
    });
  });

  it('answers the clocks and calendars the SDK calls', async () => {
    const legacy = await sdk.clock.legacyClock();
    expect(legacy.isOpen).toBe(true);
    const v3 = await sdk.clock.clock({});
    expect(v3.clocks[0]).toMatchObject({ phase: 'core', market: { mic: 'XNYS' } });
    const cal = await sdk.calendar.calendar({
      market: 'XNYS',
      start: new Date('2026-11-23T00:00:00Z'),
      end: new Date('2026-11-29T00:00:00Z'),
    });
    // Thanksgiving week: Thursday closed, Friday closes at 13:00 New York (18:00 UTC), as at the NYSE.
    expect(cal.calendar.map((d) => d.date.toISOString().slice(0, 10))).toEqual([
      '2026-11-23',
      '2026-11-24',
      '2026-11-25',
      '2026-11-27',
    ]);
    expect(cal.calendar[3].coreEnd.toISOString()).toBe('2026-11-27T18:00:00.000Z');
    const legacyCal = await sdk.calendar.legacyCalendar({
      start: new Date('2026-11-23T00:00:00Z'),
      end: new Date('2026-11-24T00:00:00Z'),
    });
    expect(legacyCal[0]).toMatchObject({ open: '09:30', close: '16:00' });
  });
});
