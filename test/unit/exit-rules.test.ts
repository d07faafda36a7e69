import type { ExitPlan } from '../../shared/domain/exit-plan';
import {
  checkQuote,
  evaluateExit,
  markPrice,
  partialExitQty,
  readExitFields,
  type ExitEvaluation,
  type ExitPricing,
  type HoldReason,
} from '../../shared/domain/exit-rules';
import type { Position, PositionSide } from '../../shared/domain/position';
import type { OptionQuote } from '../../shared/ports';
import { contractFor } from '../helpers/contracts';
import {
  FACTORY_NOW,
  FACTORY_OPTION_SYMBOL,
  makeExitPlan,
  makePosition,
  makeQuote,
  makeQuoteAt,
} from '../helpers/factories';

const NOW = FACTORY_NOW;
const minutesAgo = (m: number, from: Date = NOW): string =>
  new Date(from.getTime() - m * 60_000).toISOString();

/** An open position (10 contracts at 2.00) on `side` with only the given rules on. */
function positionWith(
  side: PositionSide,
  plan: Partial<ExitPlan>,
  overrides: Partial<Position> = {},
): Position {
  return makePosition({ side, exit_plan: makeExitPlan(plan), ...overrides });
}

/** Evaluates `side` with only `plan` on, at a fresh quote whose every mark is `price`. */
function evaluateAt(
  side: PositionSide,
  price: number,
  plan: Partial<ExitPlan>,
  overrides: Partial<Position> = {},
): ExitEvaluation {
  return evaluateExit(positionWith(side, plan, overrides), makeQuoteAt(price), NOW);
}

/** Feeds each price in turn, writing the returned trailing state back like the use case does. */
function runPath(start: Position, prices: readonly number[]): ExitEvaluation[] {
  let position = start;
  return prices.map((price) => {
    const evaluation = evaluateExit(position, makeQuoteAt(price), NOW);
    position = { ...position, ...evaluation.state };
    return evaluation;
  });
}

function summary(e: ExitEvaluation): string {
  return e.decision.action === 'close'
    ? `close ${e.decision.qty} ${e.decision.reason}`
    : `hold ${e.decision.reason}`;
}

describe('evaluateExit: stop_loss (loss >= stop_loss_pct of entry)', () => {
  it.each<[string, PositionSide, number | null, number, string]>([
    ['long fires exactly at -25%', 'long', 0.25, 1.5, 'close 10 stop_loss'],
    ['long holds just inside (-24.5%)', 'long', 0.25, 1.51, 'hold no_rule_fired'],
    ['long fires beyond the stop', 'long', 0.25, 0.2, 'close 10 stop_loss'],
    ['long is off when null', 'long', null, 0.05, 'hold no_rule_fired'],
    ['short fires exactly at -25% (price up 25%)', 'short', 0.25, 2.5, 'close 10 stop_loss'],
    ['short holds just inside', 'short', 0.25, 2.49, 'hold no_rule_fired'],
    ['short fires beyond 100% loss', 'short', 1, 4.5, 'close 10 stop_loss'],
    ['short is off when null', 'short', null, 9.5, 'hold no_rule_fired'],
  ])('%s', (_name, side, stop, price, expected) => {
    const result = evaluateAt(side, price, { stop_loss_pct: stop });

    expect(summary(result)).toBe(expected);
  });

  it('says why in the detail: loss, stop, mark and entry', () => {
    const result = evaluateAt('long', 1.46, { stop_loss_pct: 0.25 });

    expect(result.decision).toMatchObject({
      action: 'close',
      detail: 'loss 27.0% >= stop 25.0% (mark 1.46, entry 2.00)',
      mark: 1.46,
    });
    expect(result.gain).toBeCloseTo(-0.27, 12);
  });
});

describe('evaluateExit: take_profit (gain >= take_profit_pct)', () => {
  it.each<[string, PositionSide, number | null, number, string]>([
    ['long fires exactly at +50%', 'long', 0.5, 3.0, 'close 10 take_profit'],
    ['long holds just inside', 'long', 0.5, 2.99, 'hold no_rule_fired'],
    ['long is off when null', 'long', null, 50, 'hold no_rule_fired'],
    ['short fires exactly at +50% (price halved)', 'short', 0.5, 1.0, 'close 10 take_profit'],
    ['short holds just inside', 'short', 0.5, 1.01, 'hold no_rule_fired'],
    ['short does not take profit when the price rises', 'short', 0.5, 3.0, 'hold no_rule_fired'],
    ['short is off when null', 'short', null, 0.01, 'hold no_rule_fired'],
  ])('%s', (_name, side, takeProfit, price, expected) => {
    const result = evaluateAt(side, price, { take_profit_pct: takeProfit });

    expect(summary(result)).toBe(expected);
  });

  // (1.21 - 1.10) / 1.10 is 0.09999999999999988 in doubles: the threshold must still count as reached.
  it.each<[PositionSide, number]>([
    ['long', 1.21],
    ['short', 0.99],
  ])('%s fires at a threshold that floating point lands just under', (side, price) => {
    const result = evaluateAt(side, price, { take_profit_pct: 0.1 }, { entry_price: 1.1 });

    expect(summary(result)).toBe('close 10 take_profit');
  });
});

