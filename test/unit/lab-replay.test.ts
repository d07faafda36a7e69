/**
 * The exit-plan lab's replay on small hand-written bar series where the right answer is obvious: which
 * rule, at which bar, at what price. The rules themselves are the sweep's evaluateExit.
 */
import { parseAccountConfig } from '../../shared/domain/account-config';
import { addDays } from '../../shared/domain/market-time';
import { addBarsResponse, BarsInputError, parseBarsResponses, type LabBar } from '../../shared/lab/bars';
import {
  LabInputError,
  labTimeRules,
  parsePlans,
  parseTrades,
  resolveLabPlan,
} from '../../shared/lab/inputs';
import { barPath, planLevels, replayTrade, type LabTrade } from '../../shared/lab/replay';
import { runLab, summarize } from '../../shared/lab/run-lab';
import { formatLabTable } from '../../shared/lab/format';
import { makeExitPlan } from '../helpers/factories';
import type { ExitPlan } from '../../shared/domain/exit-plan';

// The test's clock: bars start here; contract expiries are derived from it, never from today.
const DAY = '2028-03-06'; // a Monday
const START = Date.parse(`${DAY}T15:00:00Z`); // 10:00 New York
const EXPIRY = addDays(DAY, 30);
const SYMBOL = `GOOGL${EXPIRY.slice(2).replace(/-/g, '')}C00340000`;

type Ohlc = [number, number, number, number];

/** One-minute bars from `start`, Alpaca's field names. */
function rawBars(ohlc: Ohlc[], start = START): Array<Record<string, unknown>> {
  return ohlc.map(([o, h, l, c], i) => ({
    t: new Date(start + i * 60_000).toISOString(),
    o,
    h,
    l,
    c,
    v: 10,
    n: 3,
    vw: c,
  }));
}
function bars(ohlc: Ohlc[], start = START): LabBar[] {
  return parseBarsResponses([{ source: 'test', raw: { bars: { [SYMBOL]: rawBars(ohlc, start) } } }]).get(
    SYMBOL,
  )!;
}
const t = (i: number, start = START) => new Date(start + i * 60_000).toISOString();

const trade = (over: Partial<LabTrade> = {}): LabTrade => ({
  id: 't1',
  option_symbol: SYMBOL,
  side: 'long',
  entry_time: t(0),
  qty: 10,
  ...over,
});
function replay(plan: Partial<ExitPlan>, series: LabBar[], over: Partial<LabTrade> = {}, fill?: 'trigger') {
  return replayTrade(trade(over), series, {
    planName: 'p',
    plan: makeExitPlan(plan),
    ...(fill ? { fill } : {}),
  });
}
const brief = (r: ReturnType<typeof replay>) =>
  r.steps.map((s) => ({
    reason: s.reason,
    decided_at: s.decided_at,
    exit_time: s.exit_time,
    qty: s.qty,
    exit_price: s.exit_price,
  }));

