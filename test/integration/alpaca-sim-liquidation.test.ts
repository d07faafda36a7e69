/**
 * Two broker-side scenarios on a spread opened as one mleg order, over HTTP with the real SDK, the
 * simulator's clock driven through its `now` seam (README beside local/alpaca-sim: "Expiry-day
 * liquidation", "Assignment, exercise and expiry"):
 * - Alpaca's expiry-day liquidation closing ONE leg alone (ALPACA-OPTIONS.md "Expiry, exercise and
 *   do-not-exercise", alpaca-py issue 774), explicit (`liquidate`) and scheduled (`expiryDayLiquidation`);
 * - an early assignment of the short leg, and what a working or a new mleg close does then.
 */
import { errors, trading } from '@alpacahq/alpaca-trade-api/rest';
import { startAlpacaSim, type AlpacaSim, type AlpacaSimOptions } from '../../local/alpaca-sim';
import { KEY_ID, SECRET, rejectionOf, sdkFor } from '../helpers/alpaca-sim';

/** Friday 2027-03-19 (a trading day, New York on EDT: 15:00 ET = 19:00Z), and a vertical expiring then. */
const EXPIRY_DAY = '2027-03-19';
const LONG = 'GOOGL270319C00340000';
const SHORT = 'GOOGL270319C00350000';
/** A short on a later expiry: never taken by that day's liquidation. */
const LATER_SHORT = 'GOOGL270416C00350000';
const at = (hhmm: string) => Date.parse(`${EXPIRY_DAY}T${hhmm}:00-04:00`);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Raw = Record<string, unknown>;

let sim: AlpacaSim;
let sdk: ReturnType<typeof sdkFor>;
let clock: { ms: number };

async function start(opts: AlpacaSimOptions = {}, startAt = at('15:00')): Promise<void> {
  clock = { ms: startAt };
  sim = await startAlpacaSim({ rateLimitPerMinute: null, now: () => new Date(clock.ms), ...opts });
  sim.addAccount(KEY_ID, SECRET, { cash: 100_000 });
  sim.setQuote(LONG, { bid: 5, ask: 5.2 });
  sim.setQuote(SHORT, { bid: 2, ask: 2.1 });
  sim.setQuote(LATER_SHORT, { bid: 3, ask: 3.2 });
  sdk = sdkFor(sim);
}

afterEach(async () => {
  await sim?.close();
});

/** Opens 2 debit verticals (long 340 / short 350) as one mleg order, filled at once (net 3.20). */
async function openVertical(): Promise<void> {
  const o = await sdk.orders.postOrder({
    postOrderRequest: {
      orderClass: 'mleg',
      qty: '2',
      type: 'limit',
      limitPrice: '3.30',
      timeInForce: 'day',
      clientOrderId: 'pipeline-open-1',
      legs: [
        { symbol: LONG, ratioQty: '1', side: 'buy', positionIntent: 'buy_to_open' },
        { symbol: SHORT, ratioQty: '1', side: 'sell', positionIntent: 'sell_to_open' },
      ],
    },
  });
  expect((await sdk.orders.getOrderByOrderID({ orderId: o.id! })).status).toBe('filled');
}

/** An intent-free mleg close of the vertical (a limit far from the market, so it works on). */
function closeBody(qty: string, limitPrice = '9.00', intents: Raw = {}): trading.PostOrderRequest {
  return {
    orderClass: 'mleg',
    qty,
    type: 'limit',
    limitPrice: `-${limitPrice}`,
    timeInForce: 'day',
    clientOrderId: `pipeline-close-${qty}-${limitPrice}`,
    legs: [
      { symbol: LONG, ratioQty: '1', side: 'sell', ...intents },
      { symbol: SHORT, ratioQty: '1', side: 'buy' },
    ],
  };
}

async function qtyOf(symbol: string): Promise<number> {
  const all = await sdk.positions.getAllOpenPositions();
  return Number(all.find((p) => p.symbol === symbol)?.qty ?? 0);
}

