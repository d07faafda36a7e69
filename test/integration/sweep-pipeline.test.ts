/**
 * The sweep as a one-way pipeline: the five defects its seams produced, each end to end (real handlers,
 * dynalite, the Alpaca simulator over HTTP, the real SDK), each checked on the raw requests the simulator
 * received. Every one of these failed on the sweep before it was split into phases.
 */
import { AlpacaAdapter } from '../../shared/adapters/alpaca';
import { createExitEvaluatorHandler } from '../../shared/handlers/exit-evaluator';
import { closedOutside } from '../../shared/domain/position-lifecycle';
import { SILENT_LOG } from '../../shared/observability';
import type { SweepLease } from '../../shared/ports';
import {
  KEY_ID,
  SECRET,
  lambdaContext,
  loadOpenOrderHandler,
  sentOrders,
  sqsEvent,
  sqsRecord,
} from '../helpers/pipeline';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { FUTURE_PUT, FUTURE_SYMBOL, recommendationBody } from '../helpers/recommendations';

let h: ExitHarness;
async function start(exec: Record<string, unknown>, env: Record<string, string> = {}) {
  h = await startExitHarness({
    claimLeaseSeconds: 120,
    account: {
      name: 'main',
      limits: { max_open_positions: 100 },
      exit_defaults: { close_before_expiry_days: 1, take_profit_pct: null },
      exit_execution: exec,
    },
  });
  Object.assign(h.p.env, env);
  h.p.sim.setQuote(FUTURE_SYMBOL, { bid: 2.0, ask: 2.1 });
  h.p.sim.setQuote(FUTURE_PUT, { bid: 2.0, ask: 2.1 });
}
afterEach(async () => {
  if (!h) return;
  h.expectEveryCloseSafe();
  h.expectNoShort();
  await h.close();
});

const STOP_ID = /^ops-main-s(\d+)-/;
const stopPosts = () => sentOrders(h.p.sim).filter((o) => STOP_ID.test(String(o.client_order_id)));
const openOrderOf = (cid: string) =>
  h.p.sim
    .orders(KEY_ID)
    .find((o) => o.client_order_id === cid && !['filled', 'canceled'].includes(String(o.status)));

describe('defect 1: a partial fill of a working exit is not "a bigger step"', () => {
  it('a take-profit limit for 3 that filled 1 keeps working until reprice_after_seconds', async () => {
    await start({ order_type: 'marketable_limit', reprice_after_seconds: 3600 });
    await h.open({
      recommendation_id: 'tp',
      num_contracts: 3,
      exit_plan: { take_profit_pct: 0.5, stop_loss_pct: null },
    });
    h.p.sim.setFillMode('manual');
    h.mid(FUTURE_SYMBOL, 3.5); // bid 3.45 ≥ 3.15: take profit
    await h.sweep();
    expect(h.exitOrders()).toEqual([expect.objectContaining({ qty: '3', type: 'limit' })]);
    const working = openOrderOf('ops-main-x1-tp')!;
    h.p.sim.fillOrder(String(working.id), { qty: 1 });
    const r = await h.sweep();
    // Nothing cancelled, nothing sent: the order still works for the 2 the rule wants closed.
    expect(r.cancelled).toEqual([]);
    expect(h.exitOrders()).toHaveLength(1);
    expect(await h.get('tp')).toMatchObject({ state: 'closing', exit_reprices: 0 });
  });
});

describe('defect 2: one failed cancel never aborts the sweep', () => {
  it('a 503 on the DELETE of a gone position’s stop: the others still get their stops, the day P&L is computed', async () => {
    await start({ broker_stop: 'stop' });
    await h.open({ recommendation_id: 'gone', num_contracts: 1, exit_plan: { stop_loss_pct: 0.25 } });
    expect(stopPosts()).toHaveLength(1);
    // The record closes (an operator, a repair) while its stop still rests at the broker.
    const gone = (await h.get('gone'))!;
    await h.p.table.store.replace(gone, closedOutside(gone, 'test', new Date().toISOString()));
    // A new position is opened: the sweep that learns its fill must rest its stop.
    await h.submit({
      recommendation_id: 'fresh',
      num_contracts: 1,
      option_symbol: FUTURE_PUT,
      exit_plan: { stop_loss_pct: 0.25 },
    });
    h.p.sim.injectFault({ method: 'DELETE', path: /^\/v2\/orders\/.+/, status: 503, times: 1000 });
    const r = await h.sweep();
    expect(r.errors).toEqual([expect.objectContaining({ position_id: 'gone' })]);
    expect(stopPosts().map((o) => o.symbol)).toEqual([FUTURE_SYMBOL, FUTURE_PUT]);
    expect(r.dayPnl).not.toBeNull();
    expect(r.stepErrors).toEqual([]);
    // Once the DELETE works again the stale stop goes.
    h.p.sim.clearFaults();
    const r2 = await h.sweep();
    expect(r2.cancelled).toEqual([expect.objectContaining({ position_id: 'gone', why: 'position gone' })]);
  });
});

