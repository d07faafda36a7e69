/**
 * The simulator's market calendar: which New York dates are trading days and when their core session
 * closes. Alpaca's calendar (`GET /v2/calendar`, `/v3/calendar/XNYS`) follows the NYSE: weekends and the
 * NYSE's full-day holidays are closed, and three days a year close early at 13:00 (ALPACA-OPTIONS.md "The
 * SDK": "core_start, core_end per day, early closes included"). The holidays are computed from the
 * NYSE's published rules, so any year works; one-off closures (a national day of mourning) are not known.
 */

function ymd(y: number, m: number, d: number): string {
  return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
}

/** 0 = Sunday ... 6 = Saturday. */
function weekday(date: string): number {
  return new Date(`${date}T12:00:00Z`).getUTCDay();
}

/** The `n`th (1-based) given weekday of a month; `n = -1` for the last one. */
function nthWeekday(y: number, m: number, dow: number, n: number): string {
  if (n > 0) {
    const first = weekday(ymd(y, m, 1));
    return ymd(y, m, 1 + ((dow - first + 7) % 7) + 7 * (n - 1));
  }
  const lastDay = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const last = weekday(ymd(y, m, lastDay));
  return ymd(y, m, lastDay - ((last - dow + 7) % 7));
}

/** Western Easter Sunday (the Gregorian computus). */
function easter(y: number): string {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return ymd(y, month, day);
}

/** A fixed-date holiday as observed: Saturday moves to Friday, Sunday to Monday. */
function observed(y: number, m: number, d: number): string {
  const date = ymd(y, m, d);
  const dow = weekday(date);
  if (dow === 6) return ymd(y, m, d - 1);
  if (dow === 0) return ymd(y, m, d + 1);
  return date;
}

const holidayCache = new Map<number, Set<string>>();

/** The NYSE's full-day holidays of a year. */
function holidays(y: number): Set<string> {
  let set = holidayCache.get(y);
  if (set) return set;
  const [ey, em, ed] = easter(y).split('-').map(Number);
  const list = [
    // New Year's Day on a Saturday is not observed on the Friday before (that Friday ends the prior year).
    ...(weekday(ymd(y, 1, 1)) === 6 ? [] : [observed(y, 1, 1)]),
    nthWeekday(y, 1, 1, 3), // Martin Luther King Jr. Day
    nthWeekday(y, 2, 1, 3), // Washington's Birthday
    ymd(ey, em, ed - 2), // Good Friday
    nthWeekday(y, 5, 1, -1), // Memorial Day
    ...(y >= 2022 ? [observed(y, 6, 19)] : []), // Juneteenth
    observed(y, 7, 4), // Independence Day
    nthWeekday(y, 9, 1, 1), // Labor Day
    nthWeekday(y, 11, 4, 4), // Thanksgiving
    observed(y, 12, 25), // Christmas
  ];
  set = new Set(list);
  holidayCache.set(y, set);
  return set;
}

/** Whether the NYSE (and so Alpaca's options market) trades on a New York date. */
export function isTradingDay(date: string): boolean {
  const dow = weekday(date);
  return dow !== 0 && dow !== 6 && !holidays(Number(date.slice(0, 4))).has(date);
}

/**
 * The core session's close, `HH:MM` New York time: 13:00 on the day after Thanksgiving, and on 3 July and
 * 24 December when they are trading days (on a Friday they are the observed holiday), else 16:00.
 */
export function coreClose(date: string): string {
  const y = Number(date.slice(0, 4));
  const dayAfterThanksgiving = ymd(y, 11, Number(nthWeekday(y, 11, 4, 4).slice(8)) + 1);
  const early = [dayAfterThanksgiving, ymd(y, 7, 3), ymd(y, 12, 24)];
  return early.includes(date) && isTradingDay(date) ? '13:00' : '16:00';
}
