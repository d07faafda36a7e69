/**
 * Issue 7: the sweep's cost follows open positions only. Counts, not timings: broker calls from the
 * simulator's request log (by path), table calls from a middleware on the DynamoDB client. The sweep runs
 * through the real exit-evaluator handler with the real adapters.
 */
import {
  SWEEP_PATHS,
  sweepBrokerFloor,
  type BrokerCalls,
  type TableCalls,
} from '../../scripts/bench/counters';
import { startBenchEnv, type BenchEnv } from '../../scripts/bench/harness';
import { seedClosedPositions, seedOpenPositions, seedSymbol } from '../../scripts/bench/seed';
import { onRequest } from '../helpers/alpaca-sim';
import { contractFor } from '../helpers/contracts';

jest.setTimeout(300_000); // a hang guard: seeding 2,000 records passed 120 s with two suites on a loaded machine

const calls = (b: BrokerCalls, path: string) => b.byPath[path] ?? 0;

describe('sweep cost: broker calls', () => {
  let env: BenchEnv;
  beforeAll(async () => {
    env = await startBenchEnv({ rateLimitPerMinute: null });
    await seedOpenPositions(env, 250);
    await env.sweep(); // first sweep records each position's trailing peak (one write each)
  });
  afterAll(() => env.close());

  it('a sweep of 250 positions asks for quotes in ceil(250/100) = 3 snapshot calls, not one per position', async () => {
    const { broker, report } = await env.sweep();
    expect(report.held).toHaveLength(250);
    expect(calls(broker, SWEEP_PATHS.snapshots)).toBe(3);
  });

  it('a sweep of 250 positions reads the broker positions, open orders and clock once each', async () => {
    const { broker } = await env.sweep();
    expect(calls(broker, SWEEP_PATHS.positions)).toBe(1);
    expect(calls(broker, SWEEP_PATHS.openOrders)).toBe(1);
    expect(calls(broker, SWEEP_PATHS.clock)).toBe(1);
  });

  it('a sweep of 250 positions that sends nothing makes exactly the floor of broker calls', async () => {
    const { broker, report } = await env.sweep();
    expect(report.ordersSent).toHaveLength(0);
    expect(broker.total).toBe(sweepBrokerFloor(250, 0));
  });

  it('a sweep at steady prices writes nothing to the table but its lease (taken, then given back)', async () => {
    const { table } = await env.sweep();
    expect(table.writes).toBe(2);
    expect(table.byCommand).toMatchObject({ PutItemCommand: 1, DeleteItemCommand: 1 });
  });

  it('a sweep that closes positions adds exactly one broker call per order sent', async () => {
    // Three contracts fall through their 50 % stop (mid 0.95 against entry 2.00).
    const hit = [0, 1, 2].map((i) => seedSymbol(i));
    for (const s of hit) env.sim.setQuote(s, { bid: 0.9, ask: 1.0 });
    const { broker, report } = await env.sweep();
    expect(report.ordersSent.map((o) => o.reason).sort()).toEqual(['stop_loss', 'stop_loss', 'stop_loss']);
    expect(calls(broker, SWEEP_PATHS.submitOrder)).toBe(3);
    expect(broker.total).toBe(sweepBrokerFloor(250, 3));
  });
});

describe('sweep cost: table reads do not grow with closed history', () => {
  let env: BenchEnv;
  let before: TableCalls;
  let after: TableCalls;
  beforeAll(async () => {
    env = await startBenchEnv({ rateLimitPerMinute: null });
    await seedOpenPositions(env, 50);
    await env.sweep();
    before = (await env.sweep()).table;
    await seedClosedPositions(env.store, env.account, 2_000);
    after = (await env.sweep()).table;
  });
  afterAll(() => env.close());

  it('reads the same number of requests with 2,000 closed positions as with none', () => {
    expect(before.reads).toBeGreaterThan(0);
    expect(after.byCommand).toEqual(before.byCommand);
  });

  it('examines the same number of items with 2,000 closed positions as with none (102: 50 live, twice, + control + the day’s realized total)', () => {
    // The live index is queried twice: for single legs, and filtered on `kind` for spreads (a filter
    // examines every item it returns from). Live items only, never the closed history.
    expect(before.itemsRead).toBe(102);
    expect(after.itemsRead).toBe(before.itemsRead);
  });
});

