import fc from 'fast-check';
import {
  addDays,
  brokerClockOffsetMs,
  daysUntil,
  newYorkTime,
  onBrokerClock,
} from '../../shared/domain/market-time';

/** The New York date and minute of an instant, from a formatter of its own (no cache). */
function reference(d: Date): { date: string; minuteOfDay: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

describe('newYorkTime', () => {
  it.each([
    // The spring-forward minute: 01:59 EST is followed by 03:00 EDT.
    ['2026-03-08T06:59:59.999Z', '2026-03-08', 1 * 60 + 59],
    ['2026-03-08T07:00:00.000Z', '2026-03-08', 3 * 60],
    // Fall back: 01:59 EDT, then 01:00 EST again.
    ['2026-11-01T05:59:59.000Z', '2026-11-01', 1 * 60 + 59],
    ['2026-11-01T06:00:00.000Z', '2026-11-01', 1 * 60],
    // Midnight in New York is 04:00 or 05:00 UTC: the UTC date is not the exchange date.
    ['2026-11-25T04:59:00.000Z', '2026-11-24', 23 * 60 + 59],
    ['2026-11-25T05:00:00.000Z', '2026-11-25', 0],
    ['2026-07-01T03:59:30.000Z', '2026-06-30', 23 * 60 + 59],
    ['2026-07-01T04:00:30.000Z', '2026-07-01', 0],
  ])('%s is %s, minute %d', (iso, date, minuteOfDay) => {
    expect(newYorkTime(new Date(iso))).toEqual({ date, minuteOfDay });
  });

  it('answers like a fresh formatter for any instant, in any order, however close together', () => {
    // Instants within seconds of each other (the per-minute cache) and far apart (DST changes, years).
    const instant = fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2100, 0, 1) });
    const nearby = fc.tuple(
      instant,
      fc.array(fc.integer({ min: -3_600_000, max: 3_600_000 }), { maxLength: 8 }),
    );
    fc.assert(
      fc.property(nearby, ([base, offsets]) => {
        for (const t of [base, ...offsets.map((o) => base + o), base]) {
          const d = new Date(t);
          expect(newYorkTime(d)).toEqual(reference(d));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('returns a copy: a caller changing its answer does not change the next', () => {
    const now = new Date('2026-11-25T15:00:00Z');
    const first = newYorkTime(now) as { date: string; minuteOfDay: number };
    first.date = 'changed';
    expect(newYorkTime(now).date).toBe('2026-11-25');
  });

  it('throws on an invalid date, as the formatter does', () => {
    expect(() => newYorkTime(new Date(NaN))).toThrow(RangeError);
  });
});

describe('daysUntil and addDays', () => {
  it('count New York days', () => {
    // 23:30 in New York on the 24th is already the 25th in UTC.
    const now = new Date('2026-11-25T04:30:00Z');
    expect(daysUntil('2026-11-24', now)).toBe(0);
    expect(daysUntil('2026-11-27', now)).toBe(3);
    expect(addDays('2026-11-24', 3)).toBe('2026-11-27');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
});

describe('the broker clock (issue 26 item 7)', () => {
  it('is the broker time stamp less the local time of the read, carried forward on the local clock', () => {
    const local = new Date('2026-12-03T15:00:00.000Z');
    const offset = brokerClockOffsetMs({ timestamp: '2026-12-03T10:10:00.000-05:00' }, local);
    expect(offset).toBe(10 * 60_000);
    expect(onBrokerClock(new Date('2026-12-03T15:01:00.000Z'), offset).toISOString()).toBe(
      '2026-12-03T15:11:00.000Z',
    );
  });
  it('is 0 (the local clock) when the broker sent no readable time stamp', () => {
    expect(brokerClockOffsetMs({ timestamp: '' }, new Date())).toBe(0);
    expect(brokerClockOffsetMs({ timestamp: 'soon' }, new Date())).toBe(0);
  });
});
