/**
 * A single leg's `at_expiry` (shared/domain/expiry-instruction.ts and the expiry rule): when the sweep sends
 * the exercise / do-not-exercise instruction, and that the expiry rule holds such a long into expiry.
 */
import { evaluateExit } from '../../shared/domain/exit-rules';
import {
  EXPIRY_INSTRUCTION_MINUTE_ET,
  expiryInstructionOf,
  planExpiryInstruction,
} from '../../shared/domain/expiry-instruction';
import { makeExitPlan, makePosition, makeQuote } from '../helpers/factories';

// June 2026: New York is UTC-4. 2026-06-19 is a Friday (the contract's expiry day).
const SYM = 'GOOGL260619C00340000';
const at = (iso: string) => new Date(iso);
const CLOSE = at('2026-06-19T20:00:00Z'); // 16:00 New York
const long = (
  atExpiry?: 'close' | 'exercise' | 'do_not_exercise',
  o: Parameters<typeof makePosition>[0] = {},
) =>
  makePosition({
    option_symbol: SYM,
    exit_plan: makeExitPlan({ close_before_expiry_days: 1, ...(atExpiry ? { at_expiry: atExpiry } : {}) }),
    ...o,
  });
const plan = (p: ReturnType<typeof long>, now: Date, sessionClose: Date | null = CLOSE, marketOpen = true) =>
  planExpiryInstruction({ position: p, now, sessionClose, marketOpen });

describe('expiryInstructionOf', () => {
  it('a long sends its plan’s instruction; close (or none) and every short send nothing', () => {
    expect(expiryInstructionOf(long('exercise'))).toBe('exercise');
    expect(expiryInstructionOf(long('do_not_exercise'))).toBe('do_not_exercise');
    expect(expiryInstructionOf(long('close'))).toBeNull();
    expect(expiryInstructionOf(long())).toBeNull();
    expect(expiryInstructionOf(long('exercise', { side: 'short' }))).toBeNull();
  });
});

describe('planExpiryInstruction', () => {
  it('nothing before the expiry day; waits on it until 15:00 New York; sends from 15:00 until the close', () => {
    const p = long('exercise');
    expect(EXPIRY_INSTRUCTION_MINUTE_ET).toBe(15 * 60);
    expect(plan(p, at('2026-06-18T19:30:00Z'), at('2026-06-18T20:00:00Z'))).toEqual({ kind: 'none' });
    expect(plan(p, at('2026-06-19T18:59:00Z'))).toMatchObject({ kind: 'wait' }); // 14:59
    expect(plan(p, at('2026-06-19T19:00:00Z'))).toMatchObject({ kind: 'send', instruction: 'exercise' }); // 15:00
    expect(plan(p, at('2026-06-19T19:59:00Z'))).toMatchObject({ kind: 'send', instruction: 'exercise' }); // 15:59
  });

  it('before an early close: from 60 minutes before it', () => {
    const early = at('2026-06-19T17:00:00Z'); // a 13:00 close
    const p = long('do_not_exercise');
    expect(plan(p, at('2026-06-19T15:59:00Z'), early)).toMatchObject({ kind: 'wait' }); // 11:59
    expect(plan(p, at('2026-06-19T16:00:00Z'), early)).toMatchObject({
      kind: 'send',
      instruction: 'do_not_exercise',
    });
  });

  it('the market closed: waits before 16:00, missed after the close and once the contract has expired', () => {
    const p = long('exercise');
    expect(plan(p, at('2026-06-19T13:00:00Z'), null, false)).toMatchObject({ kind: 'wait' }); // 09:00
    expect(plan(p, at('2026-06-19T20:05:00Z'), null, false)).toMatchObject({
      kind: 'missed',
      instruction: 'exercise',
    });
    expect(plan(p, at('2026-06-22T14:00:00Z'), null, false)).toMatchObject({ kind: 'missed' });
  });

  it('never twice: once an outcome is recorded (sent, refused or missed) nothing more is planned', () => {
    for (const outcome of ['sent', 'refused', 'missed'] as const) {
      const p = long('exercise', {
        expiry_instruction: { instruction: 'exercise', outcome, at: '2026-06-19T19:00:00Z' },
      });
      expect(plan(p, at('2026-06-19T19:30:00Z'))).toEqual({ kind: 'none' });
    }
  });

  it('close and shorts plan nothing, whatever the time', () => {
    const now = at('2026-06-19T19:30:00Z');
    expect(plan(long('close'), now)).toEqual({ kind: 'none' });
    expect(plan(long('do_not_exercise', { side: 'short' }), now)).toEqual({ kind: 'none' });
  });
});

describe('the expiry rule with at_expiry', () => {
  const now = at('2026-06-18T15:00:00Z'); // the day before expiry, 11:00: close_before_expiry_days 1 is due
  const quote = makeQuote({ symbol: SYM, quoteTime: now.toISOString() });

  it('closes a long whose plan says close (or nothing), as before', () => {
    for (const p of [long(), long('close')]) {
      expect(evaluateExit(p, quote, now).decision).toMatchObject({ action: 'close', reason: 'expiry' });
    }
  });

  it('holds a long whose plan says exercise or do_not_exercise into expiry, and says so', () => {
    for (const choice of ['exercise', 'do_not_exercise'] as const) {
      expect(evaluateExit(long(choice), quote, now).decision).toMatchObject({
        action: 'hold',
        detail: expect.stringContaining(`held into expiry 2026-06-19 (at_expiry ${choice})`),
      });
    }
  });

  it('closes a short whatever its at_expiry (carried out as close)', () => {
    const p = long('exercise', { side: 'short' });
    expect(evaluateExit(p, quote, now).decision).toMatchObject({ action: 'close', reason: 'expiry' });
  });

  it('the other rules still act first: a stop loss closes a long held into expiry', () => {
    const p = long('exercise', { exit_plan: makeExitPlan({ stop_loss_pct: 0.25, at_expiry: 'exercise' }) });
    const low = makeQuote({ symbol: SYM, bid: 1.0, ask: 1.1, quoteTime: now.toISOString() });
    expect(evaluateExit(p, low, now).decision).toMatchObject({ action: 'close', reason: 'stop_loss' });
  });
});
