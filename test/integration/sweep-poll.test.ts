/**
 * Issue 15, exits within the minute: a scheduled sweep polls the price rules after its full pass
 * (shared/use-cases/sweep/poll.ts). The handler factory as the Lambda entry builds it (an EventBridge
 * scheduled event, a Lambda-like context), dynalite, the Alpaca simulator over HTTP, on a test clock
 * (test/helpers/test-clock.ts) handed in through the handler's `now` and `pollSleep` overrides: time
 * moves only when the poll sleeps, so each test asserts the exact polls its window allows and when each
 * request went out on that clock, whatever the machine's speed or load.
 */
import { AlpacaAdapter } from '../../shared/adapters/alpaca';
import { loadRuntimeConfig } from '../../shared/config';
import { parseAccountConfig } from '../../shared/domain/account-config';
import { SILENT_LOG } from '../../shared/observability';
import { runSweep } from '../../shared/use-cases/sweep';
import { POLL_END_MARGIN_MS } from '../../shared/use-cases/sweep/poll';
import { buildPipelineDeps, type PipelineDeps } from '../../shared/wiring';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { loadSweepHandlerWith, KEY_ID, SECRET, type ScheduledSweepHandler } from '../helpers/pipeline';
import { FUTURE_SYMBOL } from '../helpers/recommendations';
import { testClock, type TestClock } from '../helpers/test-clock';

// A hang guard only (no assertion here reads the wall clock): real handlers, dynalite and the simulator
// take many times longer on a loaded machine.
jest.setTimeout(120_000);

const SNAPSHOTS = '/v1beta1/options/snapshots';

let h: ExitHarness;
let clock: TestClock;
/** Where the clock stood whenever it moved, and how many broker requests the simulator had logged then. */
let marks: Array<{ atMs: number; requests: number }>;

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
/** The test clock, from now on (after the positions were opened on the wall clock). */
function startClock(): TestClock {
  clock = testClock(Date.now());
  marks = [{ atMs: clock.nowMs(), requests: h.p.sim.requests.length }];
  return clock;
}
afterEach(async () => {
  if (!h) return;
  h.expectEveryCloseSafe();
  h.expectNoShort();
  await h.close();
});

/** The poll's sleep: moves the test clock, and notes which requests came before the move. */
async function pollSleep(ms: number): Promise<void> {
  marks.push({ atMs: clock.nowMs(), requests: h.p.sim.requests.length });
  await clock.sleep(ms);
  marks.push({ atMs: clock.nowMs(), requests: h.p.sim.requests.length });
}

/** The clock's time when the simulator logged request number `index` (time moves only between marks). */
function clockTimeOfRequest(index: number): number {
  let at = marks[0].atMs;
  for (const m of marks) if (m.requests <= index) at = m.atMs;
  return at;
}

/** A fresh exit-evaluator container on the test clock, called as the schedule calls it. */
function container(o: { deps?: () => Promise<PipelineDeps> } = {}): ScheduledSweepHandler {
  return loadSweepHandlerWith(h.p, { now: clock.now, pollSleep, ...o });
}

