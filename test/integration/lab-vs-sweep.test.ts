/**
 * The lab and production agree: for a random price path and a random exit plan, the exit-plan lab and
 * the real sweep (runSweep over dynalite and the Alpaca simulator through the real SDK, one sweep per bar
 * with the bar's price as the quote and the bar's time as the clock) take the same exit steps — same
 * reason, same bar, same qty — and realize the same P&L.
 */
import fc from 'fast-check';
import { parseAccountConfig } from '../../shared/domain/account-config';
import type { ExitPlanInput } from '../../shared/domain/exit-plan';
import { addDays, newYorkTime } from '../../shared/domain/market-time';
import { FRESH_EXIT_STATE } from '../../shared/domain/position';
import { parseBarsResponses } from '../../shared/lab/bars';
import { resolveLabPlan } from '../../shared/lab/inputs';
import { replayTrade, type LabTrade } from '../../shared/lab/replay';
import { NO_METRICS, type Log } from '../../shared/observability';
import { runSweep } from '../../shared/use-cases/sweep';
import { syntheticBars } from '../../scripts/lab/synthetic-bars';
import type { AlpacaSim } from '../../local/alpaca-sim';
import { adapterFor, KEY_ID, SECRET, startTestSim } from '../helpers/alpaca-sim';
import { startTestTable, type TestTable } from '../helpers/dynamo';
import { makePosition } from '../helpers/factories';

// The test's clock (a Monday, 10:00 New York); the contract's expiry is derived from it.
const T0 = new Date('2028-03-06T15:00:00Z');
const EXPIRY = addDays(newYorkTime(T0).date, 45);
const SYMBOL = `SPY${EXPIRY.slice(2).replace(/-/g, '')}C00500000`;
const BARS = 24;
const QUIET: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };

const pct = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((x) => x / 100);
const planArb: fc.Arbitrary<ExitPlanInput> = fc.record({
  stop_loss_pct: fc.option(pct(5, 30), { nil: null }),
  take_profit_pct: fc.option(pct(5, 40), { nil: null }),
  trailing_stop_pct: fc.option(pct(3, 20), { nil: null }),
  trail_activation_pct: fc.option(pct(0, 15), { nil: null }),
  partial_exits: fc.option(fc.constant([{ gain_pct: 0.08, fraction: 0.5 }]), { nil: null }),
  breakeven_at_pct: fc.option(pct(5, 20), { nil: null }),
  min_hold_minutes: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
  max_hold_minutes: fc.option(fc.integer({ min: 5, max: 30 }), { nil: null }),
});

/** One price per bar (o = h = l = c): the sweep sees exactly one quote per bar. */
function flatBars(seed: number) {
  const raw = syntheticBars({
    symbols: [{ symbol: SYMBOL, start: 3 }],
    from: T0,
    bars: BARS,
    stepsPerBar: 1,
    volatility: 0.05,
    seed,
  });
  const flat = raw.bars[SYMBOL].map((b) => ({ ...b, o: b.c, h: b.c, l: b.c }));
  return parseBarsResponses([{ source: `seed ${seed}`, raw: { bars: { [SYMBOL]: flat } } }]).get(SYMBOL)!;
}

// One simulator (its clock is the test's) and one table for every run; each run has its own account.
let now = T0;
let sim: AlpacaSim;
let table: TestTable;
beforeAll(async () => {
  sim = await startTestSim({ now: () => now, rateLimitPerMinute: null });
  table = await startTestTable();
});
afterAll(async () => {
  await sim?.close();
  await table?.close();
});

/** Drives the real sweep over the bars, one sweep per bar, until the position is closed. */
async function sweepSteps(trade: LabTrade, bars: ReturnType<typeof flatBars>, input: ExitPlanInput) {
  const name = trade.id;
  sim.reset();
  sim.addAccount(KEY_ID, SECRET, { cash: 100_000 });
  const account = parseAccountConfig({ name, exit_defaults: { close_before_expiry_days: null } });
  const plan = resolveLabPlan(account, trade, { name: 'p', exit_plan: input });
  sim.setPosition(KEY_ID, SYMBOL, trade.side === 'long' ? trade.qty : -trade.qty, trade.entry_price!);
  await table.store.claim(
    makePosition({
      ...FRESH_EXIT_STATE,
      account: name,
      position_id: trade.id,
      recommendation_id: trade.id,
      ticker: 'SPY',
      option_symbol: SYMBOL,
      side: trade.side,
      quantity: trade.qty,
      original_quantity: trade.qty,
      requested_quantity: trade.qty,
      open_client_order_id: `ops-${name}-o-${trade.id}`,
      entry_price: trade.entry_price,
      entry_time: trade.entry_time,
      created_at: trade.entry_time,
      updated_at: trade.entry_time,
      exit_plan: plan,
    }),
  );
  const broker = adapterFor(sim);
  const sweep = () =>
    runSweep({
      account,
      broker,
      marketData: broker,
      store: table.store,
      lease: table.store,
      now: () => now,
      log: QUIET,
      metrics: NO_METRICS,
    });
  const steps: Array<{ bar: number; reason: string; qty: number }> = [];
  let sent = 0;
  for (let i = 0; i < bars.length && sent < trade.qty; i++) {
    now = new Date(bars[i].tMs);
    sim.setQuote(SYMBOL, { bid: bars[i].c, ask: bars[i].c });
    const report = await sweep();
    expect(report.errors).toEqual([]);
    for (const o of report.ordersSent) {
      steps.push({ bar: i, reason: o.reason, qty: o.qty });
      sent += o.qty;
    }
  }
  // One more sweep learns the last fill.
  now = new Date(now.getTime() + 60_000);
  await sweep();
  const record = await table.store.get(name, trade.id);
  return { steps, realized: record!.realized_pnl, plan };
}

describe('exit-plan lab vs the sweep', () => {
  it('decide the same exit reason at the same bar, for the same qty and P&L', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom('long' as const, 'short' as const),
        planArb,
        async (seed, side, input) => {
          const bars = flatBars(seed);
          const trade: LabTrade = {
            id: `run${++run}`,
            option_symbol: SYMBOL,
            side,
            entry_time: bars[0].t,
            entry_price: bars[0].c,
            qty: 4,
          };
          const sweep = await sweepSteps(trade, bars, input);
          const lab = replayTrade(trade, bars, { planName: 'p', plan: sweep.plan, fill: 'trigger' });
          const ruled = lab.steps.filter((s) => s.reason !== 'end_of_data');
          expect(
            ruled.map((s) => ({
              bar: bars.findIndex((b) => b.t === s.decided_at),
              reason: s.reason,
              qty: s.qty,
            })),
          ).toEqual(sweep.steps);
          const labRealized = Math.round(ruled.reduce((a, s) => a + s.pnl, 0) * 100) / 100;
          expect(labRealized).toBeCloseTo(sweep.realized, 2);
        },
      ),
      { numRuns: 8, seed: 20261129 },
    );
  }, 120_000);
});