describe('evaluateExit: trailing_stop', () => {
  it('long: the peak rises, the stop follows, a pullback inside the trail holds, then it fires', () => {
    const path = runPath(positionWith('long', { trailing_stop_pct: 0.2 }), [2.0, 2.5, 3.0, 2.5, 2.41, 2.4]);

    expect(path.map((e) => e.state)).toEqual([
      { peak_price: 2.0, trailing_stop_price: 1.6, breakeven_active: false },
      { peak_price: 2.5, trailing_stop_price: 2.0, breakeven_active: false },
      { peak_price: 3.0, trailing_stop_price: 2.4, breakeven_active: false },
      { peak_price: 3.0, trailing_stop_price: 2.4, breakeven_active: false },
      { peak_price: 3.0, trailing_stop_price: 2.4, breakeven_active: false },
      { peak_price: 3.0, trailing_stop_price: 2.4, breakeven_active: false },
    ]);
    expect(path.map(summary)).toEqual([
      'hold no_rule_fired',
      'hold no_rule_fired',
      'hold no_rule_fired',
      'hold no_rule_fired',
      'hold no_rule_fired',
      'close 10 trailing_stop',
    ]);
    expect(path.map((e) => e.stateChanged)).toEqual([true, true, true, false, false, false]);
  });

  it('short: the trough falls, the stop follows down, a bounce inside the trail holds, then it fires', () => {
    const path = runPath(positionWith('short', { trailing_stop_pct: 0.2 }), [2.0, 1.5, 1.0, 1.1, 1.19, 1.2]);

    expect(path.map((e) => [e.state.peak_price, e.state.trailing_stop_price])).toEqual([
      [2.0, 2.4],
      [1.5, 1.8],
      [1.0, 1.2],
      [1.0, 1.2],
      [1.0, 1.2],
      [1.0, 1.2],
    ]);
    expect(path.map(summary).slice(3)).toEqual([
      'hold no_rule_fired',
      'hold no_rule_fired',
      'close 10 trailing_stop',
    ]);
  });

  it('long: with an activation threshold the stop is not armed (or fired) until the gain reaches it', () => {
    const plan = { trailing_stop_pct: 0.1, trail_activation_pct: 0.25 };

    const path = runPath(positionWith('long', plan), [2.4, 2.1, 2.5, 2.26, 2.25]);

    expect(path.map((e) => [e.state.peak_price, e.state.trailing_stop_price])).toEqual([
      [2.4, null],
      [2.4, null],
      [2.5, 2.25],
      [2.5, 2.25],
      [2.5, 2.25],
    ]);
    expect(path.map(summary)).toEqual([
      'hold no_rule_fired',
      'hold no_rule_fired', // below 2.4 x 0.9 but not yet active
      'hold no_rule_fired',
      'hold no_rule_fired',
      'close 10 trailing_stop',
    ]);
  });

  it('short: with an activation threshold the stop is not armed until the gain reaches it', () => {
    const plan = { trailing_stop_pct: 0.1, trail_activation_pct: 0.25 };

    const path = runPath(positionWith('short', plan), [1.6, 1.8, 1.5, 1.64, 1.65]);

    expect(path.map((e) => [e.state.peak_price, e.state.trailing_stop_price])).toEqual([
      [1.6, null],
      [1.6, null],
      [1.5, 1.65],
      [1.5, 1.65],
      [1.5, 1.65],
    ]);
    expect(path.map(summary)).toEqual([
      'hold no_rule_fired',
      'hold no_rule_fired',
      'hold no_rule_fired',
      'hold no_rule_fired',
      'close 10 trailing_stop',
    ]);
  });

  it.each<[PositionSide, number]>([
    ['long', 0.5],
    ['short', 3.5],
  ])('%s: is off when trailing_stop_pct is null (no tracking, no close)', (side, price) => {
    const result = evaluateAt(side, price, { trailing_stop_pct: null, trail_activation_pct: 0 });

    expect(summary(result)).toBe('hold no_rule_fired');
    expect(result.state.peak_price).toBeNull();
    expect(result.stateChanged).toBe(false);
  });

  it('never moves the stored stop backward, even when the plan now computes a looser one', () => {
    const position = positionWith(
      'long',
      { trailing_stop_pct: 0.2 },
      { peak_price: 3.0, trailing_stop_price: 2.7 }, // 3.00 x (1 - 0.2) = 2.40 would be looser
    );

    const result = evaluateExit(position, makeQuoteAt(2.65), NOW);

    expect(result.state.trailing_stop_price).toBe(2.7);
    expect(summary(result)).toBe('close 10 trailing_stop');
  });

  it('does not move the peak on a stale quote', () => {
    const position = positionWith(
      'long',
      { trailing_stop_pct: 0.2 },
      { peak_price: 2.5, trailing_stop_price: 2.0 },
    );
    const stale = makeQuoteAt(4.0, { quoteTime: new Date(NOW.getTime() - 600_000).toISOString() });

    const result = evaluateExit(position, stale, NOW);

    expect(result.state).toEqual({ peak_price: 2.5, trailing_stop_price: 2.0, breakeven_active: false });
    expect(result.stateChanged).toBe(false);
  });
});

