/** The exit-plan lab's spread replay: per-leg bars, the net executable value, the sweep's spread exit rules. */
import { parseAccountConfig } from '../../shared/domain/account-config';
import { parseBarsResponses, BarsInputError } from '../../shared/lab/bars';
import { formatLabTable, labJson } from '../../shared/lab/format';
import { LabInputError, parseTradesFile } from '../../shared/lab/inputs';
import { runLab } from '../../shared/lab/run-lab';
import { replaySpread, spreadPlanLevels, type LabSpreadTrade } from '../../shared/lab/spread-replay';
import { makeExitPlan } from '../helpers/factories';
import { SPREAD_LONG, SPREAD_SHORT, VERTICAL_LEGS } from '../helpers/spread-factories';

const T = ['2026-11-24T15:00:00Z', '2026-11-24T15:01:00Z', '2026-11-24T15:02:00Z'];
const bar = (t: string, c: number, q?: { bp: number; ap: number }) => ({
  t,
  o: c,
  h: c,
  l: c,
  c,
  v: 10,
  ...(q ?? {}),
});

/** The 480/490 call vertical: 2 multiples at a 1.85 debit. */
const SPREAD: LabSpreadTrade = {
  id: 'trade-1',
  legs: VERTICAL_LEGS,
  net_open_per_share: 1.85,
  max_loss_per_share: 1.85,
  entry_time: T[0]!,
  multiple: 2,
};

describe('replaySpread', () => {
  it('takes profit at the first bar whose executable net (long bid − short ask) reaches the target', () => {
    const bars = parseBarsResponses([
      {
        source: 'bars.json',
        raw: {
          bars: {
            // At 15:01 the closes net 4.20 − 1.20 = 3.00 (past the target) but the executable value is
            // 3.90 − 1.20 = 2.70: not yet. At 15:02 it is 4.10 − 1.30 = 2.80 >= 2.775.
            [SPREAD_LONG]: [
              bar(T[0]!, 3.05, { bp: 3.0, ap: 3.1 }),
              bar(T[1]!, 4.2, { bp: 3.9, ap: 4.3 }),
              bar(T[2]!, 4.2, { bp: 4.1, ap: 4.3 }),
            ],
            [SPREAD_SHORT]: [
              bar(T[0]!, 1.22, { bp: 1.2, ap: 1.25 }),
              bar(T[1]!, 1.2, { bp: 1.1, ap: 1.2 }),
              bar(T[2]!, 1.25, { bp: 1.2, ap: 1.3 }),
            ],
          },
        },
      },
    ]);

    const r = replaySpread(SPREAD, bars, {
      planName: 'tp50',
      plan: makeExitPlan({ take_profit_pct: 0.5 }),
    });

    expect(r.priced_from).toBe('bid_ask');
    expect(r.series.map((p) => p.net)).toEqual([1.75, 2.7, 2.8]);
    expect(r.steps).toHaveLength(1);
    expect(r.steps[0]).toMatchObject({
      reason: 'take_profit',
      decided_at: '2026-11-24T15:02:00.000Z',
      exit_price: 2.8,
      qty: 2,
      // (2.80 − 1.85) × 100 × 2
      pnl: 190,
    });
    expect(r.pnl).toBe(190);
    expect(r.hold_minutes).toBe(2);
    expect(r.target_level).toBe(2.78);
  });

  it('a leg without a bar at a time makes the price rules wait (no stop on one leg’s price)', () => {
    const bars = parseBarsResponses([
      {
        source: 'bars.json',
        raw: {
          bars: {
            // Closes only: each stands for both sides. At 15:01 the long leg falls to 0.80, but the short
            // leg has no bar then: the spread is not priced, the stop (net 0.925) does not act.
            [SPREAD_LONG]: [bar(T[0]!, 3.0), bar(T[1]!, 0.8), bar(T[2]!, 2.9)],
            [SPREAD_SHORT]: [bar(T[0]!, 1.2), bar(T[2]!, 1.1)],
          },
        },
      },
    ]);

    const r = replaySpread(SPREAD, bars, {
      planName: 'sl50',
      plan: makeExitPlan({ stop_loss_pct: 0.5 }),
    });

    expect(r.priced_from).toBe('close');
    expect(r.series[1]).toEqual({
      t: '2026-11-24T15:01:00.000Z',
      net: null,
      detail: `price rules wait: no quote for ${SPREAD_SHORT}`,
    });
    expect(r.steps[0]).toMatchObject({ reason: 'end_of_data', exit_price: 1.8, pnl: -10 });
    expect(r.stop_level).toBe(0.93);
  });

  it('a time rule acts while a leg is unpriced, at the last priced net value', () => {
    const bars = parseBarsResponses([
      {
        source: 'b',
        raw: {
          bars: { [SPREAD_LONG]: [bar(T[0]!, 3.0), bar(T[2]!, 2.0)], [SPREAD_SHORT]: [bar(T[0]!, 1.0)] },
        },
      },
    ]);
    const r = replaySpread(SPREAD, bars, { planName: 'box', plan: makeExitPlan({ max_hold_minutes: 2 }) });
    expect(r.steps[0]).toMatchObject({ reason: 'max_hold', exit_price: 2, pnl: 30 });
    expect(r.steps[0]!.detail).toMatch(/at the last priced net value/);
  });

  it('plan levels: a credit’s target is a share of the credit, its stop a share of the maximum loss', () => {
    expect(spreadPlanLevels({ stop_loss_pct: 0.5, take_profit_pct: 0.5 }, -2, 8)).toEqual({
      stop: -6,
      target: -1,
    });
  });
});

