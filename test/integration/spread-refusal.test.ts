/**
 * Until the spread open path is wired, a valid spread message is refused by the open-order handler with
 * `spreads_not_enabled` (and a single leg asking for an at_expiry other than close with
 * `at_expiry_not_enabled`): recorded with its reason, failed back to the queue (DLQ after redrive), no order.
 */
import {
  lambdaContext,
  loadOpenOrderHandler,
  sentOrders,
  sqsEvent,
  sqsRecord,
  startPipeline,
  type Pipeline,
} from '../helpers/pipeline';
import { FUTURE_SYMBOL, futureCall, recommendationBody } from '../helpers/recommendations';

let p: Pipeline;
beforeEach(async () => {
  p = await startPipeline();
  p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
});
afterEach(async () => {
  await p.close();
});

it('a spread and a single leg with at_expiry exercise are refused with their reasons; nothing is sent', async () => {
  const handler = loadOpenOrderHandler(p);
  const spread = JSON.stringify({
    recommendation_id: 'sp-refused',
    ticker: 'GOOGL',
    legs: [
      { option_symbol: FUTURE_SYMBOL, side: 'buy', ratio_qty: 1 },
      { option_symbol: futureCall(350), side: 'sell', ratio_qty: 1 },
    ],
    num_contracts: 1,
  });
  const exercise = recommendationBody({
    recommendation_id: 'ex-refused',
    exit_plan: { at_expiry: 'exercise' },
  });
  const res = await handler(
    sqsEvent([sqsRecord(spread, { messageId: 'm-spread' }), sqsRecord(exercise, { messageId: 'm-ex' })]),
    lambdaContext,
  );

  expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-ex', 'm-spread']);
  expect(sentOrders(p.sim)).toHaveLength(0);
  const rejections = await p.table.store.listRejections('main');
  expect(rejections.find((r) => r.message_id === 'm-spread')).toMatchObject({
    key: 'sp-refused',
    reason: 'spreads_not_enabled',
  });
  expect(rejections.find((r) => r.message_id === 'm-ex')).toMatchObject({
    key: 'ex-refused',
    reason: 'at_expiry_not_enabled',
  });
});
