/**
 * `npm run fault`: each fault the runbook covers, injected through the command's own function into the
 * simulator's loopback control routes, as the running local stack would get it. For each: the
 * simulator's answer, what the sweep reports (the alert or failure the operator should see), and the
 * fault ending by itself on the simulator's clock (a test clock here: no sleeps), after which the sweep
 * manages the position again (the due stop goes out).
 */
import { startAlpacaSim } from '../../local/alpaca-sim';
import {
  parseFaultArgs,
  runFault,
  type FaultArgs,
  type FaultTarget,
  type SimControlState,
} from '../../local/fault';
import { startSweepSchedule, type SweepSchedule } from '../../local/sweep-schedule';
import { AlpacaAdapter } from '../../shared/adapters/alpaca';
import { SILENT_LOG } from '../../shared/observability';
import type { SweepReport } from '../../shared/use-cases/sweep';
import { startExitHarness, type ExitHarness } from '../helpers/exit-harness';
import { KEY_ID, loadSweepHandlerWith, SECRET } from '../helpers/pipeline';
import { FUTURE_SYMBOL } from '../helpers/recommendations';
import { testClock, type TestClock } from '../helpers/test-clock';

// A hang guard only: nothing here reads the wall clock.
jest.setTimeout(120_000);

let h: ExitHarness;
let clock: TestClock;
let schedule: SweepSchedule;
let printed: string[];
let target: FaultTarget;

beforeEach(async () => {
  clock = testClock();
  h = await startExitHarness({
    clock,
    simOptions: { controlApi: true },
    account: { name: 'main', limits: { max_open_positions: 10 } },
  });
  h.mid(FUTURE_SYMBOL, 2.05);
  await h.open({ recommendation_id: 'f1', num_contracts: 2, exit_plan: { stop_loss_pct: 0.25 } });
  // The sweep as local mode schedules it, on the test clock; the adapter's retries wait on it too.
  const broker = new AlpacaAdapter({
    keyId: KEY_ID,
    secretKey: SECRET,
    tradingBaseUrl: h.p.sim.url,
    dataBaseUrl: h.p.sim.url,
    retrySleep: clock.sleep,
  });
  const store = h.p.table.store;
  const handler = loadSweepHandlerWith(h.p, {
    now: clock.now,
    log: SILENT_LOG,
    deps: async () => ({ broker, marketData: broker, store, lease: store }),
  });
  schedule = startSweepSchedule({ handler: () => handler(), intervalMs: 3_600_000, log: SILENT_LOG });
  printed = [];
  target = {
    simulatorUrl: h.p.sim.url,
    keyOf: (account) => {
      if (account !== 'main') throw new Error(`no account ${account}`);
      return KEY_ID;
    },
  };
});

afterEach(async () => {
  await schedule?.stop();
  h.expectEveryCloseSafe();
  await h?.close();
});

function fault(...argv: string[]): Promise<SimControlState> {
  const args = parseFaultArgs(argv) as FaultArgs;
  return runFault(args, target, (l) => printed.push(l));
}

/** One sweep as the schedule runs it: its report, or null when it failed (then `stats.lastError`). */
const sweep = (): Promise<SweepReport | null> => schedule.runNow();

