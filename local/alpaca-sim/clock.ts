/**
 * Clock and calendar answers of the simulator, and its New York time. Sessions follow the NYSE calendar
 * of `calendar.ts` (holidays closed, 13:00 early closes); whether the market is open *now* is a switch the
 * tests control, so a test never depends on the hour it runs at.
 */
import { coreClose, isTradingDay } from './calendar';

const NY_OFFSET = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  timeZoneName: 'shortOffset',
});
const NY_PARTS = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** New York's calendar date (`YYYY-MM-DD`) and minute of the day at an instant (DST from the tz database). */
export function newYorkClock(d: Date): { date: string; minuteOfDay: number } {
  const p = Object.fromEntries(NY_PARTS.formatToParts(d).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, minuteOfDay: Number(p.hour) * 60 + Number(p.minute) };
}

/** The calendar date `n` days after `date` (`YYYY-MM-DD`). */
export function addDays(date: string, n: number): string {
  const t = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)) + n);
  return new Date(t).toISOString().slice(0, 10);
}

/** `-05:00` or `-04:00`: New York's UTC offset at an instant. */
function nyOffset(d: Date): string {
  const name = NY_OFFSET.formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT-5';
  const m = /GMT([+-])(\d{1,2})(?::(\d{2}))?/.exec(name);
  if (!m) return '+00:00';
  return `${m[1]}${m[2].padStart(2, '0')}:${m[3] ?? '00'}`;
}

/** An instant as New York local time with its offset, like Alpaca prints it. */
export function formatNy(d: Date): string {
  const p = Object.fromEntries(NY_PARTS.formatToParts(d).map((x) => [x.type, x.value]));
  const ms = String(d.getUTCMilliseconds()).padStart(3, '0');
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}.${ms}${nyOffset(d)}`;
}

/** `YYYY-MM-DD` + `HH:MM` New York time as an ISO string with offset. */
export function nyDateTime(date: string, hhmm: string): string {
  const offset = nyOffset(new Date(`${date}T12:00:00Z`));
  return `${date}T${hhmm}:00${offset}`;
}

/** Trading days (NYSE calendar) from `start` to `end` inclusive. */
export function tradingDays(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= end && out.length < 5000; d = addDays(d, 1)) if (isTradingDay(d)) out.push(d);
  return out;
}

function nextTradingDay(date: string): string {
  let d = addDays(date, 1);
  while (!isTradingDay(d)) d = addDays(d, 1);
  return d;
}

/** The post-market session ends four hours after the core close (20:00, or 17:00 on an early close). */
function postEnd(date: string): string {
  return coreClose(date) === '13:00' ? '17:00' : '20:00';
}

/** Next core-session open and close after `now`. */
function nextSession(now: Date): { nextOpen: string; nextClose: string; isMarketDay: boolean } {
  const today = newYorkClock(now).date;
  const isMarketDay = isTradingDay(today);
  const t = now.getTime();
  const open = (d: string) => nyDateTime(d, '09:30');
  const close = (d: string) => nyDateTime(d, coreClose(d));
  const nextOpenDay = isMarketDay && t < Date.parse(open(today)) ? today : nextTradingDay(today);
  const nextCloseDay = isMarketDay && t < Date.parse(close(today)) ? today : nextTradingDay(today);
  return { nextOpen: open(nextOpenDay), nextClose: close(nextCloseDay), isMarketDay };
}

/** `GET /v2/clock`. */
export function legacyClock(now: Date, isOpen: boolean): Record<string, unknown> {
  const s = nextSession(now);
  return { timestamp: formatNy(now), is_open: isOpen, next_open: s.nextOpen, next_close: s.nextClose };
}

const XNYS = {
  acronym: 'NYSE',
  mic: 'XNYS',
  name: 'New York Stock Exchange',
  timezone: 'America/New_York',
};

/** `GET /v3/clock`. */
export function clockV3(now: Date, isOpen: boolean): Record<string, unknown> {
  const s = nextSession(now);
  return {
    clocks: [
      {
        market: XNYS,
        timestamp: formatNy(now),
        is_market_day: s.isMarketDay,
        phase: isOpen ? 'core' : 'closed',
        phase_until: isOpen ? s.nextClose : s.nextOpen,
        next_market_open: s.nextOpen,
        next_market_close: s.nextClose,
      },
    ],
  };
}

function range(now: Date, start?: string | null, end?: string | null): [string, string] {
  const from = start ? start.slice(0, 10) : newYorkClock(now).date;
  const to = end ? end.slice(0, 10) : addDays(from, 30);
  return [from, to];
}

/** `GET /v2/calendar`. */
export function legacyCalendar(now: Date, start?: string | null, end?: string | null): unknown[] {
  const [from, to] = range(now, start, end);
  return tradingDays(from, to).map((date) => ({
    date,
    open: '09:30',
    close: coreClose(date),
    session_open: '0400',
    session_close: postEnd(date).replace(':', ''),
    settlement_date: nextTradingDay(date),
  }));
}

/** `GET /v3/calendar/{market}`. */
export function calendarV3(now: Date, start?: string | null, end?: string | null): Record<string, unknown> {
  const [from, to] = range(now, start, end);
  return {
    market: XNYS,
    calendar: tradingDays(from, to).map((date) => ({
      date,
      pre_start: nyDateTime(date, '04:00'),
      pre_end: nyDateTime(date, '09:30'),
      core_start: nyDateTime(date, '09:30'),
      core_end: nyDateTime(date, coreClose(date)),
      post_start: nyDateTime(date, coreClose(date)),
      post_end: nyDateTime(date, postEnd(date)),
      settlement_date: nextTradingDay(date),
    })),
  };
}
