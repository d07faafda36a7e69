/** Issue 16, part 1: the day's P&L and the breaker's decisions (pure). */
import {
  breakerReset,
  breakerTrip,
  computeDayPnl,
  emptyDayBooks,
  startMarksDue,
  tradingDay,
  unrealizedCents,
  type DayBooks,
  type DayPnl,
} from '../../shared/domain/daily-loss';
import { parseAccountConfig } from '../../shared/domain/account-config';
import type { Position } from '../../shared/domain/position';
import { bookOrder, booksOf } from '../../shared/domain/position-books';
import { FACTORY_NOW, FACTORY_OPTION_SYMBOL, makePosition, makeQuote } from '../helpers/factories';
import { makeOrderReport } from '../helpers/ledger-factories';

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
  const books = (over: Partial<DayBooks> = {}, day = '2026-06-01'): DayBooks => ({
    ...emptyDayBooks(day),
    ...over,
  });

  it('sums the live positions’ day from their ledgers and the day item’s figures of those no longer live, in cents', () => {
    const pnl = computeDayPnl({
      now: NOW,
      books: books({
        // closed today: counted from the item; a live id found there is skipped (its ledger counts).
        day_pnl: new Map([
          ['gone', -10_010],
          ['rec-0001', -99_999],
        ]),
        realized: new Map([
          ['gone', -10_010],
          ['rec-0001', -99_999],
        ]),
      }),
      live: [makePosition(), makePosition({ position_id: 'x', option_symbol: 'OTHER' })],
      quotes: new Map([[FACTORY_OPTION_SYMBOL, makeQuote()]]),
      maxQuoteAgeSeconds: AGE,
    });
    // The long of 10 bought today at 2.00, at the bid 1.95: -$50; the other has no quote (unpriced, no move).
    expect(pnl).toEqual({
      day: '2026-06-01',
      realized_usd: -100.1,
      unrealized_usd: -50,
      day_pnl_usd: -150.1,
      unpriced: 1,
      start_marks_missing: 0,
    });
  });

  it('counts an older item’s sum once, for the ids it counted', () => {
    const pnl = computeDayPnl({
      now: NOW,
      books: books({
        legacy_cents: -3000,
        legacy_ids: new Set(['old']),
        day_pnl: new Map([['old', -3000]]),
        realized: new Map([['old', -3000]]),
      }),
      live: [],
      quotes: new Map(),
      maxQuoteAgeSeconds: AGE,
    });
    expect(pnl).toMatchObject({ realized_usd: -30, day_pnl_usd: -30, unrealized_usd: 0 });
  });

  /** The default long of 10 at 2.00 (Monday), 6 sold Monday at 1.00 by its stop: -$600 on Monday. */
  const partlyStopped = (): Position => {
    const p = makePosition();
    const at = new Date(NOW.getTime() - 30 * 60_000).toISOString();
    const stop = makeOrderReport({
      id: 'stop-1',
      client_order_id: 'ops-main-s1-rec-0001',
      side: 'sell',
      type: 'stop_limit',
      position_intent: null,
      qty: 10,
      filled_qty: 6,
      filled_avg_price: 1.0,
      status: 'partially_filled',
      filled_at: at,
    });
    return { ...p, ...booksOf(p, bookOrder(p, 'stop', stop, at).ledger) };
  };
  const TUESDAY = new Date('2026-06-02T14:00:00.000Z');

  it('counts Monday’s partial stop fill on Monday, and on Tuesday only what the mark moved since Tuesday’s start (case 3)', () => {
    const p = partlyStopped();
    const quote = (bid: number, at: Date) =>
      new Map([[FACTORY_OPTION_SYMBOL, makeQuote({ bid, ask: bid + 0.1, quoteTime: at.toISOString() })]]);
    const monday = computeDayPnl({
      now: NOW,
      books: books(),
      live: [p],
      quotes: quote(1.0, NOW),
      maxQuoteAgeSeconds: AGE,
    });
    expect(monday).toMatchObject({ realized_usd: -600, unrealized_usd: -400, day_pnl_usd: -1000 });

    const start = new Map([[FACTORY_OPTION_SYMBOL, { bid: 1.0, ask: 1.1 }]]);
    const tuesday = (bid: number) =>
      computeDayPnl({
        now: TUESDAY,
        books: books({ start_marks: start }, '2026-06-02'),
        live: [p],
        quotes: quote(bid, TUESDAY),
        maxQuoteAgeSeconds: AGE,
      });
    expect(tuesday(1.0)).toEqual({
      day: '2026-06-02',
      realized_usd: 0,
      unrealized_usd: 0,
      day_pnl_usd: 0,
      unpriced: 0,
      start_marks_missing: 0,
    });
    expect(tuesday(1.2)).toMatchObject({ day_pnl_usd: 80 }); // 4 x 0.20 x 100
    // No start mark recorded: the entry stands in, and the figure says so.
    expect(
      computeDayPnl({
        now: TUESDAY,
        books: books({}, '2026-06-02'),
        live: [p],
        quotes: quote(1.0, TUESDAY),
        maxQuoteAgeSeconds: AGE,
      }),
    ).toMatchObject({ realized_usd: 0, day_pnl_usd: -400, start_marks_missing: 1 });
  });

  it('asks for a start mark only for a contract held since an earlier day, with a usable quote, not yet marked', () => {
    const p = partlyStopped();
    const fresh = new Map([[FACTORY_OPTION_SYMBOL, makeQuote({ quoteTime: TUESDAY.toISOString() })]]);
    const input = { now: TUESDAY, live: [p], quotes: fresh, maxQuoteAgeSeconds: AGE };
    expect(startMarksDue({ ...input, books: books({}, '2026-06-02') })).toEqual(
      new Map([[FACTORY_OPTION_SYMBOL, { bid: 1.95, ask: 2.05 }]]),
    );
    const marked = books(
      { start_marks: new Map([[FACTORY_OPTION_SYMBOL, { bid: 1, ask: 1.1 }]]) },
      '2026-06-02',
    );
    expect(startMarksDue({ ...input, books: marked }).size).toBe(0);
    // A stale quote is no mark; a position opened today needs none.
    expect(
      startMarksDue({
        ...input,
        books: books({}, '2026-06-02'),
        quotes: new Map([[FACTORY_OPTION_SYMBOL, makeQuote()]]),
      }).size,
    ).toBe(0);
    expect(
      startMarksDue({
        ...input,
        now: NOW,
        quotes: new Map([[FACTORY_OPTION_SYMBOL, makeQuote()]]),
        books: books(),
      }).size,
    ).toBe(0);
  });

  it('the trading day is New York’s: 01:00 UTC is still the previous day there', () => {
    expect(tradingDay(new Date('2026-06-02T01:00:00Z'))).toBe('2026-06-01');
  });

  it('a weekend or holiday belongs to the session before it: a Saturday sweep’s day is Friday', () => {
    expect(tradingDay(new Date('2026-06-06T15:00:00Z'))).toBe('2026-06-05');
    expect(tradingDay(new Date('2026-07-03T15:00:00Z'))).toBe('2026-07-02'); // Independence Day observed
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
