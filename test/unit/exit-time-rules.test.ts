import { evaluateExit } from '../../shared/domain/exit-rules';
import { BUILTIN_PROFILES } from '../../shared/domain/strategy-profiles';
import { makeExitPlan, makePosition, makeQuote } from '../helpers/factories';

// June 2026: New York is UTC-4. 2026-06-02 is a Tuesday.
const at = (iso: string) => new Date(iso);
const DAY_TRADE = BUILTIN_PROFILES.day_trade.time_rules;
const quoteAt = (now: Date) => makeQuote({ quoteTime: now.toISOString() });

function dayTrade(entryIso: string, o: Parameters<typeof makePosition>[0] = {}) {
  return makePosition({
    time_rules: DAY_TRADE,
    entry_time: entryIso,
    created_at: entryIso,
    exit_plan: makeExitPlan(),
    ...o,
  });
}

describe('evaluateExit with a profile time rules (day trade)', () => {
  it('holds before 15:55 ET and closes everything from 15:55 ET (close_by_time_et)', () => {
    const p = dayTrade('2026-06-02T14:00:00Z');
    const before = at('2026-06-02T19:54:00Z'); // 15:54 ET
    expect(evaluateExit(p, quoteAt(before), before).decision).toMatchObject({ action: 'hold' });
    const after = at('2026-06-02T19:55:00Z'); // 15:55 ET
    expect(evaluateExit(p, quoteAt(after), after).decision).toMatchObject({
      action: 'close',
      reason: 'time_rule',
      qty: p.quantity,
      detail: expect.stringContaining('close_by_time_et'),
    });
  });

  it('never holds overnight: a position opened yesterday (New York date) is closed at the next sweep', () => {
    // Opened 2026-06-01 23:30 ET = 2026-06-02T03:30Z: still June 1 in New York.
    const p = dayTrade('2026-06-02T03:30:00Z');
    const morning = at('2026-06-02T13:35:00Z'); // 09:35 ET, June 2
    expect(evaluateExit(p, quoteAt(morning), morning).decision).toMatchObject({
      action: 'close',
      reason: 'time_rule',
      detail: expect.stringContaining('no_overnight'),
    });
  });

  it('uses the broker session close on an early-close day (5 minutes before 13:00 ET)', () => {
    const p = dayTrade('2026-06-02T14:00:00Z');
    const early = at('2026-06-02T17:00:00Z'); // 13:00 ET close
    const t1 = at('2026-06-02T16:54:00Z'); // 12:54 ET
    const t2 = at('2026-06-02T16:55:00Z'); // 12:55 ET
    expect(evaluateExit(p, quoteAt(t1), t1, {}, { sessionClose: early }).decision.action).toBe('hold');
    expect(evaluateExit(p, quoteAt(t2), t2, {}, { sessionClose: early }).decision).toMatchObject({
      action: 'close',
      reason: 'time_rule',
    });
  });

  it('fires during min_hold and without a usable quote (a time stop, not a price rule)', () => {
    const p = dayTrade('2026-06-02T19:50:00Z', { exit_plan: makeExitPlan({ min_hold_minutes: 30 }) });
    const now = at('2026-06-02T19:56:00Z');
    expect(evaluateExit(p, undefined, now).decision).toMatchObject({ action: 'close', reason: 'time_rule' });
  });

  it('ignores stored time rules that do not validate (never throws on a bad record)', () => {
    const p = makePosition({ time_rules: { close_by_time_et: '25:99' } as never });
    const now = at('2026-06-02T19:58:00Z');
    expect(evaluateExit(p, quoteAt(now), now).decision.action).toBe('hold');
  });

  it('positions without time rules are unaffected at any hour', () => {
    const p = makePosition({ entry_time: '2026-06-01T14:00:00Z' });
    const late = at('2026-06-02T19:58:00Z');
    expect(evaluateExit(p, quoteAt(late), late).decision.action).toBe('hold');
  });
});
