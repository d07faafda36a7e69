import fc from 'fast-check';
import { isReadExitPlan, readStoredExitPlan, type ExitPlan } from '../../shared/domain/exit-plan';
import { evaluateExit, type ExitEvaluation, type MarkMode } from '../../shared/domain/exit-rules';
import { formatOccSymbol } from '../../shared/domain/occ';
import { gainFraction, type Position, type PositionSide } from '../../shared/domain/position';
import type { OptionQuote } from '../../shared/ports';
import {
  FACTORY_NOW,
  FACTORY_OPTION_SYMBOL,
  makeExitPlan,
  makePosition,
  makeQuote,
} from '../helpers/factories';

const RUNS = { numRuns: 200 };
const NOW = FACTORY_NOW;
const TIME_RULES = new Set(['expiry', 'max_hold']);

/** Prices on the cent grid, thresholds on the 1% grid: exact threshold hits happen often. */
const cents = (min: number, max: number) => fc.integer({ min, max }).map((c) => c / 100);
const pctArb = (min: number, max: number) => fc.integer({ min, max }).map((p) => p / 100);
const sideArb = fc.constantFrom<PositionSide>('long', 'short');
const markModeArb = fc.constantFrom<MarkMode>('mid', 'bid_ask');

const planArb: fc.Arbitrary<ExitPlan> = fc
  .record({
    stop_loss_pct: fc.option(pctArb(1, 100), { nil: null }),
    take_profit_pct: fc.option(pctArb(1, 300), { nil: null }),
    trailing_stop_pct: fc.option(pctArb(1, 90), { nil: null }),
    trail_activation_pct: fc.option(pctArb(0, 200), { nil: null }),
    partial_exits: fc.option(
      fc.array(fc.record({ gain_pct: pctArb(1, 200), fraction: pctArb(1, 100) }), {
        minLength: 1,
        maxLength: 4,
      }),
      { nil: null },
    ),
    breakeven_at_pct: fc.option(pctArb(1, 200), { nil: null }),
    min_hold_minutes: fc.option(fc.integer({ min: 0, max: 600 }), { nil: null }),
    max_hold_minutes: fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: null }),
    close_before_expiry_days: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
  })
  .map((plan) => makeExitPlan(plan));

/** Partial exits alone, so that partial-exit sizing is exercised often (other rules would win first). */
const partialOnlyPlanArb: fc.Arbitrary<ExitPlan> = fc
  .array(fc.record({ gain_pct: pctArb(1, 50), fraction: pctArb(1, 100) }), { minLength: 1, maxLength: 4 })
  .map((partial_exits) => makeExitPlan({ partial_exits }));

/** An expiry within a month either side of NOW, as an OCC symbol. */
const symbolArb = fc.integer({ min: -30, max: 30 }).map((days) =>
  formatOccSymbol({
    root: 'GOOGL',
    expiry: new Date(NOW.getTime() + days * 86_400_000).toISOString().slice(0, 10),
    type: 'call',
    strike: 340,
  }),
);

/** Open positions, some with the newer fields missing (as an earlier version wrote them). */
const positionArb: fc.Arbitrary<Position> = fc
  .record({
    side: sideArb,
    quantity: fc.integer({ min: 1, max: 50 }),
    extraOriginal: fc.integer({ min: 0, max: 50 }),
    entry: cents(1, 2000),
    heldMinutes: fc.integer({ min: 0, max: 20_000 }),
    plan: fc.oneof(planArb, partialOnlyPlanArb),
    symbol: symbolArb,
    dropOriginalQuantity: fc.boolean(),
    legacy: fc.record(
      {
        peak_price: fc.option(cents(1, 4000), { nil: null }),
        trailing_stop_price: fc.option(cents(1, 4000), { nil: null }),
        breakeven_active: fc.boolean(),
        partial_exits_done: fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
      },
      { requiredKeys: [] },
    ),
  })
  .map(
    ({ side, quantity, extraOriginal, entry, heldMinutes, plan, symbol, dropOriginalQuantity, legacy }) => {
      const record: Record<string, unknown> = {
        ...makePosition({
          side,
          quantity,
          original_quantity: quantity + extraOriginal,
          entry_price: entry,
          entry_time: new Date(NOW.getTime() - heldMinutes * 60_000).toISOString(),
          option_symbol: symbol,
          exit_plan: plan,
        }),
      };
      for (const key of [
        'peak_price',
        'trailing_stop_price',
        'breakeven_active',
        'partial_exits_done',
      ] as const) {
        if (key in legacy) record[key] = legacy[key];
        else delete record[key];
      }
      if (dropOriginalQuantity) delete record.original_quantity;
      return record as unknown as Position;
    },
  );

const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

