/**
 * Issue 16, part 4 end to end: the real open-order and exit-evaluator handlers (dynalite + the Alpaca
 * simulator) given a recording TradeEvents publish an event for each open, close, refusal and kill switch
 * change; a TradeEvents that fails or never answers holds up or fails no trade.
 */
import { createExitEvaluatorHandler } from '../../shared/handlers/exit-evaluator';
import { createOpenOrderHandler } from '../../shared/handlers/open-order';
import type { TradeEvent } from '../../shared/domain/trade-events';
import { projectionOf } from '../../shared/domain/position-books';
import { NO_METRICS, SILENT_LOG } from '../../shared/observability';
import { runControl } from '../../local/control';
import type { TradeEvents } from '../../shared/ports';
import { adapterFor } from '../helpers/alpaca-sim';
import {
  lambdaContext,
  sqsEvent,
  sqsRecord,
  startPipeline,
  KEY_ID,
  type Pipeline,
} from '../helpers/pipeline';
import { FUTURE_SYMBOL, recommendationBody } from '../helpers/recommendations';

jest.setTimeout(60_000);

let p: Pipeline;
afterEach(() => p.close());

/** Handlers of the pipeline whose adapters are the test's, with `tradeEvents`. */
function handlers(tradeEvents: TradeEvents) {
  const broker = adapterFor(p.sim);
  const deps = () =>
    Promise.resolve({ broker, marketData: broker, store: p.table.store, lease: p.table.store, tradeEvents });
  const open = createOpenOrderHandler(p.env, { deps, log: SILENT_LOG });
  const sweep = createExitEvaluatorHandler(p.env, { deps, log: SILENT_LOG });
  return {
    deliver: async (o: Record<string, unknown>) =>
      (await open(sqsEvent([sqsRecord(recommendationBody(o))]), lambdaContext)).batchItemFailures,
    sweep: () => sweep(),
  };
}

async function start(limits: Record<string, unknown> = {}) {
  p = await startPipeline({ account: { name: 'main', limits: { max_contracts_per_order: 5, ...limits } } });
  p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
}

const EXITS = { stop_loss_pct: 0.25, take_profit_pct: null, trailing_stop_pct: null };

