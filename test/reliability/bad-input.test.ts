/**
 * Issue 6, bad input: the whole hostile corpus (test/helpers/bad-messages.ts) in ONE batch through the real
 * open-order handler. Each message must be reported in batchItemFailures (so redrive moves it to the DLQ),
 * leave a recorded rejection whose reason names what is wrong, and place no order; the batch itself never
 * crashes, and valid messages mixed in still open their positions.
 */
import './quiet';
import {
  lambdaContext,
  loadOpenOrderHandler,
  sentOrders,
  sqsEvent,
  sqsRecord,
  startPipeline,
  type Pipeline,
} from '../helpers/pipeline';
import { badMessages } from '../helpers/bad-messages';
import { FUTURE_SYMBOL, recommendationBody } from '../helpers/recommendations';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ account: { name: 'main', limits: { max_open_positions: 50 } } });
  p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
});
afterAll(async () => {
  await p.close();
});

const corpus = badMessages();

it('has at least 30 kinds of hostile or broken message', () => {
  expect(corpus.length).toBeGreaterThanOrEqual(30);
  expect(new Set(corpus.map((m) => m.name)).size).toBe(corpus.length);
});

it('refuses a batch of only bad messages, each with its specific reason, with no order and no crash', async () => {
  const records = corpus.map((m, i) => sqsRecord(m.body, { messageId: `bad-${i}` }));
  const res = await loadOpenOrderHandler(p)(sqsEvent(records), lambdaContext);

  expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
    records.map((r) => r.messageId).sort(),
  );
  expect(sentOrders(p.sim)).toEqual([]);
  const byMessage = new Map((await p.table.store.listRejections('main')).map((r) => [r.message_id, r]));
  const unspecific: string[] = [];
  corpus.forEach((m, i) => {
    const r = byMessage.get(`bad-${i}`);
    const text = `${r?.reason}: ${r?.detail}`;
    const ok =
      r !== undefined &&
      r.reason !== 'unexpected_error' &&
      (typeof m.expect === 'string' ? text.includes(m.expect) : m.expect.test(text));
    if (!ok) unspecific.push(`${m.name} → ${r ? text.slice(0, 200) : 'no rejection recorded'}`);
  });
  expect(unspecific).toEqual([]);
});

it('still opens the valid messages of a batch full of bad ones', async () => {
  const good = ['mixed-good-1', 'mixed-good-2'].map((id) => recommendationBody({ recommendation_id: id }));
  const records = [
    sqsRecord(good[0], { messageId: 'good-0' }),
    ...corpus.map((m, i) => sqsRecord(m.body, { messageId: `mixed-${i}` })),
    sqsRecord(good[1], { messageId: 'good-1' }),
  ];
  const res = await loadOpenOrderHandler(p)(sqsEvent(records), lambdaContext);

  const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
  expect(failed.has('good-0') || failed.has('good-1')).toBe(false);
  expect(failed.size).toBe(corpus.length);
  expect(
    sentOrders(p.sim)
      .map((o) => o.client_order_id)
      .sort(),
  ).toEqual(['ops-main-o-mixed-good-1', 'ops-main-o-mixed-good-2']);
  for (const o of sentOrders(p.sim))
    expect(o).toMatchObject({ symbol: FUTURE_SYMBOL, position_intent: 'buy_to_open' });
});
