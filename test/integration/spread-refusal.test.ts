/**
 * A single leg asking for an at_expiry other than close is refused with `at_expiry_not_enabled`; a spread
 * reaching a deployment without a spread store with `spreads_not_enabled`: recorded with the reason, failed
 * back to the queue (DLQ after redrive), no order.
 */
import {
  lambdaContext,
  loadOpenOrderHandlerWith,
  sentOrders,
  sqsEvent,
  sqsRecord,
  startPipeline,
  type Pipeline,
} from '../helpers/pipeline';
import { buildPipelineDeps } from '../../shared/wiring';
import { loadRuntimeConfig } from '../../shared/config';
import { FUTURE_SYMBOL, futureCall, recommendationBody } from '../helpers/recommendations';

let p: Pipeline;
beforeEach(async () => {
  p = await startPipeline();
  p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
});
afterEach(async () => {
  await p.close();
});

it('a spread without a spread store and a single leg with at_expiry exercise are refused with their reasons; nothing is sent', async () => {
  const handler = loadOpenOrderHandlerWith(p, {
    deps: async () => {
      const { spreads: _none, ...rest } = await buildPipelineDeps(p.env, loadRuntimeConfig(p.env));
      return rest;
    },
  });
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
