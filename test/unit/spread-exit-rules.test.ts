import fc from 'fast-check';
import { resolveExitPlan } from '../../shared/domain/exit-plan';
import { evaluateSpreadExit, type SpreadExitInput } from '../../shared/domain/spread-exit-rules';

const LONG = 'SPY270618C00500000';
const SHORT = 'SPY270618C00505000';
const legs = [
  { option_symbol: LONG, side: 'long' as const, ratio_qty: 1 },
  { option_symbol: SHORT, side: 'short' as const, ratio_qty: 1 },
];
const now = new Date('2027-03-10T15:00:00Z');

function input(over: Partial<SpreadExitInput> & { long?: [number, number]; short?: [number, number] }) {
  const [lb, la] = over.long ?? [2.0, 2.1];
  const [sb, sa] = over.short ?? [0.9, 1.0];
  return {
    legs,
    plan: resolveExitPlan({ stop_loss_pct: 0.5, take_profit_pct: 0.5 }),
    netOpenPerShare: 1.0,
    maxLossPerShare: 1.0,
    entryTime: '2027-03-10T14:00:00Z',
    quotes: new Map([
      [LONG, { bid: lb, ask: la }],
      [SHORT, { bid: sb, ask: sa }],
    ]),
    now,
    ...over,
  } satisfies SpreadExitInput;
}

describe('evaluateSpreadExit (a debit vertical opened at 1.00)', () => {
  it('takes profit on the net executable value: long bid − short ask', () => {
    // 2.60 − 1.00 = 1.60: a 60% gain on the 1.00 debit.
    const d = evaluateSpreadExit(input({ long: [2.6, 2.7], short: [0.9, 1.0] }));
    expect(d).toMatchObject({ due: true, reason: 'take_profit', valuePerShare: 1.6 });
  });

  it('does not take profit on mid prices the spread cannot be sold at', () => {
    // Mids 2.65 − 0.95 = 1.70 would say +70%; executable 2.40 − 1.00 = 1.40 is +40%.
    const d = evaluateSpreadExit(input({ long: [2.4, 2.9], short: [0.5, 1.0] }));
    expect(d.due).toBe(false);
  });

  it('stops out at the loss share of the debit', () => {
    const d = evaluateSpreadExit(input({ long: [1.4, 1.5], short: [0.8, 0.9] }));
    expect(d).toMatchObject({ due: true, reason: 'stop_loss', valuePerShare: 0.5 });
  });

  it('a credit spread takes profit as a share of its credit', () => {
    // Sold for 1.00 (net −1.00), buying back costs short ask − long bid = 0.45: 55% of the credit kept.
    const credit = [
      { option_symbol: LONG, side: 'short' as const, ratio_qty: 1 },
      { option_symbol: SHORT, side: 'long' as const, ratio_qty: 1 },
    ];
    const d = evaluateSpreadExit(
      input({
        legs: credit,
        netOpenPerShare: -1.0,
        maxLossPerShare: 4.0,
        long: [0.4, 0.95],
        short: [0.5, 0.6],
      }),
    );
    expect(d).toMatchObject({ due: true, reason: 'take_profit' });
  });

  it('waits when a leg has no quote, but time rules still act', () => {
    const quotes = new Map([[LONG, { bid: 2, ask: 2.1 }]]);
    expect(evaluateSpreadExit(input({ quotes })).due).toBe(false);
    const plan = resolveExitPlan({ max_hold_minutes: 30 });
    expect(evaluateSpreadExit(input({ quotes, plan }))).toMatchObject({ due: true, reason: 'max_hold' });
  });

  it('closes as a unit from 15:10 New York time on the expiry day', () => {
    const plan = resolveExitPlan({ close_before_expiry_days: null, max_hold_minutes: null });
    const day = new Date('2027-06-18T19:09:00Z'); // 15:09 EDT
    expect(evaluateSpreadExit(input({ now: day, plan }))).toMatchObject({ due: false });
    const at = new Date('2027-06-18T19:10:00Z');
    expect(evaluateSpreadExit(input({ now: at, plan }))).toMatchObject({ due: true, reason: 'expiry' });
    const held = resolveExitPlan({ close_before_expiry_days: null, at_expiry: 'do_not_exercise' });
    expect(evaluateSpreadExit(input({ now: at, plan: held })).due).toBe(false);
  });

  it('flatten wins over everything', () => {
    expect(evaluateSpreadExit(input({ flatten: true }))).toMatchObject({ due: true, reason: 'flatten' });
  });

  it('property: a stop is never due while the executable value is above the stop level', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 50 }),
        (lb, sa, spread) => {
          const d = evaluateSpreadExit(
            input({
              plan: resolveExitPlan({ stop_loss_pct: 0.5, take_profit_pct: null }),
              long: [lb / 100, (lb + spread) / 100],
              short: [Math.max(0, sa - spread) / 100, sa / 100],
            }),
          );
          const value = lb / 100 - sa / 100;
          if (d.due) expect(value).toBeLessThanOrEqual(0.5 + 1e-9);
          else expect(value).toBeGreaterThan(0.5 - 1e-9);
        },
      ),
    );
  });
});
