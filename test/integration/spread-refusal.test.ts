/**
 * A spread reaching a deployment without a spread store is refused with `spreads_not_enabled` (recorded with
 * the reason, failed back to the queue: the DLQ after redrive; no order), and a single leg asking for an
 * `at_expiry` other than close now opens with that plan (the sweep carries it out: at-expiry.test.ts).
 */
import { buildPipelineDeps } from '../../shared/wiring';
import { loadRuntimeConfig } from '../../shared/config';
import {
  lambdaContext,
  loadOpenOrderHandler,
  loadOpenOrderHandlerWith,
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

it('a spread without a spread store is refused with spreads_not_enabled; nothing is sent', async () => {
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
  const res = await handler(sqsEvent([sqsRecord(spread, { messageId: 'm-spread' })]), lambdaContext);
  expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-spread']);
  expect(sentOrders(p.sim)).toHaveLength(0);
  const rejections = await p.table.store.listRejections('main');
  expect(rejections.find((r) => r.message_id === 'm-spread')).toMatchObject({
    key: 'sp-refused',
    reason: 'spreads_not_enabled',
  });
});

it('a single leg with at_expiry exercise opens, its plan keeping at_expiry', async () => {
  const handler = loadOpenOrderHandler(p);
  const exercise = recommendationBody({ recommendation_id: 'ex-1', exit_plan: { at_expiry: 'exercise' } });
  const res = await handler(sqsEvent([sqsRecord(exercise, { messageId: 'm-ex' })]), lambdaContext);
  expect(res.batchItemFailures).toEqual([]);
  expect(sentOrders(p.sim)).toEqual([expect.objectContaining({ position_intent: 'buy_to_open' })]);
  expect((await p.table.store.get('main', 'ex-1'))?.exit_plan.at_expiry).toBe('exercise');
});