describe('sweep cost: the quotes are asked for as soon as the first list arrives', () => {
  const LATENCY_MS = 150;
  let env: BenchEnv;
  /** Whether the table's live-positions page of the running sweep has been answered. */
  let pageAnswered = false;
  beforeAll(async () => {
    env = await startBenchEnv({ latencyMs: LATENCY_MS, rateLimitPerMinute: null });
    await seedOpenPositions(env, 30);
    // The table answers queries later than the broker answers (as a slow page would): the broker's
    // positions list then arrives first, and the quotes must not wait for the page.
    env.dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'QueryCommand') return next(args);
        await new Promise((r) => setTimeout(r, 2 * LATENCY_MS));
        const out = await next(args);
        pageAnswered = true;
        return out;
      },
      { step: 'initialize', name: 'slowQueries' },
    );
  });
  afterAll(() => env.close());

  /** Per sweep (see {@link sweep}), when its first snapshot request reached the simulator: order, not ms. */
  const firstQuote: Array<{ listAnswered: boolean; pageAnswered: boolean }> = [];
  let sweepFrom = 0;
  let quotedThisSweep = false;
  async function sweep() {
    sweepFrom = env.sim.requests.length;
    quotedThisSweep = false;
    pageAnswered = false;
    return env.sweep();
  }
  beforeAll(() => {
    onRequest(env.sim, (req) => {
      if (req.path !== '/v1beta1/options/snapshots' || quotedThisSweep) return;
      quotedThisSweep = true;
      firstQuote.push({
        listAnswered: env.sim.requests
          .slice(sweepFrom)
          .some((r) => r.path === '/v2/positions' && r.status !== 0),
        pageAnswered,
      });
    });
  });

  it('a sweep asks for quotes once the broker’s list has arrived, before the table’s page', async () => {
    const { report, broker } = await sweep();
    expect(report.held).toHaveLength(30);
    expect(firstQuote.at(-1)).toEqual({ listAnswered: true, pageAnswered: false });
    expect(calls(broker, SWEEP_PATHS.snapshots)).toBe(1);
  });

  it('the next sweep (a warm container) does the same, at the floor of calls', async () => {
    const { report, broker } = await sweep();
    expect(report.held).toHaveLength(30);
    expect(firstQuote.at(-1)).toEqual({ listAnswered: true, pageAnswered: false });
    expect(broker.total).toBe(sweepBrokerFloor(30, 0));
  });

  it('a contract opened since is quoted with the others; one closed since is dropped', async () => {
    const [gone] = await env.store.listLive(env.account);
    env.sim.removePosition(env.keyId, gone.option_symbol);
    const [added] = await seedOpenPositions(env, 1, 'added-');
    // The added contract is seedSymbol(0), already held: give it its own contract and a take-profit quote.
    const symbol = contractFor('SPY', 400, 'C', 999);
    env.sim.removePosition(env.keyId, added.option_symbol);
    await env.store.replace(added, { ...added, option_symbol: symbol });
    env.sim.setPosition(env.keyId, symbol, 2, 2.0);
    env.sim.setQuote(symbol, { bid: 4.5, ask: 4.6 });

    const { report, broker } = await sweep();
    expect(report.closed.map((c) => c.position_id)).toContain(gone.position_id);
    expect(report.ordersSent).toEqual([
      expect.objectContaining({ position_id: added.position_id, reason: 'take_profit', qty: 2 }),
    ]);
    // The broker's list (first in) held the new contract: one snapshot call for all 30 contracts.
    expect(calls(broker, SWEEP_PATHS.snapshots)).toBe(1);
  });
});
