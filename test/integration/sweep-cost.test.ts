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
import { seedClosedPositions, seedOpenPositions } from '../../scripts/bench/seed';

jest.setTimeout(120_000);

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

  it('a sweep at steady prices writes nothing to the table', async () => {
    const { table } = await env.sweep();
    expect(table.writes).toBe(0);
  });

  it('a sweep that closes positions adds exactly one broker call per order sent', async () => {
    // Three contracts fall through their 50 % stop (mid 0.95 against entry 2.00).
    const hit = ['SPY271217C00100000', 'SPY271217C00100500', 'SPY271217C00101000'];
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

  it('examines the same number of items with 2,000 closed positions as with none (51: 50 live + control)', () => {
    expect(before.itemsRead).toBe(51);
    expect(after.itemsRead).toBe(before.itemsRead);
  });
});
