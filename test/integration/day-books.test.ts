/**
 * Issue 23, cases 3, 5 and 7 end to end (docs/BOOKS.md "The day, in trading days" and "How the sweep keeps the books"):
 * the day's P&L read by the breaker, the `day_pnl` metric and the sweep's report, on dynalite and the Alpaca
 * simulator. Positions open through the real open-order handler; sweeps run through the real exit-evaluator
 * handler on a test clock (or through runSweep on the same clock, with a store whose day write fails).
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoPositionStore } from '../../shared/adapters/dynamo-position-store';
import { parseAccountConfig } from '../../shared/domain/account-config';
import { Metric } from '../../shared/metric-names';
import { SILENT_LOG, type MetricsSink } from '../../shared/observability';
import type { PositionStore } from '../../shared/ports';
import { runSweep, type SweepReport } from '../../shared/use-cases/sweep';
import { runControl } from '../../local/control';
import { adapterFor } from '../helpers/alpaca-sim';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { KEY_ID } from '../helpers/pipeline';
import { FUTURE_SYMBOL } from '../helpers/recommendations';
import { testClock, type TestClock } from '../helpers/test-clock';

// A hang guard only: real handlers, dynalite and the simulator take many times longer on a loaded machine.
jest.setTimeout(120_000);

const NO_EXITS = { stop_loss_pct: null, take_profit_pct: null, trailing_stop_pct: null };

let h: ExitHarness | undefined;
let clock: TestClock;
afterEach(async () => {
  if (!h) return;
  h.expectEveryCloseSafe();
  h.expectNoShort();
  await h.close();
  h = undefined;
});

/**
 * 15:00 UTC: 10:00 New York in winter, 11:00 in summer, the same New York date either way. The tests' dates
 * lie before the wall clock: the queue stamps a message with the wall clock, and the open-order handler
 * refuses one older than `max_recommendation_age_minutes` at its own clock.
 */
const at = (date: string) => Date.parse(`${date}T15:00:00.000Z`);

async function start(date: string, account: Record<string, unknown>): Promise<ExitHarness> {
  clock = testClock(at(date));
  h = await startExitHarness({ claimLeaseSeconds: 0, clock, account: { name: 'main', ...account } });
  h.p.sim.setMarketOpen(true);
  return h;
}

const kinds = (r: SweepReport) => r.alerts.map((a) => a.kind);

/** One sweep through runSweep on the test clock, with `store` and `metrics`. */
function sweepWith(harness: ExitHarness, store: PositionStore, metrics?: MetricsSink): Promise<SweepReport> {
  const broker = adapterFor(harness.p.sim);
  return runSweep({
    account: parseAccountConfig(JSON.parse(harness.p.env.ACCOUNT_CONFIG)),
    broker,
    marketData: broker,
    store,
    lease: harness.p.table.store,
    now: clock.now,
    log: SILENT_LOG,
    metrics: metrics ?? { count: () => undefined, durationMs: () => undefined, gauge: () => undefined },
  });
}

/** The account's day item, raw. */
async function dayItem(harness: ExitHarness, day: string): Promise<Record<string, unknown> | undefined> {
  const doc = DynamoDBDocumentClient.from(harness.p.table.client);
  const out = await doc.send(
    new GetCommand({ TableName: harness.p.table.tableName, Key: { pk: 'ACCT#main', sk: `DAYPNL#${day}` } }),
  );
  return out.Item;
}