describe('evaluateExit: partial_exit (fraction of the ORIGINAL quantity, each level once)', () => {
  const oneLevel = (fraction: number) => ({ partial_exits: [{ gain_pct: 0.25, fraction }] });

  it.each<[string, PositionSide, number, string]>([
    ['long fires exactly at the level', 'long', 2.5, 'close 3 partial_exit'],
    ['long holds just inside', 'long', 2.49, 'hold no_rule_fired'],
    ['short fires exactly at the level', 'short', 1.5, 'close 3 partial_exit'],
    ['short holds just inside', 'short', 1.51, 'hold no_rule_fired'],
  ])('%s', (_name, side, price, expected) => {
    const result = evaluateAt(side, price, oneLevel(0.3));

    expect(summary(result)).toBe(expected);
    if (result.decision.action === 'close') expect(result.decision.partialLevel).toBe(0);
  });

  it.each<[string, number, Partial<Position>, number]>([
    ['rounds down (0.25 of 10 = 2.5 → 2)', 0.25, {}, 2],
    ['closes at least 1 (0.05 of 10 = 0.5 → 1)', 0.05, {}, 1],
    ['never more than remains (0.5 of original 10 with 2 left → 2)', 0.5, { quantity: 2 }, 2],
    [
      'is a fraction of the original, not of what remains (0.3 of 10 with 7 left → 3)',
      0.3,
      { quantity: 7 },
      3,
    ],
    [
      'keeps a whole product whole (0.29 of 100 → 29, not 28)',
      0.29,
      { quantity: 100, original_quantity: 100 },
      29,
    ],
  ])('%s', (_name, fraction, overrides, expectedQty) => {
    const result = evaluateAt('long', 2.5, oneLevel(fraction), overrides);

    expect(result.decision).toMatchObject({ action: 'close', reason: 'partial_exit', qty: expectedQty });
  });

  it('takes each level once: a done level does not fire again', () => {
    const result = evaluateAt('long', 2.6, oneLevel(0.3), { partial_exits_done: [0] });

    expect(summary(result)).toBe('hold no_rule_fired');
  });

  it('goes on to the next level once the first is done', () => {
    const plan = {
      partial_exits: [
        { gain_pct: 0.25, fraction: 0.3 },
        { gain_pct: 0.5, fraction: 0.2 },
      ],
    };

    const result = evaluateAt('long', 3.0, plan, { partial_exits_done: [0], quantity: 7 });

    expect(result.decision).toMatchObject({
      action: 'close',
      reason: 'partial_exit',
      qty: 2,
      partialLevel: 1,
    });
  });

  it('takes the lowest level first when two are crossed at once (whatever their stored order)', () => {
    const plan = {
      partial_exits: [
        { gain_pct: 0.5, fraction: 0.5 },
        { gain_pct: 0.25, fraction: 0.2 },
      ],
    };

    const result = evaluateAt('short', 0.8, plan);

    expect(result.decision).toMatchObject({
      action: 'close',
      reason: 'partial_exit',
      qty: 2,
      partialLevel: 1,
    });
  });

  it.each<[PositionSide, number]>([
    ['long', 10],
    ['short', 0.01],
  ])('%s: is off when partial_exits is null', (side, price) => {
    expect(summary(evaluateAt(side, price, { partial_exits: null }))).toBe('hold no_rule_fired');
  });
});