describe('trade events', () => {
  it('an open, its close and a refusal each publish one event', async () => {
    await start();
    const events: TradeEvent[] = [];
    const h = handlers({ publish: async (e) => void events.push(e) });

    expect(await h.deliver({ recommendation_id: 'o1', num_contracts: 2, exit_plan: EXITS })).toEqual([]);
    await h.sweep(); // learns the fill
    expect(events).toEqual([
      expect.objectContaining({
        type: 'position_opened',
        account: 'main',
        position_id: 'o1',
        option_symbol: FUTURE_SYMBOL,
        side: 'long',
        qty: 2,
        price: 2.1,
      }),
    ]);

    p.sim.setQuote(FUTURE_SYMBOL, { bid: 1.4, ask: 1.5 }); // below the 25 % stop
    await h.sweep(); // sends the stop
    await h.sweep(); // learns its fill
    const closed = await p.table.store.get('main', 'o1');
    expect(closed).toMatchObject({ state: 'closed', close_reason: 'stop_loss' });
    expect(events.slice(1)).toEqual([
      expect.objectContaining({
        type: 'position_closed',
        position_id: 'o1',
        option_symbol: FUTURE_SYMBOL,
        reason: 'stop_loss',
        realized_pnl: closed!.realized_pnl,
        // The ledger's figures (issue 23): what the record's fills say, to the cent.
        realized_cents: projectionOf(closed!).realized_cents,
        fees_cents: projectionOf(closed!).fees_cents,
        exit_price: closed!.exit_price,
      }),
    ]);
    expect(closed!.realized_pnl).toBeLessThan(0);
    expect(closed!.ledger).toBeDefined();
    expect(projectionOf(closed!).realized_before_fees_cents).toBe(Math.round(closed!.realized_pnl * 100));

    expect(await h.deliver({ recommendation_id: 'big', num_contracts: 9 })).toHaveLength(1);
    expect(events.slice(2)).toEqual([
      expect.objectContaining({
        type: 'recommendation_refused',
        key: 'big',
        reason: 'risk_limit:max_contracts_per_order',
      }),
    ]);
    // Every message is JSON as it goes to SNS.
    for (const e of events) expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  it('the daily loss breaker and the operator announce the kill switch they set (who and why)', async () => {
    await start({ max_daily_loss: 100 });
    const events: TradeEvent[] = [];
    const h = handlers({ publish: async (e) => void events.push(e) });
    await h.deliver({
      recommendation_id: 'o1',
      num_contracts: 2,
      exit_plan: { ...EXITS, stop_loss_pct: null },
    });
    await h.sweep();
    p.sim.setQuote(FUTURE_SYMBOL, { bid: 1.4, ask: 1.5 }); // (1.40 - 2.10) x 200 = -$140
    await h.sweep();
    expect(events.filter((e) => e.type === 'kill_switch_changed')).toEqual([
      expect.objectContaining({
        trading_enabled: false,
        flatten: false,
        set_by: 'daily_loss',
        reason: expect.stringMatching(/^daily_loss: the day's P&L -\$140\.00 reached the limit -\$100\.00/),
      }),
    ]);
    const tradeEvents: TradeEvents = { publish: async (e) => void events.push(e) };
    await runControl(p.table.store, { account: 'main', command: 'enable', reason: 'resume' }, new Date(), {
      tradeEvents,
      log: SILENT_LOG,
      metrics: NO_METRICS,
    });
    expect(events.at(-1)).toMatchObject({
      type: 'kill_switch_changed',
      trading_enabled: true,
      set_by: 'operator',
      reason: 'resume',
    });
  });

  it.each([
    ['rejects', { publish: () => Promise.reject(new Error('SNS is down')) }],
    ['never answers', { publish: () => new Promise<void>(() => undefined) }],
  ])('a publisher that %s neither fails nor holds up a trade', async (_what, publisher: TradeEvents) => {
    await start();
    // Each event the handlers hand over, and how many of those publishes have settled.
    const published: string[] = [];
    let settled = 0;
    const tradeEvents: TradeEvents = {
      publish: (e) => {
        published.push(e.type);
        const answer = publisher.publish(e);
        void answer.then(
          () => settled++,
          () => settled++,
        );
        return answer;
      },
    };
    const h = handlers(tradeEvents);
    expect(await h.deliver({ recommendation_id: 'o1', num_contracts: 2, exit_plan: EXITS })).toEqual([]);
    await h.sweep();
    expect(await p.table.store.get('main', 'o1')).toMatchObject({ state: 'open', quantity: 2 });
    p.sim.setQuote(FUTURE_SYMBOL, { bid: 1.4, ask: 1.5 });
    const sent = await h.sweep();
    expect(sent.errors).toEqual([]);
    expect(sent.ordersSent).toEqual([expect.objectContaining({ position_id: 'o1', reason: 'stop_loss' })]);
    await h.sweep();
    expect(await p.table.store.get('main', 'o1')).toMatchObject({
      state: 'closed',
      close_reason: 'stop_loss',
    });
    expect(p.sim.positions(KEY_ID)).toEqual([]);
    // A refusal is still recorded (and goes to the DLQ).
    expect(await h.deliver({ recommendation_id: 'big', num_contracts: 9 })).toHaveLength(1);
    expect(await p.table.store.getRejection('main', 'big')).toMatchObject({
      reason: 'risk_limit:max_contracts_per_order',
    });
    // Every event was handed over, and each handler returned whatever the publish did: one that never
    // answers is abandoned after its short timeout (2 s; test/unit/trade-events.test.ts, on jest's clock).
    expect(published).toEqual(['position_opened', 'position_closed', 'recommendation_refused']);
    await Promise.resolve();
    expect(settled).toBe(_what === 'rejects' ? 3 : 0);
  });
});
