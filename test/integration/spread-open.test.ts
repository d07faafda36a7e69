/**
 * A spread recommendation through the real open-order handler (dynalite, the simulator over HTTP, the real
 * SDK): one mleg order whose every leg carries its explicit opening intent, one spread record with a
 * ledger per leg, redelivery never a second order, and each refusal recorded with its reason and failed
 * back to the queue (the DLQ after redrive). The raw request bodies the simulator received are checked.
 */
import { DynamoSpreadStore } from '../../shared/adapters/dynamo-spread-store';
import { spreadBooks } from '../../shared/domain/spread-position';
import {
  KEY_ID,
  lambdaContext,
  loadOpenOrderHandler,
  sentOrders,
  sqsEvent,
  sqsRecord,
  startPipeline,
  brokerQty,
  type Pipeline,
} from '../helpers/pipeline';
import { futureCall, recommendationBody } from '../helpers/recommendations';

const LONG = futureCall(340);
const SHORT = futureCall(350);

let p: Pipeline;
let spreads: DynamoSpreadStore;
beforeEach(async () => {
  p = await startPipeline({ account: { limits: { max_risk_per_spread: 1000 } } });
  p.sim.setAccount(KEY_ID, { optionsApprovedLevel: 3 });
  p.sim.setQuote(LONG, { bid: 5.0, ask: 5.2 });
  p.sim.setQuote(SHORT, { bid: 2.0, ask: 2.1 });
  spreads = new DynamoSpreadStore(p.table.client, p.table.tableName, p.table.store);
});
afterEach(async () => {
  await p.close();
});

function vertical(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    recommendation_id: 'sp-1',
    ticker: 'GOOGL',
    legs: [
      { option_symbol: LONG, side: 'buy', ratio_qty: 1 },
      { option_symbol: SHORT, side: 'sell', ratio_qty: 1 },
    ],
    num_contracts: 2,
    order_type: 'market',
    exit_plan: { stop_loss_pct: 0.5, take_profit_pct: 0.5 },
    ...over,
  });
}

it('opens as one mleg order with the explicit intent on every leg, and records one spread with a ledger per leg', async () => {
  const handler = loadOpenOrderHandler(p);
  const res = await handler(sqsEvent([sqsRecord(vertical(), { messageId: 'm1' })]), lambdaContext);
  expect(res.batchItemFailures).toEqual([]);

  const sent = sentOrders(p.sim);
  expect(sent).toHaveLength(1);
  expect(sent[0]).toMatchObject({
    order_class: 'mleg',
    qty: '2',
    type: 'market',
    client_order_id: 'ops-main-o-sp-1',
    legs: [
      { symbol: LONG, side: 'buy', ratio_qty: '1', position_intent: 'buy_to_open' },
      { symbol: SHORT, side: 'sell', ratio_qty: '1', position_intent: 'sell_to_open' },
    ],
  });
  expect(sent[0]).not.toHaveProperty('symbol');

  // The broker answered `accepted` (as Alpaca does); the sweep learns the fill (spread-sweep.test.ts).
  const sp = await spreads.getSpread('main', 'sp-1');
  expect(sp).toMatchObject({
    kind: 'spread',
    state: 'pending',
    requested_multiple: 2,
    structure: 'legs',
    open_client_order_id: 'ops-main-o-sp-1',
  });
  expect(sp!.open_order_id).toEqual(expect.any(String));
  expect(sp!.legs.map((l) => [l.option_symbol, l.side, l.ratio_qty])).toEqual([
    [LONG, 'long', 1],
    [SHORT, 'short', 1],
  ]);
  expect(spreadBooks(sp!).legs.map((l) => l.held)).toEqual([0, 0]);
  // A debit spread loses at most its debit: 5.20 - 2.00 = 3.20 a share.
  expect(sp!.max_loss_per_share).toBeCloseTo(3.2, 6);
  expect(brokerQty(p.sim, LONG)).toBe(2);
  expect(brokerQty(p.sim, SHORT)).toBe(-2);
  // The single-leg reads leave the spread out; the live count counts it once.
  expect(await p.table.store.listLive('main')).toEqual([]);
  expect(await p.table.store.countLive('main')).toBe(1);
});