describe('spreads in a lab run', () => {
  const account = parseAccountConfig({ name: 'main', limits: { min_days_to_expiry: 0 } });

  it('reads the spread form of a trades file, replays it per plan and counts it in the totals', () => {
    const { trades, spreads } = parseTradesFile(
      [
        {
          legs: VERTICAL_LEGS,
          net_open_per_share: 1.85,
          max_loss_per_share: 1.85,
          entry_time: T[0],
          multiple: 2,
        },
      ],
      'trades.json',
    );
    expect(trades).toEqual([]);
    const bars = parseBarsResponses([
      {
        source: 'bars.json',
        raw: {
          bars: {
            [SPREAD_LONG]: [bar(T[0]!, 3.0), bar(T[1]!, 4.0)],
            [SPREAD_SHORT]: [bar(T[0]!, 1.2), bar(T[1]!, 1.1)],
          },
        },
      },
    ]);

    const result = runLab({
      account,
      trades,
      spreads,
      bars,
      plans: [{ name: 'tp40', exit_plan: { take_profit_pct: 0.4, stop_loss_pct: null } }],
    });

    // 4.00 − 1.10 = 2.90 >= 1.85 × 1.4: (2.90 − 1.85) × 100 × 2 = 210.
    expect(result.plans[0]).toMatchObject({ trades: 1, total_pnl: 210, exits_by_reason: { take_profit: 1 } });
    const table = formatLabTable(result);
    expect(table).toContain(
      `trade-1 long 1 ${SPREAD_LONG}, short 1 ${SPREAD_SHORT} · open 1.85 × 2 · net value from the bars' closes for both sides (the bars carry no bid/ask)`,
    );
    expect(table).toMatch(
      /^ {4}tp40: take_profit at 2026-11-24T15:01:00\.000Z, net 2\.90 → P&L 210\.00 \(gain/m,
    );
    const json = labJson(result) as { spreads: Array<{ series: Array<{ net: number | null }> }> };
    expect(json.spreads[0]!.series.map((p) => p.net)).toEqual([1.8, 2.9]);
  });

  it('refuses a bad spread entry and bars with half a quote, naming the entry', () => {
    expect(() =>
      parseTradesFile(
        [{ legs: [VERTICAL_LEGS[0]], net_open_per_share: 1, entry_time: T[0], multiple: 1 }],
        'f',
      ),
    ).toThrow(LabInputError);
    expect(() =>
      parseBarsResponses([
        { source: 'b', raw: { bars: { [SPREAD_LONG]: [bar(T[0]!, 3.0, { bp: 3.1, ap: 3.0 })] } } },
      ]),
    ).toThrow(BarsInputError);
  });
});
