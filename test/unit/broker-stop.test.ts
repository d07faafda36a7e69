/**
 * The protective stop resting at the broker, as pure decisions (`shared/domain/broker-stop.ts`): the level,
 * its alignment to the grid in the protective direction, the stop_limit's limit, the one-tick replace rule,
 * and the order (intent-free, gtc, reducing side, deterministic id).
 */
import {
  brokerStopChange,
  brokerStopTerms,
  buildProtectiveStopOrder,
  gridTick,
  protectiveStopLevel,
  protectsAtLeast,
} from '../../shared/domain/broker-stop';
import { resolveExitPlan } from '../../shared/domain/exit-plan';

const FLAT = { peak_price: null, trailing_stop_price: null, breakeven_active: false };
const STOP = { broker_stop: 'stop' as const, broker_stop_limit_slippage_pct: 0.1 };
const STOP_LIMIT = { broker_stop: 'stop_limit' as const, broker_stop_limit_slippage_pct: 0.1 };
const pos = (side: 'long' | 'short', entry: number, plan = {}) => ({
  side,
  entry_price: entry,
  exit_plan: resolveExitPlan({ take_profit_pct: null, ...plan }),
});

describe('protectiveStopLevel', () => {
  it('is the stop_loss level, the tightest once breakeven or the trail moves above it (long)', () => {
    const p = pos('long', 2, { stop_loss_pct: 0.25, trailing_stop_pct: 0.2, breakeven_at_pct: 0.5 });
    expect(protectiveStopLevel(p, FLAT)).toEqual({ price: 1.5, reason: 'stop_loss' });
    expect(protectiveStopLevel(p, { ...FLAT, trailing_stop_price: 1.6 })).toEqual({
      price: 1.6,
      reason: 'trailing_stop',
    });
    expect(protectiveStopLevel(p, { ...FLAT, trailing_stop_price: 1.6, breakeven_active: true })).toEqual({
      price: 2,
      reason: 'breakeven',
    });
  });

  it('for a short, the lowest level above the entry', () => {
    const p = pos('short', 2, { stop_loss_pct: 0.5, trailing_stop_pct: 0.2 });
    expect(protectiveStopLevel(p, FLAT)).toEqual({ price: 3, reason: 'stop_loss' });
    expect(protectiveStopLevel(p, { ...FLAT, trailing_stop_price: 2.4 })).toEqual({
      price: 2.4,
      reason: 'trailing_stop',
    });
  });

  it('is null with no stop rule on, or no entry', () => {
    expect(protectiveStopLevel(pos('long', 2, { stop_loss_pct: null }), FLAT)).toBeNull();
    expect(protectiveStopLevel({ ...pos('long', 2), entry_price: null }, FLAT)).toBeNull();
  });
});

describe('brokerStopTerms', () => {
  it('null when the account keeps no broker stop', () => {
    expect(brokerStopTerms(pos('long', 2), FLAT, { ...STOP, broker_stop: null })).toBeNull();
  });

  it('aligns a long’s sell stop UP and a short’s buy stop DOWN (protective), on the nickel / dime grid', () => {
    // 2.10 x 0.75 = 1.575 → 1.60; 4.10 x 0.75 = 3.075 → 3.10 (dimes from 3.00)
    expect(brokerStopTerms(pos('long', 2.1, { stop_loss_pct: 0.25 }), FLAT, STOP)).toMatchObject({
      type: 'stop',
      stop_price: 1.6,
      limit_price: null,
    });
    expect(brokerStopTerms(pos('long', 4.1, { stop_loss_pct: 0.25 }), FLAT, STOP)?.stop_price).toBe(3.1);
    // 2.10 x 1.25 = 2.625 → 2.60 for a short
    expect(brokerStopTerms(pos('short', 2.1, { stop_loss_pct: 0.25 }), FLAT, STOP)?.stop_price).toBe(2.6);
  });

  it('stop_limit: the limit the slippage beyond the stop, rounded further that way on the grid', () => {
    // long: 1.60 x 0.9 = 1.44 → 1.40; short: 2.60 x 1.1 = 2.86 → 2.90
    expect(brokerStopTerms(pos('long', 2.1, { stop_loss_pct: 0.25 }), FLAT, STOP_LIMIT)).toEqual({
      type: 'stop_limit',
      stop_price: 1.6,
      limit_price: 1.4,
      reason: 'stop_loss',
    });
    expect(brokerStopTerms(pos('short', 2.1, { stop_loss_pct: 0.25 }), FLAT, STOP_LIMIT)?.limit_price).toBe(
      2.9,
    );
  });
});