describe('lab replay (bars through evaluateExit)', () => {
  it('a stop hit inside a bar (its low), though the bar closes above it, fills at the next open', () => {
    const series = bars([
      [2.0, 2.05, 1.95, 2.0],
      [1.9, 1.95, 1.45, 1.8], // low through the 1.50 stop, close back above it
      [1.7, 1.75, 1.6, 1.7],
    ]);
    const r = replay({ stop_loss_pct: 0.25 }, series);
    expect(r.entry_price).toBe(2.0); // the first bar's open
    expect(brief(r)).toEqual([
      { reason: 'stop_loss', decided_at: t(1), exit_time: t(2), qty: 10, exit_price: 1.7 },
    ]);
    expect(r.pnl).toBe(-300);
    // Filled at the trigger instead: the bar's low.
    expect(brief(replay({ stop_loss_pct: 0.25 }, series, {}, 'trigger'))).toEqual([
      { reason: 'stop_loss', decided_at: t(1), exit_time: t(1), qty: 10, exit_price: 1.45 },
    ]);
  });

  it('a short is stopped by a bar high (the adverse side for a short)', () => {
    const series = bars([
      [2.0, 2.05, 1.95, 2.0],
      [2.1, 2.55, 2.0, 2.2], // high through the 2.50 stop of a short
      [2.3, 2.3, 2.2, 2.2],
    ]);
    const r = replay({ stop_loss_pct: 0.25 }, series, { side: 'short' });
    expect(brief(r)).toEqual([
      { reason: 'stop_loss', decided_at: t(1), exit_time: t(2), qty: 10, exit_price: 2.3 },
    ]);
    expect(r.pnl).toBe(-300);
  });

  it('a take profit on a gap: the bar opens past the target', () => {
    const series = bars([
      [2.0, 2.1, 1.9, 2.05],
      [2.05, 2.2, 2.0, 2.1],
      [3.4, 3.5, 3.3, 3.45], // gaps over the 3.00 target
      [3.5, 3.6, 3.4, 3.5],
    ]);
    const plan = { stop_loss_pct: 0.5, take_profit_pct: 0.5 };
    expect(brief(replay(plan, series))).toEqual([
      { reason: 'take_profit', decided_at: t(2), exit_time: t(3), qty: 10, exit_price: 3.5 },
    ]);
    expect(brief(replay(plan, series, {}, 'trigger'))).toEqual([
      { reason: 'take_profit', decided_at: t(2), exit_time: t(2), qty: 10, exit_price: 3.4 },
    ]);
  });

  it('a trailing stop after a peak: armed by the high, hit by a later low', () => {
    const series = bars([
      [2.0, 2.0, 2.0, 2.0],
      [2.2, 2.5, 2.2, 2.4],
      [2.6, 3.0, 2.55, 2.8], // peak 3.00: stop 2.40
      [2.7, 2.75, 2.5, 2.6], // 2.50: above the stop
      [2.5, 2.55, 2.35, 2.45], // 2.35: through it
      [2.4, 2.4, 2.3, 2.3],
    ]);
    const r = replay({ trailing_stop_pct: 0.2 }, series);
    expect(brief(r)).toEqual([
      { reason: 'trailing_stop', decided_at: t(4), exit_time: t(5), qty: 10, exit_price: 2.4 },
    ]);
  });

  it('a partial exit, then the rest at the take profit, each at its own bar', () => {
    const series = bars([
      [2.0, 2.0, 2.0, 2.0],
      [2.2, 2.6, 2.2, 2.5], // +30%: the 25% level closes half of the original 10
      [2.6, 2.7, 2.5, 2.6],
      [2.8, 3.3, 2.8, 3.2], // +65%: take profit on the remaining 5
      [3.2, 3.2, 3.1, 3.1],
    ]);
    const r = replay({ partial_exits: [{ gain_pct: 0.25, fraction: 0.5 }], take_profit_pct: 0.6 }, series);
    expect(brief(r)).toEqual([
      { reason: 'partial_exit', decided_at: t(1), exit_time: t(2), qty: 5, exit_price: 2.6 },
      { reason: 'take_profit', decided_at: t(3), exit_time: t(4), qty: 5, exit_price: 3.2 },
    ]);
    expect(r.pnl).toBe(5 * 0.6 * 100 + 5 * 1.2 * 100);
  });

  it('expiry: out on the first bar of the day the rule names, from the contract in the symbol', () => {
    const dayBefore = addDays(EXPIRY, -1);
    const lastDay = Date.parse(`${dayBefore}T14:30:00Z`);
    const series = [
      ...bars(
        [
          [2.0, 2.0, 2.0, 2.0],
          [2.1, 2.1, 2.1, 2.1],
        ],
        Date.parse(`${addDays(dayBefore, -3)}T15:00:00Z`),
      ),
      ...bars(
        [
          [1.9, 1.9, 1.9, 1.9],
          [1.8, 1.8, 1.8, 1.8],
        ],
        lastDay,
      ),
    ];
    const r = replay({ close_before_expiry_days: 1 }, series, {
      entry_time: new Date(Date.parse(`${addDays(dayBefore, -3)}T15:00:00Z`)).toISOString(),
    });
    expect(brief(r)).toEqual([
      { reason: 'expiry', decided_at: t(0, lastDay), exit_time: t(1, lastDay), qty: 10, exit_price: 1.8 },
    ]);
  });

  it('breakeven: armed by a bar high past the gain, then out when a later low reaches the entry', () => {
    const series = bars([
      [2.0, 2.0, 2.0, 2.0],
      [2.1, 2.5, 2.1, 2.4], // high +25%: breakeven (20%) armed
      [2.3, 2.3, 1.95, 2.0], // low 1.95: through the entry, 2.00
      [2.02, 2.1, 2.0, 2.05],
    ]);
    const plan = { stop_loss_pct: 0.5, take_profit_pct: null, breakeven_at_pct: 0.2 };
    expect(brief(replay(plan, series))).toEqual([
      { reason: 'breakeven', decided_at: t(2), exit_time: t(3), qty: 10, exit_price: 2.02 },
    ]);
    // Not armed (the high stays under +20%): the same fall holds.
    const flat = bars([
      [2.0, 2.0, 2.0, 2.0],
      [2.1, 2.3, 2.1, 2.2],
      [2.1, 2.1, 1.95, 2.0],
    ]);
    expect(brief(replay(plan, flat)).map((x) => x.reason)).toEqual(['end_of_data']);
  });

  it("max hold: out at the first bar max_hold_minutes after the entry, whatever the price (the bar's time is now)", () => {
    const series = bars([
      [2.0, 2.0, 2.0, 2.0],
      [2.0, 2.0, 2.0, 2.0],
      [2.0, 2.0, 2.0, 2.0],
      [2.0, 2.0, 2.0, 2.0],
      [2.1, 2.1, 2.1, 2.1],
    ]);
    expect(brief(replay({ max_hold_minutes: 3 }, series))).toEqual([
      { reason: 'max_hold', decided_at: t(3), exit_time: t(4), qty: 10, exit_price: 2.1 },
    ]);
  });

  it("a profile's time rule: a day_trade trade is closed by 15:55 New York, as the sweep closes it", () => {
    const account = parseAccountConfig({ name: 'main', limits: { min_days_to_expiry: 0 } });
    const day = trade({ strategy: 'day_trade' });
    const rules = labTimeRules(account, day);
    expect(rules).toMatchObject({ close_by_time_et: '15:55' });
    const at1552 = Date.parse(`${DAY}T20:52:00Z`); // 15:52 New York (EST until 12 March 2028)
    const series = bars(
      [
        [2.0, 2.0, 2.0, 2.0],
        [2.0, 2.0, 2.0, 2.0],
        [2.0, 2.0, 2.0, 2.0],
        [2.0, 2.0, 2.0, 2.0], // 15:55
        [2.05, 2.05, 2.05, 2.05],
      ],
      at1552,
    );
    const r = replay({ stop_loss_pct: 0.5 }, series, { entry_time: t(0, at1552), time_rules: rules });
    expect(brief(r)).toEqual([
      { reason: 'time_rule', decided_at: t(3, at1552), exit_time: t(4, at1552), qty: 10, exit_price: 2.05 },
    ]);
    // Without the profile's rules the same bars hold to the end.
    expect(
      brief(replay({ stop_loss_pct: 0.5 }, series, { entry_time: t(0, at1552) })).map((x) => x.reason),
    ).toEqual(['end_of_data']);
  });

  it('a position still open after the last bar is marked at its close as end_of_data', () => {
    const r = replay(
      { stop_loss_pct: 0.5 },
      bars([
        [2.0, 2.1, 1.9, 2.0],
        [2.0, 2.2, 1.9, 2.15],
      ]),
      {
        entry_price: 1.9,
      },
    );
    expect(r.entry_price).toBe(1.9);
    expect(brief(r)).toEqual([
      { reason: 'end_of_data', decided_at: t(1), exit_time: t(1), qty: 10, exit_price: 2.15 },
    ]);
  });

  it('walks a bar adverse extreme first', () => {
    expect(barPath({ o: 2, h: 3, l: 1, c: 2.5 }, 'long')).toEqual([2, 1, 3, 2.5]);
    expect(barPath({ o: 2, h: 3, l: 1, c: 2.5 }, 'short')).toEqual([2, 3, 1, 2.5]);
    expect(barPath({ o: 2, h: 2, l: 2, c: 2 }, 'long')).toEqual([2]);
  });
});