it('a redelivery finds the spread and sends no second order', async () => {
  const handler = loadOpenOrderHandler(p);
  await handler(sqsEvent([sqsRecord(vertical(), { messageId: 'm1' })]), lambdaContext);
  const again = await handler(
    sqsEvent([sqsRecord(vertical(), { messageId: 'm1', receiveCount: 2 })]),
    lambdaContext,
  );
  expect(again.batchItemFailures).toEqual([]);
  expect(sentOrders(p.sim)).toHaveLength(1);
});

it('each refusal reaches the dead-letter path with its reason, and nothing is sent', async () => {
  const handler = loadOpenOrderHandler(p);
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['m-risk', { recommendation_id: 'sp-risk', num_contracts: 5 }, 'risk_limit:max_risk_per_spread'],
    [
      'm-naked',
      {
        recommendation_id: 'sp-naked',
        legs: [
          { option_symbol: LONG, side: 'sell', ratio_qty: 1 },
          { option_symbol: SHORT, side: 'sell', ratio_qty: 1 },
        ],
      },
      'risk_limit:undefined_risk',
    ],
    ['m-trail', { recommendation_id: 'sp-trail', exit_plan: { trailing_stop_pct: 0.2 } }, 'spread_exit_plan'],
    [
      'm-five',
      {
        recommendation_id: 'sp-five',
        legs: [340, 345, 350, 355, 360].map((k, i) => ({
          option_symbol: futureCall(k),
          side: i % 2 ? 'sell' : 'buy',
          ratio_qty: 1,
        })),
      },
      'spread_legs_count',
    ],
  ];
  const res = await handler(
    sqsEvent(cases.map(([id, over]) => sqsRecord(vertical(over), { messageId: id }))),
    lambdaContext,
  );
  expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(cases.map((c) => c[0]).sort());
  expect(sentOrders(p.sim)).toHaveLength(0);
  const rejections = await p.table.store.listRejections('main');
  for (const [messageId, , reason] of cases) {
    expect(rejections.find((r) => r.message_id === messageId)?.reason).toBe(reason);
  }
});

it('an account below options level 3 is refused (options_trading_level), with no order', async () => {
  p.sim.setAccount(KEY_ID, { optionsApprovedLevel: 2 });
  const handler = loadOpenOrderHandler(p);
  const res = await handler(sqsEvent([sqsRecord(vertical(), { messageId: 'm-lvl' })]), lambdaContext);
  expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-lvl' }]);
  expect(sentOrders(p.sim)).toHaveLength(0);
  const rej = await p.table.store.getRejection('main', 'sp-1');
  expect(rej?.reason).toBe('risk_limit:options_trading_level');
});

it("one live record per contract: a spread leg on a single leg's contract, and a single leg on a spread's leg, are refused (contract_in_use)", async () => {
  const handler = loadOpenOrderHandler(p);
  const single = recommendationBody({ recommendation_id: 'one-leg', option_symbol: LONG, num_contracts: 1 });
  expect(
    (await handler(sqsEvent([sqsRecord(single, { messageId: 'm-s' })]), lambdaContext)).batchItemFailures,
  ).toEqual([]);
  const res = await handler(sqsEvent([sqsRecord(vertical(), { messageId: 'm-sp' })]), lambdaContext);
  expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-sp' }]);
  expect((await p.table.store.getRejection('main', 'sp-1'))?.reason).toBe('risk_limit:contract_in_use');

  const other = vertical({
    recommendation_id: 'sp-2',
    legs: [
      { option_symbol: futureCall(345), side: 'buy', ratio_qty: 1 },
      { option_symbol: SHORT, side: 'sell', ratio_qty: 1 },
    ],
  });
  p.sim.setQuote(futureCall(345), { bid: 3.5, ask: 3.6 });
  expect(
    (await handler(sqsEvent([sqsRecord(other, { messageId: 'm-sp2' })]), lambdaContext)).batchItemFailures,
  ).toEqual([]);
  const onLeg = recommendationBody({ recommendation_id: 'on-leg', option_symbol: SHORT, num_contracts: 1 });
  const refused = await handler(sqsEvent([sqsRecord(onLeg, { messageId: 'm-leg' })]), lambdaContext);
  expect(refused.batchItemFailures).toEqual([{ itemIdentifier: 'm-leg' }]);
  expect((await p.table.store.getRejection('main', 'on-leg'))?.reason).toBe('risk_limit:contract_in_use');
  // Two orders only: the single leg and the second spread.
  expect(sentOrders(p.sim).map((o) => o.client_order_id)).toEqual(['ops-main-o-one-leg', 'ops-main-o-sp-2']);
});