/** A usable quote for `symbol` at NOW: 0 < bid ≤ ask, fresh. */
const goodQuoteArb = (symbol: string): fc.Arbitrary<OptionQuote> =>
  fc
    .record({ bid: cents(1, 4000), spread: cents(0, 50), age: fc.integer({ min: 0, max: 120 }) })
    .map(({ bid, spread, age }) => makeQuote({ symbol, bid, ask: bid + spread, quoteTime: ago(age) }));

/** Quotes that must never trigger a price rule: missing, stale, crossed, NaN, non-positive. */
const badQuoteArb = (symbol: string): fc.Arbitrary<OptionQuote | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    fc
      .record({ bid: cents(1, 4000), spread: cents(0, 50), age: fc.integer({ min: 121, max: 100_000 }) })
      .map(({ bid, spread, age }) => makeQuote({ symbol, bid, ask: bid + spread, quoteTime: ago(age) })),
    fc
      .record({ ask: cents(1, 4000), cross: cents(1, 50) })
      .map(({ ask, cross }) => makeQuote({ symbol, bid: ask + cross, ask })),
    fc
      .record({
        bid: fc.constantFrom(Number.NaN, 1, -1, Number.POSITIVE_INFINITY),
        ask: fc.constantFrom(Number.NaN, 0, -2, Number.NEGATIVE_INFINITY),
      })
      .map(({ bid, ask }) => makeQuote({ symbol, bid, ask })),
    cents(1, 4000).map((p) => makeQuote({ symbol, bid: p, ask: p, quoteTime: 'not a time' })),
  );

const anyQuoteArb = (symbol: string) => fc.oneof(goodQuoteArb(symbol), badQuoteArb(symbol));

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