describe('brokerStopChange (replace only for a tick or more, or a new qty)', () => {
  const current = { type: 'stop' as const, stop_price: 1.6, limit_price: null, qty: 2 };
  const terms = (stop: number) => ({
    type: 'stop' as const,
    stop_price: stop,
    limit_price: null,
    reason: 'stop_loss' as const,
  });

  it('nothing when neither moved', () => {
    expect(brokerStopChange(current, terms(1.6), 2)).toBeNull();
  });

  it('a one-tick move (nickel below 3.00) is replaced; the qty follows the position', () => {
    expect(brokerStopChange(current, terms(1.65), 2)).toEqual({ stop_price: 1.65 });
    expect(brokerStopChange(current, terms(1.6), 1)).toEqual({ qty: 1 });
  });

  it('at or above 3.00 a nickel is less than the tick: no replacement', () => {
    expect(brokerStopChange({ ...current, stop_price: 3.1 }, terms(3.15), 2)).toBeNull();
    expect(brokerStopChange({ ...current, stop_price: 3.1 }, terms(3.2), 2)).toEqual({ stop_price: 3.2 });
    expect(gridTick(2.95)).toBe(0.05);
    expect(gridTick(3)).toBe(0.1);
  });

  it('a stop_limit moves its limit with its stop', () => {
    const sl = { type: 'stop_limit' as const, stop_price: 1.6, limit_price: 1.4, qty: 2 };
    expect(
      brokerStopChange(
        sl,
        { type: 'stop_limit', stop_price: 2, limit_price: 1.8, reason: 'trailing_stop' },
        2,
      ),
    ).toEqual({ stop_price: 2, limit_price: 1.8 });
  });
});

describe('protectsAtLeast', () => {
  it('a long’s stop at or above the level; a short’s at or below', () => {
    expect(protectsAtLeast('long', 1.6, 1.6)).toBe(true);
    expect(protectsAtLeast('long', 1.55, 1.6)).toBe(false);
    expect(protectsAtLeast('short', 2.6, 2.65)).toBe(true);
    expect(protectsAtLeast('short', 2.7, 2.65)).toBe(false);
  });
});

describe('buildProtectiveStopOrder', () => {
  const position = {
    account: 'main',
    position_id: 'p1',
    option_symbol: 'GOOGL280102C00340000',
    side: 'long' as const,
  };

  it('is intent-free, gtc, on the recorded symbol, reducing side, with the deterministic id', () => {
    const o = buildProtectiveStopOrder({
      position,
      qty: 3,
      seq: 2,
      terms: { type: 'stop_limit', stop_price: 1.6, limit_price: 1.4, reason: 'stop_loss' },
    });
    expect(o).toEqual({
      symbol: 'GOOGL280102C00340000',
      qty: 3,
      side: 'sell',
      type: 'stop_limit',
      time_in_force: 'gtc',
      stop_price: 1.6,
      limit_price: 1.4,
      client_order_id: 'ops-main-s2-p1',
    });
    expect(o).not.toHaveProperty('position_intent');
    const short = buildProtectiveStopOrder({
      position: { ...position, side: 'short' },
      qty: 1,
      seq: 1,
      terms: { type: 'stop', stop_price: 2.6, limit_price: null, reason: 'stop_loss' },
    });
    expect(short).toMatchObject({ side: 'buy', type: 'stop' });
    expect(short).not.toHaveProperty('limit_price');
  });

  it('refuses a qty that is not a whole number of contracts', () => {
    const terms = { type: 'stop' as const, stop_price: 1, limit_price: null, reason: 'stop_loss' as const };
    expect(() => buildProtectiveStopOrder({ position, qty: 0, seq: 1, terms })).toThrow(/whole number/);
    expect(() => buildProtectiveStopOrder({ position, qty: 1.5, seq: 1, terms })).toThrow(/whole number/);
  });
});
