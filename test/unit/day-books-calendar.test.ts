/**
 * The trading calendar the books are dated by (shared/domain/trading-calendar.ts), against the NYSE's
 * published holiday lists, and the trading day of instants and activities (weekend events, case 7).
 */
import {
  activityTradingDay,
  isTradingDay,
  tradingDayOfInstant,
  tradingDayOnOrBefore,
} from '../../shared/domain/trading-calendar';

// NYSE's published full-day holidays.
const HOLIDAYS: Record<number, string[]> = {
  2025: ['01-01', '01-20', '02-17', '04-18', '05-26', '06-19', '07-04', '09-01', '11-27', '12-25'],
  2026: ['01-01', '01-19', '02-16', '04-03', '05-25', '06-19', '07-03', '09-07', '11-26', '12-25'],
  2027: ['01-01', '01-18', '02-15', '03-26', '05-31', '06-18', '07-05', '09-06', '11-25', '12-24'],
};

describe.each([2025, 2026, 2027])('the trading days of %i', (year) => {
  it('leave out exactly the published holidays among the weekdays', () => {
    const closed: string[] = [];
    for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 86_400_000) {
      const d = new Date(t);
      const date = d.toISOString().slice(0, 10);
      if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && !isTradingDay(date)) closed.push(date.slice(5));
    }
    expect(closed).toEqual(HOLIDAYS[year]);
  });
});

it('keeps Friday 2027-12-31 a trading day (a Saturday New Year is not observed)', () => {
  expect(isTradingDay('2027-12-31')).toBe(true);
});

it('dates a weekend or holiday to the session before it', () => {
  expect(tradingDayOnOrBefore('2026-06-06')).toBe('2026-06-05'); // Saturday
  expect(tradingDayOnOrBefore('2026-06-07')).toBe('2026-06-05'); // Sunday
  expect(tradingDayOnOrBefore('2026-04-05')).toBe('2026-04-02'); // Easter Sunday after Good Friday
  expect(tradingDayOnOrBefore('2026-06-08')).toBe('2026-06-08');
});

it('dates an instant by its New York date, not UTC’s', () => {
  // 01:30 UTC Tuesday is 21:30 Monday in New York.
  expect(tradingDayOfInstant('2026-06-02T01:30:00.000Z')).toBe('2026-06-01');
  // A Saturday sweep's instant belongs to Friday.
  expect(tradingDayOfInstant('2026-06-06T15:00:00.000Z')).toBe('2026-06-05');
  expect(() => tradingDayOfInstant('yesterday')).toThrow(/not an instant: yesterday/);
});

it('dates an activity by its own trade date, whenever it is read (case 7)', () => {
  expect(activityTradingDay({ date: '2026-06-05' })).toBe('2026-06-05');
  expect(activityTradingDay({ date: '2026-06-06' })).toBe('2026-06-05');
  expect(() => activityTradingDay({ date: '06/05/2026' })).toThrow(/not YYYY-MM-DD: 06\/05\/2026/);
});