describe('evaluateExit properties', () => {
  it('never closes more than is held, and a close is at least 1 whole contract', () => {
    fc.assert(
      fc.property(
        positionArb.chain((p) => fc.tuple(fc.constant(p), anyQuoteArb(p.option_symbol), markModeArb)),
        ([position, quote, mark]) => {
          const { decision } = evaluateExit(deepFreeze(position), quote, NOW, { mark });

          if (decision.action === 'close') {
            expect(Number.isInteger(decision.qty)).toBe(true);
            expect(decision.qty).toBeGreaterThanOrEqual(1);
            expect(decision.qty).toBeLessThanOrEqual(position.quantity);
          }
        },
      ),
      RUNS,
    );
  });

  it('decides the same whether the plan was read by the store (trusted, frozen) or is a plain copy', () => {
    fc.assert(
      fc.property(
        positionArb.chain((p) => fc.tuple(fc.constant(p), anyQuoteArb(p.option_symbol), markModeArb)),
        ([position, quote, mark]) => {
          const read = readStoredExitPlan(position.exit_plan);
          expect(isReadExitPlan(read)).toBe(true);
          expect(Object.isFrozen(read)).toBe(true);
          const plainCopy = JSON.parse(JSON.stringify(read)) as ExitPlan;
          expect(isReadExitPlan(plainCopy)).toBe(false);
          expect(evaluateExit({ ...position, exit_plan: read }, quote, NOW, { mark })).toEqual(
            evaluateExit({ ...position, exit_plan: plainCopy }, quote, NOW, { mark }),
          );
        },
      ),
      RUNS,
    );
  });

  it('never takes profit, a partial exit, a peak or breakeven on a price the close cannot get (bid / ask)', () => {
    fc.assert(
      fc.property(
        positionArb.chain((p) => fc.tuple(fc.constant(p), goodQuoteArb(p.option_symbol), markModeArb)),
        ([position, quote, mark]) => {
          const result = evaluateExit(position, quote, NOW, { mark });
          const side = position.side;
          const executable = side === 'long' ? quote.bid : quote.ask;
          const realizable = gainFraction(side, position.entry_price as number, executable);
          const plan = readStoredExitPlan(position.exit_plan);
          const d = result.decision;
          if (d.action === 'close' && d.reason === 'take_profit') {
            expect(realizable).toBeGreaterThanOrEqual((plan.take_profit_pct as number) - 1e-9);
          }
          if (d.action === 'close' && d.reason === 'partial_exit') {
            // partialLevel indexes the plan as stored (partial_exits_done does too).
            const level = position.exit_plan.partial_exits![d.partialLevel!];
            expect(realizable).toBeGreaterThanOrEqual(level.gain_pct - 1e-9);
          }
          if (result.state.breakeven_active && position.breakeven_active !== true) {
            expect(realizable).toBeGreaterThanOrEqual((plan.breakeven_at_pct as number) - 1e-9);
          }
          const peak = result.state.peak_price;
          if (peak !== null && peak !== position.peak_price && peak !== position.entry_price) {
            expect(peak).toBe(executable);
          }
        },
      ),
      RUNS,
    );
  });

  it('never closes on a price rule, or moves the trailing state, on a missing/stale/crossed/bad quote', () => {
    fc.assert(
      fc.property(
        positionArb.chain((p) => fc.tuple(fc.constant(p), badQuoteArb(p.option_symbol), markModeArb)),
        ([position, quote, mark]) => {
          const result = evaluateExit(position, quote, NOW, { mark });

          expect(result.mark).toBeNull();
          expect(result.stateChanged).toBe(false);
          if (result.decision.action === 'close') expect(TIME_RULES.has(result.decision.reason)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('never moves the trailing stop backward along a random price path (state fed back each step)', () => {
    const stepArb = fc.oneof(
      { weight: 4, arbitrary: cents(1, 4000).map((p) => makeQuote({ bid: p, ask: p })) },
      { weight: 1, arbitrary: badQuoteArb(FACTORY_OPTION_SYMBOL) },
    );
    fc.assert(
      fc.property(
        sideArb,
        cents(1, 2000),
        pctArb(1, 90),
        fc.option(pctArb(0, 100), { nil: null }),
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
        (side, entry, trail, activation, steps) => {
          let position = makePosition({
            side,
            entry_price: entry,
            exit_plan: makeExitPlan({ trailing_stop_pct: trail, trail_activation_pct: activation }),
          });
          const tighter = (a: number, b: number) => (side === 'long' ? a >= b : a <= b);
          for (const quote of steps) {
            const before = position;
            const result: ExitEvaluation = evaluateExit(position, quote, NOW);
            const { peak_price: peak, trailing_stop_price: stop } = result.state;

            if (before.trailing_stop_price != null) {
              expect(stop).not.toBeNull();
              expect(tighter(stop as number, before.trailing_stop_price)).toBe(true);
            }
            if (before.peak_price != null) expect(tighter(peak as number, before.peak_price)).toBe(true);
            if (stop !== null && peak !== null) expect(tighter(peak, stop)).toBe(true);
            if (result.decision.action === 'close') {
              expect(result.decision.reason).toBe('trailing_stop');
              const mark = result.mark as number;
              expect(
                side === 'long' ? mark <= (stop as number) + 1e-9 : mark >= (stop as number) - 1e-9,
              ).toBe(true);
            }
            position = { ...position, ...result.state };
          }
        },
      ),
      RUNS,
    );
  });

  it('a short mirrors a long: price p for the long and 2·entry − p for the short give the same gain', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 2000 })
          .chain((entryCents) =>
            fc.tuple(fc.constant(entryCents), fc.integer({ min: 1, max: 2 * entryCents - 1 })),
          ),
        ([entryCents, priceCents]) => {
          const entry = entryCents / 100;
          const longGain = gainFraction('long', entry, priceCents / 100);
          const shortGain = gainFraction('short', entry, (2 * entryCents - priceCents) / 100);

          // `|| 0` folds -0 (a short exactly at entry) into 0.
          expect(Math.sign(shortGain) || 0).toBe(Math.sign(longGain) || 0);
          expect(shortGain).toBeCloseTo(longGain, 12);
        },
      ),
      RUNS,
    );
  });

  it('a short mirrors a long: the same plan decides the same at mirrored prices (trailing aside)', () => {
    // The trailing stop is defined multiplicatively (peak x (1 - pct) vs trough x (1 + pct)), so it is
    // deliberately not an additive mirror; every other rule is a function of the signed gain.
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 2000 })
          .chain((entryCents) =>
            fc.tuple(fc.constant(entryCents), fc.integer({ min: 1, max: 2 * entryCents - 1 })),
          ),
        planArb.map((plan) => ({ ...plan, trailing_stop_pct: null })),
        fc.integer({ min: 1, max: 50 }),
        fc.boolean(),
        ([entryCents, priceCents], plan, quantity, breakevenActive) => {
          const evaluate = (side: PositionSide, cents: number) =>
            evaluateExit(
              makePosition({
                side,
                quantity,
                entry_price: entryCents / 100,
                exit_plan: plan,
                breakeven_active: breakevenActive,
              }),
              makeQuote({ bid: cents / 100, ask: cents / 100 }),
              NOW,
            );

          const long = evaluate('long', priceCents);
          const short = evaluate('short', 2 * entryCents - priceCents);

          expect(short.decision.action).toBe(long.decision.action);
          expect(short.decision.reason).toBe(long.decision.reason);
          if (long.decision.action === 'close' && short.decision.action === 'close') {
            expect(short.decision.qty).toBe(long.decision.qty);
          }
          expect(short.state.breakeven_active).toBe(long.state.breakeven_active);
        },
      ),
      RUNS,
    );
  });
});