/** A scheduled event whose window ends `windowMs` from the clock's now (the next sweep is due 5 s later). */
function scheduled(windowMs: number): { event: unknown; deadlineMs: number; nextDueMs: number } {
  const nextDueMs = clock.nowMs() + windowMs + POLL_END_MARGIN_MS;
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
    startClock();
    const t0 = clock.nowMs();
    // A 7 s window, polls every 2 s after the pass: at 2 s and 4 s (one at 6 s would need 2 s more).
    const { event } = scheduled(7_000);
    const crossedAt = t0 + 3_000; // between the polls at 2 s and 4 s
    clock.at(crossedAt, () => h.mid(FUTURE_SYMBOL, 1.0));
    const from = h.p.sim.requests.length;
    const report = await container()(event);

    const exits = h.exitOrders();
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ side: 'sell', qty: '2', symbol: FUTURE_SYMBOL });
    const post = h.p.sim.requests.findIndex(
      (r, i) => i >= from && r.keyId === KEY_ID && r.method === 'POST' && r.path === '/v2/orders',
    );
    expect(post).toBeGreaterThanOrEqual(from);
    // Sent by the first poll after the crossing (at 4 s): within one poll interval (2 s) of it.
    const sentAt = clockTimeOfRequest(post);
    expect(sentAt - crossedAt).toBe(1_000);
    expect(sentAt - crossedAt).toBeLessThanOrEqual(2_000);
    expect(report.ordersSent).toEqual([
      expect.objectContaining({ position_id: 'stop', reason: 'stop_loss' }),
    ]);
    expect(report.polls).toBe(2);
    expect(clock.sleeps).toEqual([2_000, 2_000]);
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(0);
  });

  it('a poll asks only for quotes (⌈N/100⌉ snapshot calls); the full reads come only when a rule fires', async () => {
    await start(2);
    await h.open({ recommendation_id: 'a', num_contracts: 1, exit_plan: { take_profit_pct: 0.5 } });
    await h.open({ recommendation_id: 'b', num_contracts: 1, exit_plan: { take_profit_pct: 0.9 } });
    startClock();
    const t0 = clock.nowMs();
    const from = h.p.sim.requests.length;
    // A 12 s window: polls at 2, 4, 6, 8 and 10 s (each starts with 2 s left before the deadline).
    const { event } = scheduled(12_000);
    // After the first poll (2 s) saw no rule fire: the next poll (4 s) sees the move and acts.
    clock.at(t0 + 3_000, () => {
      expect(requestsSince(from, 'GET', SNAPSHOTS)).toHaveLength(2); // the pass's, the first poll's
      h.mid(FUTURE_SYMBOL, 3.5); // a's take profit (bid 3.45 ≥ 1.5 × entry), not b's
    });
    const report = await container()(event);

    // One that saw no rule fire, one that acted, and three more the window had room for.
    expect(report.polls).toBe(5);
    // The full pass: one snapshot call, one read each of positions, open orders and clock. Each poll: one
    // snapshot call (2 positions). The poll where a's rule fired: positions, open orders, clock once more.
    expect(requestsSince(from, 'GET', SNAPSHOTS)).toHaveLength(1 + 5);
    expect(requestsSince(from, 'GET', '/v2/positions')).toHaveLength(2);
    expect(requestsSince(from, 'GET', '/v2/orders')).toHaveLength(2);
    expect(requestsSince(from, 'GET', '/v2/clock')).toHaveLength(2);
    const post = h.p.sim.requests.findIndex(
      (r, i) => i >= from && r.keyId === KEY_ID && r.method === 'POST' && r.path === '/v2/orders',
    );
    expect(clockTimeOfRequest(post)).toBe(t0 + 4_000);
    expect(report.ordersSent.map((o) => [o.position_id, o.reason])).toEqual([['a', 'take_profit']]);
    expect(await h.get('b')).toMatchObject({ state: 'open' });
  });

  it('the lease keeps one sweep acting: a second invocation during the polls does nothing; the next scheduled one runs', async () => {
    await start(2);
    await h.open({ recommendation_id: 'p', num_contracts: 3, exit_plan: { stop_loss_pct: 0.25 } });
    startClock();
    const t0 = clock.nowMs();
    const first = scheduled(5_000);
    // While the first invocation waits for its poll (at 2 s), a second one is scheduled at 1.2 s.
    let second: Awaited<ReturnType<ScheduledSweepHandler>> | undefined;
    clock.at(t0 + 1_200, async () => {
      second = await container()(scheduled(5_000).event, { getRemainingTimeInMillis: () => 57_000 });
      h.mid(FUTURE_SYMBOL, 1.0);
    });
    const report = await container()(first.event, { getRemainingTimeInMillis: () => 57_000 });
    expect(second?.skipped).toMatch(/sweep lease/);
    expect(report.skipped).toBeNull();
    expect(report.polls).toBe(1);
    expect(report.ordersSent).toHaveLength(1);
    expect(clock.nowMs()).toBeLessThanOrEqual(first.deadlineMs);
    // The next scheduled sweep, when it is due, takes the lease (it was given back) and learns the fill.
    await clock.advance(first.nextDueMs - clock.nowMs());
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
    startClock();
    const t0 = clock.nowMs();
    // Every quote read now takes 2.5 s on the clock. The pass's read ends at 2.5 s; the first poll (2 s
    // later, at 4.5 s) ends at 7 s; a second, due at once, would need twice 2.5 s before the 9.5 s deadline.
    const slowDeps = async (): Promise<PipelineDeps> => {
      const d = await buildPipelineDeps(h.p.env, loadRuntimeConfig(h.p.env));
      const getOptionQuotes: PipelineDeps['marketData']['getOptionQuotes'] = async (symbols) => {
        const quotes = await d.marketData.getOptionQuotes(symbols);
        await clock.advance(2_500);
        return quotes;
      };
      return { ...d, marketData: { ...d.marketData, getOptionQuotes } };
    };
    const { event, deadlineMs } = scheduled(9_500);
    const report = await container({ deps: slowDeps })(event);
    expect(report.polls).toBe(1);
    expect(clock.sleeps).toEqual([2_000]);
    expect(clock.nowMs()).toBe(t0 + 7_000);
    expect(clock.nowMs()).toBeLessThanOrEqual(deadlineMs);
  });

  it('the Lambda context bounds the window too: nothing polls past the remaining time less its margin', async () => {
    await start(2);
    await h.open({ recommendation_id: 'ctx', num_contracts: 1 });
    startClock();
    const started = clock.nowMs();
    const report = await container()(scheduled(30_000).event, { getRemainingTimeInMillis: () => 8_000 });
    // Remaining 8 s less the 3 s margin: polls end by 5 s (one poll, 2 s after the pass), not 30 s.
    expect(report.polls).toBe(1);
    expect(clock.sleeps).toEqual([2_000]);
    expect(clock.nowMs() - started).toBeLessThanOrEqual(5_000);
  });

  it('a contract closed by hand between polls: the poll sends nothing and alerts nothing; the next full pass reconciles', async () => {
    await start(2);
    await h.open({ recommendation_id: 'hand', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
    startClock();
    const t0 = clock.nowMs();
    // A 5 s window: one poll, at 2 s; the contract goes (and its price falls through the stop) at 1 s.
    clock.at(t0 + 1_000, () => {
      h.p.sim.removePosition(KEY_ID, FUTURE_SYMBOL);
      h.mid(FUTURE_SYMBOL, 1.0);
    });
    const report = await container()(scheduled(5_000).event);
    expect(report.polls).toBe(1);
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
    startClock();
    const broker = new AlpacaAdapter({
      keyId: KEY_ID,
      secretKey: SECRET,
      tradingBaseUrl: h.p.sim.url,
      dataBaseUrl: h.p.sim.url,
    });
    const started = clock.nowMs();
    const report = await runSweep({
      account: parseAccountConfig(JSON.parse(h.p.env.ACCOUNT_CONFIG)),
      broker,
      marketData: broker,
      store: h.p.table.store,
      lease: h.p.table.store,
      now: clock.now,
      log: SILENT_LOG,
      metrics: { count: () => undefined, durationMs: () => undefined, gauge: () => undefined },
      // A 30 s window, but a 10 s lease: polls stop 5 s before it runs out (one poll, 2 s after the pass).
      poll: { deadlineMs: started + 30_000, sleep: clock.sleep },
      sweepLeaseMs: 10_000,
    });
    expect(report.polls).toBe(1);
    expect(clock.sleeps).toEqual([2_000]);
    expect(clock.nowMs() - started).toBeLessThanOrEqual(5_000);
  });

  it('null keeps one pass per invocation; a direct call (no scheduled event) never polls', async () => {
    await start(null);
    await h.open({ recommendation_id: 'once', num_contracts: 1 });
    startClock();
    const from = h.p.sim.requests.length;
    const started = clock.nowMs();
    const report = await container()(scheduled(5_000).event);
    // One pass: it never waits (no sleep, the clock did not move).
    expect(clock.sleeps).toEqual([]);
    expect(clock.nowMs()).toBe(started);
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