describe('lab inputs', () => {
  const account = parseAccountConfig({
    name: 'main',
    exit_defaults: { stop_loss_pct: 0.3, max_hold_minutes: 60 },
  });

  it('a plan is merged over the account defaults as the open path merges it (null turns a rule off)', () => {
    const [plan] = parsePlans({ tight: { take_profit_pct: 0.4, max_hold_minutes: null } }, 'plans.json');
    const resolved = resolveLabPlan(account, trade(), plan);
    expect(resolved).toMatchObject({ stop_loss_pct: 0.3, take_profit_pct: 0.4, max_hold_minutes: null });
    // With a profile, the profile's layer sits between the account and the plan.
    const withProfile = resolveLabPlan(account, trade({ strategy: 'day_trade' }), plan);
    expect(withProfile.take_profit_pct).toBe(0.4);
  });

  it('bad input names the file and the entry', () => {
    expect(() => parsePlans({ a: {}, b: { stop_los_pct: 0.2 } }, 'plans.json')).toThrow(
      /plans\.json: plan "b": .*stop_los_pct/,
    );
    const { id: _id, ...entry } = trade();
    expect(() => parseTrades([entry, { ...entry, side: 'up' }], 'trades.json')).toThrow(
      /trades\.json: \[1\]: side/,
    );
    expect(() => parseTrades([{ ...entry, stop: 1 }], 'trades.json')).toThrow(
      /trades\.json: \[0\]: .*"stop"/,
    );
    const notOcc = () =>
      parseTrades([{ option_symbol: 'GOOGL', side: 'long', entry_time: t(0), qty: 1 }], 'trades.json');
    expect(notOcc).toThrow(LabInputError);
    expect(notOcc).toThrow(/^trades\.json: \[0\]: option_symbol: "GOOGL" is not an OCC option symbol/);
    const raw = rawBars([
      [2, 2, 2, 2],
      [2, 2, 2, 2],
    ]);
    expect(() => addBarsResponse(new Map(), { bars: { [SYMBOL]: [raw[1], raw[0]] } }, 'bars.json')).toThrow(
      new BarsInputError(`bars.json: bars.${SYMBOL}[1]: bars out of order: t ${t(0)} is not after ${t(1)}`),
    );
    expect(() => addBarsResponse(new Map(), { bars: { GOOGL: raw } }, 'bars.json')).toThrow(
      /bars\.json: bars\.GOOGL: not an OCC option symbol/,
    );
    expect(() => addBarsResponse(new Map(), { bars: { [SYMBOL]: [{ ...raw[0], h: 1 }] } }, 'b.json')).toThrow(
      /b\.json: bars\.\w+\[0\]: impossible bar/,
    );
  });

  it("warns when a given entry price is outside its entry bar's range (and replays the trade all the same)", () => {
    const series = bars([
      [3.75, 3.81, 3.73, 3.78],
      [3.78, 3.8, 3.7, 3.72],
    ]);
    const run = (entry_price: number | null) =>
      runLab({
        account,
        trades: [trade({ id: 'trade-5', entry_price })],
        plans: parsePlans({ a: {} }, 'plans.json'),
        bars: new Map([[SYMBOL, series]]),
      });
    const outside = run(3.05);
    expect(outside.warnings).toEqual([
      expect.objectContaining({ trade_id: 'trade-5', entry_price: 3.05, bar_low: 3.73, bar_high: 3.81 }),
    ]);
    expect(outside.results).toHaveLength(1);
    expect(formatLabTable(outside)).toMatch(
      /^warning: trade-5 \w+: entry price 3\.05 is outside its bar's range 3\.73–3\.81 \(bar at /m,
    );
    // Inside the range, at its edges, or taken from the bar (no entry_price): no warning.
    for (const p of [3.73, 3.78, 3.81, null]) expect(run(p).warnings).toEqual([]);
    expect(run(3.9).warnings).toHaveLength(1);
  });

  it('a trade without bars is reported as skipped, not dropped silently', () => {
    const other = SYMBOL.replace('C00340000', 'P00300000');
    const result = runLab({
      account,
      trades: [trade(), trade({ id: 't2', option_symbol: other }), trade({ id: 't3', entry_time: t(60) })],
      plans: parsePlans({ a: {}, b: { take_profit_pct: 0.1 } }, 'plans.json'),
      bars: new Map([
        [
          SYMBOL,
          bars([
            [2, 2, 2, 2],
            [2.3, 2.3, 2.3, 2.3],
            [2.3, 2.3, 2.3, 2.3],
          ]),
        ],
      ]),
    });
    expect(result.skipped).toEqual([
      { trade_id: 't2', option_symbol: other, reason: 'no bars for this symbol' },
      { trade_id: 't3', option_symbol: SYMBOL, reason: expect.stringMatching(/no bar at or after/) },
    ]);
    expect(result.plans.map((p) => [p.plan, p.trades, p.total_pnl, p.exits_by_reason])).toEqual([
      ['a', 1, 300, { end_of_data: 1 }],
      ['b', 1, 300, { take_profit: 1 }],
    ]);
  });
});