async function brokerAnswer(route: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${h.p.sim.url}${route}`, {
    headers: { 'APCA-API-KEY-ID': KEY_ID, 'APCA-API-SECRET-KEY': SECRET },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const kinds = (r: SweepReport | null) => (r?.alerts ?? []).map((a) => a.kind);

/** The position's stop is due (mid 1.00 against a 2.10 entry and a 25% stop), quoted now. */
function stopDue() {
  h.mid(FUTURE_SYMBOL, 1.0);
}

describe('npm run fault', () => {
  it('--broker-5xx: the trading API answers 503, sweeps fail (ExitEvaluatorErrorsAlarm); after its seconds the next sweep sends the due stop', async () => {
    const state = await fault('--broker-5xx', '30');

    expect(printed[0]).toBe('injected: the trading API answers 503 for 30 s (every account)');
    expect(printed.join('\n')).toContain('ExitEvaluatorErrorsAlarm');
    expect(state.faults).toEqual([
      expect.objectContaining({
        status: 503,
        remaining: null,
        until: new Date(clock.nowMs() + 30_000).toISOString(),
      }),
    ]);
    expect((await brokerAnswer('/v2/account')).status).toBe(503);
    expect((await brokerAnswer('/v2/positions')).status).toBe(503);
    // The data API shares the host and stays up.
    expect((await brokerAnswer(`/v1beta1/options/snapshots?symbols=${FUTURE_SYMBOL}`)).status).toBe(200);

    stopDue();
    expect(await sweep()).toBeNull();
    expect(schedule.stats.failures).toBe(1);
    expect(schedule.stats.lastError).toMatch(/503/);
    expect(h.exitOrders()).toEqual([]);

    await clock.advance(30_000);
    stopDue(); // a fresh quote at the new time
    expect((await brokerAnswer('/v2/account')).status).toBe(200);
    const after = await sweep();
    expect(schedule.stats.lastError).toBeNull();
    expect(after?.ordersSent).toEqual([expect.objectContaining({ position_id: 'f1', reason: 'stop_loss' })]);
  });

  it('--broker-429: the trading API answers 429 with its reset at the fault’s end, sweeps fail; then recover', async () => {
    await fault('--broker-429', '40', '--account', 'main');

    expect(printed[0]).toBe(
      'injected: the trading API answers 429 (rate limit exceeded, reset when the fault ends) for 40 s (account main)',
    );
    const res = await fetch(`${h.p.sim.url}/v2/orders`, {
      headers: { 'APCA-API-KEY-ID': KEY_ID, 'APCA-API-SECRET-KEY': SECRET },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('x-ratelimit-reset')).toBe(String(Math.ceil((clock.nowMs() + 40_000) / 1000)));

    stopDue();
    expect(await sweep()).toBeNull();
    expect(schedule.stats.lastError).toMatch(/429|rate limit/i);
    expect(h.exitOrders()).toEqual([]);

    await clock.advance(40_000);
    stopDue();
    const after = await sweep();
    expect(after?.ordersSent).toEqual([expect.objectContaining({ position_id: 'f1', reason: 'stop_loss' })]);
  });

  it('--quotes-down: option quote reads answer 503, the sweep alerts quote_feed_down and price rules wait; after its seconds the stop goes out', async () => {
    await fault('--quotes-down', '30');

    expect(printed.join('\n')).toContain('QuoteFeedDownAlarm');
    expect((await brokerAnswer(`/v1beta1/options/snapshots?symbols=${FUTURE_SYMBOL}`)).status).toBe(503);
    expect((await brokerAnswer('/v2/positions')).status).toBe(200);

    stopDue();
    const during = await sweep();
    expect(during?.quoteFeedFailed).toBe(true);
    expect(kinds(during)).toContain('quote_feed_down');
    expect(during?.ordersSent).toEqual([]);

    await clock.advance(30_000);
    stopDue();
    const after = await sweep();
    expect(kinds(after)).not.toContain('quote_feed_down');
    expect(after?.ordersSent).toEqual([expect.objectContaining({ position_id: 'f1', reason: 'stop_loss' })]);
  });

  it('--empty-positions: the positions read answers [], the sweep alerts broker_snapshot_suspect and closes nothing; it ends after its reads', async () => {
    await fault('--empty-positions', '1');

    expect(printed.join('\n')).toContain('BrokerSnapshotSuspectAlarm');
    const during = await sweep();
    expect(kinds(during)).toContain('broker_snapshot_suspect');
    expect(during?.closed).toEqual([]);
    expect(await h.get('f1')).toMatchObject({ state: 'open', quantity: 2 });
    expect(h.brokerQty(FUTURE_SYMBOL)).toBe(2);

    // Its one read was used: the broker's positions read answers for real again.
    expect((await brokerAnswer('/v2/positions')).body).toEqual([
      expect.objectContaining({ symbol: FUTURE_SYMBOL, qty: '2' }),
    ]);
    const after = await sweep();
    expect(kinds(after)).not.toContain('broker_snapshot_suspect');
    expect(after?.closed).toEqual([]);
  });

  it('--market-closed: the clock says closed, a due stop is only reported (wouldClose), nothing sent; it reopens after its seconds', async () => {
    const state = await fault('--market-closed', '60');

    expect(state.market).toEqual({
      open: false,
      until: new Date(clock.nowMs() + 60_000).toISOString(),
      thenOpen: true,
    });
    expect((await brokerAnswer('/v2/clock')).body).toMatchObject({ is_open: false });

    stopDue();
    const during = await sweep();
    expect(during?.marketOpen).toBe(false);
    expect(during?.wouldClose).toEqual([expect.objectContaining({ position_id: 'f1', reason: 'stop_loss' })]);
    expect(during?.ordersSent).toEqual([]);

    await clock.advance(59_000);
    expect((await brokerAnswer('/v2/clock')).body).toMatchObject({ is_open: false });
    await clock.advance(1_000);
    expect((await brokerAnswer('/v2/clock')).body).toMatchObject({ is_open: true });
    stopDue();
    const after = await sweep();
    expect(after?.marketOpen).toBe(true);
    expect(after?.ordersSent).toEqual([expect.objectContaining({ position_id: 'f1', reason: 'stop_loss' })]);
  });

  it('--clear ends every fault at once and reopens the market; --status lists what is injected', async () => {
    await fault('--quotes-down', '600');
    await fault('--market-closed', '600');
    printed = [];
    const status = await fault('--status');
    expect(status.faults).toHaveLength(1);
    expect(printed).toEqual([
      expect.stringMatching(/^market CLOSED until .*, then open$/),
      expect.stringMatching(/^fault: GET .*snapshots.* → 503, until /),
    ]);

    const cleared = await fault('--clear');
    expect(cleared).toEqual({ faults: [], market: { open: true, until: null, thenOpen: null } });
    expect((await brokerAnswer(`/v1beta1/options/snapshots?symbols=${FUTURE_SYMBOL}`)).status).toBe(200);
    expect((await brokerAnswer('/v2/clock')).body).toMatchObject({ is_open: true });
  });
});

describe('npm run fault: arguments and the control routes', () => {
  it('refuses bad arguments with what is wrong', () => {
    expect(() => parseFaultArgs(['--broker-5xx', '0'])).toThrow(
      '--broker-5xx needs a whole number of seconds from 1 to 3600, got "0"',
    );
    expect(() => parseFaultArgs(['--empty-positions', 'x'])).toThrow('needs a whole number of reads');
    expect(() => parseFaultArgs(['--quotes-down', '5', '--clear'])).toThrow('exactly one fault');
    expect(() => parseFaultArgs(['--market-closed', '5', '--account', 'main'])).toThrow('drop --account');
    expect(() => parseFaultArgs(['--broker-5xx'])).toThrow('--broker-5xx needs a value');
    expect(parseFaultArgs(['--help'])).toBe('help');
  });

  it('a simulator without controlApi has no control routes; a bad fault is refused naming the field', async () => {
    const plain = await startAlpacaSim();
    try {
      const res = await fetch(`${plain.url}/_sim/faults`, {
        method: 'POST',
        body: '{"status":503,"times":1}',
      });
      expect(res.status).toBe(401); // an unknown, unauthenticated path: the broker's answer
      expect(plain.activeFaults()).toEqual([]);
    } finally {
      await plain.close();
    }
    const bad = await fetch(`${h.p.sim.url}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ status: 503, durationMs: 1000, lostReply: true }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: expect.stringContaining('unknown field(s) lostReply') });
    await expect(fault('--broker-5xx', '10', '--account', 'tiny')).rejects.toThrow('no account tiny');
  });
});