describe('case 3: the day’s P&L counts only its own day', () => {
  it('a stop_limit that filled 6 of 10 on Monday (−$600) leaves Tuesday’s first sweep at 0: the breaker does not trip at Tuesday’s open', async () => {
    // 2026-11-30 is a Monday, 2026-12-01 a Tuesday: both trading days.
    const harness = await start('2026-11-30', {
      limits: { max_open_positions: 10, max_daily_loss: 500 },
      exit_execution: { broker_stop: 'stop_limit', broker_stop_limit_slippage_pct: 0.1 },
    });
    const sim = harness.p.sim;
    sim.setQuote(FUTURE_SYMBOL, { bid: 3.0, ask: 3.1 });
    // Bought 10 at the ask, 3.10; stop_loss 25%: stop 2.325 up to 2.35, its limit 2.35 x 0.9 down to 2.10.
    await harness.open({
      recommendation_id: 'sl',
      num_contracts: 10,
      exit_plan: { ...NO_EXITS, stop_loss_pct: 0.25 },
    });
    await harness.sweep(); // the protective stop rests
    const stop = sim.orders(KEY_ID).find((o) => /^ops-main-s\d+-sl$/.test(String(o.client_order_id)));
    expect(stop).toMatchObject({ type: 'stop_limit', stop_price: '2.35', limit_price: '2.1', qty: '10' });

    // Monday: the price falls through the stop; 6 fill at the limit, then it recovers. 4 stay open.
    sim.setFillMode('manual');
    sim.setQuote(FUTURE_SYMBOL, { bid: 2.1, ask: 2.2 });
    sim.fillOrder(String(stop!.id), { qty: 6, price: 2.1 });
    sim.setQuote(FUTURE_SYMBOL, { bid: 3.0, ask: 3.1 });
    const monday = await harness.sweep();
    expect(await harness.get('sl')).toMatchObject({ state: 'open', quantity: 4, realized_pnl: -600 });
    // Monday lost $600 realized and $40 on what is held: Monday's breaker trips (rightly).
    expect(monday.dayPnl).toMatchObject({ day: '2026-11-30', realized_usd: -600, day_pnl_usd: -640 });
    expect(kinds(monday)).toContain('daily_loss');

    // Tuesday's open: nothing has moved since Monday's close.
    await clock.advance(at('2026-12-01') - clock.nowMs());
    sim.setQuote(FUTURE_SYMBOL, { bid: 3.0, ask: 3.1 }); // a fresh quote, the same prices
    const gauges: Array<[string, number]> = [];
    const metrics: MetricsSink = {
      count: () => undefined,
      durationMs: () => undefined,
      gauge: (name, value) => void gauges.push([name, value]),
    };
    const tuesday = await sweepWith(harness, harness.p.table.store, metrics);
    expect(tuesday.dayPnl).toMatchObject({
      day: '2026-12-01',
      realized_usd: 0,
      unrealized_usd: 0,
      day_pnl_usd: 0,
    });
    expect(gauges).toContainEqual([Metric.DayPnl, 0]);
    expect(kinds(tuesday)).not.toContain('daily_loss');
    // Monday's own switch ended at Tuesday's open, and stays ended.
    expect(await harness.p.table.store.getControl('main')).toMatchObject({
      trading_enabled: true,
      daily_loss_day: '2026-11-30',
    });
    // The start-of-day mark the first sweep recorded: later moves are measured from it.
    expect(await dayItem(harness, '2026-12-01')).toMatchObject({
      [`start_mark#${FUTURE_SYMBOL}`]: { bid: 3.0, ask: 3.1 },
    });
    sim.setQuote(FUTURE_SYMBOL, { bid: 2.9, ask: 3.0 });
    const later = await harness.sweep();
    expect(later.dayPnl).toMatchObject({ realized_usd: 0, day_pnl_usd: -40 }); // 4 x -0.10 x 100
    expect(await harness.p.table.store.getControl('main')).toMatchObject({ trading_enabled: true });
    // The write that booked Monday's 6 also set the live position's figure on Monday's item: Monday's -640
    // above counted the position once, from its ledger (a live id's figure in the item is skipped).
    expect(await dayItem(harness, '2026-11-30')).toHaveProperty('day_pnl#sl');
  });
});

describe('case 5: the day total cannot be lost', () => {
  it('a close whose day write fails is not stored; the next sweep books it again, and the day counts it', async () => {
    const harness = await start('2026-11-30', { limits: { max_open_positions: 10 } });
    harness.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
    await harness.open({ recommendation_id: 'c5', num_contracts: 2, exit_plan: NO_EXITS });
    await runControl(harness.p.table.store, { account: 'main', command: 'flatten' });
    const flattening = await harness.sweep(); // sells 2 at the bid, 2.00: -$20
    expect(flattening.ordersSent.map((o) => o.reason)).toEqual(['flatten']);

    // The sweep that learns the fill: DynamoDB throttles every write of the day item.
    let refused = 0;
    const failing = storeRefusing(harness, ({ name, input }) => {
      const refuse =
        name === 'UpdateCommand' && String((input.Key as { sk?: string }).sk).startsWith('DAYPNL#');
      if (refuse) refused++;
      return refuse;
    });
    await sweepWith(harness, failing);
    expect(refused).toBeGreaterThan(0);

    // The next sweep (the table healthy again) books the close with its day figure; the day counts it.
    await harness.sweep();
    const closed = await harness.get('c5');
    expect(closed).toMatchObject({ state: 'closed', close_reason: 'flatten', realized_pnl: -20 });
    const after = await harness.sweep();
    expect(after.dayPnl).toMatchObject({ day: '2026-11-30', realized_usd: -20, day_pnl_usd: -20 });
    expect(harness.exitOrders()).toHaveLength(1); // one closing order, never sent again
  });
});

