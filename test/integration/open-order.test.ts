/**
 * Issue 2 end to end: SQS event → the real open-order handler → the Alpaca simulator over HTTP (real SDK)
 * and dynalite. Every opening order is checked for its explicit intent.
 */
import {
  lambdaContext,
  loadOpenOrderHandler,
  loadSweepHandler,
  sentOrders,
  sqsEvent,
  sqsRecord,
  startPipeline,
  KEY_ID,
  type Pipeline,
} from '../helpers/pipeline';
import { FUTURE_PUT, FUTURE_SYMBOL, recommendationBody } from '../helpers/recommendations';
import { badMessages } from '../helpers/bad-messages';
import { formatOccSymbol } from '../../shared/domain/occ';

let p: Pipeline;

beforeEach(async () => {
  p = await startPipeline({
    account: { name: 'main', limits: { max_open_positions: 50, max_contracts_per_order: 20 } },
  });
  p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
  p.sim.setQuote(FUTURE_PUT, { bid: 3.0, ask: 3.2 });
});
afterEach(async () => {
  await p.close();
});

/** Every order the client sent opens with an explicit intent matching its side (safety rule 1). */
function expectOnlyOpeningIntents() {
  for (const o of sentOrders(p.sim)) {
    expect(o.position_intent).toBe(o.side === 'buy' ? 'buy_to_open' : 'sell_to_open');
  }
}