describe('defect 3: no resend while the market is closed', () => {
  it('a stop whose send got a 503 just before the close is released at the close, and decided again at the open', async () => {
    await start({});
    await h.open({ recommendation_id: 'rs', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    h.mid(FUTURE_SYMBOL, 1.0);
    h.p.sim.injectFault({ method: 'POST', path: '/v2/orders', status: 503 });
    await h.sweep();
    expect(await h.get('rs')).toMatchObject({
      state: 'closing',
      pending_exit: { send_failed_at: expect.any(String) },
    });
    const postsBefore = h.p.sim.requestsTo('POST', '/v2/orders').length;
    h.p.sim.setMarketOpen(false);
    const r = await h.sweep();
    expect(h.p.sim.requestsTo('POST', '/v2/orders')).toHaveLength(postsBefore); // nothing sent
    expect(r.alerts.filter((a) => a.kind === 'exit_rejected')).toEqual([]);
    expect(r.wouldClose).toEqual([expect.objectContaining({ position_id: 'rs', reason: 'stop_loss' })]);
    expect(await h.get('rs')).toMatchObject({ state: 'open', pending_exit: null });
    h.p.sim.setMarketOpen(true);
    h.mid(FUTURE_SYMBOL, 1.0);
    const r2 = await h.sweep();
    expect(r2.ordersSent).toEqual([
      expect.objectContaining({ position_id: 'rs', reason: 'stop_loss', qty: 2 }),
    ]);
    await h.sweep();
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);
  });
});

describe('defect 4: turning broker_stop on for many positions', () => {
  it('due exits go first; placements stop at the request budget and continue next sweep', async () => {
    // This container's share of the broker's budget: 45 requests a minute.
    await start({}, { BROKER_REQUESTS_PER_MINUTE: '45' });
    const ids = Array.from({ length: 30 }, (_, i) => `m${i}`);
    const open = loadOpenOrderHandler(h.p);
    for (let i = 0; i < ids.length; i += 10) {
      const batch = ids.slice(i, i + 10).map((id) =>
        sqsRecord(
          recommendationBody({
            recommendation_id: id,
            num_contracts: 1,
            exit_plan: { stop_loss_pct: 0.25 },
          }),
        ),
      );
      expect((await open(sqsEvent(batch), lambdaContext)).batchItemFailures).toEqual([]);
    }
    await h.submit({
      recommendation_id: 'due',
      num_contracts: 1,
      option_symbol: FUTURE_PUT,
      exit_plan: { stop_loss_pct: 0.25 },
    });
    await h.sweep(); // fills learned; no resting stops yet (broker_stop off)
    expect(stopPosts()).toEqual([]);
    h.p.env.ACCOUNT_CONFIG = JSON.stringify({
      ...JSON.parse(h.p.env.ACCOUNT_CONFIG),
      exit_execution: { broker_stop: 'stop' },
    });
    h.coldSweeps();
    // broker_stop is turned on while one position's price falls through its stop: its exit goes first.
    h.mid(FUTURE_PUT, 1.0);
    const r = await h.sweep();
    expect(r.ordersSent).toEqual([expect.objectContaining({ position_id: 'due', reason: 'stop_loss' })]);
    const placed = stopPosts().length;
    // Placements stopped with the budget's reserve left for protective work; the rest wait, reported.
    expect(placed).toBeGreaterThan(0);
    expect(placed).toBeLessThan(30);
    const deferred = r.deferred.filter((d) => d.what === 'resting stop placement');
    expect(deferred.length + placed).toBeGreaterThanOrEqual(30);
    expect(deferred[0]).toMatchObject({ why: 'the request budget is spent' });
  }, 180_000);
});

describe('defect 5: a failed lease release never costs the next scheduled sweep', () => {
  it('with every release throttled, the next scheduled sweep still runs', async () => {
    await start({});
    await h.open({ recommendation_id: 'l', num_contracts: 1, exit_plan: { stop_loss_pct: 0.25 } });
    const broker = new AlpacaAdapter({
      keyId: KEY_ID,
      secretKey: SECRET,
      tradingBaseUrl: h.p.sim.url,
      dataBaseUrl: h.p.sim.url,
    });
    const real = h.p.table.store;
    let releases = 0;
    const lease: SweepLease = {
      acquireSweepLease: (...a) => real.acquireSweepLease(...a),
      releaseSweepLease: () => {
        releases++;
        return Promise.reject(new Error('ProvisionedThroughputExceededException: throttled'));
      },
    };
    const tick = Math.floor(Date.now() / 60_000) * 60_000;
    let nowMs = tick + 500;
    const sweep = createExitEvaluatorHandler(h.p.env, {
      deps: async () => ({ broker, marketData: broker, store: real, lease }),
      log: SILENT_LOG,
      now: () => new Date(nowMs),
      // The polls after the pass move the test's clock, never the machine's.
      pollSleep: async (ms) => {
        nowMs += ms;
      },
    });
    const scheduled = (t: number) => ({ 'detail-type': 'Scheduled Event', time: new Date(t).toISOString() });
    const context = { getRemainingTimeInMillis: () => 58_000 };
    const first = await sweep(scheduled(tick), context);
    expect(first.skipped).toBeNull();
    expect(releases).toBe(2); // tried again once
    nowMs = tick + 60_000 + 500;
    const next = await sweep(scheduled(tick + 60_000), context);
    expect(next.skipped).toBeNull();
  });
});