async function control(path: string, body: unknown): Promise<{ status: number; body: Raw }> {
  const r = await fetch(`${sim.url}/_sim/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Raw };
}

describe('expiry-day liquidation of one leg (alpaca-py issue 774)', () => {
  it('liquidate: the short leg alone is bought back at the ask by an order that is not the client’s; the working mleg close holding it is canceled', async () => {
    await start();
    await openVertical();
    const working = await sdk.orders.postOrder({ postOrderRequest: closeBody('2') });
    expect((await sdk.orders.getOrderByOrderID({ orderId: working.id! })).status).toBe('new');

    sim.liquidate(KEY_ID, SHORT);

    expect(await qtyOf(SHORT)).toBe(0);
    expect(await qtyOf(LONG)).toBe(2); // the long leg is left alone: an orphan
    expect((await sdk.orders.getOrderByOrderID({ orderId: working.id! })).status).toBe('canceled');
    const listed = await sdk.orders.getAllOrders({ status: 'closed', symbols: SHORT });
    const broker = listed.find((o) => o.orderClass !== 'mleg')!;
    expect(broker).toMatchObject({
      symbol: SHORT,
      side: 'buy',
      positionIntent: 'buy_to_close',
      type: 'market',
      status: 'filled',
      qty: '2',
      filledQty: '2',
      filledAvgPrice: '2.1',
    });
    expect(broker.clientOrderId).toMatch(UUID);
    expect(broker.clientOrderId).not.toMatch(/^pipeline-/);
    // Its qty hold is gone: the long leg alone can be sold (the orphan unwind) without a 403.
    const unwind = await sdk.orders.postOrder({
      postOrderRequest: { symbol: LONG, qty: '2', side: 'sell', type: 'market', timeInForce: 'day' },
    });
    expect((await sdk.orders.getOrderByOrderID({ orderId: unwind.id! })).status).toBe('filled');
  });

  it('liquidate: a long is sold at the bid, for the qty asked only; a position not held or a closed market is refused', async () => {
    await start();
    await openVertical();
    const cashBefore = Number((await sdk.accounts.getAccount()).cash);
    const o = sim.liquidate(KEY_ID, LONG, 1);
    expect(o).toMatchObject({ side: 'sell', position_intent: 'sell_to_close', filled_avg_price: '5' });
    expect(await qtyOf(LONG)).toBe(1);
    expect(Number((await sdk.accounts.getAccount()).cash)).toBeCloseTo(cashBefore + 500, 2);
    expect(() => sim.liquidate(KEY_ID, LATER_SHORT)).toThrow(/no option position/);
    expect(() => sim.liquidate(KEY_ID, LONG, 2)).toThrow(/qty 2/);
    sim.setMarketOpen(false);
    expect(() => sim.liquidate(KEY_ID, LONG)).toThrow(/market is closed/);
  });

  it('scheduled (short_legs, 15:15 ET): nothing at 15:14; at 15:15 the expiring short leg goes alone, a later expiry stays', async () => {
    await start({ expiryDayLiquidation: {} });
    await openVertical();
    sim.setPosition(KEY_ID, LATER_SHORT, -1, 3);
    clock.ms = at('15:14');
    sim.tick();
    expect(await qtyOf(SHORT)).toBe(-2);

    clock.ms = at('15:15');
    sim.tick();
    expect(await qtyOf(SHORT)).toBe(0);
    expect(await qtyOf(LONG)).toBe(2);
    expect(await qtyOf(LATER_SHORT)).toBe(-1);
    sim.tick(); // nothing left to take: no second order
    const brokerOrders = sim.orders(KEY_ID).filter((o) => o.order_class === 'simple');
    expect(brokerOrders).toHaveLength(1);
    expect(brokerOrders[0]).toMatchObject({ symbol: SHORT, status: 'filled' });
  });

  it('scheduled over the control routes: a list of contracts at a chosen minute; `all`; off; bad bodies answer 400', async () => {
    await start({ controlApi: true });
    await openVertical();
    expect((await control('expiry-liquidation', { atMinuteEt: 15 * 60 + 20, symbols: [LONG] })).status).toBe(
      200,
    );
    clock.ms = at('15:19');
    sim.tick();
    expect(await qtyOf(LONG)).toBe(2);
    clock.ms = at('15:20');
    sim.tick();
    expect(await qtyOf(LONG)).toBe(0);
    expect(await qtyOf(SHORT)).toBe(-2);

    expect((await control('expiry-liquidation', { off: true })).status).toBe(200);
    sim.tick();
    expect(await qtyOf(SHORT)).toBe(-2);
    expect((await control('expiry-liquidation', { symbols: 'all' })).status).toBe(200);
    sim.tick();
    expect(await qtyOf(SHORT)).toBe(0);

    expect((await control('expiry-liquidation', { symbols: 'longs' })).status).toBe(400);
    expect((await control('expiry-liquidation', { atMinuteEt: 2000 })).status).toBe(400);
    expect((await control('liquidate', { symbol: LONG })).status).toBe(400);
  });

  it('POST /_sim/liquidate closes a position at market and answers the broker’s order; an unknown position 400', async () => {
    await start({ controlApi: true });
    await openVertical();
    const r = await control('liquidate', { keyId: KEY_ID, symbol: SHORT, qty: 1 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ symbol: SHORT, side: 'buy', status: 'filled', filled_qty: '1' });
    expect(await qtyOf(SHORT)).toBe(-1);
    const bad = await control('liquidate', { keyId: KEY_ID, symbol: LATER_SHORT });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/no option position/);
  });

  it('scheduled: a price move past the minute runs it too (local mode never ticks; its random walk moves prices)', async () => {
    await start({ expiryDayLiquidation: { symbols: 'short_legs' } });
    await openVertical();
    clock.ms = at('15:16');
    sim.setQuote(LONG, { bid: 5.1, ask: 5.3 });
    expect(await qtyOf(SHORT)).toBe(0);
    expect(await qtyOf(LONG)).toBe(2);
  });

  it('scheduled: a short without an ask waits; it goes on the first tick after a quote arrives', async () => {
    await start({ expiryDayLiquidation: {} });
    await openVertical();
    sim.setQuote(SHORT, { bid: 0, ask: 0 });
    clock.ms = at('15:30');
    sim.tick();
    expect(await qtyOf(SHORT)).toBe(-2);
    sim.setQuote(SHORT, { bid: 0.5, ask: 0.6 });
    expect(await qtyOf(SHORT)).toBe(0);
    const broker = sim.orders(KEY_ID).find((o) => o.order_class === 'simple')!;
    expect(broker).toMatchObject({ filled_avg_price: '0.6', status: 'filled' });
  });

  it('after the close the schedule does nothing (expiry settles the rest)', async () => {
    await start({ expiryDayLiquidation: { symbols: 'all' } }, at('16:01'));
    sim.setPosition(KEY_ID, SHORT, -1, 2);
    sim.setStockPrice('GOOGL', 300); // out of the money: it expires worthless at the close
    sim.tick();
    expect(sim.orders(KEY_ID)).toHaveLength(0);
    expect(await qtyOf(SHORT)).toBe(0);
    expect(sim.activities(KEY_ID).map((a) => a.activity_type)).toEqual(['OPEXP']);
  });
});

describe('early assignment of the short leg of an mleg-opened spread', () => {
  it('the whole short leg assigned: shares delivered, the working mleg close canceled; a new intent-free close would open a long on that leg, an explicit buy_to_close is refused', async () => {
    await start();
    await openVertical();
    const working = await sdk.orders.postOrder({ postOrderRequest: closeBody('2') });

    sim.assign(KEY_ID, SHORT);

    expect(await qtyOf(SHORT)).toBe(0);
    expect(await qtyOf('GOOGL')).toBe(-200); // a short call assigned: 100 shares a contract sold at 350
    expect(sim.activities(KEY_ID).map((a) => a.activity_type)).toEqual(['OPASN', 'OPTRD']);
    expect((await sdk.orders.getOrderByOrderID({ orderId: working.id! })).status).toBe('canceled');

    // Inference is per leg from the CURRENT position: the buy leg no longer closes, it opens (the hazard).
    const again = await sdk.orders.postOrder({ postOrderRequest: closeBody('2', '8.00') });
    expect(again.legs?.map((l) => l.positionIntent)).toEqual(['sell_to_close', 'buy_to_open']);
    await sdk.orders.deleteOrderByOrderID({ orderId: again.id! });
    // A close that says what it means is refused instead.
    const strict = closeBody('2', '7.00');
    strict.legs![1] = { ...strict.legs![1], positionIntent: 'buy_to_close' };
    const err = await rejectionOf(sdk.orders.postOrder({ postOrderRequest: strict }));
    expect(err).toBeInstanceOf(errors.ApiError);
    expect((err as errors.ApiError).status).toBe(422);
    expect((err as errors.ApiError).message).toMatch(
      /position intent mismatch, inferred: buy_to_open, specified: buy_to_close/,
    );
  });

  it('one of two short contracts assigned: the working mleg close fills one multiple on every leg, the rest canceled (never one leg alone)', async () => {
    await start({ fillMode: 'manual' });
    sim.setPosition(KEY_ID, LONG, 2, 5.2);
    sim.setPosition(KEY_ID, SHORT, -2, 2);
    const working = await sdk.orders.postOrder({ postOrderRequest: closeBody('2') });

    sim.assign(KEY_ID, SHORT, { qty: 1 });
    expect((await sdk.orders.getOrderByOrderID({ orderId: working.id! })).status).toBe('new');
    sim.fillOrder(working.id!);

    const read = await sdk.orders.getOrderByOrderID({ orderId: working.id! });
    expect(read).toMatchObject({ status: 'canceled', filledQty: '1' });
    expect(read.legs?.map((l) => l.filledQty)).toEqual(['1', '1']);
    expect(await qtyOf(LONG)).toBe(1);
    expect(await qtyOf(SHORT)).toBe(0);
  });
});