describe('evaluateExit: breakeven', () => {
  it.each<[PositionSide, number, number, number]>([
    // side, arming price (+20%), price at entry, price just inside (still a gain)
    ['long', 2.4, 2.0, 2.01],
    ['short', 1.6, 2.0, 1.99],
  ])('%s: arms at the gain, then closes at the entry price, not before', (side, arm, atEntry, inside) => {
    const plan = { breakeven_at_pct: 0.2 };

    const armed = evaluateAt(side, arm, plan);
    const position = positionWith(side, plan, { ...armed.state });

    expect(summary(armed)).toBe('hold no_rule_fired');
    expect(armed.state.breakeven_active).toBe(true);
    expect(armed.stateChanged).toBe(true);
    expect(summary(evaluateExit(position, makeQuoteAt(inside), NOW))).toBe('hold no_rule_fired');
    expect(summary(evaluateExit(position, makeQuoteAt(atEntry), NOW))).toBe('close 10 breakeven');
  });

  it.each<[PositionSide, number]>([
    ['long', 2.39],
    ['short', 1.61],
  ])('%s: does not arm just below the gain', (side, price) => {
    const result = evaluateAt(side, price, { breakeven_at_pct: 0.2 });

    expect(result.state.breakeven_active).toBe(false);
    expect(result.stateChanged).toBe(false);
  });

  it.each<[PositionSide, number]>([
    ['long', 2.0],
    ['long', 1.9],
    ['short', 2.0],
    ['short', 2.1],
  ])('%s: does not fire at %d before it is armed', (side, price) => {
    expect(summary(evaluateAt(side, price, { breakeven_at_pct: 0.2 }))).toBe('hold no_rule_fired');
  });

  it('is off when breakeven_at_pct is null, even if a stored flag says armed', () => {
    const result = evaluateAt('long', 1.9, { breakeven_at_pct: null }, { breakeven_active: true });

    expect(summary(result)).toBe('hold no_rule_fired');
  });

  it('an armed breakeven stop is the stop that fired, even past the stop_loss level', () => {
    const result = evaluateAt(
      'long',
      1.4,
      { breakeven_at_pct: 0.2, stop_loss_pct: 0.25 },
      { breakeven_active: true },
    );

    expect(summary(result)).toBe('close 10 breakeven');
  });
});

describe('evaluateExit: min_hold (only the stop may fire before it)', () => {
  const plan = { min_hold_minutes: 30, stop_loss_pct: 0.25, take_profit_pct: 0.5 };

  it.each<[string, PositionSide, number]>([
    ['long', 'long', 3.0],
    ['short', 'short', 1.0],
  ])('%s: blocks take_profit inside the window and says what it suppressed', (_n, side, price) => {
    const result = evaluateAt(side, price, plan, { entry_time: minutesAgo(10) });

    expect(result.decision).toMatchObject({ action: 'hold', reason: 'min_hold' });
    expect(result.decision.detail).toContain('suppressed take_profit');
  });

  it.each<[PositionSide, number]>([
    ['long', 1.5],
    ['short', 2.5],
  ])('%s: does not block the stop_loss', (side, price) => {
    expect(summary(evaluateAt(side, price, plan, { entry_time: minutesAgo(10) }))).toBe('close 10 stop_loss');
  });

  it('does not block an armed breakeven stop', () => {
    const result = evaluateAt(
      'long',
      2.0,
      { min_hold_minutes: 30, breakeven_at_pct: 0.2 },
      { entry_time: minutesAgo(10), breakeven_active: true },
    );

    expect(summary(result)).toBe('close 10 breakeven');
  });

  it('blocks the trailing stop', () => {
    const position = positionWith(
      'long',
      { min_hold_minutes: 30, trailing_stop_pct: 0.1 },
      { entry_time: minutesAgo(10), peak_price: 3.0, trailing_stop_price: 2.7 },
    );

    const result = evaluateExit(position, makeQuoteAt(2.0), NOW);

    expect(result.decision).toMatchObject({ action: 'hold', reason: 'min_hold' });
    expect(result.decision.detail).toContain('suppressed trailing_stop');
  });

  it('still tracks the trailing peak and arms breakeven inside the window', () => {
    const position = positionWith(
      'long',
      { min_hold_minutes: 30, trailing_stop_pct: 0.1, breakeven_at_pct: 0.2 },
      { entry_time: minutesAgo(10) },
    );

    const result = evaluateExit(position, makeQuoteAt(3.0), NOW);

    expect(result.state).toEqual({ peak_price: 3.0, trailing_stop_price: 2.7, breakeven_active: true });
    expect(result.stateChanged).toBe(true);
  });

  it('ends exactly at min_hold_minutes', () => {
    expect(summary(evaluateAt('long', 3.0, plan, { entry_time: minutesAgo(30) }))).toBe(
      'close 10 take_profit',
    );
  });

  it('reports min_hold even when nothing would have fired', () => {
    const result = evaluateAt('long', 2.0, plan, { entry_time: minutesAgo(10) });

    expect(result.decision).toMatchObject({ action: 'hold', reason: 'min_hold' });
  });
});