describe('open-order handler', () => {
  it('a valid BUY becomes one buy_to_open order on the OCC symbol and an open long position', async () => {
    const handler = loadOpenOrderHandler(p);
    const body = recommendationBody({ recommendation_id: 'sig-buy-1', num_contracts: 3 });
    const res = await handler(sqsEvent([sqsRecord(body)]), lambdaContext);

    expect(res.batchItemFailures).toEqual([]);
    const orders = sentOrders(p.sim);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      symbol: FUTURE_SYMBOL,
      qty: '3',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
      position_intent: 'buy_to_open',
      client_order_id: 'ops-main-o-sig-buy-1',
    });
    const pos = await p.table.store.get('main', 'sig-buy-1');
    // Like Alpaca, the POST answers before the fill: pending until the sweep learns the fill.
    expect(pos).toMatchObject({
      state: 'pending',
      side: 'long',
      option_symbol: FUTURE_SYMBOL,
      ticker: 'GOOGL',
      requested_quantity: 3,
      original_quantity: 3,
      open_client_order_id: 'ops-main-o-sig-buy-1',
      open_order_id: p.sim.orders(KEY_ID)[0].id,
    });
    expect(pos!.exit_plan).toMatchObject({
      stop_loss_pct: 0.25,
      take_profit_pct: 0.5,
      trailing_stop_pct: 0.2,
    });
    expect(p.sim.positions(KEY_ID)).toEqual([
      expect.objectContaining({ symbol: FUTURE_SYMBOL, qty: '3', side: 'long' }),
    ]);
  });

  it('a valid SELL becomes one sell_to_open order and a short position', async () => {
    const handler = loadOpenOrderHandler(p);
    const body = recommendationBody({
      recommendation_id: 'sig-sell-1',
      option_symbol: FUTURE_PUT,
      action: 'SELL',
    });
    const res = await handler(sqsEvent([sqsRecord(body)]), lambdaContext);

    expect(res.batchItemFailures).toEqual([]);
    expect(sentOrders(p.sim)).toEqual([
      expect.objectContaining({ symbol: FUTURE_PUT, side: 'sell', position_intent: 'sell_to_open' }),
    ]);
    expect(await p.table.store.get('main', 'sig-sell-1')).toMatchObject({ side: 'short', state: 'pending' });
    expect(p.sim.positions(KEY_ID)).toEqual([expect.objectContaining({ symbol: FUTURE_PUT, side: 'short' })]);
  });

  it('a limit order carries its limit price and stays pending until filled', async () => {
    p.sim.setFillMode('manual');
    const handler = loadOpenOrderHandler(p);
    const body = recommendationBody({ recommendation_id: 'sig-lim', order_type: 'limit', limit_price: 1.95 });
    expect((await handler(sqsEvent([sqsRecord(body)]), lambdaContext)).batchItemFailures).toEqual([]);
    expect(sentOrders(p.sim)[0]).toMatchObject({
      type: 'limit',
      limit_price: '1.95',
      position_intent: 'buy_to_open',
    });
    expect(await p.table.store.get('main', 'sig-lim')).toMatchObject({ state: 'pending', quantity: 0 });
  });

  describe('redelivery never places a second order', () => {
    it('the same message twice in one batch', async () => {
      const handler = loadOpenOrderHandler(p);
      const body = recommendationBody({ recommendation_id: 'dup-same-batch' });
      const res = await handler(sqsEvent([sqsRecord(body), sqsRecord(body)]), lambdaContext);
      expect(res.batchItemFailures).toEqual([]);
      expect(sentOrders(p.sim)).toHaveLength(1);
    });

    it('the same message in a later batch', async () => {
      const handler = loadOpenOrderHandler(p);
      const body = recommendationBody({ recommendation_id: 'dup-later' });
      await handler(sqsEvent([sqsRecord(body, { messageId: 'm1' })]), lambdaContext);
      const res = await handler(
        sqsEvent([sqsRecord(body, { messageId: 'm1', receiveCount: 2 })]),
        lambdaContext,
      );
      expect(res.batchItemFailures).toEqual([]);
      expect(sentOrders(p.sim)).toHaveLength(1);
    });

    it('the same message in another container, at the same time', async () => {
      const a = loadOpenOrderHandler(p);
      const b = loadOpenOrderHandler(p);
      const body = recommendationBody({ recommendation_id: 'dup-containers' });
      const [ra, rb] = await Promise.all([
        a(sqsEvent([sqsRecord(body, { messageId: 'x' })]), lambdaContext),
        b(sqsEvent([sqsRecord(body, { messageId: 'x' })]), lambdaContext),
      ]);
      // One of them may be told to retry (claim in flight): never both ordering.
      expect(sentOrders(p.sim)).toHaveLength(1);
      expect(ra.batchItemFailures.length + rb.batchItemFailures.length).toBeLessThanOrEqual(1);
      // The retry then sees the finished claim and acknowledges without ordering.
      const again = await b(sqsEvent([sqsRecord(body, { messageId: 'x', receiveCount: 2 })]), lambdaContext);
      expect(again.batchItemFailures).toEqual([]);
      expect(sentOrders(p.sim)).toHaveLength(1);
    });
  });

  describe('lost replies', () => {
    it('a lost reply is looked up by client_order_id, not sent again', async () => {
      p.sim.injectFault({ method: 'POST', path: '/v2/orders', lostReply: true });
      const handler = loadOpenOrderHandler(p);
      const body = recommendationBody({ recommendation_id: 'lost-1' });
      const res = await handler(sqsEvent([sqsRecord(body)]), lambdaContext);
      expect(res.batchItemFailures).toEqual([]);
      expect(p.sim.orders(KEY_ID)).toHaveLength(1);
      expect(p.sim.requestsTo('GET', '/v2/orders:by_client_order_id').length).toBeGreaterThanOrEqual(1);
      expect(await p.table.store.get('main', 'lost-1')).toMatchObject({ state: 'open', quantity: 2 });
    });

    it('a lost reply whose lookup also fails: the retry finds the order instead of sending again', async () => {
      await p.close();
      p = await startPipeline({ claimLeaseSeconds: 0 });
      p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
      p.sim.injectFault({ method: 'POST', path: '/v2/orders', lostReply: true });
      p.sim.injectFault({ method: 'GET', path: '/v2/orders:by_client_order_id', status: 500, times: 10 });
      const handler = loadOpenOrderHandler(p);
      const body = recommendationBody({ recommendation_id: 'lost-2' });
      const first = await handler(sqsEvent([sqsRecord(body, { messageId: 'l2' })]), lambdaContext);
      expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'l2' }]);
      expect(await p.table.store.get('main', 'lost-2')).toMatchObject({ state: 'submitting' });

      p.sim.clearFaults();
      const retry = await loadOpenOrderHandler(p)(
        sqsEvent([sqsRecord(body, { messageId: 'l2', receiveCount: 2 })]),
        lambdaContext,
      );
      expect(retry.batchItemFailures).toEqual([]);
      expect(p.sim.orders(KEY_ID)).toHaveLength(1);
      expect(sentOrders(p.sim)).toHaveLength(1);
      expect(await p.table.store.get('main', 'lost-2')).toMatchObject({ state: 'open' });
    });

    it('a claim abandoned before sending (crash) is resumed by the retry and sent exactly once', async () => {
      await p.close();
      p = await startPipeline({ claimLeaseSeconds: 0 });
      p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
      // The broker refuses the POST before acting (a 503 on the way in): nothing placed, claim left behind.
      p.sim.injectFault({ method: 'POST', path: '/v2/orders', status: 503 });
      const handler = loadOpenOrderHandler(p);
      const body = recommendationBody({ recommendation_id: 'crash-1' });
      expect(
        (await handler(sqsEvent([sqsRecord(body, { messageId: 'c1' })]), lambdaContext)).batchItemFailures,
      ).toEqual([{ itemIdentifier: 'c1' }]);
      expect(p.sim.orders(KEY_ID)).toHaveLength(0);
      const retry = await handler(
        sqsEvent([sqsRecord(body, { messageId: 'c1', receiveCount: 2 })]),
        lambdaContext,
      );
      expect(retry.batchItemFailures).toEqual([]);
      expect(p.sim.orders(KEY_ID)).toHaveLength(1);
      expectOnlyOpeningIntents();
    });
  });

  it('a batch mixing one valid message with every kind of invalid one orders only the valid one', async () => {
    const handler = loadOpenOrderHandler(p);
    const bad = badMessages();
    expect(bad.length).toBeGreaterThanOrEqual(12);
    const records = [
      ...bad.map((m, i) => sqsRecord(m.body, { messageId: `bad-${i}` })),
      sqsRecord(recommendationBody({ recommendation_id: 'the-good-one' }), { messageId: 'good' }),
      sqsRecord(recommendationBody({ num_contracts: 21 }), { messageId: 'over-limit' }),
    ];
    const res = await handler(sqsEvent(records), lambdaContext);

    const failed = res.batchItemFailures.map((f) => f.itemIdentifier).sort();
    expect(failed).toEqual([...bad.map((_, i) => `bad-${i}`), 'over-limit'].sort());
    expect(sentOrders(p.sim)).toEqual([
      expect.objectContaining({ client_order_id: 'ops-main-o-the-good-one' }),
    ]);
    // Each refusal keeps its specific reason where an operator can find it.
    const rejections = await p.table.store.listRejections('main');
    expect(rejections).toHaveLength(bad.length + 1);
    for (const [i, m] of bad.entries()) {
      const r = rejections.find((x) => x.message_id === `bad-${i}`);
      expect(r?.detail).toEqual(
        expect.stringMatching(m.expect instanceof RegExp ? m.expect : escape(m.expect)),
      );
    }
    expect(rejections.find((r) => r.message_id === 'over-limit')?.reason).toBe(
      'risk_limit:max_contracts_per_order',
    );
  });

  it('a batch of only bad messages reports every one as a failure, without throwing', async () => {
    const handler = loadOpenOrderHandler(p);
    const res = await handler(
      sqsEvent([sqsRecord('', { messageId: 'e1' }), sqsRecord('{', { messageId: 'e2' })]),
      lambdaContext,
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'e1' }, { itemIdentifier: 'e2' }]);
    expect(sentOrders(p.sim)).toHaveLength(0);
  });

  describe('risk limits', () => {
    it('market closed: the message waits (retried, not refused) and nothing is sent', async () => {
      p.sim.setMarketOpen(false);
      const handler = loadOpenOrderHandler(p);
      const res = await handler(
        sqsEvent([sqsRecord(recommendationBody(), { messageId: 'closed' })]),
        lambdaContext,
      );
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'closed' }]);
      expect(sentOrders(p.sim)).toHaveLength(0);
      expect(await p.table.store.listRejections('main')).toEqual([]);
    });

    it('the kill switch (table item, read at run time) stops new openings at once', async () => {
      const handler = loadOpenOrderHandler(p);
      await p.table.store.putControl('main', { trading_enabled: false, flatten: false });
      const res = await handler(
        sqsEvent([sqsRecord(recommendationBody(), { messageId: 'k' })]),
        lambdaContext,
      );
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'k' }]);
      expect(sentOrders(p.sim)).toHaveLength(0);
      expect((await p.table.store.listRejections('main'))[0]).toMatchObject({
        reason: 'risk_limit:kill_switch',
      });
    });

    it('max open positions counts positions opened earlier in the same batch', async () => {
      await p.close();
      p = await startPipeline({ account: { name: 'main', limits: { max_open_positions: 2 } } });
      p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
      const handler = loadOpenOrderHandler(p);
      const res = await handler(
        sqsEvent(
          [1, 2, 3].map((i) =>
            sqsRecord(recommendationBody({ recommendation_id: `mop-${i}` }), { messageId: `m${i}` }),
          ),
        ),
        lambdaContext,
      );
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm3' }]);
      expect(sentOrders(p.sim)).toHaveLength(2);
    });

    it('max premium per position uses the ask of a market BUY', async () => {
      await p.close();
      p = await startPipeline({ account: { name: 'main', limits: { max_premium_per_position: 600 } } });
      p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 3.1 });
      const handler = loadOpenOrderHandler(p);
      const res = await handler(
        sqsEvent([sqsRecord(recommendationBody({ num_contracts: 2 }), { messageId: 'prem' })]),
        lambdaContext,
      );
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'prem' }]);
      expect((await p.table.store.listRejections('main'))[0].detail).toMatch(
        /\$620.00 .* exceeds max_premium_per_position \$600/,
      );
    });

    it('options buying power is checked before ordering', async () => {
      await p.close();
      p = await startPipeline({ optionsBuyingPower: 300 });
      p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
      const handler = loadOpenOrderHandler(p);
      const res = await handler(
        sqsEvent([sqsRecord(recommendationBody({ num_contracts: 2 }), { messageId: 'bp' })]),
        lambdaContext,
      );
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'bp' }]);
      expect(sentOrders(p.sim)).toHaveLength(0);
    });

    it('a broker rejection is a permanent refusal and closes the claim', async () => {
      p.sim.injectFault({
        method: 'POST',
        path: '/v2/orders',
        status: 422,
        body: {
          code: 42210000,
          message: `contract ${FUTURE_SYMBOL} expires soon, unable to open new positions`,
        },
      });
      const handler = loadOpenOrderHandler(p);
      const res = await handler(
        sqsEvent([sqsRecord(recommendationBody({ recommendation_id: 'rej-1' }), { messageId: 'r' })]),
        lambdaContext,
      );
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'r' }]);
      expect(await p.table.store.get('main', 'rej-1')).toMatchObject({
        state: 'closed',
        close_reason: 'open_rejected',
      });
      expect(await p.table.store.countLive('main')).toBe(0);
    });
  });

  describe('a refused recommendation is refused on every delivery (issue 12 item 3)', () => {
    // A contract two months out from the clock, so these tests hold at any date.
    const symbol = formatOccSymbol({
      root: 'GOOGL',
      expiry: new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10),
      type: 'call',
      strike: 340,
    });
    const bodyOf = (o: Record<string, unknown>) => recommendationBody({ option_symbol: symbol, ...o });
    beforeEach(() => p.sim.setQuote(symbol, { bid: 2.0, ask: 2.1 }));

    /** Delivers `body` as message `id` for the given receive counts; returns the failed ids per delivery. */
    async function deliver(body: string, id: string, receiveCounts: number[]): Promise<string[][]> {
      const out: string[][] = [];
      for (const receiveCount of receiveCounts) {
        // A fresh container each time, as SQS redelivery may land anywhere.
        const res = await loadOpenOrderHandler(p)(
          sqsEvent([sqsRecord(body, { messageId: id, receiveCount })]),
          lambdaContext,
        );
        out.push(res.batchItemFailures.map((f) => f.itemIdentifier));
      }
      return out;
    }

    it('a broker-refused open fails its first, second and third delivery, with its reason, and never resends', async () => {
      p.sim.injectFault({
        method: 'POST',
        path: '/v2/orders',
        status: 403,
        body: { code: 40310000, message: 'insufficient options buying power' },
      });
      const body = bodyOf({ recommendation_id: 'refused-3x' });
      expect(await deliver(body, 'rf', [1, 2, 3])).toEqual([['rf'], ['rf'], ['rf']]);
      expect(sentOrders(p.sim)).toHaveLength(1); // the refused one; the redeliveries send nothing
      expect(await p.table.store.get('main', 'refused-3x')).toMatchObject({
        state: 'closed',
        close_reason: 'open_rejected',
      });
      const [rejection] = await p.table.store.listRejections('main');
      expect(rejection).toMatchObject({ key: 'refused-3x', reason: 'broker_rejected', receive_count: 3 });
      expect(rejection.detail).toMatch(/insufficient options buying power/);
    });

    /**
     * A fresh pipeline; the first delivery's POST reaches the broker but its reply is lost and the lookup
     * fails (the claim stays `submitting`); then the broker rejects the order. Returns the message body.
     */
    async function rejectedAfterLostReply(id: string, messageId: string): Promise<string> {
      await p.close();
      p = await startPipeline({ claimLeaseSeconds: 0 });
      p.sim.setQuote(symbol, { bid: 2.0, ask: 2.1 });
      p.sim.setFillMode('manual');
      p.sim.injectFault({ method: 'POST', path: '/v2/orders', lostReply: true });
      p.sim.injectFault({ method: 'GET', path: '/v2/orders:by_client_order_id', status: 500, times: 10 });
      const body = bodyOf({ recommendation_id: id });
      expect(await deliver(body, messageId, [1])).toEqual([[messageId]]);
      p.sim.clearFaults();
      p.sim.rejectOrder(String(p.sim.orders(KEY_ID)[0].id));
      return body;
    }

    it('an order the broker rejected after accepting the POST (found by lookup) is refused on every delivery', async () => {
      const body = await rejectedAfterLostReply('async-rej', 'ar');

      expect(await deliver(body, 'ar', [2, 3])).toEqual([['ar'], ['ar']]);
      expect(sentOrders(p.sim)).toHaveLength(1);
      expect(await p.table.store.get('main', 'async-rej')).toMatchObject({
        state: 'closed',
        close_reason: 'open_rejected',
      });
      expect((await p.table.store.listRejections('main'))[0]).toMatchObject({
        key: 'async-rej',
        reason: 'broker_rejected',
      });
    });

    it('a resumed claim refused by a risk limit stays refused when the limit no longer applies', async () => {
      await p.close();
      p = await startPipeline({ claimLeaseSeconds: 0 });
      p.sim.setQuote(symbol, { bid: 2.0, ask: 2.1 });
      // A 503 before acceptance leaves the claim `submitting` with nothing at the broker.
      p.sim.injectFault({ method: 'POST', path: '/v2/orders', status: 503 });
      const body = bodyOf({ recommendation_id: 'resumed-refused' });
      expect(await deliver(body, 'rr', [1])).toEqual([['rr']]);
      await p.table.store.putControl('main', { trading_enabled: false, flatten: false });
      expect(await deliver(body, 'rr', [2])).toEqual([['rr']]);
      // The claim stays for the sweep to settle (its first POST could still be in flight): never resent.
      expect(await p.table.store.get('main', 'resumed-refused')).toMatchObject({ state: 'submitting' });

      await p.table.store.putControl('main', { trading_enabled: true, flatten: false });
      expect(await deliver(body, 'rr', [3])).toEqual([['rr']]);
      expect(sentOrders(p.sim)).toHaveLength(1); // only the 503'd attempt
      expect((await p.table.store.listRejections('main'))[0]).toMatchObject({
        key: 'resumed-refused',
        reason: 'risk_limit:kill_switch',
        receive_count: 3,
      });
    });

    it('an order the broker rejected, learned by the sweep (recorded not_filled), is refused on redelivery', async () => {
      const body = await rejectedAfterLostReply('sweep-rej', 'sr');
      await loadSweepHandler(p)();
      expect(await p.table.store.get('main', 'sweep-rej')).toMatchObject({ state: 'closed' });

      expect(await deliver(body, 'sr', [2, 3])).toEqual([['sr'], ['sr']]);
      expect(sentOrders(p.sim)).toHaveLength(1);
      expect(await p.table.store.get('main', 'sweep-rej')).toMatchObject({ close_reason: 'open_rejected' });
      expect((await p.table.store.listRejections('main'))[0]).toMatchObject({
        key: 'sweep-rej',
        reason: 'broker_rejected',
      });
    });

    it('a recommendation refused by a risk limit before any claim stays refused on redelivery after the limit lifts', async () => {
      await p.table.store.putControl('main', { trading_enabled: false, flatten: false });
      const body = bodyOf({ recommendation_id: 'risk-refused' });
      expect(await deliver(body, 'rk', [1])).toEqual([['rk']]);
      await p.table.store.putControl('main', { trading_enabled: true, flatten: false });

      expect(await deliver(body, 'rk', [2, 3])).toEqual([['rk'], ['rk']]);
      expect(sentOrders(p.sim)).toHaveLength(0);
      expect(await p.table.store.get('main', 'risk-refused')).toBeNull();
      expect(await p.table.store.listRejections('main')).toEqual([
        expect.objectContaining({ key: 'risk-refused', reason: 'risk_limit:kill_switch', receive_count: 3 }),
      ]);
    });

    it('an accepted open that expired unfilled is still a duplicate on redelivery: acknowledged, no second order', async () => {
      p.sim.setFillMode('manual');
      const body = bodyOf({
        recommendation_id: 'acc-exp',
        order_type: 'limit',
        limit_price: 1.5,
      });
      expect(await deliver(body, 'ae', [1])).toEqual([[]]);
      p.sim.expireOrder(String(p.sim.orders(KEY_ID)[0].id));
      // The sweep learns the expiry and closes the record as not filled.
      await loadSweepHandler(p)();
      expect(await p.table.store.get('main', 'acc-exp')).toMatchObject({
        state: 'closed',
        close_reason: 'not_filled',
      });
      expect(await deliver(body, 'ae', [2])).toEqual([[]]);
      expect(sentOrders(p.sim)).toHaveLength(1);
      expect(await p.table.store.listRejections('main')).toEqual([]);
    });
  });

  afterEach(() => expectOnlyOpeningIntents());
});

function escape(s: string): RegExp {
  return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}
