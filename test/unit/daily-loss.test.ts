/** Issue 16, part 1: the day's P&L and the breaker's decisions (pure). */
import {
  breakerReset,
  breakerTrip,
  computeDayPnl,
  tradingDay,
  unrealizedCents,
  type DayPnl,
} from '../../shared/domain/daily-loss';
import { parseAccountConfig } from '../../shared/domain/account-config';
import { FACTORY_NOW, FACTORY_OPTION_SYMBOL, makePosition, makeQuote } from '../helpers/factories';

const NOW = FACTORY_NOW; // 2026-06-01 11:00 New York
const AGE = 120;

describe('unrealizedCents: the executable side of the quote', () => {
  it('a long is worth the bid: 10 × (1.95 − 2.00) × 100 = −$50', () => {
    expect(unrealizedCents(makePosition(), makeQuote(), NOW, AGE)).toBe(-5000);
  });

  it('a short costs the ask: 10 × (2.00 − 2.05) × 100 = −$50', () => {
    expect(unrealizedCents(makePosition({ side: 'short' }), makeQuote(), NOW, AGE)).toBe(-5000);
  });

  it('a worthless long (bid 0) loses its whole premium', () => {
    expect(unrealizedCents(makePosition(), makeQuote({ bid: 0, ask: 0.05 }), NOW, AGE)).toBe(-200_000);
  });

  it('no quote, a stale one or a crossed one: unpriced (null)', () => {
    const p = makePosition();
    expect(unrealizedCents(p, undefined, NOW, AGE)).toBeNull();
    const old = new Date(NOW.getTime() - 121_000).toISOString();
    expect(unrealizedCents(p, makeQuote({ quoteTime: old }), NOW, AGE)).toBeNull();
    expect(unrealizedCents(p, makeQuote({ bid: 2.1, ask: 2.0 }), NOW, AGE)).toBeNull();
  });

  it('nothing held yet (submitting, no fill) or closed: 0', () => {
    expect(unrealizedCents(makePosition({ state: 'pending', quantity: 0 }), makeQuote(), NOW, AGE)).toBe(0);
    expect(unrealizedCents(makePosition({ state: 'closed' }), makeQuote(), NOW, AGE)).toBe(0);
  });
});

describe('computeDayPnl', () => {
  it('sums the day’s closed total, live partial exits and unrealized, in cents', () => {
    const pnl = computeDayPnl({
      now: NOW,
      realizedClosedUsd: -100.1,
      live: [
        makePosition({ realized_pnl: 12.2 }),
        makePosition({ position_id: 'x', option_symbol: 'OTHER', realized_pnl: 0 }),
      ],
      quotes: new Map([[FACTORY_OPTION_SYMBOL, makeQuote()]]),
      maxQuoteAgeSeconds: AGE,
    });
    expect(pnl).toEqual({
      day: '2026-06-01',
      realized_usd: -87.9,
      unrealized_usd: -50,
      day_pnl_usd: -137.9,
      unpriced: 1,
    });
  });

  it('the trading day is New York’s: 01:00 UTC is still the previous day there', () => {
    expect(tradingDay(new Date('2026-06-02T01:00:00Z'))).toBe('2026-06-01');
  });
});

const pnlOf = (usd: number, day = '2026-06-01'): DayPnl => ({
  day,
  realized_usd: usd,
  unrealized_usd: 0,
  day_pnl_usd: usd,
  unpriced: 0,
});

describe('breakerTrip', () => {
  const trip = (usd: number, control: Parameters<typeof breakerTrip>[0]['control'] = null, flatten = false) =>
    breakerTrip({ maxDailyLoss: 500, flattenOnLoss: flatten, pnl: pnlOf(usd), control });

  it('trips at exactly −limit, not a cent before', () => {
    expect(trip(-499.99).action).toBe('none');
    expect(trip(-500)).toMatchObject({
      action: 'trip',
      next: { trading_enabled: false, flatten: false, set_by: 'daily_loss', daily_loss_day: '2026-06-01' },
    });
  });

  it('asks for a flatten only when configured', () => {
    expect(trip(-600, null, true)).toMatchObject({ next: { flatten: true } });
  });

  it('no limit: never trips', () => {
    expect(breakerTrip({ maxDailyLoss: null, flattenOnLoss: true, pnl: pnlOf(-1e9), control: null })).toEqual(
      {
        action: 'none',
      },
    );
  });

  it('once a day: not again after it tripped today (even if the operator re-enabled)', () => {
    const reenabled = {
      trading_enabled: true,
      flatten: false,
      set_by: 'operator' as const,
      daily_loss_day: '2026-06-01',
    };
    expect(trip(-900, reenabled).action).toBe('none');
    expect(trip(-900, { ...reenabled, daily_loss_day: '2026-05-29' }).action).toBe('trip');
  });

  it('leaves an operator’s switch-off alone (never takes it over)', () => {
    expect(trip(-900, { trading_enabled: false, flatten: false }).action).toBe('none');
    expect(trip(-900, { trading_enabled: false, flatten: false, set_by: 'operator' }).action).toBe('none');
  });
});

describe('breakerReset', () => {
  const own = {
    trading_enabled: false,
    flatten: true,
    set_by: 'daily_loss' as const,
    daily_loss_day: '2026-05-29',
  };

  it('switches its own switch back on at a later day’s open, ending the flatten', () => {
    expect(breakerReset(own, NOW, true)).toMatchObject({
      action: 'reset',
      next: { trading_enabled: true, flatten: false, set_by: 'daily_loss' },
    });
  });

  it('not before the open, not the same day, never an operator’s switch', () => {
    expect(breakerReset(own, NOW, false).action).toBe('none');
    expect(breakerReset({ ...own, daily_loss_day: '2026-06-01' }, NOW, true).action).toBe('none');
    expect(breakerReset({ ...own, set_by: 'operator' }, NOW, true).action).toBe('none');
    expect(breakerReset({ trading_enabled: false, flatten: false }, NOW, true).action).toBe('none');
    expect(breakerReset(null, NOW, true).action).toBe('none');
  });
});

describe('account configuration', () => {
  it('defaults: no breaker, no flatten', () => {
    expect(parseAccountConfig({ name: 'main' }).limits).toMatchObject({
      max_daily_loss: null,
      flatten_on_daily_loss: false,
    });
  });

  it('refuses a non-positive limit and a non-boolean flatten, naming the field', () => {
    expect(() => parseAccountConfig({ name: 'main', limits: { max_daily_loss: 0 } })).toThrow(
      /limits\.max_daily_loss/,
    );
    expect(() => parseAccountConfig({ name: 'main', limits: { max_daily_loss: '500' } })).toThrow(
      /limits\.max_daily_loss/,
    );
    expect(() => parseAccountConfig({ name: 'main', limits: { flatten_on_daily_loss: 'yes' } })).toThrow(
      /limits\.flatten_on_daily_loss/,
    );
    expect(() => parseAccountConfig({ name: 'main', limits: { max_daily_los: 500 } })).toThrow(
      /max_daily_los/,
    );
  });
});
