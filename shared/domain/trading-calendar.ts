/**
 * The New York trading calendar the books are dated by: weekdays that are not NYSE full-day holidays.
 * Computed from the NYSE's published rules (any year); one-off closures are not known. Pure and
 * independent of the simulator's own calendar (the simulator is an oracle, it shares no code with this).
 */
import { addDays, newYorkTime } from './market-time';

const dayOfWeek = (date: string): number => new Date(`${date}T00:00:00Z`).getUTCDay();
const iso = (y: number, m: number, d: number): string =>
  new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);

/** Day of month of the `n`th `dow` (0 = Sunday) in month `m`; `n = 0` for the last one. */
function nth(y: number, m: number, dow: number, n: number): string {
  if (n === 0) {
    const last = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
    return addDays(last, -((dayOfWeek(last) - dow + 7) % 7));
  }
  const first = iso(y, m, 1);
  return addDays(first, ((dow - dayOfWeek(first) + 7) % 7) + 7 * (n - 1));
}

/** Easter Sunday of year `y` (the Meeus/Jones/Butcher Gregorian algorithm). */
function easterSunday(y: number): string {
  const a = y % 19;
  const [b, c] = [Math.floor(y / 100), y % 100];
  const [d, e] = [Math.floor(b / 4), b % 4];
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const [i, k] = [Math.floor(c / 4), c % 4];
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const n = h + l - 7 * m + 114;
  return iso(y, Math.floor(n / 31), (n % 31) + 1);
}

/** A fixed-date holiday on the weekday it is observed (Saturday → Friday, Sunday → Monday). */
function observedOn(y: number, m: number, d: number): string {
  const date = iso(y, m, d);
  const dow = dayOfWeek(date);
  return dow === 6 ? addDays(date, -1) : dow === 0 ? addDays(date, 1) : date;
}

/**
 * Each year's holidays, computed once: the day's books date every fill of every live ledger each sweep, and
 * computing them per call cost ~40 ms of a 1,000-position sweep's CPU (docs/BENCHMARKS.md).
 */
const HOLIDAYS = new Map<number, ReadonlySet<string>>();

function holidaysOf(y: number): ReadonlySet<string> {
  let known = HOLIDAYS.get(y);
  if (!known) HOLIDAYS.set(y, (known = computeHolidays(y)));
  return known;
}

function computeHolidays(y: number): ReadonlySet<string> {
  const newYear = iso(y, 1, 1);
  return new Set([
    // A Saturday New Year is not observed: the Friday before is the old year's last trading day.
    ...(dayOfWeek(newYear) === 6 ? [] : [observedOn(y, 1, 1)]),
    nth(y, 1, 1, 3),
    nth(y, 2, 1, 3),
    addDays(easterSunday(y), -2),
    nth(y, 5, 1, 0),
    ...(y >= 2022 ? [observedOn(y, 6, 19)] : []),
    observedOn(y, 7, 4),
    nth(y, 9, 1, 1),
    nth(y, 11, 4, 4),
    observedOn(y, 12, 25),
  ]);
}

/** Whether the NYSE trades on New York date `date` (`YYYY-MM-DD`). */
export function isTradingDay(date: string): boolean {
  const dow = dayOfWeek(date);
  return dow !== 0 && dow !== 6 && !holidaysOf(Number(date.slice(0, 4))).has(date);
}

/** The trading day on or before `date`: a weekend or holiday belongs to the session before it. */
export function tradingDayOnOrBefore(date: string): string {
  let d = date;
  while (!isTradingDay(d)) d = addDays(d, -1);
  return d;
}

/** The trading day an instant belongs to: its New York date, or the session before a closed day. */
export function tradingDayOfInstant(at: string | Date): string {
  const when = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(when.getTime())) throw new RangeError(`not an instant: ${String(at)}`);
  return tradingDayOnOrBefore(newYorkTime(when).date);
}

/**
 * The trading day a broker activity belongs to: its own booking `date` (the trade date Alpaca gives it,
 * whenever the sweep happens to read it), or the session before when that date is a weekend or holiday
 * (an expiry processed after Friday's close and dated Saturday is Friday's).
 */
export function activityTradingDay(activity: { readonly date: string }): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(activity.date)) {
    throw new RangeError(`activity date is not YYYY-MM-DD: ${activity.date}`);
  }
  return tradingDayOnOrBefore(activity.date);
}
