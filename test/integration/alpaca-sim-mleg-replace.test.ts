/**
 * `PATCH /v2/orders/{id}` of a working mleg order in the simulator, over HTTP with the real SDK: a new order
 * (new id, `replaces`), the old one `replaced`, the legs kept; zero or negative net limits accepted on a
 * replace (ALPACA-OPTIONS.md "Orders for options", "Multi-leg orders"); refused replaces leave the old
 * order working (local/alpaca-sim/mleg-replace.ts).
 */
import { errors, trading } from '@alpacahq/alpaca-trade-api/rest';
import type { AlpacaSim } from '../../local/alpaca-sim';
import { KEY_ID, rejectionOf, sdkFor, startTestSim } from '../helpers/alpaca-sim';
import { futureCall } from '../helpers/recommendations';

const LONG = futureCall(340);
const SHORT = futureCall(350);

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

/** An intent-free close of a held 340/350 vertical: selling it is a credit (limit negative). */
function closeBody(qty: string, limitPrice: string): trading.PostOrderRequest {
  return {
    orderClass: 'mleg',
    qty,
    type: 'limit',
    limitPrice,
    timeInForce: 'day',
    clientOrderId: 'close-1',
    legs: [
      { symbol: LONG, ratioQty: '1', side: 'sell' },
      { symbol: SHORT, ratioQty: '1', side: 'buy' },
    ],
  };
}

async function apiError(p: Promise<unknown>): Promise<errors.ApiError> {
  const err = await rejectionOf(p);
  expect(err).toBeInstanceOf(errors.ApiError);
  return err as errors.ApiError;
}

describe('replacing a working mleg order', () => {
  it('a new limit: new order and leg ids, old `replaced`, the legs and intents kept; it fills when marketable', async () => {
    sim.setPosition(KEY_ID, LONG, 2, 4);
    sim.setPosition(KEY_ID, SHORT, -2, 1.5);
    // Selling the spread now yields 5.00 - 2.10 = 2.90: asking for 3.50 rests.
    const old = await sdk.orders.postOrder({ postOrderRequest: closeBody('2', '-3.50') });
    expect((await sdk.orders.getOrderByOrderID({ orderId: old.id! })).status).toBe('new');

    const next = await sdk.orders.patchOrderByOrderId({
      orderId: old.id!,
      patchOrderRequest: { limitPrice: '-2.90', clientOrderId: 'close-1-r1' },
    });
    expect(next.id).not.toBe(old.id);
    expect(next).toMatchObject({
      replaces: old.id,
      clientOrderId: 'close-1-r1',
      orderClass: 'mleg',
      qty: '2',
    });
    expect(next.legs?.map((l) => [l.symbol, l.side, l.positionIntent])).toEqual([
      [LONG, 'sell', 'sell_to_close'],
      [SHORT, 'buy', 'buy_to_close'],
    ]);
    expect(next.legs?.map((l) => l.id)).not.toEqual(old.legs?.map((l) => l.id));
    const oldRead = await sdk.orders.getOrderByOrderID({ orderId: old.id! });
    expect(oldRead).toMatchObject({ status: 'replaced', replacedBy: next.id });
    const read = await sdk.orders.getOrderByOrderID({ orderId: next.id! });
    expect(read).toMatchObject({ status: 'filled', filledQty: '2', filledAvgPrice: '-2.9' });
    expect(sim.positions(KEY_ID)).toEqual([]);
  });

  it('a smaller qty: the hold on each closing leg shrinks; a zero net limit is accepted on a replace', async () => {
    sim.setPosition(KEY_ID, LONG, 2, 4);
    sim.setPosition(KEY_ID, SHORT, -2, 1.5);
    const old = await sdk.orders.postOrder({ postOrderRequest: closeBody('2', '-3.50') });
    const next = await sdk.orders.patchOrderByOrderId({
      orderId: old.id!,
      patchOrderRequest: { qty: '1', limitPrice: '0' },
    });
    expect(next).toMatchObject({ qty: '1', limitPrice: '0' });
    // A limit of 0 (receive at least nothing) is marketable against a 2.90 credit: it fills one multiple.
    expect((await sdk.orders.getOrderByOrderID({ orderId: next.id! })).status).toBe('filled');
    expect(sim.positions(KEY_ID).map((p) => [p.symbol, p.qty])).toEqual([
      [LONG, '1'],
      [SHORT, '-1'],
    ]);
  });

  it('with replaceMode old_may_fill: the old order still fills before the replace settles, and the replacement is rejected', async () => {
    sim.setReplaceMode('old_may_fill');
    sim.setPosition(KEY_ID, LONG, 2, 4);
    sim.setPosition(KEY_ID, SHORT, -2, 1.5);
    const old = await sdk.orders.postOrder({ postOrderRequest: closeBody('2', '-3.50') });
    sim.setFillMode('manual');
    const next = await sdk.orders.patchOrderByOrderId({
      orderId: old.id!,
      patchOrderRequest: { limitPrice: '-3.40' },
    });
    expect((await sdk.orders.getOrderByOrderID({ orderId: old.id! })).status).toBe('pending_replace');
    sim.fillOrder(old.id!);
    sim.settleReplaces();
    expect((await sdk.orders.getOrderByOrderID({ orderId: old.id! })).status).toBe('filled');
    expect((await sdk.orders.getOrderByOrderID({ orderId: next.id! })).status).toBe('rejected');
    expect(sim.positions(KEY_ID)).toEqual([]);
  });

  it('refused replaces leave the old order working: a stop price, more qty than a leg holds (403), an order no longer open', async () => {
    sim.setPosition(KEY_ID, LONG, 2, 4);
    sim.setPosition(KEY_ID, SHORT, -2, 1.5);
    const old = await sdk.orders.postOrder({ postOrderRequest: closeBody('2', '-3.50') });
    const stop = await apiError(
      sdk.orders.patchOrderByOrderId({ orderId: old.id!, patchOrderRequest: { stopPrice: '1.00' } }),
    );
    expect(stop.status).toBe(422);
    const tooMany = await apiError(
      sdk.orders.patchOrderByOrderId({ orderId: old.id!, patchOrderRequest: { qty: '3' } }),
    );
    expect(tooMany.status).toBe(403);
    expect(tooMany.message).toMatch(/insufficient qty available for order \(requested: 3, available: 2\)/);
    expect((await sdk.orders.getOrderByOrderID({ orderId: old.id! })).status).toBe('new');

    await sdk.orders.deleteOrderByOrderID({ orderId: old.id! });
    const gone = await apiError(
      sdk.orders.patchOrderByOrderId({ orderId: old.id!, patchOrderRequest: { limitPrice: '-3.00' } }),
    );
    expect(gone.status).toBe(422);
    expect(gone.message).toMatch(/order is already in "canceled" state/);
  });
});