describe('evaluateExit: max_hold (minutes since entry_time)', () => {
  it.each<[string, PositionSide, string, number | null, string]>([
    ['long fires exactly at max_hold', 'long', minutesAgo(240), 240, 'close 10 max_hold'],
    ['long holds one second before', 'long', minutesAgo(240 - 1 / 60), 240, 'hold no_rule_fired'],
    ['short fires exactly at max_hold', 'short', minutesAgo(240), 240, 'close 10 max_hold'],
    ['short holds one second before', 'short', minutesAgo(240 - 1 / 60), 240, 'hold no_rule_fired'],
    ['is off when null', 'long', minutesAgo(100_000), null, 'hold no_rule_fired'],
  ])('%s', (_name, side, entryTime, maxHold, expected) => {
    expect(summary(evaluateAt(side, 2.0, { max_hold_minutes: maxHold }, { entry_time: entryTime }))).toBe(
      expected,
    );
  });

  it('fires without a quote (time rules do not depend on the price)', () => {
    const position = positionWith('long', { max_hold_minutes: 60 }, { entry_time: minutesAgo(61) });

    const result = evaluateExit(position, undefined, NOW);

    expect(result.decision).toMatchObject({ action: 'close', reason: 'max_hold', qty: 10, mark: null });
    expect(result.decision.detail).toContain('no_quote');
  });
});

describe('evaluateExit: expiry (New York date)', () => {
  const symbolExpiring = 'GOOGL261217C00340000'; // 2026-12-17

  it.each<[string, PositionSide, string, number | null, string]>([
    [
      'fires the day before with close_before_expiry_days 1',
      'long',
      '2026-12-16T15:00:00Z',
      1,
      'close 10 expiry',
    ],
    ['short fires the day before too', 'short', '2026-12-16T15:00:00Z', 1, 'close 10 expiry'],
    ['holds two days before', 'long', '2026-12-15T15:00:00Z', 1, 'hold no_rule_fired'],
    ['fires at New York midnight (05:00Z)', 'long', '2026-12-16T05:00:00Z', 1, 'close 10 expiry'],
    ['holds at 04:59Z: still Dec 15 in New York', 'short', '2026-12-16T04:59:00Z', 1, 'hold no_rule_fired'],
    [
      '0 days: 2026-12-17 03:00Z is still Dec 16 in New York → hold',
      'long',
      '2026-12-17T03:00:00Z',
      0,
      'hold no_rule_fired',
    ],
    ['0 days: fires on the expiry date in New York', 'long', '2026-12-17T05:00:00Z', 0, 'close 10 expiry'],
    ['fires after expiry', 'short', '2026-12-18T15:00:00Z', 0, 'close 10 expiry'],
    ['is off when null', 'long', '2026-12-17T15:00:00Z', null, 'hold no_rule_fired'],
  ])('%s', (_name, side, nowIso, days, expected) => {
    const now = new Date(nowIso);
    const position = positionWith(
      side,
      { close_before_expiry_days: days },
      { option_symbol: symbolExpiring },
    );

    const result = evaluateExit(
      position,
      makeQuoteAt(2.0, { symbol: symbolExpiring, quoteTime: now.toISOString() }),
      now,
    );

    expect(summary(result)).toBe(expected);
  });

  it('fires without a quote', () => {
    const position = positionWith('long', { close_before_expiry_days: 1 }, { option_symbol: symbolExpiring });

    const result = evaluateExit(position, undefined, new Date('2026-12-16T15:00:00Z'));

    expect(result.decision).toMatchObject({ action: 'close', reason: 'expiry', qty: 10, mark: null });
  });

  it('is skipped (with a note), not thrown, when the symbol is not an OCC symbol', () => {
    const position = positionWith('long', { close_before_expiry_days: 1 }, { option_symbol: 'GARBAGE' });

    const result = evaluateExit(position, makeQuoteAt(2.0, { symbol: 'GARBAGE' }), NOW);

    expect(result.decision).toMatchObject({ action: 'hold', reason: 'no_rule_fired' });
    expect(result.decision.detail).toContain('expiry rule skipped');
  });
});

