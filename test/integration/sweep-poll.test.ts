/**
 * Issue 15, exits within the minute: a scheduled sweep polls the price rules after its full pass
 * (shared/use-cases/sweep/poll.ts). Real handler module (an EventBridge scheduled event, a Lambda-like
 * context), dynalite, the Alpaca simulator over HTTP. The window is shortened by dating the scheduled event
 * back (the sweep ends 5 s before `time` + the 1-minute interval), so each test polls for a few seconds.
 */
import { AlpacaAdapter } from '../../shared/adapters/alpaca';
import { parseAccountConfig } from '../../shared/domain/account-config';
import { SILENT_LOG } from '../../shared/observability';
import { runSweep, type SweepReport } from '../../shared/use-cases/sweep';
import { POLL_END_MARGIN_MS } from '../../shared/use-cases/sweep/poll';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { loadSweepHandler, KEY_ID, SECRET } from '../helpers/pipeline';
import { FUTURE_SYMBOL } from '../helpers/recommendations';

type ScheduledHandler = (
  event: unknown,
  context?: { getRemainingTimeInMillis(): number },
) => Promise<SweepReport>;

const SNAPSHOTS = '/v1beta1/options/snapshots';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: ExitHarness;
async function start(pollSeconds: number | null = 2) {
  h = await startExitHarness({
    account: {
      name: 'main',
      sweep_poll_seconds: pollSeconds,
      exit_defaults: { close_before_expiry_days: 1 },
    },
  });
  h.mid(FUTURE_SYMBOL, 2.05);
}
afterEach(async () => {
  if (!h) return;
  h.expectEveryCloseSafe();
  h.expectNoShort();
  await h.close();
});

/** A fresh exit-evaluator container, called as the schedule calls it. */
function container(): ScheduledHandler {
  return loadSweepHandler(h.p) as unknown as ScheduledHandler;
}

/** A scheduled event whose window ends `windowMs` from now (the next sweep is due 5 s later). */
function scheduled(windowMs: number): { event: unknown; deadlineMs: number; nextDueMs: number } {
  const nextDueMs = Date.now() + windowMs + POLL_END_MARGIN_MS;
  return {
    event: { 'detail-type': 'Scheduled Event', time: new Date(nextDueMs - 60_000).toISOString() },
    deadlineMs: nextDueMs - POLL_END_MARGIN_MS,
    nextDueMs,
  };
}

/** Broker requests of the account on `path` since request number `from`. */
function requestsSince(from: number, method: string, path: string) {
  return h.p.sim.requests
    .slice(from)
    .filter((r) => r.keyId === KEY_ID && r.method === method && r.path === path);
}

