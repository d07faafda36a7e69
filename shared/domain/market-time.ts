/**
 * Exchange time. Options expire and markets open on America/New_York dates; the container's own time
 * zone is never used.
 */
import type { MarketClock } from './broker-types';

const NY_PARTS = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** The last answer of {@link newYorkTime}, by UTC minute: a sweep asks for the same instant per position. */
let lastNewYorkTime: { utcMinute: number; date: string; minuteOfDay: number } | null = null;

/** The New York calendar date and minute of day of an instant. */
export function newYorkTime(now: Date): { date: string; minuteOfDay: number } {
  // Since 1883 New York's offset from UTC has been a whole number of hours, changing on the hour, so the
  // date and the minute of day depend only on the UTC minute. (Earlier instants are not cached.)
  const utcMinute = Math.floor(now.getTime() / 60_000);
  if (lastNewYorkTime?.utcMinute !== utcMinute || utcMinute < 0) {
    const parts = Object.fromEntries(NY_PARTS.formatToParts(now).map((p) => [p.type, p.value]));
    lastNewYorkTime = {
      utcMinute,
      date: `${parts.year}-${parts.month}-${parts.day}`,
      minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute),
    };
  }
  return { date: lastNewYorkTime.date, minuteOfDay: lastNewYorkTime.minuteOfDay };
}

/** Whole days from today's New York date to `date` (`YYYY-MM-DD`): 0 on that day, negative after. */
export function daysUntil(date: string, now: Date): number {
  return Math.round((utcMidnight(date) - utcMidnight(newYorkTime(now).date)) / 86_400_000);
}

/** Epoch ms of `YYYY-MM-DD` at 00:00 UTC (a day number, ×86,400,000). */
function utcMidnight(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
}

/**
 * How far the broker's clock is ahead of this one (ms; negative: behind), from a clock read whose reply
 * this clock received at `localAtRead`. Time rules, quote ages and recommendation ages are judged on the
 * broker's clock: `local now + offset`. 0 when the broker's time stamp is missing or unreadable.
 */
export function brokerClockOffsetMs(clock: Pick<MarketClock, 'timestamp'>, localAtRead: Date): number {
  const t = Date.parse(clock.timestamp);
  return Number.isFinite(t) ? t - localAtRead.getTime() : 0;
}

/** The broker's time now, given its clock's offset from this one ({@link brokerClockOffsetMs}). */
export function onBrokerClock(localNow: Date, offsetMs: number): Date {
  return offsetMs === 0 ? localNow : new Date(localNow.getTime() + offsetMs);
}

/** The close of the session `clock` is in, or null when the market is closed (or no close is known). */
export function sessionCloseOf(clock: MarketClock): Date | null {
  return clock.isOpen && clock.nextClose ? new Date(clock.nextClose) : null;
}

/** The calendar date `days` after `date` (`YYYY-MM-DD`; negative goes back). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** `HH:MM` to minutes since midnight. */
export function minutesOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}