describe('markPrice and mark modes', () => {
  const quote = makeQuote({ bid: 1.4, ask: 1.6 });

  it.each<[PositionSide, 'mid' | 'bid_ask', number]>([
    ['long', 'mid', 1.5],
    ['short', 'mid', 1.5],
    ['long', 'bid_ask', 1.4],
    ['short', 'bid_ask', 1.6],
  ])('%s %s', (side, mode, expected) => {
    expect(markPrice(side, quote, mode)).toBe(expected);
  });

  it.each<[string, Partial<OptionQuote>, PositionSide, 'mid' | 'bid_ask']>([
    ['NaN bid (mid)', { bid: Number.NaN }, 'long', 'mid'],
    ['zero bid for a long (bid_ask)', { bid: 0 }, 'long', 'bid_ask'],
    ['zero ask for a short (bid_ask)', { ask: 0 }, 'short', 'bid_ask'],
    ['infinite ask (mid)', { ask: Number.POSITIVE_INFINITY }, 'short', 'mid'],
  ])('is null for %s', (_name, overrides, side, mode) => {
    expect(markPrice(side, makeQuote(overrides), mode)).toBeNull();
  });

  it.each<[string, PositionSide, number, number, Partial<ExitPricing>, string]>([
    // stop at 28%: mid 1.50 is a 25% loss, bid 1.40 a 30% loss
    ['long, mid (default): holds', 'long', 1.4, 1.6, {}, 'hold no_rule_fired'],
    ['long, bid_ask: the bid fires the stop', 'long', 1.4, 1.6, { mark: 'bid_ask' }, 'close 10 stop_loss'],
    // short: mid 2.50 is a 25% loss, ask 2.60 a 30% loss
    ['short, mid: holds', 'short', 2.4, 2.6, { mark: 'mid' }, 'hold no_rule_fired'],
    ['short, bid_ask: the ask fires the stop', 'short', 2.4, 2.6, { mark: 'bid_ask' }, 'close 10 stop_loss'],
  ])('%s', (_name, side, bid, ask, execution, expected) => {
    const result = evaluateExit(
      positionWith(side, { stop_loss_pct: 0.28 }),
      makeQuote({ bid, ask }),
      NOW,
      execution,
    );

    expect(summary(result)).toBe(expected);
  });
});

describe('evaluateExit: unusable quotes never trigger a price rule', () => {
  // Priced at 1.00 this position is 50% down: every price rule below would fire on it.
  const plan = {
    stop_loss_pct: 0.25,
    take_profit_pct: 0.01,
    trailing_stop_pct: 0.05,
    partial_exits: [{ gain_pct: 0.01, fraction: 0.5 }],
  };
  const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

  it.each<[string, HoldReason, OptionQuote | undefined, Partial<ExitPricing>]>([
    ['missing', 'no_quote', undefined, {}],
    ['stale (121 s > 120 s default)', 'stale_quote', makeQuoteAt(1.0, { quoteTime: ago(121) }), {}],
    [
      'stale under a custom max age (31 s > 30 s)',
      'stale_quote',
      makeQuoteAt(1.0, { quoteTime: ago(31) }),
      { max_quote_age_seconds: 30 },
    ],
    ['crossed (bid > ask)', 'crossed_quote', makeQuote({ bid: 1.05, ask: 0.95 }), {}],
    ['NaN bid', 'bad_quote', makeQuote({ bid: Number.NaN, ask: 1.0 }), {}],
    ['NaN ask', 'bad_quote', makeQuote({ bid: 1.0, ask: Number.NaN }), {}],
    ['zero ask', 'bad_quote', makeQuote({ bid: 0, ask: 0 }), {}],
    ['negative bid', 'bad_quote', makeQuote({ bid: -1, ask: 1.0 }), {}],
    ['zero bid priced bid_ask for a long', 'bad_quote', makeQuote({ bid: 0, ask: 1.0 }), { mark: 'bid_ask' }],
    ['unparsable quote time', 'bad_quote', makeQuoteAt(1.0, { quoteTime: 'yesterday' }), {}],
    [
      'quote for another symbol',
      'bad_quote',
      makeQuoteAt(1.0, { symbol: contractFor('GOOGL', 564, 'P', 340, FACTORY_NOW) }),
      {},
    ],
  ])('%s → hold %s', (_name, reason, quote, execution) => {
    const result = evaluateExit(positionWith('long', plan), quote, NOW, execution);

    expect(result.decision).toMatchObject({ action: 'hold', reason });
    expect(result.mark).toBeNull();
    expect(result.stateChanged).toBe(false);
  });

  it('a quote exactly max_quote_age_seconds old is still fresh', () => {
    const result = evaluateExit(positionWith('long', plan), makeQuoteAt(1.0, { quoteTime: ago(120) }), NOW);

    expect(summary(result)).toBe('close 10 stop_loss');
  });

  it('a zero bid is fine for a long priced at mid (far out-of-the-money options)', () => {
    const result = checkQuote(FACTORY_OPTION_SYMBOL, 'long', makeQuote({ bid: 0, ask: 0.1 }), NOW);

    expect(result).toEqual({ ok: true, mark: 0.05 });
  });
});