describe('sweep_poll_seconds: exits within the minute', () => {
  it('a price crossing a stop mid-invocation is closed at the next poll, within one poll interval', async () => {
    await start(2);
    await h.open({ recommendation_id: 'stop', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    const { event } = scheduled(7_000);
    const run = container()(event);
    await sleep(3_000);
    const crossedAt = Date.now();
    h.mid(FUTURE_SYMBOL, 1.0);
    const report = await run;

    const exits = h.exitOrders();
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ side: 'sell', qty: '2', symbol: FUTURE_SYMBOL });
    const sentAt = Date.parse(requestsSince(0, 'POST', '/v2/orders').at(-1)!.time);
    // Within one poll interval (2 s) plus the poll's own reads.
    expect(sentAt - crossedAt).toBeLessThan(2_500);
    expect(report.ordersSent).toEqual([
      expect.objectContaining({ position_id: 'stop', reason: 'stop_loss' }),
    ]);
    expect(report.polls).toBeGreaterThanOrEqual(2);
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);
  });

  it('a poll asks only for quotes (⌈N/100⌉ snapshot calls); the full reads come only when a rule fires', async () => {
    await start(2);
    await h.open({ recommendation_id: 'a', num_contracts: 1, exit_plan: { take_profit_pct: 0.5 } });
    await h.open({ recommendation_id: 'b', num_contracts: 1, exit_plan: { take_profit_pct: 0.9 } });
    const from = h.p.sim.requests.length;
    const { event } = scheduled(12_000);
    const run = container()(event);
    // After the first poll's quote read (the pass made one): the next poll sees the move and acts.
    while (requestsSince(from, 'GET', SNAPSHOTS).length < 2) await sleep(50);
    h.mid(FUTURE_SYMBOL, 3.5); // a's take profit (bid 3.45 ≥ 1.5 × entry), not b's
    const report = await run;

    const polls = report.polls ?? 0;
    // One that saw no rule fire, one that acted; more when the window had room.
    expect(polls).toBeGreaterThanOrEqual(2);
    // The full pass: one snapshot call, one read each of positions, open orders and clock. Each poll: one
    // snapshot call (2 positions). The poll where a's rule fired: positions, open orders, clock once more.
    expect(requestsSince(from, 'GET', SNAPSHOTS)).toHaveLength(1 + polls);
    expect(requestsSince(from, 'GET', '/v2/positions')).toHaveLength(2);
    expect(requestsSince(from, 'GET', '/v2/orders')).toHaveLength(2);
    expect(requestsSince(from, 'GET', '/v2/clock')).toHaveLength(2);
    expect(report.ordersSent.map((o) => [o.position_id, o.reason])).toEqual([['a', 'take_profit']]);
    expect(await h.get('b')).toMatchObject({ state: 'open' });
  });

  it('the lease keeps one sweep acting: a second invocation during the polls does nothing; the next scheduled one runs', async () => {
    await start(2);
    await h.open({ recommendation_id: 'p', num_contracts: 3, exit_plan: { stop_loss_pct: 0.25 } });
    const first = scheduled(5_000);
    const polling = container()(first.event, { getRemainingTimeInMillis: () => 57_000 });
    await sleep(1_200);
    const second = await container()(scheduled(5_000).event, { getRemainingTimeInMillis: () => 57_000 });
    expect(second.skipped).toMatch(/sweep lease/);
    h.mid(FUTURE_SYMBOL, 1.0);
    const report = await polling;
    expect(report.skipped).toBeNull();
    expect(report.ordersSent).toHaveLength(1);
    expect(Date.now()).toBeLessThanOrEqual(first.deadlineMs);
    // The next scheduled sweep takes the lease (it was given back before it was due) and learns the fill.
    const next = await container()(
      { 'detail-type': 'Scheduled Event', time: new Date(first.nextDueMs).toISOString() },
      { getRemainingTimeInMillis: () => 3_500 },
    );
    expect(next.skipped).toBeNull();
    expect(await h.get('p')).toMatchObject({ state: 'closed', close_reason: 'stop_loss' });
    expect(h.exitOrders()).toHaveLength(1);
  });

  it('a slow poll never runs past the deadline: polls start only with twice the slowest poll left', async () => {
    await start(2);
    await h.open({ recommendation_id: 'slow', num_contracts: 1 });
    // Every quote read now takes 2.5 s. The first poll (2 s after the pass) ends about 7 s in; a second,
    // due at once, would end past the 9.5 s deadline: with twice the slowest poll as its budget, it never starts.
    h.p.sim.injectFault({ method: 'GET', path: SNAPSHOTS, delayMs: 2_500, times: 100 });
    const { event, deadlineMs } = scheduled(9_500);
    const report = await container()(event);
    expect(Date.now()).toBeLessThanOrEqual(deadlineMs);
    expect(report.polls).toBe(1);
  });

  it('the Lambda context bounds the window too: nothing polls past the remaining time less its margin', async () => {
    await start(2);
    await h.open({ recommendation_id: 'ctx', num_contracts: 1 });
    const started = Date.now();
    const report = await container()(scheduled(30_000).event, { getRemainingTimeInMillis: () => 8_000 });
    // Remaining 8 s less the 3 s margin: polls end by 5 s (one poll, 2 s after the pass), not 30 s.
    expect(Date.now() - started).toBeLessThanOrEqual(5_000);
    expect(report.polls).toBe(1);
  });

  it('a contract closed by hand between polls: the poll sends nothing and alerts nothing; the next full pass reconciles', async () => {
    await start(2);
    await h.open({ recommendation_id: 'hand', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    const run = container()(scheduled(5_000).event);
    await sleep(1_000);
    h.p.sim.removePosition(KEY_ID, FUTURE_SYMBOL);
    h.mid(FUTURE_SYMBOL, 1.0);
    const report = await run;
    expect(report.polls).toBeGreaterThanOrEqual(1);
    expect(h.exitOrders()).toEqual([]);
    expect(report.alerts).toEqual([]);
    // Reconcile as usual: a read missing every tracked contract is confirmed by a later sweep first.
    await h.sweep();
    await h.sweep();
    expect(await h.get('hand')).toMatchObject({ state: 'closed', close_reason: 'closed_outside_pipeline' });
    expect(h.exitOrders()).toEqual([]);
  });

  it('polls end while the sweep still holds its lease, whatever the window (lease less 5 s)', async () => {
    await start(2);
    await h.open({ recommendation_id: 'lease', num_contracts: 1 });
    const broker = new AlpacaAdapter({
      keyId: KEY_ID,
      secretKey: SECRET,
      tradingBaseUrl: h.p.sim.url,
      dataBaseUrl: h.p.sim.url,
    });
    const started = Date.now();
    const report = await runSweep({
      account: parseAccountConfig(JSON.parse(h.p.env.ACCOUNT_CONFIG)),
      broker,
      marketData: broker,
      store: h.p.table.store,
      lease: h.p.table.store,
      now: () => new Date(),
      log: SILENT_LOG,
      metrics: { count: () => undefined, durationMs: () => undefined, gauge: () => undefined },
      // A 30 s window, but a 10 s lease: polls stop 5 s before it runs out (one poll, 2 s after the pass).
      poll: { deadlineMs: started + 30_000 },
      sweepLeaseMs: 10_000,
    });
    expect(Date.now() - started).toBeLessThanOrEqual(5_000);
    expect(report.polls).toBe(1);
  });

  it('null keeps one pass per invocation; a direct call (no scheduled event) never polls', async () => {
    await start(null);
    await h.open({ recommendation_id: 'once', num_contracts: 1 });
    const from = h.p.sim.requests.length;
    const started = Date.now();
    const report = await container()(scheduled(5_000).event);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(report.polls).toBeUndefined();
    expect(requestsSince(from, 'GET', SNAPSHOTS)).toHaveLength(1);
    h.coldSweeps();
    await h.close();

    await start(2);
    await h.open({ recommendation_id: 'direct', num_contracts: 1 });
    const direct = await h.sweep();
    expect(direct.polls).toBeUndefined();
  });
});