describe('plan levels drawn on the trade charts', () => {
  it('the stop is the broker stop level at entry, the target the take-profit price; null when off', () => {
    const plan = makeExitPlan({ stop_loss_pct: 0.25, take_profit_pct: 0.5 });
    expect(planLevels('long', 2, plan)).toEqual({ stop_level: 1.5, target_level: 3 });
    expect(planLevels('short', 2, plan)).toEqual({ stop_level: 2.5, target_level: 1 });
    expect(planLevels('long', 2, makeExitPlan({ stop_loss_pct: null, take_profit_pct: null }))).toEqual({
      stop_level: null,
      target_level: null,
    });
  });
});

describe('lab totals', () => {
  const result = (id: string, steps: Array<[string, number, string]>) => ({
    trade_id: id,
    option_symbol: SYMBOL,
    side: 'long' as const,
    plan: 'p',
    entry_time: t(0),
    entry_price: 2,
    qty: 1,
    hold_minutes: 30,
    stop_level: 1,
    target_level: 4,
    pnl: steps.reduce((a, [, pnl]) => a + pnl, 0),
    steps: steps.map(([time, pnl, reason]) => ({
      option_symbol: SYMBOL,
      trade_id: id,
      plan: 'p',
      reason: reason as 'stop_loss',
      decided_at: time,
      exit_time: time,
      qty: 1,
      exit_price: 2,
      pnl,
      detail: '',
    })),
  });

  it('win rate, average, worst, max drawdown of the equity curve (in exit-time order), exits by reason', () => {
    const s = summarize('p', [
      result('a', [[t(1), 100, 'take_profit']]),
      result('b', [
        [t(2), 50, 'partial_exit'],
        [t(5), 25, 'trailing_stop'],
      ]),
      result('c', [[t(3), -300, 'stop_loss']]),
    ]);
    expect(s.equity.map((e) => e.equity)).toEqual([100, 150, -150, -125]);
    expect(s).toMatchObject({
      trades: 3,
      total_pnl: -125,
      win_rate: 2 / 3,
      avg_pnl: -41.67,
      worst_pnl: -300,
      max_drawdown: 300,
      avg_hold_minutes: 30,
      exits_by_reason: { take_profit: 1, partial_exit: 1, trailing_stop: 1, stop_loss: 1 },
    });
    const table = formatLabTable({ plans: [s], results: [], skipped: [], warnings: [], fill: 'next_open' });
    expect(table.split('\n')[1].split(/ {2,}/)).toEqual([
      'p',
      '3',
      '-125.00',
      '67%',
      '-41.67',
      '-300.00',
      '300.00',
      '30 min',
      'partial_exit 1, stop_loss 1, take_profit 1, trailing_stop 1',
    ]);
  });
});