describe('evaluateExit: priority when several rules fire', () => {
  const expiringToday = contractFor('GOOGL', 0, 'C', 340, FACTORY_NOW); // expires on FACTORY_NOW's New York date

  it.each<[string, Partial<ExitPlan>, Partial<Position>, number | undefined, string]>([
    ['stop_loss beats trailing_stop', { stop_loss_pct: 0.25, trailing_stop_pct: 0.1 }, {}, 1.5, 'stop_loss'],
    [
      'breakeven stop beats trailing_stop',
      { breakeven_at_pct: 0.2, trailing_stop_pct: 0.1 },
      { breakeven_active: true, peak_price: 2.4, trailing_stop_price: 2.16 },
      2.0,
      'breakeven',
    ],
    [
      'trailing_stop beats expiry',
      { trailing_stop_pct: 0.1, close_before_expiry_days: 0 },
      { option_symbol: expiringToday },
      1.7,
      'trailing_stop',
    ],
    [
      'expiry beats max_hold',
      { close_before_expiry_days: 0, max_hold_minutes: 30 },
      { option_symbol: expiringToday },
      2.0,
      'expiry',
    ],
    ['max_hold beats take_profit', { max_hold_minutes: 30, take_profit_pct: 0.5 }, {}, 3.0, 'max_hold'],
    [
      'take_profit beats partial_exit',
      { take_profit_pct: 0.5, partial_exits: [{ gain_pct: 0.25, fraction: 0.5 }] },
      {},
      3.0,
      'take_profit',
    ],
    [
      'stop_loss beats everything that can fire with it',
      { stop_loss_pct: 0.1, trailing_stop_pct: 0.05, close_before_expiry_days: 0, max_hold_minutes: 1 },
      { option_symbol: expiringToday },
      1.5,
      'stop_loss',
    ],
  ])('%s', (_name, plan, overrides, price, reason) => {
    const symbol = overrides.option_symbol ?? FACTORY_OPTION_SYMBOL;
    const quote = price === undefined ? undefined : makeQuoteAt(price, { symbol });

    const result = evaluateExit(positionWith('long', plan, overrides), quote, NOW);

    expect(result.decision).toMatchObject({ action: 'close', reason, qty: 10 });
  });
});

describe('evaluateExit: only open positions with a quantity and an entry price are evaluated', () => {
  const firing = { stop_loss_pct: 0.25, max_hold_minutes: 1 };

  it.each<[string, HoldReason, Partial<Position>]>([
    ['submitting', 'not_open', { state: 'submitting' }],
    ['pending', 'not_open', { state: 'pending' }],
    ['closing', 'not_open', { state: 'closing' }],
    ['closed', 'not_open', { state: 'closed' }],
    ['quantity 0', 'no_quantity', { quantity: 0 }],
    ['fractional quantity', 'no_quantity', { quantity: 2.5 }],
    ['entry price null', 'no_entry_price', { entry_price: null }],
    ['entry price 0', 'no_entry_price', { entry_price: 0 }],
    ['entry price NaN', 'no_entry_price', { entry_price: Number.NaN }],
    [
      'an exit step in flight',
      'exit_pending',
      {
        pending_exit: {
          seq: 1,
          client_order_id: 'ops-main-x1-rec-0001',
          qty: 3,
          reason: 'partial_exit',
          claimed_at: NOW.toISOString(),
        },
      },
    ],
  ])('%s → hold %s', (_name, reason, overrides) => {
    const result = evaluateExit(positionWith('long', firing, overrides), makeQuoteAt(1.0), NOW);

    expect(result.decision).toMatchObject({ action: 'hold', reason });
    expect(result.stateChanged).toBe(false);
  });

  it('throws on an invalid now (a caller bug)', () => {
    expect(() => evaluateExit(makePosition(), makeQuote(), new Date('nope'))).toThrow(TypeError);
  });
});