/** A store on the harness's table whose DocumentClient refuses the commands `refuse` picks (as throttling). */
function storeRefusing(
  harness: ExitHarness,
  refuse: (cmd: { name: string; input: Record<string, unknown> }) => boolean,
): DynamoPositionStore {
  const store = new DynamoPositionStore(harness.p.table.client, harness.p.table.tableName);
  const doc = (store as unknown as { doc: DynamoDBDocumentClient }).doc;
  const send = doc.send.bind(doc);
  doc.send = ((cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    if (refuse({ name: cmd.constructor.name, input: cmd.input })) {
      const err = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
        name: 'ProvisionedThroughputExceededException',
        $metadata: { httpStatusCode: 400 },
      });
      return Promise.reject(err);
    }
    return send(cmd as never);
  }) as typeof doc.send;
  return store;
}

describe('case 5: a day figure stored for a close whose record write then failed', () => {
  it('is counted once: that sweep reads it from the item, and the next sweep’s close sets the same figure again', async () => {
    const harness = await start('2026-11-30', { limits: { max_open_positions: 10 } });
    harness.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
    await harness.open({ recommendation_id: 'c5b', num_contracts: 2, exit_plan: NO_EXITS });
    await runControl(harness.p.table.store, { account: 'main', command: 'flatten' });
    await harness.sweep(); // sells 2 at the bid, 2.00: -$20
    let dayWritten = false;
    let refusedPuts = 0;
    const failing = storeRefusing(harness, ({ name, input }) => {
      const key = (input.Key ?? input.Item) as { sk?: string } | undefined;
      if (name === 'UpdateCommand' && String(key?.sk).startsWith('DAYPNL#')) dayWritten = true;
      const refuse = name === 'PutCommand' && dayWritten && String(key?.sk).startsWith('POS#');
      if (refuse) refusedPuts++;
      return refuse;
    });
    const failed = await sweepWith(harness, failing);
    expect(refusedPuts).toBeGreaterThan(0);
    expect(await harness.get('c5b')).toMatchObject({ state: 'closing' });
    expect(await dayItem(harness, '2026-11-30')).toMatchObject({ 'day_pnl#c5b': -2000 });
    // The record whose write failed is not handed on (an error of this sweep): the item's figure counts, once.
    expect(failed.errors).toEqual([expect.objectContaining({ position_id: 'c5b' })]);
    expect(failed.dayPnl).toMatchObject({ realized_usd: -20, day_pnl_usd: -20 });
    await harness.sweep();
    expect(await harness.get('c5b')).toMatchObject({ state: 'closed', realized_pnl: -20 });
    expect((await harness.sweep()).dayPnl).toMatchObject({ realized_usd: -20, day_pnl_usd: -20 });
    expect(harness.exitOrders()).toHaveLength(1);
  });
});

describe('case 7: weekend events land on their own trading day', () => {
  it('an expiry dated Saturday and booked by a Saturday sweep counts on Friday’s books', async () => {
    // 2026-11-20 is a Friday, the 21st a Saturday.
    const harness = await start('2026-11-20', { limits: { max_open_positions: 10 } });
    const sim = harness.p.sim;
    sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
    await harness.open({ recommendation_id: 'wk', num_contracts: 2, exit_plan: NO_EXITS }); // 2 at 2.10

    await clock.advance(at('2026-11-21') - clock.nowMs());
    sim.setMarketOpen(false);
    sim.setStockPrice('GOOGL', 300); // the 340 call is out of the money
    sim.expireContract(KEY_ID, FUTURE_SYMBOL); // OPEXP, dated Saturday
    expect(sim.activities(KEY_ID)).toContainEqual(
      expect.objectContaining({ activity_type: 'OPEXP', date: '2026-11-21' }),
    );
    let saturday: SweepReport | undefined;
    for (let i = 0; i < 3 && (await harness.get('wk'))?.state !== 'closed'; i++)
      saturday = await harness.sweep();
    expect(await harness.get('wk')).toMatchObject({
      state: 'closed',
      close_reason: 'expired',
      realized_pnl: -420,
    });

    // Friday's item holds it; Saturday has none. A Saturday sweep's day is Friday, and it reads the loss.
    expect(await dayItem(harness, '2026-11-21')).toBeUndefined();
    expect(saturday!.dayPnl).toMatchObject({ day: '2026-11-20', realized_usd: -420 });
    expect(await dayItem(harness, '2026-11-20')).toMatchObject({ 'realized#wk': -42_000 });
    const again = await harness.sweep();
    expect(again.dayPnl).toMatchObject({ day: '2026-11-20', realized_usd: -420, day_pnl_usd: -420 });
  });
});
