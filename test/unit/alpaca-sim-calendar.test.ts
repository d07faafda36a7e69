/**
 * The simulator's own market calendar (local/alpaca-sim/calendar.ts) against the NYSE's published
 * holiday and early-close lists, and the clock / calendar answers built on it.
 */
import { coreClose, isTradingDay } from '../../local/alpaca-sim/calendar';
import { calendarV3, legacyCalendar, legacyClock, tradingDays } from '../../local/alpaca-sim/clock';

// NYSE's published lists (full-day holidays; 13:00 closes).
const HOLIDAYS: Record<number, string[]> = {
  2025: ['01-01', '01-20', '02-17', '04-18', '05-26', '06-19', '07-04', '09-01', '11-27', '12-25'],
  2026: ['01-01', '01-19', '02-16', '04-03', '05-25', '06-19', '07-03', '09-07', '11-26', '12-25'],
  2027: ['01-01', '01-18', '02-15', '03-26', '05-31', '06-18', '07-05', '09-06', '11-25', '12-24'],
};
const EARLY_CLOSES: Record<number, string[]> = {
  2025: ['07-03', '11-28', '12-24'],
  2026: ['11-27', '12-24'],
  2027: ['11-26'],
};

function daysOf(year: number): string[] {
  const out: string[] = [];
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

describe.each([2025, 2026, 2027])('the NYSE calendar of %i', (year) => {
  const weekdays = daysOf(year).filter((d) => ![0, 6].includes(new Date(`${d}T12:00:00Z`).getUTCDay()));

  it('closes exactly on the published holidays (and weekends)', () => {
    const closed = weekdays.filter((d) => !isTradingDay(d)).map((d) => d.slice(5));
    expect(closed).toEqual(HOLIDAYS[year]);
  });

  it('closes at 13:00 exactly on the published early-close days', () => {
    const early = weekdays.filter((d) => isTradingDay(d) && coreClose(d) === '13:00').map((d) => d.slice(5));
    expect(early).toEqual(EARLY_CLOSES[year]);
  });
});

it('does not observe a Saturday New Year (2028-01-01) on Friday 2027-12-31', () => {
  expect(isTradingDay('2027-12-31')).toBe(true);
  expect(isTradingDay('2028-01-03')).toBe(true);
});

it('answers the calendars with holidays left out and early closes at 13:00', () => {
  expect(tradingDays('2026-11-25', '2026-11-30')).toEqual(['2026-11-25', '2026-11-27', '2026-11-30']);
  const v2 = legacyCalendar(new Date(), '2026-11-25', '2026-11-27') as Record<string, string>[];
  expect(v2.map((d) => [d.date, d.close, d.session_close])).toEqual([
    ['2026-11-25', '16:00', '2000'],
    ['2026-11-27', '13:00', '1700'],
  ]);
  const v3 = calendarV3(new Date(), '2026-11-27', '2026-11-27') as { calendar: Record<string, string>[] };
  expect(v3.calendar[0]).toMatchObject({
    core_end: '2026-11-27T13:00:00-05:00',
    post_end: '2026-11-27T17:00:00-05:00',
  });
});

it('the clock names the next session: over a holiday, and an early close', () => {
  // Wednesday before Thanksgiving, after the close: next open is Friday, which closes at 13:00.
  const c = legacyClock(new Date('2026-11-25T22:00:00Z'), false);
  expect(c).toMatchObject({
    next_open: '2026-11-27T09:30:00-05:00',
    next_close: '2026-11-27T13:00:00-05:00',
  });
});