describe('evaluateExit: records written by an earlier version', () => {
  /** A stored record without the newer fields, exit plan reduced to `plan`. */
  function legacyRecord(
    plan: Record<string, unknown> | undefined,
    overrides: Partial<Position> = {},
  ): Position {
    const record: Record<string, unknown> = { ...makePosition(overrides), exit_plan: plan };
    for (const key of [
      'peak_price',
      'trailing_stop_price',
      'original_quantity',
      'breakeven_active',
      'partial_exits_done',
    ]) {
      delete record[key];
    }
    if (plan === undefined) delete record.exit_plan;
    return record as unknown as Position;
  }

  it('fires its stop like any other record', () => {
    const result = evaluateExit(legacyRecord({ stop_loss_pct: 0.25 }), makeQuoteAt(1.5), NOW);

    expect(summary(result)).toBe('close 10 stop_loss');
  });

  it('takes the system default for a missing exit-plan field (take_profit 100%)', () => {
    const result = evaluateExit(legacyRecord({ stop_loss_pct: 0.25 }), makeQuoteAt(4.0), NOW);

    expect(summary(result)).toBe('close 10 take_profit');
  });

  it('takes the system defaults when the exit plan is missing (stop 50%)', () => {
    expect(summary(evaluateExit(legacyRecord(undefined), makeQuoteAt(1.0), NOW))).toBe('close 10 stop_loss');
    expect(summary(evaluateExit(legacyRecord(undefined), makeQuoteAt(1.01), NOW))).toBe('hold no_rule_fired');
  });

  it('takes the default for an invalid field but keeps the valid ones', () => {
    const fields = readExitFields(legacyRecord({ stop_loss_pct: 7, take_profit_pct: 0.3 }));

    expect(fields.plan).toMatchObject({ stop_loss_pct: 0.5, take_profit_pct: 0.3 });
  });

  it('keeps a stored at_expiry (it has no system default) and drops an invalid one', () => {
    expect(readExitFields(legacyRecord({ at_expiry: 'do_not_exercise' })).plan).toMatchObject({
      at_expiry: 'do_not_exercise',
    });
    expect(readExitFields(legacyRecord({ at_expiry: 'sell_it' })).plan).not.toHaveProperty('at_expiry');
  });

  it('starts the trailing peak from the entry price and persists it', () => {
    const result = evaluateExit(legacyRecord({ trailing_stop_pct: 0.2 }), makeQuoteAt(1.9), NOW);

    expect(result.state).toEqual({ peak_price: 2.0, trailing_stop_price: 1.6, breakeven_active: false });
    expect(result.stateChanged).toBe(true);
  });

  it('reads original_quantity as quantity and partial_exits_done as none', () => {
    const plan = { partial_exits: [{ gain_pct: 0.25, fraction: 0.5 }] };

    const result = evaluateExit(legacyRecord(plan, { quantity: 6 }), makeQuoteAt(2.5), NOW);

    expect(result.decision).toMatchObject({
      action: 'close',
      reason: 'partial_exit',
      qty: 3,
      partialLevel: 0,
    });
  });

  it('uses created_at when entry_time is missing', () => {
    const record = legacyRecord({ max_hold_minutes: 30 }, { created_at: minutesAgo(31) });
    delete (record as unknown as Record<string, unknown>).entry_time;

    expect(summary(evaluateExit(record, makeQuoteAt(2.0), NOW))).toBe('close 10 max_hold');
  });

  it('readExitFields derives every missing field', () => {
    const fields = readExitFields(legacyRecord({}, { quantity: 4 }));

    expect(fields).toMatchObject({
      originalQuantity: 4,
      peakPrice: null,
      trailingStopPrice: null,
      breakevenActive: false,
    });
    expect([...fields.partialExitsDone]).toEqual([]);
  });
});

describe('partialExitQty', () => {
  it.each<[number, number, number, number]>([
    [0.3, 10, 10, 3],
    [0.25, 10, 10, 2],
    [0.01, 10, 10, 1],
    [1, 10, 4, 4],
    [0.29, 100, 100, 29],
  ])('fraction %d of original %d with %d left → %d', (fraction, original, remaining, expected) => {
    expect(partialExitQty(fraction, original, remaining)).toBe(expected);
  });
});
