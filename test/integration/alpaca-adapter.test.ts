/**
 * The Alpaca adapter against the simulator over HTTP, through the real SDK: parsing, error mapping,
 * the retry rules per verb, batching of snapshots, and the endpoint resolution with the paper/live guard.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlpacaSim } from '../../local/alpaca-sim';
import {
  ALPACA_DATA_URL,
  ALPACA_LIVE_TRADING_URL,
  ALPACA_PAPER_TRADING_URL,
  resolveAlpacaEndpoints,
} from '../../shared/adapters/alpaca';
import {
  BrokerRejectedError,
  ConfigError,
  DuplicateClientOrderIdError,
  TransientError,
} from '../../shared/domain/errors';
import { buildCloseOrder, type OrderRequest } from '../../shared/domain/orders';
import { buildProtectiveStopOrder } from '../../shared/domain/broker-stop';
import { CALL, KEY_ID, PUT, adapterFor, rejectionOf, startTestSim } from '../helpers/alpaca-sim';
import { testClock } from '../helpers/test-clock';

// A hang guard only (no assertion here reads the wall clock): 1,100 orders over HTTP take many times longer
// on a loaded machine.
jest.setTimeout(120_000);
import { contractFor, expiryIn } from '../helpers/contracts';

let sim: AlpacaSim;

beforeEach(async () => {
  sim = await startTestSim();
});

afterEach(async () => {
  await sim.close();
});

function openOrder(over: Partial<OrderRequest> = {}): OrderRequest {
  return {
    symbol: CALL,
    qty: 2,
    side: 'buy',
    type: 'market',
    time_in_force: 'day',
    client_order_id: 'ops-main-o-rec1',
    position_intent: 'buy_to_open',
    ...over,
  };
}

describe('orders and positions', () => {
  it('submits an opening order with its explicit intent and parses the answer into numbers', async () => {
    const broker = adapterFor(sim);
    const placed = await broker.submitOrder(openOrder({ type: 'limit', limit_price: 2.15 }));
    expect(placed).toMatchObject({
      client_order_id: 'ops-main-o-rec1',
      symbol: CALL,
      qty: 2,
      filled_qty: 0,
      filled_avg_price: null,
      side: 'buy',
      type: 'limit',
      limit_price: 2.15,
      position_intent: 'buy_to_open',
      time_in_force: 'day',
    });
    expect(new Date(placed.created_at).toString()).not.toBe('Invalid Date');
    const [req] = sim.requestsTo('POST', '/v2/orders');
    expect(req.body).toEqual({
      symbol: CALL,
      qty: '2',
      side: 'buy',
      type: 'limit',
      time_in_force: 'day',
      limit_price: '2.15',
      client_order_id: 'ops-main-o-rec1',
      position_intent: 'buy_to_open',
    });
  });

  it('sends a close built by buildCloseOrder with NO position_intent and the option symbol', async () => {
    const broker = adapterFor(sim);
    sim.setPosition(KEY_ID, CALL, 3, 1.5);
    const [held] = await broker.listPositions();
    const close = buildCloseOrder({
      position: { option_symbol: CALL, side: 'long' },
      wantedQty: 5,
      broker: held,
      clientOrderId: 'ops-main-x1-pos1',
    });
    if (!close.ok) throw new Error('expected a close order');
    const placed = await broker.submitOrder(close.order);
    expect(placed.position_intent).toBe('sell_to_close');
    const [req] = sim.requestsTo('POST', '/v2/orders');
    expect(JSON.parse(req.rawBody)).not.toHaveProperty('position_intent');
    expect(req.body).toMatchObject({ symbol: CALL, qty: '3', side: 'sell' });
    expect(await broker.listPositions()).toEqual([]);
  });

  it('looks orders up by client_order_id (null when unknown) and lists open orders', async () => {
    const broker = adapterFor(sim);
    await broker.submitOrder(openOrder());
    expect(await broker.getOrderByClientOrderId('ops-main-o-rec1')).toMatchObject({
      status: 'filled',
      filled_qty: 2,
      filled_avg_price: 2.1,
    });
    expect(await broker.getOrderByClientOrderId('nope')).toBeNull();
    await broker.submitOrder(openOrder({ client_order_id: 'resting', type: 'limit', limit_price: 1 }));
    const open = await broker.listOpenOrders();
    expect(open.map((o) => [o.client_order_id, o.status])).toEqual([['resting', 'new']]);
    await broker.cancelOrder(open[0].id);
    expect(await broker.listOpenOrders()).toEqual([]);
  });

  it('rests a protective gtc stop (no intent), replaces it via PATCH (new id, old one replaced), 422 once it ended', async () => {
    const broker = adapterFor(sim);
    sim.setPosition(KEY_ID, CALL, 3, 2);
    sim.setQuote(CALL, { bid: 2, ask: 2.1 });
    const order = buildProtectiveStopOrder({
      position: { account: 'main', position_id: 'pos1', option_symbol: CALL, side: 'long' },
      qty: 3,
      seq: 1,
      terms: { type: 'stop', stop_price: 1.5, limit_price: null, reason: 'stop_loss' },
    });
    const placed = await broker.submitOrder(order);
    expect(placed).toMatchObject({ type: 'stop', stop_price: 1.5, time_in_force: 'gtc' });
    const [req] = sim.requestsTo('POST', '/v2/orders');
    expect(JSON.parse(req.rawBody)).toEqual({
      symbol: CALL,
      qty: '3',
      side: 'sell',
      type: 'stop',
      time_in_force: 'gtc',
      stop_price: '1.5',
      client_order_id: 'ops-main-s1-pos1',
    });
    expect((await broker.getPosition(CALL))?.qty_available).toBe(0);
    const next = await broker.replaceOrder(placed.id, {
      stop_price: 1.6,
      client_order_id: 'ops-main-s2-pos1',
    });
    expect(next).toMatchObject({ client_order_id: 'ops-main-s2-pos1', stop_price: 1.6, qty: 3 });
    expect(next.id).not.toBe(placed.id);
    expect(await broker.getOrderByClientOrderId('ops-main-s1-pos1')).toMatchObject({ status: 'replaced' });
    const [patch] = sim.requestsTo('PATCH', `/v2/orders/${placed.id}`);
    expect(JSON.parse(patch.rawBody)).toEqual({ client_order_id: 'ops-main-s2-pos1', stop_price: '1.6' });
    const err = await rejectionOf(
      broker.replaceOrder(placed.id, { stop_price: 1.7, client_order_id: 'ops-main-s3-pos1' }),
    );
    expect(err).toBeInstanceOf(BrokerRejectedError);
    expect(err).toMatchObject({ status: 422 });
  });

  it('lists closed orders after a time, oldest first: filled and cancelled, never open ones', async () => {
    await sim.close();
    let now = Date.parse('2027-03-01T15:00:00.000Z');
    sim = await startTestSim({ now: () => new Date(now) });
    const broker = adapterFor(sim);
    await broker.submitOrder(openOrder({ client_order_id: 'old' })); // filled, but before `after`
    now += 10_000;
    await broker.submitOrder(openOrder({ client_order_id: 'filled' }));
    now += 1_000;
    const cancelled = await broker.submitOrder(
      openOrder({ client_order_id: 'cancelled', type: 'limit', limit_price: 1 }),
    );
    await broker.cancelOrder(cancelled.id);
    now += 1_000;
    await broker.submitOrder(openOrder({ client_order_id: 'resting', type: 'limit', limit_price: 1 }));
    const closed = await broker.listClosedOrders('2027-03-01T15:00:05.000Z');
    expect(closed.map((o) => [o.client_order_id, o.status, o.filled_qty])).toEqual([
      ['filled', 'filled', 2],
      ['cancelled', 'canceled', 0],
    ]);
    expect(closed[0]).toMatchObject({ filled_avg_price: 2.1, side: 'buy' });
    const [req] = sim.requestsTo('GET', '/v2/orders').filter((r) => r.query.status === 'closed');
    expect(req.query).toMatchObject({
      status: 'closed',
      after: '2027-03-01T15:00:05.000Z',
      direction: 'asc',
      limit: '500',
    });
  });

  it('pages closed orders past 500 (orders sharing a millisecond at a page edge are kept once)', async () => {
    await sim.close();
    const t0 = Date.parse('2027-03-01T15:00:00.000Z');
    let now = t0;
    sim = await startTestSim({ now: () => new Date(now), rateLimitPerMinute: null });
    const broker = adapterFor(sim);
    const n = 1_100;
    for (let i = 0; i < n; i++) {
      now = t0 + 1_000 + Math.floor(i / 2); // two orders per millisecond
      await broker.submitOrder(
        openOrder({ client_order_id: `c${i}`, qty: 1, type: 'limit', limit_price: 0.01 }),
      );
    }
    for (const o of sim.orders(KEY_ID)) sim.cancelOrder(String(o.id));
    const closed = await broker.listClosedOrders(new Date(t0).toISOString());
    expect(closed).toHaveLength(n);
    expect(new Set(closed.map((o) => o.id)).size).toBe(n);
    const times = closed.map((o) => o.created_at);
    expect([...times].sort()).toEqual(times);
    expect(sim.requestsTo('GET', '/v2/orders').filter((r) => r.query.status === 'closed')).toHaveLength(3);
  });

  it('normalises positions: absolute qty and qty_available, side from the sign', async () => {
    const broker = adapterFor(sim);
    sim.setPosition(KEY_ID, CALL, 4, 1.25);
    sim.setPosition(KEY_ID, PUT, -2, 3.5);
    await broker.submitOrder(
      openOrder({
        side: 'sell',
        qty: 1,
        type: 'limit',
        limit_price: 9,
        position_intent: undefined,
        client_order_id: 'c1',
      }),
    );
    const positions = await broker.listPositions();
    expect(positions.sort((a, b) => a.symbol.localeCompare(b.symbol))).toEqual([
      {
        symbol: CALL,
        side: 'long',
        qty: 4,
        qty_available: 3,
        avg_entry_price: 1.25,
        asset_class: 'us_option',
      },
      {
        symbol: PUT,
        side: 'short',
        qty: 2,
        qty_available: 2,
        avg_entry_price: 3.5,
        asset_class: 'us_option',
      },
    ]);
    expect(await broker.getPosition(PUT)).toMatchObject({ side: 'short', qty: 2 });
    expect(await broker.getPosition(contractFor('GOOGL', 400, 'C', 999))).toBeNull();
  });

  it('reads the clock and the account as numbers', async () => {
    const broker = adapterFor(sim);
    sim.setAccount(KEY_ID, { optionsBuyingPower: 1234.5 });
    expect(await broker.getAccount()).toEqual({
      status: 'ACTIVE',
      tradingBlocked: false,
      optionsBuyingPower: 1234.5,
      buyingPower: 100_000,
      optionsTradingLevel: 3,
    });
    sim.setMarketOpen(false);
    const clock = await broker.getClock();
    expect(clock.isOpen).toBe(false);
    expect(Date.parse(clock.nextOpen!)).toBeGreaterThan(Date.parse(clock.timestamp));
  });

  it('refuses to send a closing intent even from untyped callers', async () => {
    const broker = adapterFor(sim);
    const bad = { ...openOrder(), position_intent: 'sell_to_close' } as unknown as OrderRequest;
    await expect(broker.submitOrder(bad)).rejects.toThrow(/refusing to send position_intent/);
    expect(sim.requestsTo('POST', '/v2/orders')).toHaveLength(0);
  });
});

describe('error mapping', () => {
  it('maps a 422 position intent mismatch to BrokerRejectedError with status and code', async () => {
    sim.setPosition(KEY_ID, CALL, 1, 1);
    const mismatch = await rejectionOf(
      adapterFor(sim).submitOrder(
        openOrder({ side: 'sell', position_intent: 'sell_to_open', client_order_id: 'x2' }),
      ),
    );
    expect(mismatch).toBeInstanceOf(BrokerRejectedError);
    expect(mismatch).toMatchObject({
      status: 422,
      code: 42210000,
      transient: false,
      reason: 'broker_rejected',
    });
    expect((mismatch as Error).message).toContain('position intent mismatch, inferred: sell_to_close');
  });

  it('maps 403 insufficient qty to BrokerRejectedError 403 / 40310000', async () => {
    sim.setPosition(KEY_ID, CALL, 1, 1);
    const err = await rejectionOf(
      adapterFor(sim).submitOrder(openOrder({ side: 'sell', qty: 2, position_intent: undefined })),
    );
    expect(err).toBeInstanceOf(BrokerRejectedError);
    expect(err).toMatchObject({ status: 403, code: 40310000 });
  });

  it('maps a reused client_order_id to DuplicateClientOrderIdError', async () => {
    const broker = adapterFor(sim);
    await broker.submitOrder(openOrder());
    const err = await rejectionOf(broker.submitOrder(openOrder()));
    expect(err).toBeInstanceOf(DuplicateClientOrderIdError);
    expect(err).toMatchObject({ clientOrderId: 'ops-main-o-rec1' });
  });

  it('maps bad credentials to a permanent BrokerRejectedError', async () => {
    const err = await rejectionOf(adapterFor(sim, { keyId: 'PKWRONG' }).getAccount());
    expect(err).toBeInstanceOf(BrokerRejectedError);
    expect(err).toMatchObject({ status: 401 }); // Alpaca's 401 `unauthorized.` (fixture user-401-wrong-secret)
  });

  it('maps persistent 5xx on a GET to TransientError broker_5xx after 3 tries', async () => {
    sim.injectFault({ method: 'GET', path: '/v2/positions', status: 502, times: 10 });
    const err = await rejectionOf(adapterFor(sim, { retryPolicy: { baseDelayMs: 10 } }).listPositions());
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ reason: 'broker_5xx' });
    expect(sim.requestsTo('GET', '/v2/positions')).toHaveLength(3);
  });

  it('gives up at once on a 429 whose reset is beyond the wait budget (TransientError rate_limited)', async () => {
    sim.setRateLimit(2);
    const clock = testClock();
    const broker = adapterFor(sim, { retrySleep: clock.sleep });
    await broker.getAccount();
    await broker.getAccount();
    const err = await rejectionOf(broker.getAccount());
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ reason: 'rate_limited' });
    expect(clock.sleeps).toEqual([]); // at once: no wait between tries
    expect(sim.requestsTo('GET', '/v2/account')).toHaveLength(3);
  });
});

describe('retries', () => {
  it('retries a GET after a 429, honouring Retry-After, then succeeds', async () => {
    sim.injectFault({ method: 'GET', path: '/v2/account', status: 429, headers: { 'Retry-After': '1' } });
    const clock = testClock();
    const broker = adapterFor(sim, { retrySleep: clock.sleep });
    await expect(broker.getAccount()).resolves.toMatchObject({ status: 'ACTIVE' });
    // One wait: the 1 s the broker asked for, plus at most the backoff base (250 ms) of jitter.
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(1000);
    expect(clock.sleeps[0]).toBeLessThan(1250);
    expect(sim.requestsTo('GET', '/v2/account').map((r) => r.status)).toEqual([429, 200]);
  });

  it('retries a GET after a 503 with backoff, then succeeds', async () => {
    sim.injectFault({ method: 'GET', path: '/v2/clock', status: 503 });
    await expect(adapterFor(sim).getClock()).resolves.toMatchObject({ isOpen: true });
    expect(sim.requestsTo('GET', '/v2/clock').map((r) => r.status)).toEqual([503, 200]);
  });

  it('retries a POST after a 429 (the broker did not act): one order', async () => {
    sim.injectFault({ method: 'POST', path: '/v2/orders', status: 429, headers: { 'Retry-After': '0' } });
    await adapterFor(sim).submitOrder(openOrder());
    expect(sim.requestsTo('POST', '/v2/orders').map((r) => r.status)).toEqual([429, 200]);
    expect(sim.orders(KEY_ID)).toHaveLength(1);
  });

  it('does NOT retry a POST answered 500 after the broker acted: exactly one order, found by client_order_id', async () => {
    sim.injectFault({ method: 'POST', path: '/v2/orders', status: 500, afterAction: true });
    const broker = adapterFor(sim);
    const err = await rejectionOf(broker.submitOrder(openOrder()));
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ reason: 'broker_5xx' });
    expect(sim.requestsTo('POST', '/v2/orders')).toHaveLength(1);
    expect(sim.orders(KEY_ID)).toHaveLength(1);
    expect(await broker.getOrderByClientOrderId('ops-main-o-rec1')).toMatchObject({ qty: 2 });
  });

  it('does NOT retry a POST whose reply was lost: TransientError, one order', async () => {
    sim.injectFault({ method: 'POST', path: '/v2/orders', lostReply: true });
    const err = await rejectionOf(adapterFor(sim).submitOrder(openOrder()));
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ reason: 'network' });
    expect(sim.requestsTo('POST', '/v2/orders')).toHaveLength(1);
    expect(sim.orders(KEY_ID)).toHaveLength(1);
  });

  it('maps a request slower than timeoutMs to TransientError timeout', async () => {
    // The broker holds the request for a minute: only the adapter's own deadline can end the call.
    sim.injectFault({ method: 'GET', path: '/v2/account', delayMs: 60_000 });
    const err = await rejectionOf(adapterFor(sim, { timeoutMs: 200, maxRetries: 0 }).getAccount());
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ reason: 'timeout' });
    // Given up while the broker still held it (never answered), after one try.
    expect(sim.requestsTo('GET', '/v2/account').map((r) => r.status)).toEqual([0]);
  });

  it('does NOT retry a POST that timed out (the order exists)', async () => {
    sim.injectFault({ method: 'POST', path: '/v2/orders', delayMs: 600 });
    const err = await rejectionOf(adapterFor(sim, { timeoutMs: 200 }).submitOrder(openOrder()));
    expect(err).toMatchObject({ reason: 'timeout' });
    await sim.settleDelayed(); // the held request acts now
    expect(sim.requestsTo('POST', '/v2/orders')).toHaveLength(1);
    expect(sim.orders(KEY_ID)).toHaveLength(1);
  });
});

describe('market data', () => {
  const symbols = Array.from(
    { length: 250 },
    (_, i) => `SPY271217C${String(100_000 + i * 1000).padStart(8, '0')}`,
  );

  it('fetches 250 symbols in exactly 3 snapshot requests of at most 100; unquoted symbols are absent', async () => {
    symbols
      .slice(0, 240)
      .forEach((s, i) => sim.setQuote(s, { bid: 1 + i / 100, ask: 1.1 + i / 100, bidSize: 3 }));
    const quotes = await adapterFor(sim).getOptionQuotes(symbols);
    const reqs = sim.requestsTo('GET', '/v1beta1/options/snapshots');
    expect(reqs).toHaveLength(3);
    expect(reqs.map((r) => r.query.symbols.split(',').length).sort()).toEqual([100, 100, 50]);
    expect(quotes.size).toBe(240);
    expect(quotes.has(symbols[245])).toBe(false);
    expect(quotes.get(symbols[1])).toMatchObject({
      bid: 1.01,
      ask: 1.11,
      bidSize: 3,
      askSize: 10,
      lastPrice: null,
    });
    expect(new Date(quotes.get(symbols[1])!.quoteTime).toString()).not.toBe('Invalid Date');
  });

  it('follows next_page_token within a chunk', async () => {
    symbols.slice(0, 100).forEach((s) => sim.setQuote(s, { bid: 1, ask: 1.2 }));
    sim.setDataPageSize(40);
    const quotes = await adapterFor(sim).getOptionQuotes(symbols.slice(0, 100));
    expect(quotes.size).toBe(100);
    expect(sim.requestsTo('GET', '/v1beta1/options/snapshots')).toHaveLength(3);
  });

  it('reads quotes from a snapshot body as Alpaca writes it, 64-bit trade ids included', async () => {
    // Alpaca's ids can exceed 2^53 (why the SDK parses market data with lossless-json); the adapter parses
    // snapshot bodies with JSON.parse, which is exact for every field it reads. The body is raw text here,
    // since a JavaScript value cannot hold such an id.
    const body =
      '{"snapshots":{"SPY271217C00600000":{"latestQuote":{"ap":2.35,"as":12,"ax":"C","bp":2.25,"bs":7,' +
      '"bx":"C","c":"A","t":"2026-11-25T15:59:58.123456789Z"},"latestTrade":{"c":"I","i":18446744073709551615,' +
      '"p":2.3,"s":1,"t":"2026-11-25T15:59:00.5Z","x":"C"}}},"next_page_token":null}';
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const adapter = adapterFor(sim, { dataBaseUrl: `http://127.0.0.1:${port}` });
      const quotes = await adapter.getOptionQuotes(['SPY271217C00600000']);
      expect(quotes.get('SPY271217C00600000')).toMatchObject({
        bid: 2.25,
        ask: 2.35,
        bidSize: 7,
        askSize: 12,
        lastPrice: 2.3,
      });
      expect(Date.parse(quotes.get('SPY271217C00600000')!.quoteTime)).toBe(
        Date.parse('2026-11-25T15:59:58.123Z'),
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('returns an option chain with quotes, delta, volume and open interest', async () => {
    sim.addChain({
      underlying: 'SPY',
      underlyingPrice: 600,
      expiries: [expiryIn(45), expiryIn(108)],
      strikes: [590, 600, 610],
      openInterest: 777,
    });
    const chain = await adapterFor(sim).getOptionChain('SPY', {
      type: 'call',
      expirationDateLte: expiryIn(62),
      strikePriceGte: 595,
      includeOpenInterest: true,
    });
    expect(chain.map((c) => c.symbol)).toEqual([
      contractFor('SPY', 45, 'C', 600),
      contractFor('SPY', 45, 'C', 610),
    ]);
    expect(chain[0]).toMatchObject({
      underlying: 'SPY',
      expiry: expiryIn(45),
      type: 'call',
      strike: 600,
      volume: 100,
      openInterest: 777,
    });
    expect(chain[0].delta).toBeGreaterThan(0.4);
    expect(chain[0].ask).toBeGreaterThan(chain[0].bid!);
    expect(await adapterFor(sim).getLatestStockPrice('SPY')).toBe(600);
  });
});

describe('resolveAlpacaEndpoints', () => {
  it('defaults a paper account to the paper and data hosts', () => {
    expect(resolveAlpacaEndpoints({}, { paper: true })).toEqual({
      tradingBaseUrl: ALPACA_PAPER_TRADING_URL,
      dataBaseUrl: ALPACA_DATA_URL,
      paper: true,
    });
  });

  it('honours APCA_API_BASE_URL / APCA_API_DATA_URL (trailing slash and /v2 stripped)', () => {
    const env = {
      APCA_API_BASE_URL: 'http://127.0.0.1:4010/v2/',
      APCA_API_DATA_URL: 'http://127.0.0.1:4011/',
    };
    expect(resolveAlpacaEndpoints(env, { paper: true })).toMatchObject({
      tradingBaseUrl: 'http://127.0.0.1:4010',
      dataBaseUrl: 'http://127.0.0.1:4011',
    });
  });

  it('never points a paper account at the live host', () => {
    for (const url of [
      ALPACA_LIVE_TRADING_URL,
      'https://api.alpaca.markets/v2',
      'https://API.alpaca.markets/',
    ]) {
      expect(() => resolveAlpacaEndpoints({ APCA_API_BASE_URL: url }, { paper: true })).toThrow(ConfigError);
    }
  });

  it('sends a live account to the live host unless APCA_API_BASE_URL overrides', () => {
    expect(resolveAlpacaEndpoints({}, { paper: false }).tradingBaseUrl).toBe(ALPACA_LIVE_TRADING_URL);
    expect(resolveAlpacaEndpoints({ APCA_API_BASE_URL: sim.url }, { paper: false }).tradingBaseUrl).toBe(
      sim.url,
    );
  });

  it('rejects a malformed URL with a ConfigError naming the variable', () => {
    expect(() => resolveAlpacaEndpoints({ APCA_API_DATA_URL: 'not a url' }, { paper: true })).toThrow(
      /APCA_API_DATA_URL/,
    );
  });
});
